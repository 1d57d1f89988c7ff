//! Dialer engine benchmark, writing docs/DIALER-BENCH.md:
//!
//! 1. Reaction time: from the receipt of the AMI event that frees an agent
//!    to the `Originate` of the next call being handed to the AMI client
//!    (its attempt already committed to the database), p50 / p99.
//! 2. Throughput, side by side in one run: calls per second completed by a
//!    bare AMI loop (no database, no pacing) and by the engine (attempt
//!    committed before each `Originate`, AMI rate limit off) on the same
//!    PBX with the same calls in flight; on pbxsim and on the real Asterisk
//!    bench, on SQLite and on PostgreSQL, on a quiet machine and with both
//!    cores kept busy by two `yes > /dev/null`.
//!
//! Run: `cargo bench -p oml-dialer --bench dialer` (release build). The
//! PostgreSQL rows need `OML_TEST_DATABASE_URL`, the Asterisk rows
//! `. "$(bash .ci/asterisk-bench.sh env-file)"`; without them those rows
//! are skipped and say so. `DIALER_BENCH_CONTACTS` changes the calls per
//! run (default 20000), `DIALER_BENCH_ASTERISK_CHANNELS` the calls in
//! flight on Asterisk (default 80: the bench's `maxcalls` is 200 channels,
//! two per Local call).

#[path = "dialer/bare.rs"]
mod bare;
#[path = "dialer/compare.rs"]
mod compare;
#[path = "dialer/pbx.rs"]
mod pbx;
#[path = "dialer/throughput.rs"]
mod throughput;

use std::time::Duration;

use oml_dialer::{Engine, EngineConfig};
use oml_pbxsim::{Dist, PbxSim, SimConfig};
use oml_store::ServerSpec;
use secrecy::SecretString;

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
    let ts = oml_store::testing::sqlite().await;
    let store = ts.store.clone();
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
    let server = ServerSpec {
        name: "pbxsim".into(),
        host: "127.0.0.1".into(),
        ami_port: sim.local_addr().port(),
        ami_user: "oml".into(),
        ami_secret: SecretString::from("bench"),
        enabled: true,
    };
    let phones: Vec<String> = (0..5000).map(|i| format!("7{i:08}")).collect();
    throughput::setup(&store, server, "oml-default", &phones, 1000).await;
    // The engine's default hopper batch (200): claims are short, so they
    // hold the SQLite write lock only briefly.
    let cfg = EngineConfig {
        hopper_batch: EngineConfig::default().hopper_batch,
        ..throughput::engine_config()
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

/// The machine's load average (1, 5, 15 min), as /proc/loadavg says.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_string(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn env_num(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // we need: run a small smoke version then (pbxsim, quiet, 500 calls).
    let full = std::env::args().any(|a| a == "--bench");
    let contacts = env_num("DIALER_BENCH_CONTACTS", if full { 20_000 } else { 500 });
    let channels = env_num("DIALER_BENCH_ASTERISK_CHANNELS", 80);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let loads: &[bool] = if full { &[false, true] } else { &[false] };
    let load_before = load_average();
    let (r, rows) = rt.block_on(async {
        let r = if full { Some(reaction().await) } else { None };
        let rows = compare::rows(contacts, channels, loads).await;
        (r, rows)
    });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut md = String::new();
    md.push_str("# Dialer engine benchmark\n\n");
    md.push_str(&format!("Reproduce (writes this file): `. \"$(bash .ci/asterisk-bench.sh env-file)\"; OML_TEST_DATABASE_URL=postgres://oml_test:oml_test@127.0.0.1:5432/oml_test DIALER_BENCH_CONTACTS={contacts} cargo bench -p oml-dialer --bench dialer`; without the bench's environment the Asterisk rows are skipped, without `OML_TEST_DATABASE_URL` the PostgreSQL rows.\n"));
    md.push_str(&format!(
        "Machine: {cores} CPU cores, shared by the engine, the database and the PBX (pbxsim runs in the benchmark's process, Asterisk beside it), and by whatever else ran on it. Load average (1, 5, 15 min): {load_before} at the start, {} at the end.\n\n",
        load_average()
    ));
    if let Some(r) = &r {
        md.push_str("## Reaction time (agent freed → next Originate)\n\n");
        md.push_str("Measured inside the engine: from the moment the AMI event that frees an agent (`QueueMemberStatus` Status 1) is received from the AMI client, to the `Originate` of the call placed for that agent being handed to the AMI client — after its attempt was committed to the database. pbxsim: 20 agents, every customer answers, talk 0.5-1.5 s, no wrap-up; progressive campaign; SQLite; 20 s measured after 3 s warm-up, no load added by the benchmark (see the load average above).\n\n");
        md.push_str("| samples | p50 | p99 | max | target p99 | replaced dialer |\n|---|---|---|---|---|---|\n");
        md.push_str(&format!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} ms | < 5 ms | polls every 2,500 ms |\n\n",
            r.samples, r.p50_ms, r.p99_ms, r.max_ms
        ));
    }
    md.push_str("## Throughput: the engine against a bare AMI loop\n\n");
    md.push_str("Every number is busy, so each call ends within milliseconds and the dialer is the limit. Both sides keep the same number of calls in flight (the trunk's limit) and start the next call once one has ended (`OriginateResponse` and the customer leg's `Hangup` seen). The bare loop is one AMI client and nothing else; the engine runs a progressive campaign with as many ready agents as channels, commits each attempt before its `Originate` (group commit: the attempts ready together share one transaction) and records each outcome. Calls/s = calls completed / time from the first `Originate` to the end of the last call. Each engine run follows its bare loop at once, on the same PBX. pbxsim: in this process, busy after 10-40 ms; Asterisk: the bench's Asterisk 22 (`.ci/asterisk-bench.sh`), numbers ending in 2 (`Busy()`), bench members added to queue `oml-test` for the run. CPU = user + system time of the benchmark's process (engine, SQLite, pbxsim; not PostgreSQL or Asterisk) over the engine's run. Target: engine ≥ 80 % of the bare loop on the same Asterisk.\n\n");
    md.push_str(&compare::markdown(&rows));
    print!("{md}");
    if full {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/DIALER-BENCH.md");
        std::fs::write(&path, md).expect("write docs/DIALER-BENCH.md");
        println!("\nwritten to {}", path.display());
    }
}
