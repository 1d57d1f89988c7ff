//! Contact import and the do-not-call list, on every backend: bulk insert,
//! duplicate detection through the unique key, all-or-nothing imports.

use oml_store::testing::backends;
use oml_store::{
    CampaignSpec, Conflict, DncScope, ImportTotals, NewContact, Store, TrunkSpec,
    DEFAULT_DIAL_STRING,
};

async fn campaign(s: &Store, name: &str) -> i64 {
    if s.trunk_by_name("t1").await.unwrap().is_none() {
        s.create_trunk(&TrunkSpec {
            name: "t1".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    }
    s.create_campaign(&CampaignSpec::new(name, "t1"))
        .await
        .unwrap()
        .id
}

fn rows(phones: &[String]) -> Vec<NewContact<'_>> {
    phones
        .iter()
        .map(|p| NewContact {
            phone: p,
            attributes: r#"{"name":"x"}"#,
        })
        .collect()
}

#[tokio::test]
async fn bulk_import_spans_chunks_and_reports_conflicts() {
    for t in backends().await {
        let s = &t.store;
        let c = campaign(s, "sales").await;
        // More than one INSERT chunk, to cross chunk boundaries.
        let phones: Vec<String> = (0..4500).map(|i| format!("+5411{:08}", i)).collect();
        let mut imp = s.begin_contact_import(c, "first.csv").await.unwrap();
        let conflicts = imp.insert(&rows(&phones)).await.unwrap();
        assert!(conflicts.is_empty(), "{}", t.label);
        // The same number again in a later batch of the same import.
        let again = vec![phones[10].clone(), "+541199999999".to_string()];
        let conflicts = imp.insert(&rows(&again)).await.unwrap();
        assert_eq!(conflicts, vec![(0, Conflict::SameImport)], "{}", t.label);
        let list = imp
            .commit(ImportTotals {
                rows_total: 4502,
                rows_imported: 4501,
                rows_rejected: 1,
            })
            .await
            .unwrap();
        assert_eq!(list.rows_imported, 4501);
        assert_eq!(
            s.contact_counts(c).await.unwrap(),
            vec![("pending".to_string(), 4501)],
            "{}",
            t.label
        );

        // A second import: numbers of the first list are already in the
        // campaign; the same number in another campaign is fine.
        let mut imp = s.begin_contact_import(c, "second.csv").await.unwrap();
        let second = vec!["+541100000000".to_string(), "+541177777777".to_string()];
        let conflicts = imp.insert(&rows(&second)).await.unwrap();
        assert_eq!(conflicts, vec![(0, Conflict::AlreadyInCampaign)]);
        imp.commit(ImportTotals::default()).await.unwrap();
        let other = campaign(s, "other").await;
        let mut imp = s.begin_contact_import(other, "first.csv").await.unwrap();
        assert!(imp.insert(&rows(&second)).await.unwrap().is_empty());
        imp.commit(ImportTotals::default()).await.unwrap();

        let lists = s.contact_lists(c).await.unwrap();
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].name, "first.csv");
        let page = s.contacts_page(c, 0, 3).await.unwrap();
        assert_eq!(page.len(), 3);
        assert_eq!(page[0].phone, "+541100000000");
        assert_eq!(page[0].attributes, r#"{"name":"x"}"#);
        assert_eq!(page[0].state, "pending");
        assert_eq!(page[0].attempts, 0);
    }
}

#[tokio::test]
async fn dropped_or_rolled_back_import_leaves_nothing() {
    for t in backends().await {
        let s = &t.store;
        let c = campaign(s, "sales").await;
        let phones: Vec<String> = (0..3000).map(|i| format!("11{:08}", i)).collect();
        {
            let mut imp = s.begin_contact_import(c, "broken.csv").await.unwrap();
            imp.insert(&rows(&phones)).await.unwrap();
            // Dropped here, as when the file turns out malformed.
        }
        let mut imp = s.begin_contact_import(c, "broken2.csv").await.unwrap();
        imp.insert(&rows(&phones)).await.unwrap();
        imp.rollback().await.unwrap();
        assert!(s.contact_counts(c).await.unwrap().is_empty(), "{}", t.label);
        assert!(s.contact_lists(c).await.unwrap().is_empty(), "{}", t.label);
    }
}

#[tokio::test]
async fn do_not_call_global_and_per_campaign() {
    for t in backends().await {
        let s = &t.store;
        let a = campaign(s, "a").await;
        let b = campaign(s, "b").await;
        let global = vec!["1111111".to_string(), "2222222".to_string()];
        assert_eq!(s.dnc_add(None, &global).await.unwrap(), 2, "{}", t.label);
        // Adding again is harmless and counted as nothing new.
        assert_eq!(s.dnc_add(None, &global).await.unwrap(), 0, "{}", t.label);
        let only_a = vec!["3333333".to_string()];
        assert_eq!(s.dnc_add(Some(a), &only_a).await.unwrap(), 1);

        assert!(s.dnc_contains(a, "1111111").await.unwrap());
        assert!(s.dnc_contains(b, "1111111").await.unwrap());
        assert!(s.dnc_contains(a, "3333333").await.unwrap());
        assert!(!s.dnc_contains(b, "3333333").await.unwrap());

        let mut imp = s.begin_contact_import(b, "l.csv").await.unwrap();
        let found = imp
            .dnc_among(&["1111111", "3333333", "4444444"])
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert!(found.contains("1111111"));
        imp.rollback().await.unwrap();

        let all = s.dnc_list(None).await.unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].campaign, None);
        assert_eq!(all[2].campaign.as_deref(), Some("a"));
        assert_eq!(
            s.dnc_list(Some(DncScope::Campaign(a))).await.unwrap().len(),
            1
        );
        assert_eq!(s.dnc_list(Some(DncScope::Global)).await.unwrap().len(), 2);

        assert!(s.dnc_remove(None, "1111111").await.unwrap());
        assert!(!s.dnc_remove(None, "1111111").await.unwrap());
        assert!(!s.dnc_remove(Some(b), "3333333").await.unwrap());
        assert!(!s.dnc_contains(b, "1111111").await.unwrap());

        // Many numbers: several transactions and chunks.
        let many: Vec<String> = (0..12_000).map(|i| format!("9{:09}", i)).collect();
        assert_eq!(s.dnc_add(Some(b), &many).await.unwrap(), 12_000);
        assert!(s.dnc_contains(b, "9000011999").await.unwrap());

        // Deleting the campaign takes its list with it.
        s.delete_campaign("a").await.unwrap();
        assert_eq!(s.dnc_list(None).await.unwrap().len(), 1 + 12_000);
    }
}
