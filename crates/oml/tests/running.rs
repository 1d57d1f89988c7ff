//! A restore or an uninstall never pulls the installation from under a
//! running oml: while `oml serve` runs on a data folder they refuse and
//! change nothing (a backup still works); once it stops, they proceed.

mod common;

use assert_cmd::cargo::CommandCargoExt;
use common::oml;
use predicates::prelude::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[test]
fn restore_and_uninstall_refuse_while_oml_serve_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "a fine admin password\n").unwrap();
    oml(&data)
        .arg("init")
        .arg("--admin-password-file")
        .arg(&pw)
        .assert()
        .success();
    let out = oml(&data).arg("backup").assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let name = stdout
        .lines()
        .find_map(|l| l.strip_prefix("restore it with: oml restore "))
        .unwrap()
        .trim()
        .to_string();

    let mut serve = std::process::Command::cargo_bin("oml").unwrap();
    serve
        .env_remove("OML_DATABASE_URL")
        .env_remove("OML_HOME")
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = serve.spawn().unwrap();
    // Wait until it serves (it prints its address).
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let started = lines
        .by_ref()
        .take(20)
        .map_while(Result::ok)
        .any(|l| l.contains("127.0.0.1:"));
    assert!(started, "oml serve did not start");

    let db_before = std::fs::read(data.join("oml.db")).unwrap();
    oml(&data)
        .args(["restore", &name, "--yes"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("oml is running on"))
        .stderr(predicate::str::contains("nothing was changed"));
    oml(&data)
        .args(["uninstall", "--no-backup", "--yes", "--root"])
        .arg(tmp.path().join("root"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("oml is running on"));
    assert!(data.join("oml.db").exists());
    // Reading is fine while it runs: a backup and dry runs.
    oml(&data)
        .args(["backup", "--output"])
        .arg(tmp.path().join("elsewhere"))
        .assert()
        .success();
    oml(&data)
        .args(["restore", &name, "--dry-run"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(data.join("oml.db")).unwrap().len(),
        db_before.len()
    );

    child.kill().unwrap();
    child.wait().unwrap();
    oml(&data)
        .args(["restore", &name, "--yes"])
        .assert()
        .success();
}
