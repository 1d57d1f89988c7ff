//! The reaction-time run of the dialer benchmark: an engine against pbxsim
//! whose every call frees an agent, measured inside the engine, with or
//! without the per-minute history (issue 20: side by side in one run).

use std::time::Duration;

use oml_dialer::{Engine, EngineConfig};
use oml_pbxsim::{Dist, PbxSim, SimConfig};
use oml_store::ServerSpec;
use secrecy::SecretString;

use super::throughput;

fn pct(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i] as f64 / 1000.0
}

pub struct Reaction {
    pub minute_history: bool,
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Seconds measured per run: over a minute, so the history writes at
/// least one minute while it is measured.
pub const MEASURED_S: u64 = 65;

/// Rounds of the side-by-side comparison by default
/// (`DIALER_BENCH_REACTION_ROUNDS` changes it): off and on alternate, so the
/// machine's other load falls on both alike.
pub const ROUNDS: usize = 3;

/// The rounds run: `DIALER_BENCH_REACTION_ROUNDS`, else [`ROUNDS`].
pub fn rounds() -> usize {
    super::env_num("DIALER_BENCH_REACTION_ROUNDS", ROUNDS).max(1)
}

/// Both sides of the comparison: each side's samples pooled over the
/// rounds, and each round's p99 (off, on) for the paired differences.
pub struct SideBySide {
    pub pooled: Vec<Reaction>,
    pub rounds: Vec<(f64, f64)>,
}

impl SideBySide {
    /// The median over the rounds of (p99 with the history − p99 without),
    /// ms: the other load of a loaded machine shifts both runs of a round
    /// alike, so the pair's difference is steadier than pooled p99s.
    pub fn median_paired_difference(&self) -> Option<f64> {
        let mut d: Vec<f64> = self.rounds.iter().map(|(off, on)| on - off).collect();
        if d.is_empty() {
            return None;
        }
        d.sort_by(f64::total_cmp);
        let n = d.len();
        Some(if n % 2 == 1 {
            d[n / 2]
        } else {
            (d[n / 2 - 1] + d[n / 2]) / 2.0
        })
    }
}

fn summary(minute_history: bool, mut s: Vec<u64>) -> Reaction {
    s.sort_unstable();
    Reaction {
        minute_history,
        samples: s.len(),
        p50_ms: pct(&s, 0.5),
        p99_ms: pct(&s, 0.99),
        max_ms: s.last().map_or(f64::NAN, |m| *m as f64 / 1000.0),
    }
}

/// [`rounds`] runs without and with the per-minute history, alternating.
pub async fn side_by_side() -> SideBySide {
    let mut pooled: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
    let mut per_round = Vec::new();
    for round in 0..rounds() {
        let mut p99 = [0.0; 2];
        for (i, history) in [false, true].into_iter().enumerate() {
            let s = samples(history).await;
            p99[i] = summary(history, s.clone()).p99_ms;
            pooled[i].extend(s);
        }
        eprintln!(
            "reaction round {}: p99 without the history {:.2} ms, with it {:.2} ms ({:+.2} ms)",
            round + 1,
            p99[0],
            p99[1],
            p99[1] - p99[0]
        );
        per_round.push((p99[0], p99[1]));
    }
    let [off, on] = pooled;
    SideBySide {
        pooled: vec![summary(false, off), summary(true, on)],
        rounds: per_round,
    }
}

/// One run's reaction samples (µs), `minute_history` on or off.
async fn samples(minute_history: bool) -> Vec<u64> {
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
        minute_history: minute_history
            .then(|| EngineConfig::default().minute_history)
            .flatten(),
        ..throughput::engine_config()
    };
    let engine = Engine::spawn(store.clone(), cfg);
    tokio::time::sleep(Duration::from_secs(3)).await; // warm-up
    engine.metrics().take_reaction_samples();
    tokio::time::sleep(Duration::from_secs(MEASURED_S)).await;
    let s = engine.metrics().take_reaction_samples();
    engine.shutdown().await;
    sim.shutdown().await;
    s
}
