//! Issue 16 item 14: output into a pipe whose reader has gone
//! (`oml users list --json | head`) ends the command quietly instead of
//! panicking with "failed printing to stdout: Broken pipe"; and the
//! do-not-call example of issue 16 item 12 through the binary.

mod common;

use std::process::Stdio;

#[test]
fn a_closed_pipe_ends_commands_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let out = common::oml(&data).arg("init").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    for args in [
        &["users", "list", "--json"][..],
        &["users", "list"],
        &["campaign", "list", "--json"],
        &["dnc", "list"],
        &["version"],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oml"))
            .env_remove("OML_DATABASE_URL")
            .env_remove("OML_HOME")
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the command writes anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_ne!(out.status.code(), Some(101), "{args:?}: a panic exits 101");
    }
}

/// Default country 54 (oml init --default-country): the contact
/// `011 4000-0001` is refused as on the do-not-call list `01140000001`.
#[test]
fn the_documented_do_not_call_example_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let run = |args: &[&str]| {
        let out = common::oml(&data).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["init", "--default-country", "54"]);
    run(&["trunk", "add", "t1"]);
    run(&["campaign", "create", "cobranzas", "--trunk", "t1"]);
    run(&["dnc", "add", "01140000001"]);
    let csv = dir.path().join("l.csv");
    std::fs::write(
        &csv,
        "Nombre;Teléfono\nAna;011 4000-0001\nBea;011 4000-0002\n",
    )
    .unwrap();
    let out = run(&[
        "campaign",
        "import",
        "cobranzas",
        csv.to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["imported"], 1, "{out}");
    assert_eq!(v["do_not_call"], 1, "{out}");
}
