//! `GET /api/v1/status`: the report of `oml status` over the API, with the
//! fields its OpenAPI schema names, for supervisors' and admins' tokens only.

use oml_config::Config;
use oml_store::Role;
use oml_web::session::{random_token, token_hash};
use oml_web::testing::{add_user, Client};
use oml_web::AppState;
use serde_json::Value;

const PW: &str = "a long enough password";

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn required(doc: &Value, schema: &str) -> Vec<String> {
    let mut v: Vec<String> = doc["components"]["schemas"][schema]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn the_status_report_is_served_as_documented() {
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    add_user(store, "sup", PW, Role::Supervisor, false).await;
    let state = oml_dialer_web::register(AppState::builder(store.clone(), Config::default()))
        .build()
        .unwrap();
    let app = oml_dialer_web::app(state);
    let mut c = Client::new(&app);
    assert_eq!(
        c.get("/api/v1/status").await.status,
        401,
        "a token is needed"
    );

    let t = random_token();
    store
        .create_api_token("sup", "monitor", &token_hash(&t), oml_store::now_ms(), None)
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&c.get("/api/v1/openapi.json").await.body).unwrap();
    c.bearer = Some(t);
    let r = c.get("/api/v1/status").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let report: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(keys(&report), required(&doc, "Status"));
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(keys(&checks[0]), required(&doc, "Check"));
    let db = checks.iter().find(|c| c["section"] == "database").unwrap();
    assert_eq!(db["level"], "ok", "{db}");
    assert!(checks.iter().any(|c| c["section"] == "dialer"));
    assert!(checks.iter().any(|c| c["section"] == "backup"));
}
