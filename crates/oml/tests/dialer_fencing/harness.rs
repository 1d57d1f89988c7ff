//! The fault tests' set-up: a fresh PostgreSQL database, a pbxsim PBX, a
//! progressive campaign with more contacts than the test can dial, engines
//! as real `oml dialer run` processes (signals: SIGSTOP, SIGCONT, SIGKILL,
//! SIGTERM), and an AMI listener of the test's own that logs every call
//! placed at the PBX with the moment it saw it. Each placed call's node is
//! the one its attempt row names (joined by channel id).

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oml_ami::{AmiClient, ClientConfig, Event};
use oml_pbxsim::{Dist, PbxSim, SimConfig};
use oml_store::testing::TestStore;
use oml_store::{CampaignMode, CampaignSpec, CampaignState, ServerSpec, Store, TrunkSpec};
use secrecy::SecretString;

/// One test's world.
pub struct World {
    pub t: TestStore,
    pub _sim: PbxSim,
    pub campaign: i64,
    pub log: Arc<Mutex<Vec<(Instant, String)>>>,
    pub dir: tempfile::TempDir,
    _listener: AmiClient,
}

/// A fresh world, or `None` (printed loudly) without PostgreSQL.
pub async fn world(test: &str) -> Option<World> {
    let Some(t) = oml_store::testing::postgres().await else {
        eprintln!(
            "SKIPPED: {test} needs PostgreSQL (OML_TEST_DATABASE_URL is not set; .ci/run sets it)"
        );
        return None;
    };
    let mut cfg = SimConfig::new("oml", SecretString::from("s"), 8);
    cfg.time_scale = 10.0;
    cfg.seed = 17;
    cfg.customers.answer_rate = 0.5;
    cfg.customers.time_to_answer = Dist::Uniform { min: 2.0, max: 8.0 };
    cfg.customers.patience = Dist::Fixed(600.0);
    cfg.talk_time = Dist::Uniform {
        min: 10.0,
        max: 30.0,
    };
    cfg.wrapup_time = Dist::Fixed(0.0);
    let sim = PbxSim::start(cfg).await.unwrap();
    let campaign = setup(&t.store, sim.local_addr().port()).await;
    let mut c = ClientConfig::new(sim.local_addr().to_string(), "oml", SecretString::from("s"));
    c.ping_interval = None;
    c.rate_limit = None;
    c.event_capacity = 65_536;
    let listener = AmiClient::connect(c).await.expect("test's AMI login");
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut events = listener.events();
    let l = log.clone();
    tokio::spawn(async move {
        while let Ok(ev) = events.recv().await {
            let Event::Ami(m) = ev else { continue };
            let channel = m.get("Channel").unwrap_or("");
            if m.event_name() == Some("Newchannel")
                && channel.contains("@from-oml")
                && channel.ends_with(";1")
            {
                let id = m.get("Uniqueid").unwrap_or("").to_owned();
                l.lock().unwrap().push((Instant::now(), id));
            }
        }
    });
    Some(World {
        t,
        _sim: sim,
        campaign,
        log,
        dir: tempfile::tempdir().unwrap(),
        _listener: listener,
    })
}

async fn setup(store: &Store, port: u16) -> i64 {
    store
        .create_server(&ServerSpec {
            name: "pbx1".into(),
            host: "127.0.0.1".into(),
            ami_port: port,
            ami_user: "oml".into(),
            ami_secret: SecretString::from("s"),
            enabled: true,
        })
        .await
        .unwrap();
    store
        .create_trunk(&TrunkSpec {
            name: "t1".into(),
            dial_string: oml_store::DEFAULT_DIAL_STRING.into(),
            max_channels: 40,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("sales", "t1");
    spec.mode = CampaignMode::Progressive;
    spec.delivery_context = "oml-campaign".into();
    spec.delivery_exten = "100".into();
    spec.queue_name = "oml-default".into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 1440;
    spec.days_mask = 127;
    let c = store.create_campaign(&spec).await.unwrap();
    let phones: Vec<String> = (0..5000).map(|i| format!("555{i:05}")).collect();
    store.seed_contacts(c.id, &phones).await.unwrap();
    store
        .set_campaign_state("sales", CampaignState::Running)
        .await
        .unwrap();
    store.set_setting("dialer.play", "on").await.unwrap();
    c.id
}

/// A running `oml dialer run`, killed (SIGKILL) when dropped.
pub struct Node {
    pub name: String,
    child: Child,
}

impl World {
    pub fn start(&self, name: &str) -> Node {
        self.start_at(name, self.t.url.as_deref().unwrap())
    }

    /// The same, reaching PostgreSQL at `url` (through a proxy the test
    /// can cut, in dialer_outage.rs).
    pub fn start_at(&self, name: &str, url: &str) -> Node {
        // node-a leads, the others stand by: capacity 1 against 100
        // leaves campaign 1 to node-a while it runs (oml_dialer::assign).
        let capacity = if name == "node-a" { 100 } else { 1 };
        self.start_with(name, url, capacity)
    }

    /// An engine of `capacity` (its share of the campaigns).
    pub fn start_with(&self, name: &str, url: &str, capacity: u32) -> Node {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("engines.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_oml"))
            .arg("--data-dir")
            .arg(self.dir.path())
            .arg("--database-url")
            .arg(url)
            .args(["dialer", "run", "--ami-rate", "0", "--node", name])
            .args(["--capacity", &capacity.to_string()])
            .env_remove("OML_DATABASE_URL")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start oml dialer run");
        Node {
            name: name.into(),
            child,
        }
    }

    /// The engines' log, for failure messages.
    pub fn engine_log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("engines.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Every call placed at the PBX so far: (when seen, node), in order.
    pub async fn placed(&self) -> Vec<(Instant, String)> {
        let nodes: HashMap<String, String> = self
            .t
            .store
            .campaign_attempts(self.campaign)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.channel_id, a.node))
            .collect();
        let log = self.log.lock().unwrap().clone();
        log.into_iter()
            .map(|(at, id)| {
                let node = nodes.get(&id).cloned().unwrap_or_else(|| format!("? {id}"));
                (at, node)
            })
            .collect()
    }

    /// Waits (at most `limit`) until `f` holds of the calls placed.
    pub async fn wait_placed(
        &self,
        limit: Duration,
        f: impl Fn(&[(Instant, String)]) -> bool,
    ) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if f(&self.placed().await) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// The checks every fault test ends with, from the PBX's own count:
    /// each call placed once, one attempt row per call placed, and the
    /// periods in which two nodes placed calls never overlap (the node
    /// changes at most `max_changes` times along the calls in time order).
    pub async fn assert_no_overlap_no_duplicate(&self, max_changes: usize) {
        let attempts = self.t.store.campaign_attempts(self.campaign).await.unwrap();
        let log = self.log.lock().unwrap().clone();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, id) in &log {
            *seen.entry(id.as_str()).or_default() += 1;
        }
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "calls placed twice: {twice:?}");
        let rows: std::collections::BTreeSet<&str> =
            attempts.iter().map(|a| a.channel_id.as_str()).collect();
        let placed: std::collections::BTreeSet<&str> = seen.keys().copied().collect();
        let unrecorded: Vec<_> = placed.difference(&rows).collect();
        let never_placed: Vec<_> = rows.difference(&placed).collect();
        assert!(
            unrecorded.is_empty(),
            "calls placed with no attempt row: {unrecorded:?}"
        );
        assert!(
            never_placed.is_empty(),
            "attempt rows with no call at the PBX: {never_placed:?}"
        );
        let mut per_contact: BTreeMap<(i64, i64), usize> = BTreeMap::new();
        for a in &attempts {
            *per_contact.entry((a.contact_id, a.attempt_no)).or_default() += 1;
        }
        assert!(per_contact.values().all(|n| *n == 1));
        let placed = self.placed().await;
        let changes: Vec<(usize, &str, &str)> = placed
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[0].1 != w[1].1)
            .map(|(i, w)| (i, w[0].1.as_str(), w[1].1.as_str()))
            .collect();
        assert!(
            changes.len() <= max_changes,
            "two nodes dialed in overlapping periods: node changes along the {} calls placed: {changes:?}",
            placed.len()
        );
    }
}

impl Node {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} {}", self.pid());
    }

    /// SIGTERM, then waits for the engine to stop (its calls in flight
    /// stay open, its Originates in flight are answered first).
    pub fn stop(mut self) {
        self.signal("TERM");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("node {} did not stop within 20 s of SIGTERM", self.name);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The node of the latest call placed.
pub fn last_node(placed: &[(Instant, String)]) -> Option<String> {
    placed.last().map(|(_, n)| n.clone())
}
