//! How long the simulator takes for one hour of a 50-agent campaign (SPEC §5
//! scenario T1), per mode. The target is under one second per simulated hour;
//! docs/PACING.md reports the ratio to real time.

use criterion::{criterion_group, criterion_main, Criterion};
use oml_pacing::{simulate, ModeSpec, Scenario};

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

criterion_group!(benches, one_hour_of_50_agents);
criterion_main!(benches);
