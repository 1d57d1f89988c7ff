//! Preview dialing on the agent's side over HTTP (in-process router), on
//! SQLite and PostgreSQL (issue 19 item 4): "Next contact" reserves one
//! for the agent and shows every imported column and the attempts so far,
//! and their state is `preview`; "Skip" (with a reason, audited) gives it
//! back; "Call" turns the reservation into a request the engine takes,
//! with the agent's interface, and the state is ready again; nobody else
//! gets the reserved contact; an agent who is not logged in to their queues
//! cannot reserve.

mod common;

use common::*;
use oml_config::Config;
use oml_store::{
    AgentSetup, CampaignMode, CampaignSpec, ImportTotals, NewContact, NewUser, Role, Store,
    TrunkSpec,
};

const AGENT_PW: &str = "agent-password-1";

async fn setup(store: &Store) -> i64 {
    add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
    store
        .create_trunk(&TrunkSpec {
            name: "carrier".into(),
            dial_string: oml_store::DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("look", "carrier");
    spec.mode = CampaignMode::Preview;
    let c = store.create_campaign(&spec).await.unwrap();
    let mut imp = store.begin_contact_import(c.id, "leads.csv").await.unwrap();
    imp.insert(&[
        NewContact {
            phone: "+15550000001",
            attributes: r#"{"name":"Ana Pérez","plan":"gold","city":"Rosario"}"#,
        },
        NewContact {
            phone: "+15550000002",
            attributes: r#"{"name":"Beto Díaz","plan":"silver","city":"Salta"}"#,
        },
    ])
    .await
    .unwrap();
    imp.commit(ImportTotals {
        rows_total: 2,
        rows_imported: 2,
        rows_rejected: 0,
    })
    .await
    .unwrap();
    for (name, ext) in [("ana", "1001"), ("bob", "1002")] {
        store
            .create_user_with(
                &NewUser {
                    username: name,
                    password: &AGENT_PW.to_string().into(),
                    role: Role::Agent,
                    must_change_password: false,
                },
                &AgentSetup {
                    extension: Some(ext.into()),
                    campaigns: Some(vec!["look".into()]),
                },
            )
            .await
            .unwrap();
    }
    c.id
}

async fn agent_state(store: &Store, name: &str) -> Option<String> {
    let id = store.user_by_name(name).await.unwrap().unwrap().id;
    store.agent_state(id).await.unwrap().map(|s| s.state)
}

#[tokio::test]
async fn an_agent_previews_skips_and_calls() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let campaign = setup(store).await;
        let (_, app) = app(store, Config::default());
        let mut a = Client::new(&app);
        a.login("ana", AGENT_PW).await;
        let page = a.get("/agent").await;
        assert!(page.body.contains("id=\"link-preview\""), "{}", page.body);
        let page = a.get("/agent/preview").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("data-state=\"none\""), "{}", page.body);
        assert!(page.body.contains("id=\"btn-preview-next\""));
        // Not logged in to the queues: no reservation.
        a.post("/agent/preview/next", &[("campaign", "look")])
            .await
            .assert_redirect("/agent/preview");
        let page = a.get("/agent/preview").await;
        assert!(
            page.body.contains("Log in to your queues first"),
            "{}",
            page.body
        );

        // Logged in (stored state), ana gets the first contact.
        let ana = store.user_by_name("ana").await.unwrap().unwrap().id;
        let bob = store.user_by_name("bob").await.unwrap().unwrap().id;
        for id in [ana, bob] {
            store
                .set_agent_state(id, Some(("ready", None)), oml_store::now_ms())
                .await
                .unwrap();
        }
        a.post("/agent/preview/next", &[("campaign", "look")])
            .await
            .assert_redirect("/agent/preview");
        let page = a.get("/agent/preview").await;
        assert!(
            page.body.contains("data-state=\"reserved\""),
            "{}: {}",
            ts.label,
            page.body
        );
        for text in [
            "id=\"preview-phone\">+15550000001<",
            "Ana Pérez",
            "gold",
            "Rosario",
            "id=\"preview-attempts\">0<",
            "id=\"btn-preview-call\"",
            "id=\"btn-preview-skip\"",
        ] {
            assert!(
                page.body.contains(text),
                "{}: {text}: {}",
                ts.label,
                page.body
            );
        }
        assert_eq!(agent_state(store, "ana").await.as_deref(), Some("preview"));
        // Bob gets the other contact, never ana's.
        let mut b = Client::new(&app);
        b.login("bob", AGENT_PW).await;
        b.get("/agent/preview").await;
        b.post("/agent/preview/next", &[("campaign", "look")])
            .await
            .assert_redirect("/agent/preview");
        let page = b.get("/agent/preview").await;
        assert!(page.body.contains("+15550000002"), "{}", page.body);
        // Bob skips with a reason: audited, his contact is due again.
        b.post("/agent/preview/skip", &[("reason", "wrong time zone")])
            .await
            .assert_redirect("/agent/preview");
        let page = b.get("/agent/preview").await;
        assert!(page.body.contains("data-state=\"none\""), "{}", page.body);
        assert_eq!(agent_state(store, "bob").await.as_deref(), Some("ready"));
        let audit = store
            .audit_entries(&oml_store::AuditFilter::default())
            .await
            .unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e.action == "preview.skip" && e.detail.contains("wrong time zone")),
            "{audit:?}"
        );
        // Ana calls: a request for the engine with her interface.
        a.get("/agent/preview").await;
        a.post("/agent/preview/call", &[])
            .await
            .assert_redirect("/agent");
        let page = a.get("/agent/preview").await;
        assert!(
            page.body.contains("data-state=\"calling\""),
            "{}",
            page.body
        );
        assert_eq!(agent_state(store, "ana").await.as_deref(), Some("ready"));
        let taken = store
            .take_preview_calls(campaign, "n1", oml_store::now_ms())
            .await
            .unwrap();
        assert_eq!(taken.len(), 1, "{}", ts.label);
        assert_eq!(taken[0].0.phone, "+15550000001");
        assert_eq!((taken[0].1, taken[0].2.as_str()), (ana, "PJSIP/1001"));
        // Bob's skipped contact is the one due now.
        b.get("/agent/preview").await;
        b.post("/agent/preview/next", &[("campaign", "look")])
            .await
            .assert_redirect("/agent/preview");
        let page = b.get("/agent/preview").await;
        assert!(page.body.contains("+15550000002"), "{}", page.body);
    }
}
