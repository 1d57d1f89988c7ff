//! The console's Dispositions page (issue 19 item 5) on SQLite and
//! PostgreSQL: a supervisor lists, adds, removes and sets the wrap-up
//! limit of a campaign's dispositions with the store's rules (the CLI's):
//! a refused form comes back 422 with the reason and nothing stored;
//! agents cannot open it; every change is audited.

use oml_config::Config;
use oml_store::{CampaignSpec, Role, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::pages::REFUSED;
use oml_web::testing::{add_user, Client};

const PW: &str = "a fine password 1";
const PAGE: &str = "/dialer/campaigns/sales/dispositions";

#[tokio::test]
async fn supervisors_manage_a_campaigns_dispositions() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let label = ts.label;
        add_user(store, "admin", PW, Role::Admin, false).await;
        add_user(store, "sup", PW, Role::Supervisor, false).await;
        add_user(store, "ana", PW, Role::Agent, false).await;
        store
            .create_trunk(&TrunkSpec {
                name: "carrier".into(),
                dial_string: DEFAULT_DIAL_STRING.into(),
                max_channels: 10,
                server: None,
                caller_id: String::new(),
            })
            .await
            .unwrap();
        let c = store
            .create_campaign(&CampaignSpec::new("sales", "carrier"))
            .await
            .unwrap();
        let state =
            oml_dialer_web::register(oml_web::AppState::builder(store.clone(), Config::default()))
                .build()
                .unwrap();
        let app = oml_dialer_web::app(state);

        // Agents do not get the page.
        let mut agent = Client::new(&app);
        agent.login("ana", PW).await;
        let r = agent.get(PAGE).await;
        assert!(r.status.is_client_error(), "{label}: {}", r.status);

        let mut s = Client::new(&app);
        s.login("sup", PW).await;
        let r = s.get(PAGE).await;
        assert!(r.body.contains("id=\"no-dispositions\""), "{label}");
        assert!(r.body.contains("60 s"), "{label}: the default limit");

        // Add: one of each kind.
        for (name, effect, retry) in [
            ("sale", "final", ""),
            ("call back", "callback", ""),
            ("no interest", "retry", "86400"),
            ("do not call", "dnc-global", ""),
        ] {
            s.get(PAGE).await;
            s.post(
                PAGE,
                &[("name", name), ("effect", effect), ("retry_after", retry)],
            )
            .await
            .assert_redirect(PAGE);
        }
        let r = s.get(PAGE).await;
        assert!(r
            .body
            .contains("Disposition `do not call` added (dnc global)."));
        let list = store.dispositions(c.id).await.unwrap();
        let names: Vec<&str> = list.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            ["call back", "do not call", "no interest", "sale"],
            "{label}"
        );
        assert!(list[0].callback && list[3].is_final);
        assert_eq!(list[2].retry_after_s, 86_400);
        assert!(r.body.contains("retry after 86400 s"), "{label}");

        // Refused, with the reason, nothing stored.
        for (fields, reason) in [
            (
                [("name", "sale"), ("effect", "retry"), ("retry_after", "")],
                "already exists",
            ),
            (
                [("name", "a,b"), ("effect", "final"), ("retry_after", "")],
                "no commas",
            ),
            (
                [
                    ("name", "later"),
                    ("effect", "retry"),
                    ("retry_after", "soon"),
                ],
                "not a number of seconds",
            ),
            (
                [
                    ("name", "later"),
                    ("effect", "retry"),
                    ("retry_after", "9999999"),
                ],
                "0 to 2592000",
            ),
        ] {
            s.get(PAGE).await;
            let r = s.post(PAGE, &fields).await;
            assert_eq!(r.status, REFUSED, "{label}: {fields:?}");
            let start = r
                .body
                .find("id=\"dispositions-error\"")
                .expect("error shown");
            let shown = &r.body[start..start + 300];
            assert!(shown.contains(reason), "{label}: {shown}");
            eprintln!(
                "{label}: {}",
                shown
                    .split('>')
                    .nth(1)
                    .unwrap_or("")
                    .split('<')
                    .next()
                    .unwrap_or("")
            );
        }
        assert_eq!(store.dispositions(c.id).await.unwrap().len(), 4);

        // Remove, and a name it does not have.
        s.get(PAGE).await;
        s.post(&format!("{PAGE}/remove"), &[("name", "no interest")])
            .await
            .assert_redirect(PAGE);
        s.get(PAGE).await;
        let r = s.post(&format!("{PAGE}/remove"), &[("name", "nope")]).await;
        assert_eq!(r.status, REFUSED);
        assert!(r.body.contains("has no disposition `nope`"), "{label}");
        assert_eq!(store.dispositions(c.id).await.unwrap().len(), 3);

        // The wrap-up limit, 1 to 3600 s.
        let wrapup = "/dialer/campaigns/sales/wrapup";
        s.get(PAGE).await;
        s.post(wrapup, &[("seconds", "45")])
            .await
            .assert_redirect(PAGE);
        assert_eq!(store.wrapup_limit_s(c.id).await.unwrap(), 45);
        for bad in ["0", "3601", "soon"] {
            s.get(PAGE).await;
            let r = s.post(wrapup, &[("seconds", bad)]).await;
            assert_eq!(r.status, REFUSED, "{label}: {bad}");
        }
        assert_eq!(store.wrapup_limit_s(c.id).await.unwrap(), 45);

        // Unknown campaign: not found.
        let r = s.get("/dialer/campaigns/nope/dispositions").await;
        assert_eq!(r.status.as_u16(), 404);

        let audit = store
            .audit_entries(&oml_store::AuditFilter {
                user: Some("sup".into()),
                from_ms: None,
                to_ms: None,
                limit: 100,
            })
            .await
            .unwrap();
        let actions: Vec<&str> = audit
            .iter()
            .filter(|e| e.actor == "sup")
            .map(|e| e.action.as_str())
            .collect();
        assert_eq!(
            actions.iter().filter(|a| **a == "disposition_add").count(),
            4,
            "{label}: {actions:?}"
        );
        assert!(actions.contains(&"disposition_remove") && actions.contains(&"wrapup_set"));
    }
}
