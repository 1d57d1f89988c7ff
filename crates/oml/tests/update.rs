//! `oml deploy --update` as an administrator runs it (files under a
//! temporary `--root`, so nothing is restarted): pre-flight refusals change
//! nothing and name what to fix; an update backs up first, records the new
//! version and re-renders; a failing step is rolled back from that backup;
//! `--host` hands the same command to ssh.

mod common;

use common::{hostname, oml};
use oml_store::{Location, OpenMode, Store};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

const ADMIN: &str = "a fine admin password";

struct Install {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    root: PathBuf,
    inventory: PathBuf,
}

fn write_inventory(path: &Path, admin: &str) {
    std::fs::write(
        path,
        format!(
            "[omnileads-aio]\n{} ansible_connection=local ansible_user=root ansible_host=127.0.0.1\n\n\
             [everyone:children]\nomnileads-aio\n\n[everyone:vars]\n\
             postgres_password=pg-secret-1\nadmin_pass={admin}\nami_password=ami-secret-1\n",
            hostname()
        ),
    )
    .unwrap();
}

fn install() -> Install {
    let tmp = tempfile::tempdir().unwrap();
    let i = Install {
        data: tmp.path().join("data"),
        root: tmp.path().join("root"),
        inventory: tmp.path().join("inventory"),
        _tmp: tmp,
    };
    let pw = i._tmp.path().join("pw");
    std::fs::write(&pw, format!("{ADMIN}\n")).unwrap();
    oml(&i.data)
        .arg("init")
        .arg("--admin-password-file")
        .arg(&pw)
        .assert()
        .success();
    write_inventory(&i.inventory, ADMIN);
    i
}

fn update(i: &Install) -> assert_cmd::Command {
    let mut c = oml(&i.data);
    c.args(["deploy", "--update", "--inventory"])
        .arg(&i.inventory)
        .arg("--root")
        .arg(&i.root);
    c
}

fn with_store<T>(data: &Path, f: impl AsyncFnOnce(&Store) -> T) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let s = Store::open(&Location::DataDir(data.to_path_buf()), OpenMode::AsIs)
            .await
            .unwrap();
        let out = f(&s).await;
        s.close().await;
        out
    })
}

fn installed(data: &Path) -> String {
    with_store(data, async |s| {
        s.setting("oml.installed_version").await.unwrap().unwrap()
    })
}

fn set_installed(data: &Path, v: &str) {
    let v = v.to_string();
    with_store(data, async move |s| {
        s.set_setting("oml.installed_version", &v).await.unwrap()
    });
}

fn backups(data: &Path) -> usize {
    std::fs::read_dir(data.join("backup"))
        .map(|rd| rd.count())
        .unwrap_or(0)
}

#[test]
fn update_checks_first_backs_up_then_moves_the_installation() {
    let i = install();
    let current = env!("CARGO_PKG_VERSION");
    assert_eq!(installed(&i.data), current, "init records the version");
    update(&i)
        .arg("--yes")
        .assert()
        .success()
        .stdout(predicate::str::contains("is already installed here"));

    set_installed(&i.data, "0.1.0-rc.1");
    // A wrong password in the inventory: refused, named, nothing changed.
    write_inventory(&i.inventory, "not the password in use");
    update(&i)
        .arg("--yes")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "pre-flight failed; nothing was changed",
        ))
        .stderr(predicate::str::contains(
            "line 9: `admin_pass` does not open the console user admin",
        ))
        .stderr(predicate::str::contains("not the password in use").not());
    assert_eq!(backups(&i.data), 0);
    assert_eq!(installed(&i.data), "0.1.0-rc.1");
    write_inventory(&i.inventory, ADMIN);

    update(&i)
        .arg("--dry-run")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "update:     oml 0.1.0-rc.1 → {current}"
        )))
        .stdout(predicate::str::contains("dry run: nothing changed"));
    assert_eq!(backups(&i.data), 0);
    assert!(!i.root.exists());

    update(&i)
        .arg("--yes")
        .assert()
        .success()
        .stdout(predicate::str::contains("backup written: "))
        .stdout(predicate::str::contains(
            "configuration file(s) re-rendered",
        ))
        .stdout(predicate::str::contains("systemctl restart oml"))
        .stdout(predicate::str::contains(format!("oml is at {current}")));
    assert_eq!(backups(&i.data), 1);
    assert_eq!(installed(&i.data), current);
    assert!(i.root.join("etc/kamailio/kamailio.cfg").exists());
}

#[test]
fn versions_without_a_tested_path_are_refused() {
    let i = install();
    for (v, says) in [
        ("0.0.9", "no tested upgrade path"),
        ("9.9.9", "newer than this oml"),
    ] {
        set_installed(&i.data, v);
        update(&i)
            .arg("--yes")
            .assert()
            .failure()
            .stderr(predicate::str::contains(says))
            .stderr(predicate::str::contains("nothing was changed"));
        assert_eq!(installed(&i.data), v);
        assert_eq!(backups(&i.data), 0);
    }
}

#[test]
fn a_failing_step_is_rolled_back_from_the_pre_upgrade_backup() {
    let i = install();
    set_installed(&i.data, "0.1.0-rc.1");
    // The Asterisk folder is a file: re-rendering fails after the migration
    // and the new version were recorded.
    std::fs::create_dir_all(i.root.join("etc")).unwrap();
    std::fs::write(i.root.join("etc/asterisk"), "not a folder").unwrap();
    update(&i)
        .arg("--yes")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "rolled back to the state before it",
        ));
    assert_eq!(installed(&i.data), "0.1.0-rc.1", "database restored");
    assert_eq!(backups(&i.data), 1, "the pre-upgrade backup is kept");
}

#[test]
fn host_runs_the_same_update_over_ssh() {
    let i = install();
    let bin = i._tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = i._tmp.path().join("ssh-args");
    let ssh = bin.join("ssh");
    std::fs::write(
        &ssh,
        format!("#!/bin/sh\necho \"$@\" > '{}'\n", record.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    oml(&i.data)
        .env("PATH", path)
        .args([
            "deploy",
            "--update",
            "--yes",
            "--host",
            "admin@pbx.example.com:2222",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "running on admin@pbx.example.com:2222",
        ));
    assert_eq!(
        std::fs::read_to_string(&record).unwrap().trim(),
        "-p 2222 admin@pbx.example.com oml deploy --update --yes"
    );
    oml(&i.data)
        .args(["deploy", "--update", "--host", "pbx.example.com"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("user@host"));
}

#[test]
fn host_refuses_the_options_it_cannot_pass_on() {
    let i = install();
    for (flag, value) in [("--inventory", &i.inventory), ("--root", &i.root)] {
        oml(&i.data)
            .env("PATH", "/nonexistent") // no ssh is ever reached
            .args([
                "deploy",
                "--update",
                "--yes",
                "--host",
                "admin@pbx.example.com",
                flag,
            ])
            .arg(value)
            .assert()
            .failure()
            .stderr(predicate::str::contains(format!("cannot pass on {flag}")))
            .stderr(predicate::str::contains("nothing was changed"))
            .stdout(predicate::str::contains("running on").not());
    }
}
