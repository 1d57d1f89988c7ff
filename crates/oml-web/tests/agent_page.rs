//! The agent page over HTTP (in-process router) against pbxsim, on SQLite
//! and PostgreSQL (issue 19 item 2): an agent logs in to their campaigns'
//! queues (QueueAdd of PJSIP/<extension>, paused), goes ready, pauses with
//! a reason and logs out, each change seen in pbxsim's QueueStatus and in
//! the stored state; a queue Asterisk refuses leaves nothing changed (the
//! other queue's member removed again) and the page names the server and
//! the action; the page's policy lets its own script run; the event stream
//! sends the state.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request};
use common::*;
use http_body_util::BodyExt;
use oml_ami::{AmiClient, ClientConfig};
use oml_config::Config;
use oml_pbxsim::{PbxSim, QueueConfig, SimConfig};
use oml_store::{dialplan, AgentSetup, CampaignSpec, NewUser, Role, ServerSpec, Store, TrunkSpec};
use secrecy::SecretString;
use std::time::Duration;
use tower::ServiceExt;

const AGENT_PW: &str = "agent-password-1";

async fn pbx(queues: &[&str]) -> PbxSim {
    let mut cfg = SimConfig::new("oml", SecretString::from("sim-secret"), 0);
    cfg.queues = queues
        .iter()
        .map(|q| QueueConfig {
            name: q.to_string(),
            agents: 0,
        })
        .collect();
    PbxSim::start(cfg).await.expect("pbxsim")
}

/// A trunk, campaigns `names`, the server at `sim` and agent ana (1001)
/// working them; the campaigns' queues.
async fn setup(store: &Store, sim: &PbxSim, names: &[&str]) -> Vec<String> {
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
    let mut queues = Vec::new();
    for n in names {
        let c = store
            .create_campaign(&CampaignSpec::new(n, "carrier"))
            .await
            .unwrap();
        queues.push(dialplan::queue(&c).into_owned());
    }
    let addr = sim.local_addr();
    store
        .create_server(&ServerSpec {
            name: "pbx1".into(),
            host: addr.ip().to_string(),
            ami_port: addr.port(),
            ami_user: "oml".into(),
            ami_secret: SecretString::from("sim-secret"),
            enabled: true,
        })
        .await
        .unwrap();
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
                campaigns: Some(names.iter().map(|s| s.to_string()).collect()),
            },
        )
        .await
        .unwrap();
    queues
}

/// PJSIP/1001's membership of `queue` in pbxsim: None when not a member,
/// else its paused reason ("" when ready).
async fn member(sim: &PbxSim, queue: &str) -> Option<String> {
    let mut cfg = ClientConfig::new(
        sim.local_addr().to_string(),
        "oml",
        SecretString::from("sim-secret"),
    );
    cfg.ping_interval = None;
    let c = AmiClient::connect(cfg).await.unwrap();
    let list = c.queue_status(Some(queue)).await.unwrap();
    let m = list.iter().find(|m| {
        m.event_name() == Some("QueueMember")
            && (m.get("StateInterface") == Some("PJSIP/1001")
                || m.get("Location") == Some("PJSIP/1001")
                || m.get("Interface") == Some("PJSIP/1001"))
    })?;
    assert_eq!(m.get("Name").or(m.get("MemberName")), Some("ana"));
    Some(if m.get("Paused") == Some("1") {
        m.get("PausedReason").unwrap_or("").to_string()
    } else {
        String::new()
    })
}

async fn state(store: &Store) -> Option<(String, Option<String>)> {
    let id = store.user_by_name("ana").await.unwrap().unwrap().id;
    store
        .agent_state(id)
        .await
        .unwrap()
        .map(|s| (s.state, s.reason))
}

#[tokio::test]
async fn an_agent_logs_in_goes_ready_pauses_and_logs_out() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let sim = pbx(&["q-a", "q-b"]).await;
        let queues = setup(store, &sim, &["sales", "promo"]).await;
        let (_, app) = app(store, Config::default());
        let mut a = Client::new(&app);
        a.login("ana", AGENT_PW).await;
        let page = a.get("/agent").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Logged out"), "{}", page.body);
        // The queues do not exist yet in pbxsim: QueueAdd is refused.
        a.post("/agent/login", &[]).await.assert_redirect("/agent");
        let page = a.get("/agent").await;
        assert!(
            page.body
                .contains("Asterisk server `pbx1` refused QueueAdd (queue"),
            "{}: {}",
            ts.label,
            page.body
        );
        assert_eq!(state(store).await, None, "{}: nothing stored", ts.label);
        sim.shutdown().await;

        let sim = pbx(&[&queues[0], &queues[1]]).await;
        let addr = sim.local_addr();
        let pbx1 = store.server_by_name("pbx1").await.unwrap().unwrap();
        store
            .update_server(
                "pbx1",
                &ServerSpec {
                    name: "pbx1".into(),
                    host: addr.ip().to_string(),
                    ami_port: addr.port(),
                    ami_user: pbx1.ami_user.clone(),
                    ami_secret: SecretString::from("sim-secret"),
                    enabled: true,
                },
            )
            .await
            .unwrap();
        a.post("/agent/login", &[]).await.assert_redirect("/agent");
        for q in &queues {
            assert_eq!(
                member(&sim, q).await.as_deref(),
                Some("Logged in"),
                "{}",
                ts.label
            );
        }
        assert_eq!(
            state(store).await,
            Some(("paused".into(), Some("Logged in".into())))
        );
        a.get("/agent").await;
        a.post("/agent/ready", &[]).await.assert_redirect("/agent");
        for q in &queues {
            assert_eq!(member(&sim, q).await.as_deref(), Some(""), "{}", ts.label);
        }
        assert_eq!(state(store).await, Some(("ready".into(), None)));
        a.get("/agent").await;
        a.post("/agent/pause", &[("reason", "Lunch")])
            .await
            .assert_redirect("/agent");
        assert_eq!(member(&sim, &queues[1]).await.as_deref(), Some("Lunch"));
        assert_eq!(
            state(store).await,
            Some(("paused".into(), Some("Lunch".into())))
        );
        a.get("/agent").await;
        a.post("/agent/pause", &[("reason", "Nap")])
            .await
            .assert_redirect("/agent");
        let page = a.get("/agent").await;
        assert!(
            page.body.contains("Choose a pause reason from the list"),
            "{}",
            page.body
        );
        assert_eq!(
            state(store).await,
            Some(("paused".into(), Some("Lunch".into())))
        );
        let csp = page_csp(&app, &a).await;
        assert!(csp.contains("script-src 'self'"), "{csp}");
        let first = first_event(&app, &a).await;
        assert!(first.contains("event: state"), "{first}");
        assert!(first.contains("Paused: Lunch"), "{first}");
        a.post("/agent/logout", &[]).await.assert_redirect("/agent");
        for q in &queues {
            assert_eq!(member(&sim, q).await, None, "{}", ts.label);
        }
        assert_eq!(state(store).await, None);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_refused_queue_undoes_the_others_and_is_named() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let probe = pbx(&[]).await;
        let queues = setup(store, &probe, &["sales", "promo"]).await;
        probe.shutdown().await;
        // Only the first campaign's queue exists.
        let sim = pbx(&[&queues[0]]).await;
        let addr = sim.local_addr();
        store
            .update_server(
                "pbx1",
                &ServerSpec {
                    name: "pbx1".into(),
                    host: addr.ip().to_string(),
                    ami_port: addr.port(),
                    ami_user: "oml".into(),
                    ami_secret: SecretString::from("sim-secret"),
                    enabled: true,
                },
            )
            .await
            .unwrap();
        let (_, app) = app(store, Config::default());
        let mut a = Client::new(&app);
        a.login("ana", AGENT_PW).await;
        a.get("/agent").await;
        a.post("/agent/login", &[]).await.assert_redirect("/agent");
        let page = a.get("/agent").await;
        assert!(
            page.body.contains("No such queue"),
            "{}: {}",
            ts.label,
            page.body
        );
        assert!(page.body.contains("pbx1"), "{}", page.body);
        assert_eq!(member(&sim, &queues[0]).await, None, "{}: undone", ts.label);
        assert_eq!(state(store).await, None, "{}", ts.label);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn only_agents_with_an_extension_have_the_page() {
    let ts = oml_store::testing::sqlite().await;
    add_user(&ts.store, ADMIN, ADMIN_PW, Role::Admin, false).await;
    let (_, app) = app(&ts.store, Config::default());
    let mut a = Client::new(&app);
    a.login(ADMIN, ADMIN_PW).await;
    let page = a.get("/agent").await;
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("The agent page is for agents"),
        "{}",
        page.body
    );
}

fn request(path: &str, c: &Client) -> Request<Body> {
    let cookies: Vec<String> = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut req = Request::builder()
        .uri(path)
        .header(header::HOST, "console.test")
        .header(header::COOKIE, cookies.join("; "))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut().insert(ConnectInfo(c.peer));
    req
}

async fn page_csp(app: &axum::Router, c: &Client) -> String {
    let resp = app.clone().oneshot(request("/agent", c)).await.unwrap();
    resp.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string()
}

/// The first frame of the agent's event stream.
async fn first_event(app: &axum::Router, c: &Client) -> String {
    let resp = app
        .clone()
        .oneshot(request("/agent/events", c))
        .await
        .unwrap();
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = resp.into_body();
    let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("an event within 5 s")
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(frame.data_ref().unwrap()).to_string()
}
