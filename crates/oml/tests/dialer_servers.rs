//! A node connects only to the Asterisk servers its work needs, and asks
//! them only for the events it reads (issue 17 item 5). Two `oml dialer
//! run` engines on one PostgreSQL, three pbxsim servers: campaign c1 dials
//! through pbx1, c2 through pbx2, and pbx3 is enabled but used by no
//! campaign. Each node holds one AMI session, on its campaign's server
//! only (pbxsim lists its sessions), nobody logs in to pbx3, and each
//! session is sent only the events that pass its login's `Events` mask and
//! its `Filter`s (pbxsim counts the events it held back). When node B
//! stops, node A takes c2 and connects to pbx2; when B is back and takes
//! c2 again, A's link to pbx2 closes once its calls there are over.
//! PostgreSQL only (SKIPPED loudly without it).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oml_dialer::assign::{assign, Node};
use oml_pbxsim::{Dist, PbxSim, SessionInfo, SimConfig};
use oml_store::{
    campaign_key, CampaignMode, CampaignSpec, CampaignState, ServerSpec, Store, TrunkSpec,
};
use secrecy::SecretString;

async fn sim() -> PbxSim {
    let mut cfg = SimConfig::new("oml", SecretString::from("s"), 6);
    cfg.time_scale = 10.0;
    cfg.seed = 5;
    cfg.customers.answer_rate = 0.6;
    cfg.customers.time_to_answer = Dist::Uniform { min: 2.0, max: 6.0 };
    cfg.customers.patience = Dist::Fixed(600.0);
    cfg.talk_time = Dist::Uniform {
        min: 10.0,
        max: 30.0,
    };
    cfg.wrapup_time = Dist::Fixed(0.0);
    PbxSim::start(cfg).await.unwrap()
}

/// Server `pbxN` at `port`, trunk `tN` on it, and a running campaign `cN`
/// on that trunk (`with_campaign`); the campaign's id.
async fn setup(store: &Store, n: u32, port: u16, with_campaign: bool) -> Option<i64> {
    store
        .create_server(&ServerSpec {
            name: format!("pbx{n}"),
            host: "127.0.0.1".into(),
            ami_port: port,
            ami_user: "oml".into(),
            ami_secret: SecretString::from("s"),
            enabled: true,
        })
        .await
        .unwrap();
    if !with_campaign {
        return None;
    }
    store
        .create_trunk(&TrunkSpec {
            name: format!("t{n}"),
            dial_string: oml_store::DEFAULT_DIAL_STRING.into(),
            max_channels: 20,
            server: Some(format!("pbx{n}")),
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new(&format!("c{n}"), &format!("t{n}"));
    spec.mode = CampaignMode::Progressive;
    spec.delivery_context = "oml-campaign".into();
    spec.delivery_exten = "100".into();
    spec.queue_name = "oml-default".into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 1440;
    spec.days_mask = 127;
    let c = store.create_campaign(&spec).await.unwrap();
    let phones: Vec<String> = (0..3000).map(|i| format!("5{n}{i:06}")).collect();
    store.seed_contacts(c.id, &phones).await.unwrap();
    store
        .set_campaign_state(&spec.name, CampaignState::Running)
        .await
        .unwrap();
    Some(c.id)
}

/// Two node names the weighted assignment gives one campaign each, `c1`'s
/// node first.
fn split(c1: i64, c2: i64) -> (String, String) {
    let keys = [campaign_key(c1), campaign_key(c2)];
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    for i in 0.. {
        let names = [format!("node-a{i}"), format!("node-b{i}")];
        let nodes: Vec<Node> = names
            .iter()
            .map(|n| Node {
                name: n.clone(),
                capacity: 100,
            })
            .collect();
        let a = assign(&refs, &nodes);
        let (n1, n2) = (&a[keys[0].as_str()], &a[keys[1].as_str()]);
        if n1 != n2 {
            return (n1.clone(), n2.clone());
        }
    }
    unreachable!()
}

/// The servers a node's published status lists as connected.
async fn linked(store: &Store, node: &str) -> Vec<String> {
    let Some(json) = store
        .setting(&oml_dialer::engine::status_key(node))
        .await
        .unwrap()
    else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut names: Vec<String> = v["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["connected"].as_bool() == Some(true))
        .filter_map(|s| s["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// Waits (at most `limit`) until `f` holds; how long it took.
async fn until<F, Fut>(limit: Duration, mut f: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// A running `oml dialer run`, killed when dropped.
struct Engine(Child);

impl Engine {
    fn start(dir: &std::path::Path, url: &str, node: &str) -> Engine {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("engines.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_oml"))
            .arg("--data-dir")
            .arg(dir)
            .arg("--database-url")
            .arg(url)
            .args(["dialer", "run", "--ami-rate", "0", "--node", node])
            .env_remove("OML_DATABASE_URL")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start oml dialer run");
        Engine(child)
    }

    /// SIGTERM, and waits for the engine to end.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the engine did not stop within 20 s of SIGTERM");
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The engines' last log lines, for failure messages.
fn engine_log(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(dir.join("engines.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn logged_in(s: &PbxSim) -> Vec<SessionInfo> {
    s.sessions()
        .into_iter()
        .filter(|x| x.user == "oml")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_node_links_only_to_its_campaigns_servers_with_filtered_events() {
    let Some(t) = oml_store::testing::postgres().await else {
        eprintln!("SKIPPED: dialer_servers needs PostgreSQL (OML_TEST_DATABASE_URL is not set; .ci/run sets it)");
        return;
    };
    let store = &t.store;
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (s1, s2, s3) = (sim().await, sim().await, sim().await);
    let c1 = setup(store, 1, s1.local_addr().port(), true).await.unwrap();
    let c2 = setup(store, 2, s2.local_addr().port(), true).await.unwrap();
    setup(store, 3, s3.local_addr().port(), false).await;
    store.set_setting("dialer.play", "on").await.unwrap();
    let (na, nb) = split(c1, c2);
    let url = t.url.clone().unwrap();
    let a = Engine::start(dir, &url, &na);
    let b = Engine::start(dir, &url, &nb);

    // Both campaigns dial, each on its own server.
    let both = until(Duration::from_secs(30), || async {
        s1.stats().originates >= 20 && s2.stats().originates >= 20
    })
    .await;
    assert!(
        both.is_some(),
        "both campaigns should dial; log:\n{}",
        engine_log(dir)
    );
    // A node that led both campaigns for a moment at start (before the
    // other joined the plan) keeps its extra link until it has been idle
    // there for the link's linger time: wait for the steady state.
    let settled = until(Duration::from_secs(40), || async {
        logged_in(&s1).len() == 1
            && logged_in(&s2).len() == 1
            && linked(store, &na).await == ["pbx1"]
            && linked(store, &nb).await == ["pbx2"]
    })
    .await;
    let (l1, l2, l3) = (logged_in(&s1), logged_in(&s2), logged_in(&s3));
    println!("one session per server after {settled:?}");
    assert_eq!(l1.len(), 1, "pbx1 sessions: {l1:?}");
    assert_eq!(l2.len(), 1, "pbx2 sessions: {l2:?}");
    assert!(l3.is_empty(), "nobody uses pbx3: {l3:?}");
    assert_eq!(linked(store, &na).await, ["pbx1"]);
    assert_eq!(linked(store, &nb).await, ["pbx2"]);
    for (name, s) in [("pbx1", &l1[0]), ("pbx2", &l2[0])] {
        let all = s.events_sent + s.events_filtered;
        println!(
            "{name}: the node's session was sent {} of {all} events ({:.0} %), {} filters",
            s.events_sent,
            100.0 * s.events_sent as f64 / all.max(1) as f64,
            s.filters
        );
        assert_eq!(s.filters, 2, "{s:?}");
        assert!(s.events_sent > 0 && s.events_filtered > 0, "{s:?}");
    }
    // Before, each node was logged in to every enabled server and sent
    // all of their events.
    let everything: u64 = [&l1[0], &l2[0]]
        .iter()
        .map(|s| s.events_sent + s.events_filtered)
        .sum();
    for s in [&l1[0], &l2[0]] {
        println!(
            "a node received {} events; logged in to every server unfiltered it would have received {everything}",
            s.events_sent
        );
        assert!(s.events_sent * 3 < everything * 2, "{s:?} of {everything}");
    }

    // B stops: A takes c2 and links to pbx2 (and still to pbx1).
    b.stop();
    let took = until(Duration::from_secs(30), || async {
        linked(store, &na).await == ["pbx1", "pbx2"]
    })
    .await;
    assert!(
        took.is_some(),
        "{na} should link to pbx2; log:\n{}",
        engine_log(dir)
    );
    let before = s2.stats().originates;
    let dialed = until(Duration::from_secs(20), || async {
        s2.stats().originates > before + 5
    })
    .await;
    assert!(dialed.is_some(), "{na} should dial c2 on pbx2");
    assert_eq!(logged_in(&s2).len(), 1);
    println!(
        "{na} linked to pbx2 {:.1} s after {nb} stopped",
        took.unwrap().as_secs_f64()
    );

    // B is back and takes c2 again: A's link to pbx2 closes once its calls
    // there are over (plus the linger).
    let b = Engine::start(dir, &url, &nb);
    let back = until(Duration::from_secs(60), || async {
        linked(store, &na).await == ["pbx1"] && linked(store, &nb).await == ["pbx2"]
    })
    .await;
    assert!(
        back.is_some(),
        "{na} should close its pbx2 link; log:\n{}",
        engine_log(dir)
    );
    let closed = until(Duration::from_secs(5), || async {
        logged_in(&s2).len() == 1
    })
    .await;
    assert!(closed.is_some(), "pbx2 sessions: {:?}", logged_in(&s2));
    println!(
        "{na} closed its pbx2 link {:.1} s after {nb} restarted",
        back.unwrap().as_secs_f64()
    );
    assert!(logged_in(&s3).is_empty());
    drop((a, b));
}
