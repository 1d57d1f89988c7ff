//! How long `oml status` takes with 5 Asterisk servers of which 2 do not
//! answer (one refuses, one accepts and never greets), beside the same
//! report with only the silent server and with no server at all: the
//! logins run at once, so the unanswered ones cost one time-out (700 ms by
//! default), not one each.
//!
//! Run: `cargo run --release -p oml-status --example status_bench`

use std::time::{Duration, Instant};

use oml_pbxsim::{PbxSim, SimConfig};
use oml_status::{gather, Inputs};
use oml_store::{Location, OpenMode, ServerSpec, Store};
use secrecy::SecretString;

fn server(name: &str, port: u16) -> ServerSpec {
    ServerSpec {
        name: name.into(),
        host: "127.0.0.1".into(),
        ami_port: port,
        ami_user: "oml".into(),
        ami_secret: SecretString::from("bench"),
        enabled: true,
    }
}

/// A data folder whose database lists `answering` pbxsim servers, plus
/// the silent and refusing ones when asked.
async fn folder(
    answering: usize,
    silent: Option<u16>,
    refusing: Option<u16>,
) -> (tempfile::TempDir, Vec<PbxSim>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::DataDir(dir.path().into()), OpenMode::Create)
        .await
        .unwrap();
    let mut sims = Vec::new();
    for i in 0..answering {
        let sim = PbxSim::start(SimConfig::new("oml", SecretString::from("bench"), 2))
            .await
            .unwrap();
        store
            .create_server(&server(&format!("pbx{i}"), sim.local_addr().port()))
            .await
            .unwrap();
        sims.push(sim);
    }
    if let Some(p) = silent {
        store.create_server(&server("silent", p)).await.unwrap();
    }
    if let Some(p) = refusing {
        store.create_server(&server("refusing", p)).await.unwrap();
    }
    store.close().await;
    (dir, sims)
}

async fn median_time(dir: &std::path::Path) -> Duration {
    let inputs = Inputs::new(dir.into(), Location::DataDir(dir.into()));
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let _ = gather(&inputs).await;
        times.push(t.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_port = refused.local_addr().unwrap().port();
    drop(refused);

    let (five, _a) = folder(3, Some(silent_port), Some(refused_port)).await;
    let (one, _b) = folder(0, Some(silent_port), None).await;
    let (none, _c) = folder(0, None, None).await;
    let t5 = median_time(five.path()).await;
    let t1 = median_time(one.path()).await;
    let t0 = median_time(none.path()).await;
    println!("| servers | of which unanswered | median of 7 | vs 1 silent server |");
    println!("|---|---|---|---|");
    for (n, bad, t) in [(5, 2, t5), (1, 1, t1), (0, 0, t0)] {
        println!(
            "| {n} | {bad} | {:.0} ms | {:.2} |",
            t.as_secs_f64() * 1000.0,
            t.as_secs_f64() / t1.as_secs_f64()
        );
    }
}
