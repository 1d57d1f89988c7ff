//! The wrap-up limit (issue 19 item 5), on SQLite and PostgreSQL: when a
//! call of a campaign with dispositions ends, the agent is paused with
//! reason wrap-up (in pbxsim's queue, as QueueStatus reports it, and in the
//! stored state); when the campaign's limit (2 s here) passes without the
//! form, they are made ready again by the console alone (no page open),
//! the call keeps no disposition, a late form is refused, and supervisors
//! see the call counted "without disposition". A campaign without
//! dispositions has no wrap-up at all.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request};
use futures::StreamExt;
use oml_config::Config;
use oml_dialer::{Engine, EngineConfig, PLAY_KEY};
use oml_pbxsim::{Dist, PbxSim, QueueConfig, SimConfig};
use oml_store::dispositions::{Disposition, DncTarget};
use oml_store::{
    AgentSetup, CampaignMode, CampaignSpec, CampaignState, NewUser, Role, ServerSpec, Store,
    TrunkSpec, DEFAULT_DIAL_STRING,
};
use oml_web::testing::{add_user, app, Client, ADMIN, ADMIN_PW};
use secrecy::SecretString;
use tower::ServiceExt;

const SECRET: &str = "sim-secret";
const AGENT_PW: &str = "agent-password-1";
const LIMIT_S: i64 = 2;

async fn setup(store: &Store, port: u16, dispositions: bool) -> i64 {
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
    store
        .seed_contacts(c.id, &["+541155550001".to_string()])
        .await
        .unwrap();
    if dispositions {
        store
            .add_disposition(
                c.id,
                &Disposition {
                    name: "sale".into(),
                    is_final: true,
                    callback: false,
                    dnc: DncTarget::No,
                    retry_after_s: 0,
                },
            )
            .await
            .unwrap();
    }
    store.set_wrapup_limit_s(c.id, LIMIT_S).await.unwrap();
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

/// Reads the stream until an event `name` whose data contains `want`.
async fn wait_for(
    body: &mut axum::body::BodyDataStream,
    seen: &mut String,
    name: &str,
    want: &str,
    limit: Duration,
) -> String {
    let marker = format!("event: {name}\n");
    let end = Instant::now() + limit;
    loop {
        while let Some(i) = seen.find(&marker) {
            let rest = &seen[i + marker.len()..];
            let Some(j) = rest.find("\n\n") else { break };
            let data = rest[..j].trim_start_matches("data: ").to_string();
            *seen = rest[j..].to_string();
            if data.contains(want) {
                return data;
            }
        }
        let left = end.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, body.next())
            .await
            .unwrap_or_else(|_| panic!("no `{name}` with {want:?} within {limit:?}: {seen}"))
            .expect("stream open")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Ana's paused reason in pbxsim's queue ("" when ready), read with a
/// QueueStatus over a plain AMI connection of its own.
async fn member_reason(port: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.write_all(
        format!(
            "Action: Login\r\nActionID: 1\r\nUsername: oml\r\nSecret: {SECRET}\r\n\r\n\
             Action: QueueStatus\r\nActionID: 2\r\nQueue: sales-q\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !text.contains("QueueStatusComplete") {
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .expect("QueueStatus answered")
            .unwrap();
        assert!(n > 0, "pbxsim closed the connection: {text}");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let block = text
        .split("\r\n\r\n")
        .find(|b| b.contains("Event: QueueMember") && b.contains("StateInterface: PJSIP/1001"))
        .unwrap_or_else(|| panic!("ana is not a member: {text}"));
    let field = |k: &str| {
        block
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}: ")))
            .unwrap_or("")
            .to_string()
    };
    if field("Paused") == "1" {
        field("PausedReason")
    } else {
        String::new()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrapup_ends_by_itself_at_the_campaigns_limit() {
    for t in oml_store::testing::backends().await {
        let store = t.store.clone();
        let mut cfg = SimConfig::new("oml", SecretString::from(SECRET), 0);
        cfg.queues = vec![QueueConfig {
            name: "sales-q".into(),
            agents: 0,
        }];
        cfg.customers.answer_rate = 1.0;
        cfg.customers.busy_rate = 0.0;
        cfg.customers.time_to_answer = Dist::Fixed(0.3);
        cfg.customers.patience = Dist::Fixed(60.0);
        cfg.talk_time = Dist::Fixed(1.0);
        cfg.wrapup_time = Dist::Fixed(0.0);
        let sim = PbxSim::start(cfg).await.unwrap();
        let port = sim.local_addr().port();
        let campaign = setup(&store, port, true).await;
        let (_, app) = app(&store, Config::default());
        let mut a = Client::new(&app);
        a.login("ana", AGENT_PW).await;
        a.get("/agent").await;
        a.post("/agent/login", &[]).await.assert_redirect("/agent");
        a.get("/agent").await;
        a.post("/agent/ready", &[]).await.assert_redirect("/agent");
        assert_eq!(member_reason(port).await, "", "{}", t.label);
        let resp = app.clone().oneshot(events_request(&a)).await.unwrap();
        let mut body = resp.into_body().into_data_stream();
        let mut seen = String::new();
        wait_for(
            &mut body,
            &mut seen,
            "state",
            "ready",
            Duration::from_secs(5),
        )
        .await;

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
        wait_for(
            &mut body,
            &mut seen,
            "call",
            "sales",
            Duration::from_secs(30),
        )
        .await;
        let form = wait_for(
            &mut body,
            &mut seen,
            "wrapup",
            "dispositions",
            Duration::from_secs(30),
        )
        .await;
        let v: serde_json::Value = serde_json::from_str(&form).unwrap();
        assert_eq!(v["dispositions"][0]["name"], "sale", "{form}");
        assert_eq!(v["limit_s"], LIMIT_S);
        let state = wait_for(
            &mut body,
            &mut seen,
            "state",
            "wrap-up",
            Duration::from_secs(5),
        )
        .await;
        assert!(state.contains("paused"), "{state}");
        let paused_at = serde_json::from_str::<serde_json::Value>(&state).unwrap()["since"]
            .as_i64()
            .expect("since");
        assert_eq!(member_reason(port).await, "wrap-up", "{}", t.label);
        // The page closes: the console ends the wrap-up by itself.
        drop(body);
        let ana = store.user_by_name("ana").await.unwrap().unwrap();
        let deadline = Instant::now() + Duration::from_secs(LIMIT_S as u64 + 5);
        let ready = loop {
            let s = store.agent_state(ana.id).await.unwrap().unwrap();
            if s.state == "ready" {
                break s;
            }
            assert!(Instant::now() < deadline, "{}: still {s:?}", t.label);
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // Both times are the stored spans': the wrap-up's start and the
        // moment the console made the agent ready.
        let took = ready.started_at - paused_at;
        eprintln!(
            "{}: ready again {took} ms after the wrap-up began (limit {LIMIT_S} s)",
            t.label
        );
        assert!(took >= LIMIT_S * 1000, "{}: {took} ms", t.label);
        assert_eq!(member_reason(port).await, "", "{}", t.label);

        // The call keeps no disposition; a late form is refused.
        let call = store
            .agent_latest_call("ana", "PJSIP/1001")
            .await
            .unwrap()
            .expect("ana's call");
        assert_eq!(call.campaign_id, campaign);
        assert_eq!(
            store.attempt_disposition(call.attempt_id).await.unwrap(),
            None
        );
        let id = call.attempt_id.to_string();
        let late = a
            .post(
                "/agent/wrapup",
                &[("attempt_id", id.as_str()), ("disposition", "sale")],
            )
            .await;
        late.assert_redirect("/agent");
        let page = a.get("/agent").await;
        assert!(page.body.contains("has passed"), "{}", page.body);
        assert_eq!(
            store.attempt_disposition(call.attempt_id).await.unwrap(),
            None
        );
        let v = store.agents_overview(0).await.unwrap();
        assert_eq!(v[0].undisposed_today, 1, "{}", t.label);
        engine.shutdown().await;
        sim.shutdown().await;
    }
}

/// A campaign without dispositions has no wrap-up: the agent stays ready
/// after the call and the page gets no form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dispositions_no_wrapup() {
    for t in oml_store::testing::backends().await {
        let store = t.store.clone();
        let mut cfg = SimConfig::new("oml", SecretString::from(SECRET), 0);
        cfg.queues = vec![QueueConfig {
            name: "sales-q".into(),
            agents: 0,
        }];
        cfg.customers.answer_rate = 1.0;
        cfg.customers.busy_rate = 0.0;
        cfg.customers.time_to_answer = Dist::Fixed(0.3);
        cfg.customers.patience = Dist::Fixed(60.0);
        cfg.talk_time = Dist::Fixed(1.0);
        cfg.wrapup_time = Dist::Fixed(0.0);
        let sim = PbxSim::start(cfg).await.unwrap();
        let port = sim.local_addr().port();
        setup(&store, port, false).await;
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
        wait_for(
            &mut body,
            &mut seen,
            "call-ended",
            "connected",
            Duration::from_secs(30),
        )
        .await;
        // A second later: still ready, in Asterisk too, and no form was sent.
        let until = Instant::now() + Duration::from_secs(1);
        while let Ok(Some(Ok(chunk))) =
            tokio::time::timeout(until.saturating_duration_since(Instant::now()), body.next()).await
        {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(!seen.contains("dispositions"), "{}: {seen}", t.label);
        assert!(!seen.contains("wrap-up"), "{}: {seen}", t.label);
        let ana = store.user_by_name("ana").await.unwrap().unwrap();
        let s = store.agent_state(ana.id).await.unwrap().unwrap();
        assert_eq!(s.state, "ready", "{}", t.label);
        assert_eq!(member_reason(port).await, "", "{}", t.label);
        engine.shutdown().await;
        sim.shutdown().await;
    }
}
