//! The foundation commands as a user runs them: `oml init`, `oml version`,
//! `oml users ...`, and the one-line errors for bad input.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn oml(data: &Path) -> Command {
    let mut c = Command::cargo_bin("oml").unwrap();
    c.env_remove("OML_DATABASE_URL")
        .env_remove("OML_HOME")
        .arg("--data-dir")
        .arg(data);
    c
}

fn password_file(dir: &Path, pw: &str) -> std::path::PathBuf {
    let p = dir.join(format!("pw-{}", pw.len()));
    std::fs::write(&p, format!("{pw}\n")).unwrap();
    p
}

#[test]
fn init_creates_everything_once_and_never_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    oml(&data)
        .arg("init")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Administrator `admin` created with this password",
        ));
    assert!(data.join("oml.db").exists());
    let before = std::fs::read(data.join("oml.db")).unwrap();

    oml(&data)
        .arg("init")
        .assert()
        .failure()
        .stderr(predicate::str::contains("already initialised"));
    assert_eq!(
        std::fs::read(data.join("oml.db")).unwrap(),
        before,
        "nothing overwritten"
    );

    oml(&data)
        .args(["version", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "\"schema_version\": {}",
            oml_store::latest_schema_version()
        )))
        .stdout(predicate::str::contains("\"database_backend\": \"sqlite\""));
}

#[test]
fn init_takes_a_password_file_and_users_work() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let pw = password_file(tmp.path(), "a fine admin password");
    oml(&data)
        .args([
            "init",
            "--admin-user",
            "root.admin",
            "--admin-password-file",
        ])
        .arg(&pw)
        .assert()
        .success()
        .stdout(predicate::str::contains("a fine admin password").not());

    let pw2 = password_file(tmp.path(), "supervisor pass");
    oml(&data)
        .args([
            "users",
            "add",
            "maria",
            "--role",
            "supervisor",
            "--password-file",
        ])
        .arg(&pw2)
        .assert()
        .success();
    oml(&data)
        .args(["users", "add", "pedro", "--role", "boss", "--password-file"])
        .arg(&pw2)
        .assert()
        .failure()
        .stderr(predicate::str::contains("role"));
    oml(&data)
        .args(["users", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("maria"))
        .stdout(predicate::str::contains("root.admin"))
        .stdout(predicate::str::contains("pedro").not());

    oml(&data)
        .args(["users", "block", "maria"])
        .assert()
        .success();
    oml(&data)
        .args(["users", "blocked"])
        .assert()
        .success()
        .stdout(predicate::str::contains("maria"));
    oml(&data)
        .args(["users", "unblock", "maria"])
        .assert()
        .success();
    oml(&data)
        .args(["users", "blocked"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Nothing is blocked"));
    oml(&data)
        .args(["users", "unblock", "--ip", "2001:db8:1:2:aaaa::1/64"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2001:db8:1:2::/64"));
    oml(&data)
        .args(["users", "unblock", "--ip", "10.0.0.0/8"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("ADDR/64"));
    oml(&data)
        .args(["users", "block", "ghost"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("ghost"));
}

#[test]
fn bad_input_gets_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");

    // Not initialised.
    oml(&data)
        .args(["users", "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("oml init"));

    // Malformed database URL, with the password kept out of the message.
    let out = oml(&data)
        .args(["--database-url", "mysql://u:hunter2@h/x", "users", "list"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("malformed database URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // Unreachable server.
    let out = oml(&data)
        .args([
            "--database-url",
            "postgres://u:hunter2@127.0.0.1:1/x",
            "users",
            "list",
        ])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("cannot connect"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");

    // A data folder that cannot be created (its parent is a file).
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    oml(&file.join("data"))
        .arg("init")
        .assert()
        .failure()
        .stderr(predicate::str::contains("data folder"));
    assert_eq!(std::fs::read(&file).unwrap(), b"x");

    // A password that is too short.
    let pw = password_file(tmp.path(), "short");
    oml(&data)
        .args(["init", "--admin-password-file"])
        .arg(&pw)
        .assert()
        .failure()
        .stderr(predicate::str::contains("at least 8"));
    assert!(
        !data.join("oml.db").exists(),
        "nothing created on bad input"
    );
}

#[test]
fn api_tokens_are_shown_once_listed_without_secrets_and_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let pw = password_file(tmp.path(), "a fine admin password");
    oml(&data)
        .args(["init", "--admin-password-file"])
        .arg(&pw)
        .assert()
        .success();
    for (name, role) in [("maria", "supervisor"), ("luis", "agent")] {
        oml(&data)
            .args(["users", "add", name, "--role", role, "--password-file"])
            .arg(&pw)
            .assert()
            .success();
    }
    let out = oml(&data)
        .args(["users", "token", "add", "maria", "crm"])
        .assert()
        .success()
        .stderr(predicate::str::contains("shown once"))
        .get_output()
        .stdout
        .clone();
    let secret = String::from_utf8(out).unwrap().trim().to_string();
    assert_eq!(secret.len(), 64, "{secret}");
    oml(&data)
        .args(["users", "token", "add", "maria", "crm"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("maria/crm` already exists"));
    oml(&data)
        .args(["users", "token", "add", "luis", "crm"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("agent"));

    let file = tmp.path().join("wallboard.token");
    oml(&data)
        .args(["users", "token", "add", "maria", "wallboard", "--out"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("mode 0600"));
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    oml(&data)
        .args(["users", "token", "add", "maria", "other", "--out"])
        .arg(&file)
        .assert()
        .failure()
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        written,
        "not overwritten"
    );

    oml(&data)
        .args(["users", "token", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("crm"))
        .stdout(predicate::str::contains("wallboard"))
        .stdout(predicate::str::contains("other").not())
        .stdout(predicate::str::contains(secret.as_str()).not())
        .stdout(predicate::str::contains(written.trim()).not());
    // An expiry: shown in the list; a zero or absurd one is refused.
    oml(&data)
        .args([
            "users",
            "token",
            "add",
            "maria",
            "temp",
            "--expires-in",
            "30",
        ])
        .assert()
        .success();
    let in_30_days = oml_store::format_ms(oml_store::now_ms() + 30 * 86_400_000);
    oml(&data)
        .args(["users", "token", "list", "maria"])
        .assert()
        .success()
        .stdout(predicate::str::contains(&in_30_days[..10]));
    oml(&data)
        .args([
            "users",
            "token",
            "add",
            "maria",
            "zero",
            "--expires-in",
            "0",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("expires-in"));
    oml(&data)
        .args(["users", "token", "revoke", "maria", "crm"])
        .assert()
        .success();
    oml(&data)
        .args(["users", "token", "revoke", "maria", "crm"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("maria/crm"));
    oml(&data)
        .args(["users", "token", "list", "maria"])
        .assert()
        .success()
        .stdout(predicate::str::contains("crm ").not());
}
