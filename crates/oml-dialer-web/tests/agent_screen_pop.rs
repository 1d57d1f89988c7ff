//! Screen pop (issue 19 item 3), on SQLite and PostgreSQL: an agent logs in
//! on the agent page and goes ready (QueueAdd/QueuePause to pbxsim), the
//! engine places a progressive call that pbxsim connects to that agent
//! (AgentConnect with the member name the page gave), and the agent's
//! event stream sends the screen pop: the campaign, attempt 1, every column
//! of the imported row; then `call-ended` when the customer hangs up. The
//! time from the stored connect to the pop is printed (the issue asks for
//! about a second; the stream polls every 300 ms).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request};
use futures::StreamExt;
use oml_config::Config;
use oml_dialer::contact_import::{import_contacts, FirstRejections, ImportOptions};
use oml_dialer::{Engine, EngineConfig, PLAY_KEY};
use oml_pbxsim::{Dist, PbxSim, QueueConfig, SimConfig};
use oml_store::{
    AgentSetup, CampaignMode, CampaignSpec, CampaignState, NewUser, Role, ServerSpec, Store,
    TrunkSpec, DEFAULT_DIAL_STRING,
};
use oml_web::testing::{add_user, app, Client, ADMIN, ADMIN_PW};
use secrecy::SecretString;
use tower::ServiceExt;

const SECRET: &str = "sim-secret";
const AGENT_PW: &str = "agent-password-1";

async fn setup(store: &Store, port: u16) -> i64 {
    add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
    store
        .create_server(&ServerSpec {
            name: "pbx1".into(),
            host: "127.0.0.1".into(),
            ami_port: port,
            ami_user: "oml".into(),
            ami_secret: SecretString::from(SECRET),
            enabled: true,
        })
        .await
        .unwrap();
    store
        .create_trunk(&TrunkSpec {
            name: "t1".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 5,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("sales", "t1");
    spec.mode = CampaignMode::Progressive;
    spec.queue_name = "sales-q".into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 24 * 60;
    spec.days_mask = 127;
    let c = store.create_campaign(&spec).await.unwrap();
    let csv = "phone,name,debt\n+541155550001,Ana Pérez,120.50\n";
    let opts = ImportOptions {
        list_name: "list.csv".into(),
        ..ImportOptions::default()
    };
    let mut sink = FirstRejections::default();
    let out = import_contacts(store, c.id, csv.as_bytes(), &opts, &mut sink)
        .await
        .unwrap();
    assert_eq!(out.summary.imported, 1, "{:?}", sink.rows);
    store
        .create_user_with(
            &NewUser {
                username: "ana",
                password: &AGENT_PW.to_string().into(),
                role: Role::Agent,
                must_change_password: false,
            },
            &AgentSetup {
                extension: Some("1001".into()),
                campaigns: Some(vec!["sales".into()]),
            },
        )
        .await
        .unwrap();
    c.id
}

fn events_request(c: &Client) -> Request<Body> {
    let cookies: Vec<String> = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut req = Request::builder()
        .uri("/agent/events")
        .header(header::HOST, "console.test")
        .header(header::COOKIE, cookies.join("; "))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut().insert(ConnectInfo(c.peer));
    req
}

/// The event stream's body.
type Events = axum::body::BodyDataStream;

/// Reads the stream until an event named `name`; its data line.
async fn wait_for(body: &mut Events, seen: &mut String, name: &str, limit: Duration) -> String {
    let marker = format!("event: {name}\n");
    let end = Instant::now() + limit;
    loop {
        if let Some(i) = seen.find(&marker) {
            let rest = &seen[i + marker.len()..];
            if let Some(j) = rest.find("\n\n") {
                let data = rest[..j].trim_start_matches("data: ").to_string();
                *seen = rest[j..].to_string();
                return data;
            }
        }
        let left = end.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, body.next())
            .await
            .unwrap_or_else(|_| panic!("no `{name}` event within {limit:?}; got {seen}"))
            .expect("stream open")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_call_pops_on_the_agents_page() {
    for t in oml_store::testing::backends().await {
        let store = t.store.clone();
        let mut cfg = SimConfig::new("oml", SecretString::from(SECRET), 0);
        cfg.queues = vec![QueueConfig {
            name: "sales-q".into(),
            agents: 0,
        }];
        cfg.customers.answer_rate = 1.0;
        cfg.customers.busy_rate = 0.0;
        cfg.customers.time_to_answer = Dist::Fixed(0.5);
        cfg.customers.patience = Dist::Fixed(60.0);
        cfg.talk_time = Dist::Fixed(3.0);
        cfg.wrapup_time = Dist::Fixed(0.0);
        let sim = PbxSim::start(cfg).await.unwrap();
        let campaign = setup(&store, sim.local_addr().port()).await;
        let (_, app) = app(&store, Config::default());
        let mut a = Client::new(&app);
        a.login("ana", AGENT_PW).await;
        a.get("/agent").await;
        a.post("/agent/login", &[]).await.assert_redirect("/agent");
        a.get("/agent").await;
        a.post("/agent/ready", &[]).await.assert_redirect("/agent");
        let resp = app.clone().oneshot(events_request(&a)).await.unwrap();
        let mut body = resp.into_body().into_data_stream();
        let mut seen = String::new();
        let state = wait_for(&mut body, &mut seen, "state", Duration::from_secs(5)).await;
        assert!(state.contains(r#""state":"ready""#), "{state}");

        store
            .set_campaign_state("sales", CampaignState::Running)
            .await
            .unwrap();
        store.set_setting(PLAY_KEY, "on").await.unwrap();
        let engine = Engine::spawn(
            store.clone(),
            EngineConfig {
                tick: Duration::from_millis(50),
                reload_every: Duration::from_millis(200),
                queue_poll_every: Duration::from_secs(1),
                ami_rate_limit: None,
                ..EngineConfig::default()
            },
        );
        let pop = wait_for(&mut body, &mut seen, "call", Duration::from_secs(30)).await;
        let popped_at = oml_store::now_ms();
        let v: serde_json::Value = serde_json::from_str(&pop).unwrap();
        assert_eq!(v["campaign"], "sales", "{}: {pop}", t.label);
        assert_eq!(v["attempt_no"], 1);
        assert_eq!(v["phone"], "+541155550001");
        let fields = v["fields"].as_array().unwrap();
        assert!(
            fields.iter().any(|f| f[0] == "name" && f[1] == "Ana Pérez"),
            "{pop}"
        );
        assert!(
            fields.iter().any(|f| f[0] == "debt" && f[1] == "120.50"),
            "{pop}"
        );
        assert_eq!(v["earlier"].as_array().unwrap().len(), 0);
        let attempts = store.campaign_attempts(campaign).await.unwrap();
        let connected = attempts[0].connected_at.expect("stored as connected");
        eprintln!(
            "{}: screen pop {} ms after the stored connect",
            t.label,
            popped_at - connected
        );
        let ended = wait_for(&mut body, &mut seen, "call-ended", Duration::from_secs(30)).await;
        let e: serde_json::Value = serde_json::from_str(&ended).unwrap();
        assert_eq!(e["attempt_id"], v["attempt_id"], "{ended}");
        assert_eq!(e["outcome"], "connected", "{ended}");
        engine.shutdown().await;
        sim.shutdown().await;
    }
}
