//! kill -9 at the worst moments of `oml backup` and `oml restore`, with the
//! real binary: no archive with a final name may appear, and the previous
//! installation must still open with its data. The binary is stopped at an
//! exact point through the OML_TEST_PAUSE_AT hook, then killed.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn oml(data: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("oml"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("OML_DATABASE_URL")
        .env_remove("OML_TEST_PAUSE_AT")
        .env("OML_HOME", data);
    c
}

fn ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}{}",
        c,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An installation: database with users `admin` and `alice`, recordings.
fn installation() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "a-long-password-1\n").unwrap();
    ok(oml(&data).arg("init").arg("--admin-password-file").arg(&pw));
    ok(oml(&data)
        .args([
            "users",
            "add",
            "alice",
            "--role",
            "agent",
            "--password-file",
        ])
        .arg(&pw));
    let rec = data.join("recordings/2026");
    std::fs::create_dir_all(&rec).unwrap();
    for i in 0..20 {
        std::fs::write(rec.join(format!("call-{i}.wav")), vec![i as u8; 200_000]).unwrap();
    }
    (tmp, data)
}

/// Starts `oml` stopped at `point`; returns once it is there.
fn start_paused(mut c: Command, point: &str) -> Child {
    let mut child = c
        .env("OML_TEST_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.contains(&format!("PAUSED AT {point}")) {
            return child;
        }
        seen.push_str(&line);
        seen.push('\n');
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("oml ended before reaching {point}: {seen}");
}

fn kill9(mut child: Child) {
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
}

fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kill_during_backup_leaves_no_archive_with_a_final_name() {
    let (_tmp, data) = installation();
    let mut c = oml(&data);
    c.args(["backup", "--with-recordings"]);
    let child = start_paused(c, "backup-write");
    let backup_dir = data.join("backup");
    assert!(
        names_in(&backup_dir)
            .iter()
            .any(|n| n.contains(".partial-")),
        "the backup was not under way: {:?}",
        names_in(&backup_dir)
    );
    kill9(child);
    let names = names_in(&backup_dir);
    assert!(
        !names.iter().any(|n| n.ends_with("-oml-backup.tar.zst")),
        "{names:?}"
    );
    let list = ok(oml(&data).args(["backup", "list"]));
    assert!(list.contains("no backups"), "{list}");
    // A new backup works after the crash and is the only archive listed.
    ok(oml(&data).args(["backup", "--with-recordings"]));
    let list = ok(oml(&data).args(["backup", "list", "--verify"]));
    assert_eq!(
        list.lines()
            .filter(|l| l.contains("-oml-backup.tar.zst"))
            .count(),
        1,
        "{list}"
    );
    assert!(list.contains(" yes"), "{list}");
}

fn restore_killed_at(point: &str, note: &str) {
    let (_tmp, data) = installation();
    let out = ok(oml(&data).args(["backup", "--with-recordings"]));
    let name = out
        .lines()
        .find_map(|l| l.strip_prefix("restore it with: oml restore "))
        .unwrap()
        .trim()
        .to_string();
    // The live installation moves on after the backup.
    let pw = data.parent().unwrap().join("pw");
    ok(oml(&data)
        .args(["users", "add", "bob", "--role", "agent", "--password-file"])
        .arg(&pw));
    std::fs::write(data.join("recordings/2026/after.wav"), b"after").unwrap();

    let mut c = oml(&data);
    c.args(["restore", &name, "--yes"]);
    kill9(start_paused(c, point));

    // The next command finds the installation as it was before the restore.
    let out = oml(&data).args(["users", "list"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("bob") && stdout.contains("alice"),
        "{stdout}"
    );
    assert!(stderr.contains(note), "{stderr}");
    assert!(data.join("recordings/2026/after.wav").exists());
    assert!(
        !names_in(&data)
            .iter()
            .any(|n| n.starts_with(".oml-restore")),
        "{:?}",
        names_in(&data)
    );

    // And a restore that runs to the end brings the backed-up data back.
    ok(oml(&data).args(["restore", &name, "--yes"]));
    let users = ok(oml(&data).args(["users", "list"]));
    assert!(users.contains("alice") && !users.contains("bob"), "{users}");
    assert!(!data.join("recordings/2026/after.wav").exists());
}

#[test]
fn kill_during_restore_extraction_leaves_the_old_installation() {
    restore_killed_at("restore-extract", "had not changed anything");
}

#[test]
fn kill_in_the_middle_of_the_swap_is_rolled_back() {
    restore_killed_at("restore-swap", "rolled back");
}

/// libpq environment for the test server named by OML_TEST_DATABASE_URL
/// (postgres://user:password@host:port/db), so no password is on a command line.
fn pg_env(c: &mut Command, url: &str, db: &str) {
    let rest = url.split_once("://").unwrap().1;
    let (auth, hostpart) = rest.rsplit_once('@').unwrap();
    let (user, pw) = auth.split_once(':').unwrap();
    let hostport = hostpart.split('/').next().unwrap();
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    c.env("PGUSER", user)
        .env("PGPASSWORD", pw)
        .env("PGHOST", host)
        .env("PGPORT", port)
        .env("PGDATABASE", db);
}

#[test]
fn kill_after_the_postgresql_switch_is_rolled_back() {
    let Ok(base) = std::env::var("OML_TEST_DATABASE_URL") else {
        eprintln!(
            "SKIPPED: OML_TEST_DATABASE_URL is not set (PostgreSQL half of the kill -9 test)"
        );
        return;
    };
    let db = format!("oml_kill_{}", std::process::id());
    let mut psql = Command::new("psql");
    pg_env(&mut psql, &base, "postgres");
    ok(psql.args(["-X", "-q", "-c", &format!("CREATE DATABASE {db}")]));
    let (head, _) = base.rsplit_once('/').unwrap();
    let url = format!("{head}/{db}");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "a-long-password-1\n").unwrap();
    let pgoml = |data: &Path| {
        let mut c = oml(data);
        c.env("OML_DATABASE_URL", &url);
        c
    };
    ok(pgoml(&data)
        .arg("init")
        .arg("--admin-password-file")
        .arg(&pw));
    ok(pgoml(&data)
        .args([
            "users",
            "add",
            "alice",
            "--role",
            "agent",
            "--password-file",
        ])
        .arg(&pw));
    let out = ok(pgoml(&data).arg("backup"));
    let name = out
        .lines()
        .find_map(|l| l.strip_prefix("restore it with: oml restore "))
        .unwrap()
        .trim()
        .to_string();
    ok(pgoml(&data)
        .args(["users", "add", "bob", "--role", "agent", "--password-file"])
        .arg(&pw));

    let mut c = pgoml(&data);
    c.args(["restore", &name, "--yes"]);
    kill9(start_paused(c, "restore-switch"));

    let out = pgoml(&data).args(["users", "list"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("rolled back"), "{stderr}");
    assert!(
        stdout.contains("bob") && stdout.contains("alice"),
        "{stdout}"
    );

    ok(pgoml(&data).args(["restore", &name, "--yes"]));
    let users = ok(pgoml(&data).args(["users", "list"]));
    assert!(users.contains("alice") && !users.contains("bob"), "{users}");
    // No staged or previous database is left on the server.
    let mut psql = Command::new("psql");
    pg_env(&mut psql, &base, "postgres");
    let left = ok(psql.args([
        "-X",
        "-t",
        "-A",
        "-c",
        &format!("SELECT datname FROM pg_database WHERE datname LIKE '{db}_%'"),
    ]));
    assert_eq!(left.trim(), "", "left-over databases: {left}");
    let mut psql = Command::new("psql");
    pg_env(&mut psql, &base, "postgres");
    ok(psql.args(["-X", "-q", "-c", &format!("DROP DATABASE IF EXISTS {db}")]));
}

/// kill -9 between the restore and the re-render for this host (the data
/// is back, the host's files are not rendered yet): the next command, any
/// command, finishes the re-render with a note and removes what the
/// restore kept for it.
#[test]
fn kill_during_the_render_after_a_restore_is_finished_by_the_next_command() {
    let (tmp, data) = installation();
    let (root, inventory) = (tmp.path().join("root"), tmp.path().join("inventory"));
    std::fs::write(
        &inventory,
        format!(
            "[omnileads-aio]\n{} ansible_connection=local ansible_user=root ansible_host=127.0.0.1\n\n\
             [everyone:children]\nomnileads-aio\n\n[everyone:vars]\n\
             postgres_password=pg-secret-1\nadmin_pass=a-long-password-1\nami_password=ami-secret-1\n",
            oml_backup::hostname()
        ),
    )
    .unwrap();
    std::fs::write(
        data.join("oml.toml"),
        format!(
            "[paths]\ninventory = \"{}\"\nconfig_root = \"{}\"\n",
            inventory.display(),
            root.display()
        ),
    )
    .unwrap();
    let out = ok(oml(&data).arg("backup"));
    let name = out
        .lines()
        .find_map(|l| l.strip_prefix("restore it with: oml restore "))
        .unwrap()
        .trim()
        .to_string();
    let mut c = oml(&data);
    c.args(["restore", &name, "--yes"]);
    kill9(start_paused(c, "restore-render"));
    let kept = |data: &Path| {
        names_in(data)
            .into_iter()
            .filter(|n| n.starts_with("restored-generated-"))
            .collect::<Vec<_>>()
    };
    assert_eq!(kept(&data).len(), 1, "{:?}", names_in(&data));
    let queues = root.join("etc/asterisk/oml_queues.conf");
    assert!(!queues.exists(), "rendered before the kill point");

    let out = oml(&data).args(["users", "list"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the re-render after a restore was interrupted")
            && stderr.contains("the interrupted re-render is finished"),
        "{stderr}"
    );
    assert!(queues.exists(), "not re-rendered: {stderr}");
    assert!(kept(&data).is_empty(), "{:?}", names_in(&data));
    // Said once: the next command has nothing left to finish.
    let out = oml(&data).args(["users", "list"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("re-render"));
}
