//! Dialer engine benchmark against the in-process PBX simulator, writing
//! docs/DIALER-BENCH.md:
//!
//! 1. Reaction time: from the receipt of the AMI event that frees an agent
//!    to the `Originate` of the next call being handed to the AMI client
//!    (its attempt already committed to the database), p50 / p99.
//! 2. Throughput: `Originate`s per second sustained over a campaign of
//!    thousands of contacts, AMI rate limit off, and CPU time per 1,000
//!    calls (the whole process: engine, database and the simulator).
//!
//! Run: `cargo bench -p oml-dialer --bench dialer` (release build; SQLite
//! store in a temporary folder). `DIALER_BENCH_CONTACTS` changes the
//! throughput campaign's size (default 20000).

use std::time::{Duration, Instant};

use oml_dialer::{Engine, EngineConfig, PLAY_KEY};
use oml_pbxsim::{Dist, NumberOutcome, PbxSim, SimConfig};
use oml_store::{
    CampaignMode, CampaignSpec, CampaignState, ServerSpec, Store, TrunkSpec, DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;

/// User + system CPU seconds of this process so far (Linux /proc).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat; here 12 and 13.
    (ticks(11) + ticks(12)) / 100.0
}

async fn setup(store: &Store, port: u16, contacts: usize, max_channels: i64) -> i64 {
    store
        .create_server(&ServerSpec {
            name: "pbxsim".into(),
            host: "127.0.0.1".into(),
            ami_port: port,
            ami_user: "oml".into(),
            ami_secret: SecretString::from("bench"),
            enabled: true,
        })
        .await
        .unwrap();
    store
        .create_trunk(&TrunkSpec {
            name: "t".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("bench", "t");
    spec.mode = CampaignMode::Progressive;
    spec.delivery_context = "oml-campaign".into();
    spec.delivery_exten = "100".into();
    spec.queue_name = "oml-default".into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 1440;
    spec.days_mask = 127;
    spec.rules = Vec::new(); // one attempt per contact
    let c = store.create_campaign(&spec).await.unwrap();
    let phones: Vec<String> = (0..contacts).map(|i| format!("7{i:08}")).collect();
    for chunk in phones.chunks(5000) {
        store.seed_contacts(c.id, chunk).await.unwrap();
    }
    store
        .set_campaign_state("bench", CampaignState::Running)
        .await
        .unwrap();
    store.set_setting(PLAY_KEY, "on").await.unwrap();
    c.id
}

fn engine_config() -> EngineConfig {
    EngineConfig {
        node: "bench".into(),
        tick: Duration::from_millis(100),
        reload_every: Duration::from_secs(1),
        queue_poll_every: Duration::from_secs(30),
        hopper_batch: 2000,
        ami_rate_limit: None,
        publish_status: true,
        lead_every: Duration::from_secs(1),
    }
}

fn pct(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i] as f64 / 1000.0
}

struct Reaction {
    samples: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

async fn reaction() -> Reaction {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &oml_store::Location::DataDir(dir.path().into()),
        oml_store::OpenMode::Create,
    )
    .await
    .unwrap();
    // 20 agents; every customer answers at once and talks 0.5-1.5 s, no
    // wrap-up: each end of call frees an agent and should trigger a call.
    let mut cfg = SimConfig::new("oml", SecretString::from("bench"), 20);
    cfg.time_scale = 10.0;
    cfg.customers.answer_rate = 1.0;
    cfg.customers.time_to_answer = Dist::Fixed(0.5);
    cfg.customers.patience = Dist::Fixed(600.0);
    cfg.talk_time = Dist::Uniform {
        min: 5.0,
        max: 15.0,
    };
    cfg.wrapup_time = Dist::Fixed(0.0);
    let sim = PbxSim::start(cfg).await.unwrap();
    setup(&store, sim.local_addr().port(), 5000, 1000).await;
    // The engine's default hopper batch (200): claims are short, so they
    // hold the SQLite write lock only briefly.
    let cfg = EngineConfig {
        hopper_batch: EngineConfig::default().hopper_batch,
        ..engine_config()
    };
    let engine = Engine::spawn(store.clone(), cfg);
    tokio::time::sleep(Duration::from_secs(3)).await; // warm-up
    engine.metrics().take_reaction_samples();
    tokio::time::sleep(Duration::from_secs(20)).await;
    let mut s = engine.metrics().take_reaction_samples();
    engine.shutdown().await;
    sim.shutdown().await;
    s.sort_unstable();
    Reaction {
        samples: s.len(),
        p50_ms: pct(&s, 0.5),
        p99_ms: pct(&s, 0.99),
        max_ms: s.last().map_or(f64::NAN, |m| *m as f64 / 1000.0),
    }
}

struct Throughput {
    contacts: usize,
    originates: u64,
    seconds: f64,
    per_second: f64,
    peak_per_second: f64,
    cpu_per_1000: f64,
}

async fn throughput(contacts: usize) -> Throughput {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &oml_store::Location::DataDir(dir.path().into()),
        oml_store::OpenMode::Create,
    )
    .await
    .unwrap();
    // Many agents and calls that end fast (busy after 1-4 simulated s at
    // 100x = 10-40 ms): the engine, not the simulated people, is the limit.
    let mut cfg = SimConfig::new("oml", SecretString::from("bench"), 2000);
    cfg.time_scale = 100.0;
    cfg.customers.answer_rate = 0.0;
    cfg.customers.busy_rate = 1.0;
    cfg.customers.congestion_rate = 0.0;
    cfg.numbers.insert("0".into(), NumberOutcome::Busy);
    let sim = PbxSim::start(cfg).await.unwrap();
    let cid = setup(&store, sim.local_addr().port(), contacts, 100_000).await;
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let engine = Engine::spawn(store.clone(), engine_config());
    let metrics = engine.metrics();
    let mut peak = 0.0f64;
    let mut last = (Instant::now(), 0u64);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let n = metrics
            .originates
            .load(std::sync::atomic::Ordering::Relaxed);
        let dt = last.0.elapsed().as_secs_f64();
        peak = peak.max((n - last.1) as f64 / dt);
        last = (Instant::now(), n);
        if n as usize >= contacts || start.elapsed() > Duration::from_secs(300) {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let originates = metrics
        .originates
        .load(std::sync::atomic::Ordering::Relaxed);
    // Let the last calls end so the CPU figure covers whole calls.
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        while metrics.ended.load(std::sync::atomic::Ordering::Relaxed) < originates {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let cpu = cpu_seconds() - cpu0;
    engine.shutdown().await;
    sim.shutdown().await;
    let left = store.contacts_left(cid).await.unwrap();
    assert_eq!(left, 0, "every contact dialed once");
    Throughput {
        contacts,
        originates,
        seconds,
        per_second: originates as f64 / seconds,
        peak_per_second: peak,
        cpu_per_1000: cpu / (originates.max(1) as f64 / 1000.0),
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // we need: run a small smoke version then.
    let full = std::env::args().any(|a| a == "--bench");
    let contacts: usize = std::env::var("DIALER_BENCH_CONTACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 20_000 } else { 500 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (r, t) = rt.block_on(async {
        let r = if full { Some(reaction().await) } else { None };
        let t = throughput(contacts).await;
        (r, t)
    });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    let mut md = String::new();
    md.push_str("# Dialer engine benchmark\n\n");
    md.push_str("Reproduce: `cargo bench -p oml-dialer --bench dialer` (writes this file).\n");
    md.push_str(&format!(
        "Machine: {cores} CPU cores, shared with the simulator and the database in the same process; SQLite store (WAL) in a temporary folder. Load average (1, 5, 15 min) at the end of the run: {load} — other work on the machine stretches the tails.\n\n"
    ));
    if let Some(r) = &r {
        md.push_str("## Reaction time (agent freed → next Originate)\n\n");
        md.push_str("Measured inside the engine: from the moment the AMI event that frees an agent (`QueueMemberStatus` Status 1) is received from the AMI client, to the `Originate` of the call placed for that agent being handed to the AMI client — after its attempt was committed to the database. pbxsim: 20 agents, every customer answers, talk 0.5-1.5 s, no wrap-up; progressive campaign; 20 s measured after 3 s warm-up.\n\n");
        md.push_str("| samples | p50 | p99 | max | target p99 | replaced dialer |\n|---|---|---|---|---|---|\n");
        md.push_str(&format!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} ms | < 5 ms | polls every 2,500 ms |\n\n",
            r.samples, r.p50_ms, r.p99_ms, r.max_ms
        ));
    }
    md.push_str("## Throughput and CPU\n\n");
    md.push_str("pbxsim with 2,000 agents, every call busy after 10-40 ms (simulated 1-4 s at 100x), trunk limit 100,000, AMI rate limit off, one attempt per contact. Originates/s = Originates accepted by the simulator / wall time until the last one; CPU = user + system time of the whole process (engine + SQLite + simulator) until every call ended.\n\n");
    md.push_str("| contacts | originates | seconds | originates/s (mean) | originates/s (peak 0.5 s) | CPU s per 1,000 calls | target |\n|---|---|---|---|---|---|---|\n");
    md.push_str(&format!(
        "| {} | {} | {:.1} | {:.0} | {:.0} | {:.3} | ≥ 1,000/s |\n",
        t.contacts, t.originates, t.seconds, t.per_second, t.peak_per_second, t.cpu_per_1000
    ));
    print!("{md}");
    if full {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/DIALER-BENCH.md");
        std::fs::write(&path, md).expect("write docs/DIALER-BENCH.md");
        println!("\nwritten to {}", path.display());
    }
}
