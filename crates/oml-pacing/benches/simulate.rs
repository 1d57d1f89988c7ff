//! How long the simulator takes for one hour of a 50-agent campaign
//! (scenario T1), per mode. The target is under one second per simulated hour;
//! docs/PACING.md reports the ratio to real time. Also: the cost of one
//! pacing decision for campaigns of 50 and 500 agents, progressive beside
//! predictive (the live dialer decides after every event).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use oml_pacing::{simulate, AbandonCounts, CallStats, ModeSpec, PacingLimits, Scenario, Snapshot};

fn one_hour_of_50_agents(c: &mut Criterion) {
    let mut cfg = Scenario::T1.config();
    cfg.warmup_s = 0.0;
    cfg.duration_s = 3600.0;
    let mut group = c.benchmark_group("simulate_1h_50_agents_T1");
    group.sample_size(20);
    for mode in ["predictive", "progressive", "ratio"] {
        let m: ModeSpec = mode.parse().expect("known mode");
        let mut seed = 0u64;
        group.bench_function(mode, |b| {
            b.iter(|| {
                seed += 1;
                simulate(&cfg, &m, seed).expect("valid scenario")
            })
        });
    }
    group.finish();
}

/// A busy campaign of `agents` agents: talks of 40-60 s spread over their
/// course, calls ringing for a fifth of the agents, statistics learned.
fn one_decision(c: &mut Criterion) {
    let mut stats = CallStats::default();
    for i in 0..2000 {
        stats.record_attempt(i % 5 != 0, 15.0 + (i % 11) as f64);
        stats.record_talk(40.0 + (i % 21) as f64);
    }
    let mut group = c.benchmark_group("one_pacing_decision");
    for agents in [50usize, 500] {
        let talking: Vec<f64> = (0..agents - 2).map(|i| (i * 37 % 60) as f64).collect();
        let ringing: Vec<f64> = (0..agents / 5).map(|i| (i % 20) as f64).collect();
        for mode in ["progressive", "predictive"] {
            let m: ModeSpec = mode.parse().expect("known mode");
            let mut pacer = m.build(PacingLimits::default());
            group.bench_with_input(BenchmarkId::new(mode, agents), &agents, |b, &n| {
                b.iter(|| {
                    let snap = Snapshot {
                        now_s: 1000.0,
                        agents_logged_in: n as u32,
                        agents_ready: 2,
                        talking_elapsed_s: &talking,
                        wrap_up_elapsed_s: &[],
                        ringing_elapsed_s: &ringing,
                        answered_waiting: 0,
                        stats: &stats,
                        abandons: AbandonCounts {
                            live_answered: 1000,
                            abandoned: 20,
                        },
                    };
                    pacer.calls_to_place(&snap)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, one_hour_of_50_agents, one_decision);
criterion_main!(benches);
