//! Client round-trip benchmark: sustained `Originate` actions per second
//! from an `oml_ami::AmiClient` (rate limit off) to an in-process pbxsim
//! over loopback TCP, every response matched to its ActionID. 64 callers
//! keep actions in flight, as a dialer with many campaigns would. Run:
//! `cargo bench -p oml-pbxsim --bench originate`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use oml_ami::{AmiClient, AuthKind, ClientConfig, Originate};
use oml_pbxsim::{PbxSim, SimConfig};
use secrecy::SecretString;

const IN_FLIGHT: u64 = 64;

async fn setup() -> (PbxSim, AmiClient) {
    let mut cfg = SimConfig::new("bench", SecretString::from("bench"), 50);
    cfg.seed = 7;
    let sim = PbxSim::start(cfg).await.expect("pbxsim starts");
    let mut c = ClientConfig::new(
        sim.local_addr().to_string(),
        "bench",
        SecretString::from("bench"),
    );
    c.auth = AuthKind::Md5;
    c.rate_limit = None;
    c.ping_interval = None;
    let client = AmiClient::connect(c).await.expect("client connects");
    (sim, client)
}

/// Sends `n` Originates with `IN_FLIGHT` concurrent callers; returns the
/// ActionIDs of the responses (each checked to be a success).
async fn originate_many(client: &AmiClient, n: u64) -> Vec<String> {
    let per = n.div_ceil(IN_FLIGHT);
    let mut tasks = Vec::new();
    for t in 0..IN_FLIGHT {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::with_capacity(per as usize);
            for i in 0..per {
                let o = Originate::to_extension(
                    &format!("Local/55{t:03}{i:06}@from-oml/n"),
                    "oml-campaign",
                    "1",
                );
                let r = c.originate(&o).await.expect("originate queued");
                ids.push(r.action_id().expect("response has ActionID").to_owned());
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (sim, client) = rt.block_on(setup());
    // Correctness first: every response carries a distinct ActionID.
    let ids = rt.block_on(originate_many(&client, 2_000));
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "ActionIDs matched one to one");

    let mut g = c.benchmark_group("client_round_trip");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(10));
    g.sample_size(20);
    g.bench_function("originate_loopback_pbxsim", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let client = client.clone();
            async move {
                let t0 = Instant::now();
                let ids = originate_many(&client, iters.max(IN_FLIGHT)).await;
                let el = t0.elapsed();
                // Scale to the requested count (we may have sent a few more).
                el.mul_f64(iters as f64 / ids.len() as f64)
            }
        })
    });
    g.finish();
    let s = sim.stats();
    println!(
        "pbxsim handled {} originates, {} actions",
        s.originates, s.actions
    );
    rt.block_on(async move {
        client.logoff().await.ok();
        sim.shutdown().await;
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
