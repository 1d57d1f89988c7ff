//! The supervisor's view of agents over HTTP, on SQLite and PostgreSQL
//! (issue 19 item 7): the console's agents section and `GET /api/v1/agents`
//! show an agent in wrap-up, one paused with a reason and one logged out;
//! an agent's token or login is refused.

use oml_config::Config;
use oml_store::{Role, Store};
use oml_web::session::{random_token, token_hash};
use oml_web::testing::{add_user, Client};
use oml_web::AppState;
use serde_json::Value;

const PW: &str = "a fine password 1";

async fn setup(store: &Store) -> axum::Router {
    for (name, role) in [
        ("admin", Role::Admin),
        ("sup", Role::Supervisor),
        ("ana", Role::Agent),
        ("bob", Role::Agent),
        ("carl", Role::Agent),
    ] {
        add_user(store, name, PW, role, false).await;
    }
    let now = oml_store::now_ms();
    let id = |n: &'static str| async move { store.user_by_name(n).await.unwrap().unwrap().id };
    store
        .set_agent_state(
            id("ana").await,
            Some(("paused", Some("wrap-up"))),
            now - 4_000,
        )
        .await
        .unwrap();
    store
        .set_agent_state(
            id("bob").await,
            Some(("paused", Some("Lunch"))),
            now - 65_000,
        )
        .await
        .unwrap();
    let state = oml_dialer_web::register(AppState::builder(store.clone(), Config::default()))
        .build()
        .unwrap();
    oml_dialer_web::app(state)
}

async fn token(store: &Store, user: &str) -> String {
    let t = random_token();
    store
        .create_api_token(user, "crm", &token_hash(&t), oml_store::now_ms(), None)
        .await
        .unwrap();
    t
}

#[tokio::test]
async fn supervisors_see_the_agents_states() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let app = setup(store).await;
        let mut c = Client::new(&app);
        c.bearer = Some(token(store, "ana").await);
        assert_eq!(c.get("/api/v1/agents").await.status, 403, "{}", ts.label);
        c.bearer = Some(token(store, "sup").await);
        let r = c.get("/api/v1/agents").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        let states: Vec<(&str, &str)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["username"].as_str().unwrap(),
                    a["state"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                ("ana", "wrap-up"),
                ("bob", "paused"),
                ("carl", "logged out")
            ],
            "{}",
            ts.label
        );
        assert_eq!(v[1]["reason"], "Lunch");
        let doc: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
        let mut required: Vec<&str> = doc["components"]["schemas"]["AgentOverview"]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        required.sort();
        let mut keys: Vec<&str> = v[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, required, "the document's AgentOverview");

        let mut agent = Client::new(&app);
        let l = agent.login("ana", PW).await;
        assert!(l.status.is_redirection(), "{:?} {}", l.location, l.body);
        assert_ne!(agent.get("/dialer/agents").await.status, 200);
        let mut sup = Client::new(&app);
        let l = sup.login("sup", PW).await;
        assert!(l.status.is_redirection(), "{:?} {}", l.location, l.body);
        let page = sup.get("/dialer/agents").await;
        assert_eq!(page.status, 200, "{:?} {}", page.location, page.body);
        for want in [
            r#"data-agent="ana" data-state="wrap-up""#,
            "paused (Lunch)",
            "1 min 0",
            r#"data-agent="carl" data-state="logged out""#,
        ] {
            assert!(
                page.body.contains(want),
                "{}: no {want:?} in {}",
                ts.label,
                page.body
            );
        }
    }
}
