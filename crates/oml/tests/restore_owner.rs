//! `oml restore` through the real binary on a data folder that belongs to
//! the service user, as the Debian package installs it (issue 16 item 6):
//! run as that user it just works; run as root it refuses unless told to
//! fix ownership, and then the service user can still open everything.
//! Needs root (to own files as another uid); CI runs the tests as root.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The uid and gid the "service user" runs as (no account needed).
const SERVICE: u32 = 4242;

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// `oml` on `data`, as root (`as_service == false`) or as the service uid.
fn oml(data: &Path, as_service: bool) -> Command {
    let bin = assert_cmd::cargo::cargo_bin("oml");
    let mut c = if as_service {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={SERVICE}"))
            .arg(format!("--regid={SERVICE}"))
            .arg("--clear-groups")
            .arg(bin);
        c
    } else {
        Command::new(bin)
    };
    c.arg("--data-dir")
        .arg(data)
        .env_remove("OML_DATABASE_URL")
        .env_remove("OML_TEST_PAUSE_AT")
        .env("OML_HOME", data);
    c
}

fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

fn ok(c: &mut Command) -> String {
    let out = run(c);
    assert!(
        out.status.success(),
        "{:?} failed: {}{}",
        c,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every path under `dir` (itself included) whose owner is not the service.
fn not_the_services(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.uid() != SERVICE || m.gid() != SERVICE {
            out.push((p.clone(), m.uid()));
        }
        if m.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                todo.push(e.unwrap().path());
            }
        }
    }
    out
}

/// An installation with `alice`, one backup made after her, then `bob`
/// added; everything handed to the service uid, as the package does.
fn installation() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    // The service uid must be able to walk to the data folder.
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let data = tmp.path().join("data");
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "a-long-password-1\n").unwrap();
    ok(oml(&data, false)
        .arg("init")
        .arg("--admin-password-file")
        .arg(&pw));
    let add = |name: &str| {
        ok(oml(&data, false)
            .args(["users", "add", name, "--role", "agent", "--password-file"])
            .arg(&pw));
    };
    add("alice");
    let out = ok(oml(&data, false).args(["backup"]));
    let name = out
        .lines()
        .find_map(|l| l.strip_prefix("restore it with: oml restore "))
        .expect("the backup names its archive")
        .trim()
        .to_string();
    add("bob");
    let st = Command::new("chown")
        .arg("-R")
        .arg(format!("{SERVICE}:{SERVICE}"))
        .arg(&data)
        .arg(&pw)
        .status()
        .unwrap();
    assert!(st.success());
    (tmp, data, name)
}

fn users(data: &Path) -> String {
    ok(oml(data, true).args(["users", "list"]))
}

#[test]
fn the_service_user_restores_its_own_data_folder() {
    if !is_root() {
        println!("SKIPPED: restore_owner needs root to own files as another uid (CI runs as root)");
        return;
    }
    let (_tmp, data, name) = installation();
    assert!(users(&data).contains("bob"));
    ok(oml(&data, true).args(["restore", &name, "--yes"]));
    let after = users(&data);
    assert!(after.contains("alice") && !after.contains("bob"), "{after}");
    assert_eq!(not_the_services(&data), vec![], "restored files' owners");
    // It can still write: the database and the lock file are its own.
    ok(oml(&data, true)
        .args([
            "users",
            "add",
            "carol",
            "--role",
            "agent",
            "--password-file",
        ])
        .arg(data.parent().unwrap().join("pw")));
}

#[test]
fn root_is_refused_unless_told_to_fix_ownership_and_then_keeps_the_owner() {
    if !is_root() {
        println!("SKIPPED: restore_owner needs root to own files as another uid (CI runs as root)");
        return;
    }
    let (_tmp, data, name) = installation();
    let out = run(oml(&data, false).args(["restore", &name, "--yes"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "root restore was not refused");
    assert!(
        err.contains("--fix-ownership") && err.contains(&format!("uid {SERVICE}")),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(
        users(&data).contains("bob"),
        "a refused restore changed data"
    );
    assert_eq!(not_the_services(&data), vec![], "a refused restore chowned");

    ok(oml(&data, false).args(["restore", &name, "--yes", "--fix-ownership"]));
    assert_eq!(
        not_the_services(&data),
        vec![],
        "files root restored must stay the service's (the service could not open its database)"
    );
    let after = users(&data);
    assert!(after.contains("alice") && !after.contains("bob"), "{after}");
    ok(oml(&data, true)
        .args([
            "users",
            "add",
            "carol",
            "--role",
            "agent",
            "--password-file",
        ])
        .arg(data.parent().unwrap().join("pw")));
}
