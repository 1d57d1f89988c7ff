//! The whole report on a real data folder: three Asterisk servers (pbxsim)
//! that accept the login, one whose port refuses and one that accepts the
//! connection but never greets; a lock-out in force; no backup. Each shows
//! up with its level, and the verdict is a failure.

use std::time::Duration;

use oml_pbxsim::{PbxSim, SimConfig};
use oml_status::{gather, Inputs, Level};
use oml_store::{BlockKind, Location, OpenMode, ServerSpec, Store};
use secrecy::SecretString;

fn server(name: &str, port: u16) -> ServerSpec {
    ServerSpec {
        name: name.into(),
        host: "127.0.0.1".into(),
        ami_port: port,
        ami_user: "oml".into(),
        ami_secret: SecretString::from("status-test"),
        enabled: true,
    }
}

#[tokio::test]
async fn every_fact_is_judged_and_the_worst_sets_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::DataDir(dir.path().into());
    let store = Store::open(&location, OpenMode::Create).await.unwrap();
    let mut sims = Vec::new();
    for i in 0..3 {
        let sim = PbxSim::start(SimConfig::new("oml", SecretString::from("status-test"), 2))
            .await
            .unwrap();
        store
            .create_server(&server(&format!("pbx{i}"), sim.local_addr().port()))
            .await
            .unwrap();
        sims.push(sim);
    }
    // A port nothing listens on.
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_port = refused.local_addr().unwrap().port();
    drop(refused);
    store
        .create_server(&server("refusing", refused_port))
        .await
        .unwrap();
    // A port that accepts and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    store
        .create_server(&server("silent", silent_port))
        .await
        .unwrap();
    let now = oml_store::now_ms();
    store
        .create_block(
            BlockKind::User,
            "alice",
            now,
            Some(now + 600_000),
            5,
            "wrong passwords",
        )
        .await
        .unwrap();
    store.close().await;

    let mut inputs = Inputs::new(dir.path().into(), location);
    inputs.probe_timeout = Duration::from_millis(500);
    let report = gather(&inputs).await;
    let find = |section: &str, name: &str| {
        report
            .checks
            .iter()
            .find(|c| c.section == section && c.name.starts_with(name))
            .unwrap_or_else(|| panic!("no {section} {name} in {report:#?}"))
            .clone()
    };
    assert_eq!(find("database", "").level, Level::Ok, "{report:#?}");
    for i in 0..3 {
        assert_eq!(find("asterisk", &format!("pbx{i} ")).level, Level::Ok);
    }
    let refusing = find("asterisk", "refusing");
    assert_eq!(refusing.level, Level::Failure);
    let silent = find("asterisk", "silent");
    assert_eq!(silent.level, Level::Failure);
    assert!(silent.detail.contains("500 ms"), "{}", silent.detail);
    assert_eq!(find("backup", "").level, Level::Warning);
    let lock = find("lock-out", "console");
    assert_eq!(lock.level, Level::Warning);
    assert!(lock.detail.contains("user alice"), "{}", lock.detail);
    assert_eq!(find("dialer", "play").level, Level::Ok);
    assert_eq!(report.level, Level::Failure);
    assert_eq!(report.exit_code(), 2);
    // The two unreachable servers; the disk checks judge this machine's
    // real free space (a nearly full CI disk fails them), so they are
    // counted apart.
    let failing: Vec<(&str, &str)> = report
        .checks
        .iter()
        .filter(|c| c.level == Level::Failure)
        .map(|c| (c.section, c.name.as_str()))
        .collect();
    assert_eq!(report.failures, failing.len(), "{failing:?}");
    let not_disk: Vec<_> = failing.iter().filter(|(s, _)| *s != "disk").collect();
    assert_eq!(not_disk.len(), 2, "{failing:?}");
    for s in sims {
        s.shutdown().await;
    }
}

#[tokio::test]
async fn a_missing_database_is_a_failure_that_says_to_run_init() {
    let dir = tempfile::tempdir().unwrap();
    let report = gather(&Inputs::new(
        dir.path().into(),
        Location::DataDir(dir.path().into()),
    ))
    .await;
    let db = report
        .checks
        .iter()
        .find(|c| c.section == "database")
        .unwrap();
    assert_eq!(db.level, Level::Failure);
    assert!(db.detail.contains("oml init"), "{}", db.detail);
    assert_eq!(report.exit_code(), 2);
}
