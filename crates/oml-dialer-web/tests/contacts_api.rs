//! A campaign's contacts and a contact's history over the API, on SQLite
//! and PostgreSQL: a supervisor's token reads them page by page, by state,
//! by id and by phone (national form under the default country); no token
//! or an agent's is refused; bad parameters are answered 400 naming them;
//! the JSON has exactly the fields the OpenAPI document names.

use oml_config::Config;
use oml_store::dialing::{AttemptResult, DialingWrite, NewAttempt};
use oml_store::{CampaignSpec, Role, ServerSpec, Store, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::session::{random_token, token_hash};
use oml_web::testing::{add_user, Client};
use oml_web::AppState;
use serde_json::Value;

const PW: &str = "a fine password 1";

/// Two campaigns sharing the number +541140000000; five contacts in
/// `sales`, the first called once (busy), the second in flight.
async fn setup(store: &Store) -> axum::Router {
    add_user(store, "sup", PW, Role::Supervisor, false).await;
    add_user(store, "ag", PW, Role::Agent, false).await;
    let server = store
        .create_server(&ServerSpec {
            name: "pbx1".into(),
            host: "127.0.0.1".into(),
            ami_port: 5038,
            ami_user: "oml".into(),
            ami_secret: "x".to_string().into(),
            enabled: true,
        })
        .await
        .unwrap()
        .id;
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
    let phones: Vec<String> = (0..5).map(|i| format!("+54114000000{i}")).collect();
    for (name, n) in [("sales", 5), ("retention", 1)] {
        let c = store
            .create_campaign(&CampaignSpec::new(name, "carrier"))
            .await
            .unwrap();
        store.seed_contacts(c.id, &phones[..n]).await.unwrap();
    }
    let sales = store.campaign_by_name("sales").await.unwrap().unwrap().id;
    let now = oml_store::now_ms();
    let due = store
        .claim_due_contacts(sales, "node-a", now, 2)
        .await
        .unwrap();
    for (i, d) in due.iter().enumerate() {
        let mut w = vec![DialingWrite::Begin(NewAttempt {
            campaign_id: sales,
            contact_id: d.id,
            attempt_no: 1,
            server_id: Some(server),
            channel_id: format!("oml-{sales}-{}-1", d.id),
            placed_at: now,
            node: "node-a".into(),
        })];
        if i == 0 {
            w.push(DialingWrite::End(AttemptResult {
                contact_id: d.id,
                attempt_no: 1,
                answered_at: None,
                connected_at: None,
                ended_at: now + 20_000,
                outcome: "busy".into(),
                hangup_cause: Some(17),
                agent: None,
                contact_state: "pending".into(),
                next_attempt_at: now + 600_000,
            }));
        }
        store.apply_dialing_writes(&w).await.unwrap();
    }
    let mut config = Config::default();
    config.dialer.default_country = Some("54".into());
    let state = oml_dialer_web::register(AppState::builder(store.clone(), config))
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

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

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

const CALLS: [&str; 3] = [
    "/api/v1/campaigns/sales/contacts",
    "/api/v1/contacts/1",
    "/api/v1/contacts?phone=%2B541140000000",
];

#[tokio::test]
async fn contacts_and_histories_need_a_supervisor_token_and_match_the_document() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let app = setup(store).await;
        let mut c = Client::new(&app);
        let doc = json(&c.get("/api/v1/openapi.json").await.body);
        for call in CALLS {
            let r = c.get(call).await;
            assert_eq!(r.status, 401, "{call} without a token ({})", ts.label);
            assert!(!r.body.contains("+5411"), "{}", r.body);
        }
        c.bearer = Some(token(store, "ag").await);
        for call in CALLS {
            assert_eq!(
                c.get(call).await.status,
                403,
                "{call} with an agent's token"
            );
        }
        c.bearer = Some(token(store, "sup").await);

        // Page by page, two at a time: every contact once, then the end.
        let mut ids = Vec::new();
        let mut url = "/api/v1/campaigns/sales/contacts?limit=2".to_string();
        loop {
            let r = c.get(&url).await;
            assert_eq!(r.status, 200, "{url}: {}", r.body);
            let page = json(&r.body);
            assert_eq!(keys(&page), required(&doc, "ContactPage"));
            for contact in page["contacts"].as_array().unwrap() {
                assert_eq!(keys(contact), required(&doc, "ContactSummary"));
                ids.push(contact["id"].as_i64().unwrap());
            }
            match page["next_after"].as_i64() {
                Some(after) => {
                    url = format!("/api/v1/campaigns/sales/contacts?limit=2&after={after}")
                }
                None => break,
            }
        }
        assert_eq!(ids.len(), 5, "{}", ts.label);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

        let r = c
            .get("/api/v1/campaigns/sales/contacts?state=dialing")
            .await;
        let page = json(&r.body);
        let dialing = page["contacts"].as_array().unwrap();
        assert_eq!(dialing.len(), 1, "{}", r.body);
        assert_eq!(dialing[0]["phone"], "+541140000001");
        assert_eq!(page["next_after"], Value::Null);

        for (url, says) in [
            (
                "/api/v1/campaigns/sales/contacts?state=called",
                "use one of pending, reserved, hopper, dialing, done, exhausted, dnc",
            ),
            (
                "/api/v1/campaigns/sales/contacts?limit=5000",
                "`limit` must be a whole number from 1 to 1000",
            ),
            (
                "/api/v1/campaigns/sales/contacts?after=x",
                "`after` must be a whole number",
            ),
            ("/api/v1/contacts/abc", "`abc` is not a contact id"),
            ("/api/v1/contacts", "/api/v1/contacts?phone=NUMBER"),
            (
                "/api/v1/contacts?phone=call%20me",
                "`phone`: `call me` contains",
            ),
        ] {
            let r = c.get(url).await;
            assert_eq!(r.status, 400, "{url}: {}", r.body);
            let e = json(&r.body)["error"].as_str().unwrap().to_string();
            assert!(e.contains(says), "{url}: {e}");
        }
        let r = c.get("/api/v1/campaigns/nope/contacts").await;
        assert_eq!(r.status, 404);
        assert!(r.body.contains("campaign `nope` not found"), "{}", r.body);

        // By phone in its national form: both campaigns, with the attempt.
        let r = c.get("/api/v1/contacts?phone=011%204000-0000").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let found = json(&r.body);
        let found = found.as_array().unwrap();
        let campaigns: Vec<&str> = found
            .iter()
            .map(|h| h["campaign"].as_str().unwrap())
            .collect();
        assert_eq!(campaigns, ["retention", "sales"], "{}", ts.label);
        let sales = &found[1];
        assert_eq!(keys(sales), required(&doc, "ContactHistory"));
        let attempt = &sales["history"][0];
        assert_eq!(keys(attempt), required(&doc, "Attempt"));
        assert_eq!(
            (
                &attempt["outcome"],
                &attempt["hangup_cause"],
                &attempt["server"],
                &attempt["node"]
            ),
            (
                &Value::from("busy"),
                &Value::from(17),
                &Value::from("pbx1"),
                &Value::from("node-a")
            )
        );
        assert_eq!(attempt["agent"], Value::Null, "no agent took a busy call");
        let r = c.get("/api/v1/contacts?phone=011%204999-9999").await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "[]"));

        // By id: the same contact; an unknown id is 404.
        let id = sales["id"].as_i64().unwrap();
        let r = c.get(&format!("/api/v1/contacts/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(json(&r.body), *sales);
        let r = c.get("/api/v1/contacts/999999").await;
        assert_eq!(r.status, 404);
        assert!(
            r.body.contains("no contact has the id 999999"),
            "{}",
            r.body
        );
    }
}
