//! `oml pbxsim --answer-rate` as a schedule: the binary refuses a bad
//! schedule naming the flag, and a running simulator's customers follow the
//! schedule in simulated time (nobody answers before the change, everybody
//! after it).

use assert_cmd::cargo::CommandCargoExt;
use assert_cmd::Command;
use oml_ami::{AmiClient, ClientConfig, Event, Originate, OriginateOutcome, OriginateResponse};
use secrecy::SecretString;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_bad_schedule_is_refused_naming_the_flag() {
    for (rate, says) in [
        ("40%@0,15%@0", "must increase"),
        ("40%@10m", "must be at 0"),
        ("40%@0,140%@1h", "not between 0 and 1"),
        ("40%@0,95%@1h", "--answer-rate 95% + --busy-rate 10%"),
    ] {
        let out = Command::cargo_bin("oml")
            .unwrap()
            .env("OML_AMI_SECRET", "s")
            .args(["pbxsim", "--listen", "127.0.0.1:0", "--answer-rate", rate])
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{rate} was accepted");
        assert!(
            err.contains("--answer-rate") && err.contains(says),
            "{rate}: {err}"
        );
    }
}

/// A running `oml pbxsim`, killed when dropped.
struct Pbx(Child);

impl Drop for Pbx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Originates `n` calls and returns their outcomes.
async fn dial(c: &AmiClient, n: usize) -> Vec<OriginateOutcome> {
    let mut rx = c.events();
    let mut ids = Vec::new();
    for i in 0..n {
        let o = Originate::to_extension(&format!("Local/55510{i:02}@from-oml/n"), "oml", "1");
        let r = c.originate(&o).await.unwrap();
        ids.push(r.action_id().unwrap().to_owned());
    }
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        while out.len() < n {
            if let Event::Ami(m) = rx.recv().await.unwrap() {
                if let Some(o) = OriginateResponse::from_message(&m) {
                    if o.action_id.as_ref().is_some_and(|a| ids.contains(a)) {
                        out.push(o.outcome);
                    }
                }
            }
        }
    })
    .await
    .expect("every call ended within 30 s");
    out
}

#[tokio::test]
async fn customers_follow_the_answer_rate_schedule() {
    // x60: the change at simulated minute 5 comes 5 real seconds after the start.
    let mut cmd = std::process::Command::cargo_bin("oml").unwrap();
    cmd.env("OML_AMI_SECRET", "s3cret")
        .args(["pbxsim", "--listen", "127.0.0.1:0", "--stats-every", "0"])
        .args(["--answer-rate", "0@0,100%@5m", "--time-scale", "60"])
        .args(["--busy-rate", "0", "--congestion-rate", "0"])
        .args(["--time-to-answer", "1", "--no-answer-after", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut pbx = Pbx(cmd.spawn().unwrap());
    let line = BufReader::new(pbx.0.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let started = Instant::now();
    let addr = line
        .strip_prefix("pbxsim: AMI on ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let c = AmiClient::connect(ClientConfig::new(addr, "oml", SecretString::from("s3cret")))
        .await
        .unwrap();

    let before = dial(&c, 5).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "too slow to dial before the change; the outcomes would mean nothing"
    );
    assert_eq!(
        before,
        vec![OriginateOutcome::NoAnswer; 5],
        "before the change"
    );

    tokio::time::sleep_until((started + Duration::from_secs(6)).into()).await;
    let after = dial(&c, 5).await;
    assert_eq!(
        after,
        vec![OriginateOutcome::Answered; 5],
        "after the change"
    );
}
