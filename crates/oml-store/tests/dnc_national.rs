//! Do-not-call entries written without a country code (issue 16): the
//! documented example blocks its contact at import and at dialing time, on
//! every backend, and the SQL rule agrees with `phone::dnc_matches`.

use oml_store::phone::{dnc_matches, Normalizer};
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

/// Default country 54: the contact `011 4000-0001` and the do-not-call entry
/// `01140000001` are the same number; it is found at import and never dialed.
#[tokio::test]
async fn documented_example_is_not_dialed() {
    let ar = Normalizer::new(Some("54")).unwrap();
    let contact = ar.normalize("011 4000-0001").unwrap();
    for entry_country in [Some("54"), None] {
        let entry = Normalizer::new(entry_country)
            .unwrap()
            .phone("01140000001")
            .unwrap();
        for t in backends().await {
            let s = &t.store;
            let c = campaign(s, "cobranzas").await;
            s.dnc_add(None, std::slice::from_ref(&entry)).await.unwrap();
            let label = format!("{} (entry country {entry_country:?})", t.label);

            let mut imp = s.begin_contact_import(c, "a.csv").await.unwrap();
            let found = imp.dnc_among(&[&contact, "+541140000002"]).await.unwrap();
            assert_eq!(found.len(), 1, "{label}");
            assert!(found.contains(&contact), "{label}");
            imp.rollback().await.unwrap();
            assert!(s.dnc_contains(c, &contact).await.unwrap(), "{label}");

            // Imported anyway (e.g. before the entry was added): the dialer
            // does not claim it.
            import(s, c, &[&contact, "+541140000002"]).await;
            let claimed = s.claim_due_contacts(c, "n1", i64::MAX, 10).await.unwrap();
            let phones: Vec<&str> = claimed.iter().map(|d| d.phone.as_str()).collect();
            assert_eq!(phones, ["+541140000002"], "{label}");
        }
    }
}

/// An entry written with its country code stays with that country; one
/// written without matches the same national number under another code.
#[tokio::test]
async fn national_entries_match_every_country_code_and_full_ones_only_theirs() {
    for t in backends().await {
        let s = &t.store;
        let c = campaign(s, "c").await;
        let ar = Normalizer::new(Some("AR")).unwrap();
        let entries = [
            ar.phone("011 4000-0001").unwrap(),                    // national
            ar.phone("+54 11 4000-0002").unwrap(),                 // international
            Normalizer::default().phone("0351 400 0003").unwrap(), // no country known
        ];
        s.dnc_add(None, &entries).await.unwrap();
        let contacts = [
            ("+5981140000001", true), // entry 1 under Uruguay's code
            ("+541140000001", true),
            ("+5981140000002", false), // entry 2 was written for 54 only
            ("+541140000002", true),
            ("+543514000003", true), // entry 3 under 54
            ("03514000003", true),   // a contact stored without a country
            ("+5413514000003", false),
            ("+541140000009", false),
        ];
        for (contact, blocked) in contacts {
            let rust = entries
                .iter()
                .any(|e| dnc_matches(&e.number, e.national.as_deref(), contact));
            assert_eq!(rust, blocked, "rule, {contact}");
            assert_eq!(
                s.dnc_contains(c, contact).await.unwrap(),
                blocked,
                "{}: SQL, {contact}",
                t.label
            );
        }
        let listed = s.dnc_list(None).await.unwrap();
        let national: Vec<Option<&str>> = listed.iter().map(|e| e.national.as_deref()).collect();
        assert!(national.contains(&Some("1140000001")), "{national:?}");
        assert!(national.contains(&None), "{national:?}");
    }
}
