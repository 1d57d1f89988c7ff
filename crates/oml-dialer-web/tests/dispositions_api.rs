//! Dispositions and callbacks over HTTP, on SQLite and PostgreSQL (issue 19
//! items 5 and 6): a supervisor manages a campaign's dispositions and
//! wrap-up limit (an agent may not); an agent dispositions their own call
//! as a callback for tomorrow (not another agent's call), sees it among
//! their callbacks, and a refused request changes nothing.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request};
use oml_config::Config;
use oml_store::dialing::{AttemptResult, DialingWrite, NewAttempt};
use oml_store::{CampaignSpec, Role, Store, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::session::{random_token, token_hash};
use oml_web::testing::add_user;
use oml_web::AppState;
use serde_json::{json, Value};
use std::net::SocketAddr;
use tower::ServiceExt;

const PW: &str = "a fine password 1";

/// Campaign `sales` with two calls, ended: the first taken by `ana`, the
/// second by `bob`; returns the router and the two attempts' ids.
async fn setup(store: &Store) -> (axum::Router, i64, i64) {
    for (name, role) in [
        ("sup", Role::Supervisor),
        ("ana", Role::Agent),
        ("bob", Role::Agent),
    ] {
        add_user(store, name, PW, role, false).await;
    }
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
    let phones = ["+541140000001".to_string(), "+541140000002".to_string()];
    store.seed_contacts(c.id, &phones).await.unwrap();
    let now = oml_store::now_ms();
    let due = store.claim_due_contacts(c.id, "n", now, 2).await.unwrap();
    let mut ids = Vec::new();
    for (d, agent) in due.iter().zip(["ana", "bob"]) {
        let begin = DialingWrite::Begin(NewAttempt {
            campaign_id: c.id,
            contact_id: d.id,
            attempt_no: 1,
            server_id: None,
            channel_id: format!("oml-{}-1", d.id),
            placed_at: now,
            node: "n".into(),
        });
        store.apply_dialing_writes(&[begin]).await.unwrap();
        let open = store.open_attempts(Some("n")).await.unwrap();
        ids.push(open.iter().find(|a| a.contact_id == d.id).unwrap().id);
        let end = DialingWrite::End(AttemptResult {
            contact_id: d.id,
            attempt_no: 1,
            answered_at: Some(now + 1),
            connected_at: Some(now + 2),
            ended_at: now + 30_000,
            outcome: "connected".into(),
            hangup_cause: Some(16),
            agent: Some(agent.into()),
            contact_state: "done".into(),
            next_attempt_at: 0,
        });
        store.apply_dialing_writes(&[end]).await.unwrap();
    }
    let state = oml_dialer_web::register(AppState::builder(store.clone(), Config::default()))
        .build()
        .unwrap();
    (oml_dialer_web::app(state), ids[0], ids[1])
}

async fn token(store: &Store, user: &str) -> String {
    let t = random_token();
    store
        .create_api_token(user, "crm", &token_hash(&t), oml_store::now_ms(), None)
        .await
        .unwrap();
    t
}

async fn call(
    app: &axum::Router,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "console.test")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
        .unwrap();
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, v)
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// The fields the OpenAPI document requires of `schema`, sorted.
fn required(schema: &str) -> Vec<String> {
    let doc: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
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
async fn supervisors_manage_dispositions_and_agents_disposition_their_calls() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let (app, ana_call, bob_call) = setup(store).await;
        let (sup, ana) = (token(store, "sup").await, token(store, "ana").await);
        let list = "/api/v1/campaigns/sales/dispositions";

        let (s, _) = call(&app, &ana, Method::GET, list, None).await;
        assert_eq!(s, 403, "{}: an agent may not manage dispositions", ts.label);
        for body in [
            json!({"name": "sale", "final": true}),
            json!({"name": "call back", "callback": true}),
            json!({"name": "no interest", "retry_after_s": 86400}),
        ] {
            let (s, v) = call(&app, &sup, Method::POST, list, Some(body)).await;
            assert_eq!(s, 201, "{}: {v}", ts.label);
        }
        let (s, v) = call(
            &app,
            &sup,
            Method::POST,
            list,
            Some(json!({"name": "odd", "final": true, "callback": true})),
        )
        .await;
        assert_eq!(s, 400);
        assert!(v["error"].as_str().unwrap().contains("final"), "{v}");
        let (s, v) = call(
            &app,
            &sup,
            Method::PUT,
            "/api/v1/campaigns/sales/wrapup",
            Some(json!({"seconds": 45})),
        )
        .await;
        assert_eq!((s, v["wrapup_s"].as_i64()), (200, Some(45)));
        let (s, v) = call(&app, &sup, Method::GET, list, None).await;
        assert_eq!(s, 200);
        assert_eq!(v["wrapup_s"], 45);
        let names: Vec<&str> = v["dispositions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["call back", "no interest", "sale"], "{}", ts.label);
        let (s, _) = call(
            &app,
            &sup,
            Method::DELETE,
            "/api/v1/campaigns/sales/dispositions/no%20interest",
            None,
        )
        .await;
        assert_eq!(s, 200);

        // Ana may not disposition Bob's call; nothing changes.
        let bobs = format!("/api/v1/attempts/{bob_call}/disposition");
        let (s, v) = call(
            &app,
            &ana,
            Method::POST,
            &bobs,
            Some(json!({"disposition": "sale"})),
        )
        .await;
        assert_eq!(s, 403, "{v}");
        assert_eq!(store.attempt_disposition(bob_call).await.unwrap(), None);

        // Her own call, as a callback tomorrow at 10:30 (the campaign's UTC).
        let hers = format!("/api/v1/attempts/{ana_call}/disposition");
        let (s, v) = call(
            &app,
            &ana,
            Method::POST,
            &hers,
            Some(json!({"disposition": "call back"})),
        )
        .await;
        assert_eq!(s, 400);
        assert!(
            v["error"].as_str().unwrap().contains("date and time"),
            "{v}"
        );
        let tomorrow = chrono::Utc::now().date_naive() + chrono::Days::new(1);
        let at = format!("{tomorrow} 10:30");
        let (s, v) = call(
            &app,
            &ana,
            Method::POST,
            &hers,
            Some(json!({"disposition": "call back", "callback_at": at})),
        )
        .await;
        assert_eq!(s, 200, "{}: {v}", ts.label);
        assert_eq!(keys(&v), required("Disposed"), "the document's Disposed");
        let due = tomorrow
            .and_hms_opt(10, 30, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        assert_eq!(
            (v["contact_state"].as_str(), v["callback_at"].as_i64()),
            (Some("pending"), Some(due))
        );
        let (s, v) = call(
            &app,
            &ana,
            Method::POST,
            &hers,
            Some(json!({"disposition": "sale"})),
        )
        .await;
        assert_eq!(s, 400, "{v}");

        let (s, v) = call(&app, &ana, Method::GET, "/api/v1/callbacks", None).await;
        assert_eq!(s, 200);
        let mine = v.as_array().unwrap();
        assert_eq!(mine.len(), 1, "{v}");
        assert_eq!(
            keys(&mine[0]),
            required("Callback"),
            "the document's Callback"
        );
        assert_eq!(
            (mine[0]["agent"].as_str(), mine[0]["due_at"].as_i64()),
            (Some("ana"), Some(due))
        );
        let (s, _) = call(
            &app,
            &ana,
            Method::GET,
            "/api/v1/callbacks?campaign=sales",
            None,
        )
        .await;
        assert_eq!(s, 403);
        let (s, v) = call(
            &app,
            &sup,
            Method::GET,
            "/api/v1/callbacks?campaign=sales",
            None,
        )
        .await;
        assert_eq!((s, v.as_array().map(Vec::len)), (200, Some(1)));

        // A supervisor may disposition any call.
        let (s, v) = call(
            &app,
            &sup,
            Method::POST,
            &bobs,
            Some(json!({"disposition": "sale"})),
        )
        .await;
        assert_eq!((s, v["contact_state"].as_str()), (200, Some("done")), "{v}");
        let audit = store
            .audit_entries(&oml_store::AuditFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        for a in [
            "disposition_add",
            "disposition_remove",
            "wrapup_set",
            "disposition",
        ] {
            assert!(actions.contains(&a), "{}: no {a} in {actions:?}", ts.label);
        }
    }
}
