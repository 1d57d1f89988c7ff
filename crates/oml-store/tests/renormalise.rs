//! Contacts stored before the `phonenumber` parser (or before a default
//! country was set) are brought up to the current rules once, on every
//! backend (issue 16 item 12: "re-normalise existing rows").

use oml_store::phone::Normalizer;
use oml_store::renormalise::{RenormaliseReport, MARKER_KEY};
use oml_store::testing::backends;
use oml_store::{CampaignSpec, NewContact, Store, TrunkSpec, DEFAULT_DIAL_STRING};

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

async fn import(s: &Store, campaign: i64, phones: &[&str]) {
    let mut imp = s.begin_contact_import(campaign, "l.csv").await.unwrap();
    let rows: Vec<NewContact> = phones
        .iter()
        .map(|p| NewContact {
            phone: p,
            attributes: "{}",
        })
        .collect();
    imp.insert(&rows).await.unwrap();
    imp.commit(Default::default()).await.unwrap();
}

async fn phones(s: &Store, campaign: i64) -> Vec<String> {
    let mut p: Vec<String> = s
        .claim_due_contacts(campaign, "n1", i64::MAX, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.phone)
        .collect();
    p.sort();
    p
}

#[tokio::test]
async fn national_rows_become_e164_once_and_duplicates_are_kept() {
    let ar = Normalizer::new(Some("AR")).unwrap();
    for t in backends().await {
        let s = &t.store;
        let c = campaign(s, "cobranzas").await;
        // Written without a country code (no default country at import),
        // one of them already present in its E.164 form, one unparsable.
        import(s, c, &["01140000001", "01140000002", "+541140000002", "12"]).await;

        let report = s.renormalise_contacts_if_needed(&ar).await.unwrap();
        assert_eq!(
            report,
            Some(RenormaliseReport {
                examined: 4,
                changed: 1,
                kept_duplicate: 1,
                unparsable: 1,
            }),
            "{}",
            t.label
        );
        assert_eq!(
            phones(s, c).await,
            ["+541140000001", "+541140000002", "01140000002", "12"],
            "{}",
            t.label
        );
        assert_eq!(
            s.setting(MARKER_KEY).await.unwrap().as_deref(),
            Some("phonenumber-1:+54")
        );
        // Up to date: nothing to do, nothing read.
        assert_eq!(s.renormalise_contacts_if_needed(&ar).await.unwrap(), None);
        // Another default country: the rows are looked at again.
        let uy = Normalizer::new(Some("598")).unwrap();
        assert!(s
            .renormalise_contacts_if_needed(&uy)
            .await
            .unwrap()
            .is_some());
    }
}
