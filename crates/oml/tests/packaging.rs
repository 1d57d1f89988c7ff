//! The Debian package's files kept in step with the code (packaging/): the
//! conffile is generated from the defaults `oml init` writes, lists every key
//! of oml.toml and parses, the preinst knows this
//! binary's upgrade paths, the unit runs `oml serve` on the packaged data
//! folder; and `oml migrate`, which the postinst runs on an upgrade, checks
//! first, backs up, migrates and records the version, or refuses and
//! changes nothing.

mod common;

use common::{oml, snapshot};
use oml_store::{Location, OpenMode, Store};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn packaging(file: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../packaging")
        .join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The conffile as packaging/oml-toml.sh generates it for the package.
fn conffile() -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/oml-toml.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "packaging/oml-toml.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_conffile_is_the_init_default_with_the_packaged_folders() {
    // Every line of the defaults `oml init` writes is in the conffile, in
    // order, except the two folders the package creates: the two cannot drift.
    let text = conffile();
    let default = include_str!("../../oml-config/src/default.toml");
    let body = &text[text.find(default.lines().next().unwrap()).unwrap()..];
    let (ours, theirs): (Vec<_>, Vec<_>) = body
        .lines()
        .zip(default.lines())
        .filter(|(a, b)| a != b)
        .unzip();
    assert_eq!(body.lines().count(), default.lines().count());
    assert_eq!(
        theirs,
        ["backup_dir = \"backup\"", "recordings_dir = \"recordings\""]
    );
    assert_eq!(
        ours,
        [
            "backup_dir = \"/var/backups/oml\"",
            "recordings_dir = \"/var/lib/oml/recordings\""
        ]
    );
}

#[test]
fn the_conffile_parses_and_lists_every_key_with_the_packaged_paths() {
    let text = conffile();
    let c = oml_config::Config::parse(&text, "packaging/oml-toml.sh").unwrap();
    assert_eq!(c.paths.backup_dir, PathBuf::from("/var/backups/oml"));
    assert_eq!(
        c.paths.recordings_dir,
        PathBuf::from("/var/lib/oml/recordings")
    );
    // Every key of the configuration appears (set or commented) in its table.
    let all = serde_json::to_value(oml_config::Config::default()).unwrap();
    for (table, keys) in all.as_object().unwrap() {
        let start = text
            .find(&format!("\n[{table}]\n"))
            .unwrap_or_else(|| panic!("packaging/oml.toml has no [{table}] table"));
        let rest = &text[start + table.len() + 4..];
        let section = &rest[..rest.find("\n[").unwrap_or(rest.len())];
        for key in keys.as_object().unwrap().keys() {
            let listed = section.lines().any(|l| {
                let l = l.trim_start_matches('#').trim_start();
                l.starts_with(&format!("{key} = "))
            });
            assert!(
                listed,
                "packaging/oml.toml: [{table}] does not list `{key}`"
            );
        }
    }
}

#[test]
fn the_preinst_knows_this_binarys_upgrade_paths() {
    let text = packaging("debian/preinst");
    let line = format!(
        "UPGRADES_FROM=\"{}\"",
        oml_deploy::update::UPGRADES_FROM.join(" ")
    );
    assert!(
        text.lines().any(|l| l == line),
        "packaging/debian/preinst must say {line} (oml_deploy::update::UPGRADES_FROM)"
    );
}

#[test]
fn the_unit_serves_the_packaged_data_folder_as_oml() {
    let text = packaging("debian/oml.service");
    for line in [
        "User=oml",
        "Environment=OML_HOME=/var/lib/oml",
        "ExecStart=/usr/bin/oml serve",
    ] {
        assert!(text.lines().any(|l| l == line), "oml.service lacks {line}");
    }
}

fn init(data: &Path) {
    oml(data).arg("init").assert().success();
}

fn installed(data: &Path) -> String {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let s = Store::open(&Location::DataDir(data.to_path_buf()), OpenMode::AsIs)
            .await
            .unwrap();
        let v = s.setting("oml.installed_version").await.unwrap().unwrap();
        s.close().await;
        v
    })
}

fn set_installed(data: &Path, v: &str) {
    let v = v.to_string();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let s = Store::open(&Location::DataDir(data.to_path_buf()), OpenMode::AsIs)
                .await
                .unwrap();
            s.set_setting("oml.installed_version", &v).await.unwrap();
            s.close().await;
        })
}

#[test]
fn migrate_without_an_installation_does_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    oml(&data)
        .arg("migrate")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "nothing to migrate; run `oml init`",
        ));
    assert!(!data.join("oml.db").exists());
}

#[test]
fn migrate_checks_backs_up_and_records_the_version() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);
    let current = env!("CARGO_PKG_VERSION");
    oml(&data)
        .arg("migrate")
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to migrate"));
    set_installed(&data, "0.1.0-rc.1");
    let before = snapshot(&data);
    oml(&data)
        .args(["migrate", "--check"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "pre-flight: ok: oml 0.1.0-rc.1 (schema {s}) → {current} (schema {s})",
            s = oml_store::latest_schema_version()
        )));
    assert_eq!(snapshot(&data), before, "--check changes nothing");
    oml(&data)
        .arg("migrate")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("oml {current} recorded")));
    assert_eq!(installed(&data), current);
    let archives = std::fs::read_dir(data.join("backup")).unwrap().count();
    assert_eq!(archives, 1, "one pre-upgrade backup");
}

#[test]
fn migrate_refuses_a_downgrade_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);
    set_installed(&data, "9.0.0");
    let before = snapshot(&data);
    for args in [&["migrate", "--check"][..], &["migrate"][..]] {
        oml(&data)
            .args(args)
            .assert()
            .failure()
            .stderr(predicate::str::contains("newer than this oml"))
            .stderr(predicate::str::contains("nothing was changed"));
    }
    assert_eq!(snapshot(&data), before);
}
