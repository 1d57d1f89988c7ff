//! `oml uninstall` as an administrator runs it, on files rendered under a
//! temporary `--root` (so no service is stopped): the plan is printed and
//! nothing changes without a backup choice and a confirmation; then oml's
//! files, data folder, install folder and (on PostgreSQL) database go, a
//! final backup that verifies is left, and the administrator's files stay.

mod common;

use assert_cmd::Command;
use common::{assert_same, hostname, oml, snapshot};
use predicates::prelude::*;
use std::path::PathBuf;

struct Install {
    tmp: tempfile::TempDir,
    data: PathBuf,
    root: PathBuf,
    inventory: PathBuf,
    prefix: PathBuf,
    url: Option<String>,
}

impl Install {
    fn cmd(&self) -> Command {
        let mut c = oml(&self.data);
        if let Some(u) = &self.url {
            c.env("OML_DATABASE_URL", u);
        }
        c
    }

    fn uninstall(&self) -> Command {
        let mut c = self.cmd();
        c.args(["uninstall", "--inventory"])
            .arg(&self.inventory)
            .arg("--root")
            .arg(&self.root);
        c
    }
}

/// An installation: initialised, configuration rendered under `root`, an
/// install folder with media, an administrator's file and include line.
fn install(url: Option<String>) -> Install {
    let tmp = tempfile::tempdir().unwrap();
    let i = Install {
        data: tmp.path().join("data"),
        root: tmp.path().join("root"),
        inventory: tmp.path().join("inventory"),
        // The inventory's install_prefix, under the configuration root.
        prefix: tmp.path().join("root/opt/omnileads-test"),
        url,
        tmp,
    };
    let pw = i.tmp.path().join("pw");
    std::fs::write(&pw, "a fine admin password\n").unwrap();
    i.cmd()
        .arg("init")
        .arg("--admin-password-file")
        .arg(&pw)
        .assert()
        .success();
    let host = hostname();
    std::fs::write(
        &i.inventory,
        format!(
            "[omnileads-aio]\n{host} ansible_connection=local ansible_user=root ansible_host=127.0.0.1\n\n\
             [everyone:children]\nomnileads-aio\n\n[everyone:vars]\n\
             postgres_password=pg-secret-1\nadmin_pass=admin-secret-1\nami_password=ami-secret-1\n\
             install_prefix=/opt/omnileads-test/\n"
        ),
    )
    .unwrap();
    // Deploying creates the install folder, marked as oml's.
    i.cmd()
        .args(["deploy", "--change-network", "--yes", "--inventory"])
        .arg(&i.inventory)
        .arg("--root")
        .arg(&i.root)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "(install folder, marked as oml's)",
        ));
    std::fs::create_dir_all(i.prefix.join("media")).unwrap();
    std::fs::write(i.prefix.join("media/greeting.wav"), b"RIFF").unwrap();
    std::fs::write(
        i.root.join("etc/asterisk/oml_queues_custom.conf"),
        "; mine\n",
    )
    .unwrap();
    std::fs::write(
        i.root.join("etc/asterisk/queues.conf"),
        "[general]\n#include oml_queues.conf\n",
    )
    .unwrap();
    i
}

fn check_removed_and_kept(i: &Install) {
    assert!(!i.data.exists(), "data folder removed");
    assert!(!i.prefix.exists(), "install folder removed");
    assert!(!i.root.join("etc/asterisk/oml_queues.conf").exists());
    assert!(!i.root.join("etc/nginx/conf.d/oml.conf").exists());
    assert!(!i.root.join("etc/systemd/system/oml.service").exists());
    assert!(i.root.join("etc/asterisk/oml_queues_custom.conf").exists());
    assert!(i.root.join("etc/kamailio/kamailio.cfg").exists());
    assert!(i.inventory.exists());
    assert_eq!(
        std::fs::read_to_string(i.root.join("etc/asterisk/queues.conf")).unwrap(),
        "[general]\n"
    );
}

#[test]
fn uninstall_plans_asks_backs_up_then_removes_only_what_is_oml() {
    let i = install(None);
    let before = snapshot(i.tmp.path());
    i.uninstall()
        .arg("--dry-run")
        .assert()
        .success()
        .stdout(predicate::str::contains("stop      oml"))
        .stdout(predicate::str::contains("oml_queues.conf"))
        .stdout(
            predicate::str::contains("keep      ").and(predicate::str::contains(
                "oml_queues_custom.conf (your own file)",
            )),
        )
        .stdout(predicate::str::contains("edit      "))
        .stdout(predicate::str::contains("install folder"))
        .stdout(predicate::str::contains("system packages"))
        .stdout(predicate::str::contains("dry run: nothing"));
    assert_same(&before, &snapshot(i.tmp.path()), "dry run changed nothing");
    // No backup choice: refused.
    i.uninstall()
        .arg("--yes")
        .assert()
        .failure()
        .stderr(predicate::str::contains("--backup-to DIR"));
    // No confirmation possible (no terminal) and no --yes: refused.
    i.uninstall()
        .arg("--no-backup")
        .assert()
        .failure()
        .stderr(predicate::str::contains("add --yes"));
    // A backup folder inside what is deleted: refused.
    i.uninstall()
        .args(["--yes", "--backup-to"])
        .arg(i.data.join("last"))
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "choose a --backup-to folder outside",
        ));
    assert_same(&before, &snapshot(i.tmp.path()), "refusals changed nothing");

    let keep = i.tmp.path().join("final");
    i.uninstall()
        .args(["--yes", "--backup-to"])
        .arg(&keep)
        .assert()
        .success()
        .stdout(predicate::str::contains("backup written: "))
        .stdout(predicate::str::contains(
            "not run   systemctl disable --now oml",
        ))
        .stdout(predicate::str::contains("oml is uninstalled"));
    check_removed_and_kept(&i);
    // The final backup is complete and readable.
    let archive = std::fs::read_dir(&keep)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".tar.zst"))
        .expect("a final archive");
    let other = i.tmp.path().join("other-data");
    oml(&other)
        .args(["backup", "verify"])
        .arg(&archive)
        .assert()
        .success()
        .stdout(predicate::str::contains("OK"));
}

#[test]
fn uninstall_drops_the_postgresql_database() {
    let Ok(base) = std::env::var("OML_TEST_DATABASE_URL") else {
        eprintln!(
            "SKIPPED: OML_TEST_DATABASE_URL is not set (PostgreSQL half of the uninstall test)"
        );
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pg = oml_backup::pg::PgUrl::parse(&base.clone().into()).unwrap();
    let db = format!("oml_uninstall_{}", std::process::id());
    rt.block_on(pg.create(&db)).unwrap();
    let (head, _) = base.rsplit_once('/').unwrap();
    let i = install(Some(format!("{head}/{db}")));
    i.uninstall()
        .args(["--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "drop      PostgreSQL database {db}"
        )));
    assert!(rt.block_on(pg.exists(&db)).unwrap());
    i.uninstall()
        .args(["--yes", "--no-backup"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "dropped   PostgreSQL database {db}"
        )));
    assert!(!rt.block_on(pg.exists(&db)).unwrap(), "database dropped");
    check_removed_and_kept(&i);
}

/// A folder the inventory names outside the root, or a system folder, is
/// never deleted; an install folder oml did not create is kept.
#[test]
fn uninstall_deletes_only_what_oml_can_prove_it_owns() {
    let i = install(None);
    let write_prefix = |prefix: &str| {
        let text = std::fs::read_to_string(&i.inventory).unwrap();
        let text: String = text
            .lines()
            .map(|l| {
                if l.starts_with("install_prefix=") {
                    format!("install_prefix={prefix}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(&i.inventory, text).unwrap();
    };
    // A folder outside the root, named by its full path: not touched.
    let outside = i.tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("keep.txt"), "x").unwrap();
    write_prefix(&format!("{}/", outside.display()));
    i.uninstall()
        .arg("--dry-run")
        .assert()
        .success()
        .stdout(predicate::str::contains(outside.display().to_string()).not());
    // On the host itself (no --root), a system folder is refused outright.
    if std::path::Path::new("/usr/sbin").is_dir() {
        write_prefix("/usr/sbin/");
        i.cmd()
            .args(["uninstall", "--dry-run", "--root", "/", "--inventory"])
            .arg(&i.inventory)
            .assert()
            .failure()
            .stderr(predicate::str::contains("refusing to delete /usr/sbin"))
            .stderr(predicate::str::contains("system folder"));
    }
    // The install folder without oml's marker: kept, and said so.
    write_prefix("/opt/omnileads-test/");
    std::fs::remove_file(i.prefix.join(".oml-owned")).unwrap();
    i.uninstall()
        .args(["--yes", "--no-backup"])
        .assert()
        .success()
        .stdout(predicate::str::contains("oml did not create it"));
    assert!(
        i.prefix.join("media/greeting.wav").exists(),
        "not oml's: kept"
    );
    assert!(outside.join("keep.txt").exists());
    assert!(!i.data.exists(), "the data folder is oml's: removed");
}
