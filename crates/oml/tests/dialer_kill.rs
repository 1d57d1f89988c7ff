//! Kill -9 the process running the dialer engine (the real `oml` binary,
//! `oml dialer run`) in the middle of a campaign, start it again, and check
//! that no attempt was dialed twice, no outcome was lost, calls alive across
//! the crash were followed to their end, calls that ended while no engine
//! ran keep the outcome the PBX recorded (issue 15 item 2: `outage.rs`, on
//! pbxsim always and on the real Asterisk bench when it runs), and the
//! campaign still finishes consistently. Runs on SQLite and, when
//! OML_TEST_DATABASE_URL is set, PostgreSQL.

#[path = "dialer_kill/outage.rs"]
mod outage;
#[path = "dialer_kill/pbx.rs"]
mod pbx;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oml_pbxsim::{Dist, NumberOutcome, PbxSim, SimConfig};
use oml_store::testing::backends;
use oml_store::{
    CampaignMode, CampaignSpec, CampaignState, RescheduleRule, ServerSpec, Store, TrunkSpec,
    DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;

fn spawn_oml(data_dir: &std::path::Path, url: Option<&str>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oml"));
    cmd.arg("--data-dir").arg(data_dir);
    if let Some(u) = url {
        cmd.arg("--database-url").arg(u);
    }
    cmd.args(["dialer", "run", "--ami-rate", "0"])
        .env_remove("OML_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file(data_dir));
    cmd.spawn().expect("start oml dialer run")
}

/// The engines' log (every run on `data_dir` appends to it).
fn log_file(data_dir: &std::path::Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("dialer-test.log"))
        .expect("engine log file")
}

/// The last lines the engines on `data_dir` logged, for failure messages.
fn log_tail(data_dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(data_dir.join("dialer-test.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(25);
    format!("engine log (last lines):\n{}", lines[from..].join("\n"))
}

/// A running `oml dialer run`, killed (SIGKILL) when dropped.
struct Engine(Child);

impl Engine {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn wait_until<F, Fut>(limit: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
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
            dial_string: DEFAULT_DIAL_STRING.into(),
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
    spec.rules = [
        "busy:2:0",
        "no_answer:2:0",
        "congestion:2:0",
        "failed:2:0",
        "abandoned:2:0",
    ]
    .iter()
    .map(|r| RescheduleRule::parse(r).unwrap())
    .collect();
    let c = store.create_campaign(&spec).await.unwrap();
    let phones: Vec<String> = (0..60).map(|i| format!("555{i:05}")).collect();
    store.seed_contacts(c.id, &phones).await.unwrap();
    store
        .set_campaign_state("sales", CampaignState::Running)
        .await
        .unwrap();
    store.set_setting("dialer.play", "on").await.unwrap();
    c.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_campaign_loses_nothing_and_redials_nothing() {
    for t in backends().await {
        let mut cfg = SimConfig::new("oml", SecretString::from("s"), 8);
        cfg.time_scale = 20.0;
        cfg.seed = 21;
        cfg.customers.answer_rate = 0.6;
        cfg.customers.time_to_answer = Dist::Uniform { min: 2.0, max: 6.0 };
        cfg.customers.patience = Dist::Fixed(600.0);
        cfg.talk_time = Dist::Uniform {
            min: 40.0,
            max: 80.0,
        };
        cfg.wrapup_time = Dist::Fixed(0.0);
        let sim = PbxSim::start(cfg).await.unwrap();
        let cid = setup(&t.store, sim.local_addr().port()).await;
        // PostgreSQL keeps nothing in the data folder: a fresh one anyway.
        let pg_data = tempfile::tempdir().unwrap();
        let dir = t.dir.as_ref().unwrap_or(&pg_data).path().to_path_buf();
        let mut child = spawn_oml(&dir, t.url.as_deref());
        assert!(
            wait_until(Duration::from_secs(60), || async {
                sim.stats().connected >= 4 && sim.active_calls() >= 4
            })
            .await,
            "{}: the engine in `oml dialer run` never got calls going",
            t.label
        );
        child.kill().expect("kill -9"); // SIGKILL on Unix
        child.wait().unwrap();
        let open = t.store.open_attempts(None).await.unwrap();
        assert!(
            !open.is_empty(),
            "{}: calls were in flight at the crash",
            t.label
        );
        let alive_at_crash = sim.active_calls();
        let mut child = spawn_oml(&dir, t.url.as_deref());
        let finished = wait_until(Duration::from_secs(120), || async {
            t.store
                .campaign_by_name("sales")
                .await
                .unwrap()
                .is_some_and(|c| c.state == CampaignState::Finished)
        })
        .await;
        child.kill().unwrap();
        child.wait().unwrap();
        let attempts = t.store.campaign_attempts(cid).await.unwrap();
        let contacts = t.store.campaign_contact_states(cid).await.unwrap();
        assert!(
            finished,
            "{}: campaign did not finish after the restart",
            t.label
        );
        // No attempt without outcome, none sent twice.
        assert!(attempts.iter().all(|a| a.outcome.is_some()), "{}", t.label);
        assert!(
            sim.stats().originates as usize <= attempts.len(),
            "{}: {} originates for {} attempts",
            t.label,
            sim.stats().originates,
            attempts.len()
        );
        for c in &contacts {
            assert!(
                matches!(c.state.as_str(), "done" | "exhausted" | "dnc"),
                "{}: {c:?}",
                t.label
            );
            let n = attempts.iter().filter(|a| a.contact_id == c.id).count() as i64;
            assert_eq!(n, c.attempts, "{}: contact {} attempt count", t.label, c.id);
        }
        // Calls alive across the crash were adopted and followed to their
        // real end, not redialed: those that were talking end `connected`.
        let adopted: Vec<_> = open
            .iter()
            .filter_map(|o| {
                attempts
                    .iter()
                    .find(|a| a.contact_id == o.contact_id && a.attempt_no == o.attempt_no)
            })
            .collect();
        assert_eq!(adopted.len(), open.len());
        if alive_at_crash > 0 {
            assert!(
                adopted
                    .iter()
                    .any(|a| a.outcome.as_deref() == Some("connected")),
                "{}: no call alive at the crash was followed to its end: {adopted:?}",
                t.label
            );
        }
        sim.shutdown().await;
    }
}

/// Numbers whose last digit says what the customer does (see
/// `outage::truth`): mostly answering, with busy and congestion between.
fn outage_phones(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}{i:02}{}", [1, 2, 1, 3, 1][i % 5]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_ended_during_an_outage_keep_their_outcome_on_pbxsim() {
    for t in backends().await {
        let phones = outage_phones("55571", 15);
        // A second oml database on the same PBX (issue 15 item 2).
        let n = oml_store::testing::sqlite().await;
        let n_phones = outage_phones(outage::NEIGHBOUR_PREFIX, 10);
        let mut cfg = SimConfig::new("oml", SecretString::from("s"), 3);
        // Ten times faster than real time: a customer rings 1–1.5 s and
        // talks 2–4 s of the test's time.
        cfg.time_scale = 10.0;
        cfg.seed = 15;
        cfg.customers.time_to_answer = Dist::Uniform {
            min: 10.0,
            max: 15.0,
        };
        cfg.customers.patience = Dist::Fixed(600.0);
        cfg.talk_time = Dist::Uniform {
            min: 20.0,
            max: 40.0,
        };
        cfg.wrapup_time = Dist::Fixed(0.0);
        for p in phones.iter().chain(&n_phones) {
            let forced = match outage::truth(p).0 {
                "busy" => NumberOutcome::Busy,
                "congestion" => NumberOutcome::Congestion,
                _ => NumberOutcome::Answer,
            };
            cfg.numbers.insert(p.clone(), forced);
        }
        let sim = PbxSim::start(cfg).await.unwrap();
        let pg_data = tempfile::tempdir().unwrap();
        outage::run(outage::Outage {
            label: format!("pbxsim/{}", t.label),
            store: &t.store,
            data: t.dir.as_ref().unwrap_or(&pg_data).path(),
            url: t.url.as_deref(),
            ami: pbx::Ami {
                host: "127.0.0.1".into(),
                port: sim.local_addr().port(),
                user: "oml".into(),
                secret: "s".into(),
            },
            queue: "oml-default",
            agents: 3,
            phones,
            kill_after_final: 3,
            // 20 s of the PBX's time.
            outage: Duration::from_secs(2),
            finish_within: Duration::from_secs(60),
            neighbour: Some(outage::Neighbour {
                store: &n.store,
                data: n.dir.as_ref().unwrap().path(),
                phones: n_phones,
            }),
        })
        .await;
        sim.shutdown().await;
    }
}

/// The same on the real Asterisk bench (`.ci/asterisk-bench.sh up`), whose
/// dialplan (.ci/asterisk/extensions.conf) rings 1 s and talks 4 s for
/// numbers ending in 1, with two agents in queue oml-test; 20 s outage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_ended_during_an_outage_keep_their_outcome_on_asterisk() {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(host), Some(port), Some(user), Some(secret)) = (
        env("OML_TEST_ASTERISK_HOST"),
        env("OML_TEST_ASTERISK_PORT"),
        env("OML_TEST_ASTERISK_USER"),
        env("OML_TEST_ASTERISK_SECRET"),
    ) else {
        eprintln!("SKIPPED: calls_ended_during_an_outage_keep_their_outcome_on_asterisk: OML_TEST_ASTERISK_HOST/_PORT/_USER/_SECRET not set (run .ci/asterisk-bench.sh up and source its env)");
        return;
    };
    let t = oml_store::testing::sqlite().await;
    let data = t.dir.as_ref().unwrap().path().to_path_buf();
    // A second oml database on the same PBX (issue 15 item 2).
    let n = oml_store::testing::sqlite().await;
    outage::run(outage::Outage {
        label: "asterisk/sqlite".into(),
        store: &t.store,
        data: &data,
        url: None,
        ami: pbx::Ami {
            host,
            port: port
                .parse()
                .expect("OML_TEST_ASTERISK_PORT is a port number"),
            user,
            secret,
        },
        queue: "oml-test",
        agents: 2,
        phones: outage_phones("55572", 8),
        kill_after_final: 2,
        outage: Duration::from_secs(20),
        finish_within: Duration::from_secs(40),
        neighbour: Some(outage::Neighbour {
            store: &n.store,
            data: n.dir.as_ref().unwrap().path(),
            phones: outage_phones(outage::NEIGHBOUR_PREFIX, 8),
        }),
    })
    .await;
}
