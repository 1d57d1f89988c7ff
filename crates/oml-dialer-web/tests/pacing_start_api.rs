//! The API's campaign view says where a campaign's pacing started (issue 15
//! item 5), as `oml campaign show` and `oml dialer status` do: the
//! statistics of its own runs, of another campaign on the same trunk and
//! queue, or the priors; null for a campaign never paced. The fields are
//! the ones the OpenAPI `PacingStart` schema names.

use oml_config::Config;
use oml_store::pacing_memory::{PacingMemory, PacingStart, StartSource};
use oml_store::{CampaignSpec, Role, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::session::{random_token, token_hash};
use oml_web::testing::{add_user, Client};
use oml_web::AppState;
use serde_json::Value;

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
        .unwrap_or_else(|| panic!("no schema {schema} with required fields"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn the_campaign_view_says_where_pacing_started() {
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    add_user(store, "sup", "a fine password 1", Role::Supervisor, false).await;
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
    let sales = store
        .create_campaign(&CampaignSpec::new("sales", "carrier"))
        .await
        .unwrap();
    store
        .create_campaign(&CampaignSpec::new("retention", "carrier"))
        .await
        .unwrap();
    let started_at = oml_store::now_ms() - 60_000;
    store
        .save_pacing_memory(&PacingMemory {
            campaign_id: sales.id,
            saved_at: started_at + 1_000,
            node: "n1".into(),
            learned: Default::default(),
            started: Some(PacingStart {
                at: started_at,
                source: StartSource::Campaign {
                    campaign_id: 99,
                    name: "promo".into(),
                    age_ms: 3 * 86_400_000,
                    own_attempts: 12,
                },
                attempts: 400,
                talks: 100,
            }),
        })
        .await
        .unwrap();
    let state = oml_dialer_web::register(AppState::builder(store.clone(), Config::default()))
        .build()
        .unwrap();
    let app = oml_dialer_web::app(state);
    let mut c = Client::new(&app);
    let doc = json(&c.get("/api/v1/openapi.json").await.body);
    let t = random_token();
    store
        .create_api_token("sup", "crm", &token_hash(&t), oml_store::now_ms(), None)
        .await
        .unwrap();
    c.bearer = Some(t);

    let r = c.get("/api/v1/campaigns/sales").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = &json(&r.body)["pacing_start"];
    assert_eq!(keys(p), required(&doc, "PacingStart"), "{p}");
    assert_eq!(
        p["description"],
        "campaign promo on the same trunk and queue, 3 days old, then 12 attempts of its own"
    );
    assert_eq!(p["at"], started_at);
    assert_eq!(p["started_at"], oml_store::format_ms(started_at));
    assert_eq!(p["source"]["from"], "campaign");
    assert_eq!(p["source"]["name"], "promo");
    assert_eq!(
        (p["attempts"].as_u64(), p["talks"].as_u64()),
        (Some(400), Some(100))
    );

    // Never paced: null, in the list and in the dialer's view alike.
    let list = json(&c.get("/api/v1/campaigns").await.body);
    let retention = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "retention")
        .unwrap();
    assert!(retention["pacing_start"].is_null(), "{retention}");
    let dialer = json(&c.get("/api/v1/dialer").await.body);
    let in_dialer = dialer["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sales")
        .unwrap();
    assert_eq!(in_dialer["pacing_start"], *p);
}
