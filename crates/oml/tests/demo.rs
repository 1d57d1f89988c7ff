//! `oml demo` as a newcomer runs it: it initialises an empty data folder,
//! dials against the built-in PBX simulator and prints a summary whose
//! figures come from the stored call attempts, with occupancy and the
//! abandon rate against the limit, in plain text.

use assert_cmd::Command;

#[test]
fn demo_dials_and_summarises_on_an_empty_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("oml")
        .unwrap()
        .env_remove("OML_DATABASE_URL")
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .args([
            "demo",
            "--seconds",
            "8",
            "--no-console",
            "--agents",
            "5",
            "--contacts",
            "200",
            "--time-scale",
            "40",
        ])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Initialised"), "{stdout}");
    let placed: u64 = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("calls placed"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no summary in {stdout}"));
    assert!(placed > 5, "only {placed} calls placed:\n{stdout}");
    assert!(stdout.contains("abandon rate"), "{stdout}");
    // Issue 14 item 7: occupancy and the limit in the summary, no Rust
    // debug dump, no colour codes in logs that go to a file or a pipe.
    assert!(stdout.contains("  occupancy  "), "{stdout}");
    assert!(stdout.contains("; limit 3 %)"), "{stdout}");
    assert!(!stdout.contains("Stats {"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "{stderr}"
    );
    assert!(tmp.path().join("data/oml.db").exists());
    // The engine logs off before the simulator goes: no lost-connection
    // warning at the end of a clean run.
    assert!(!stderr.contains("connection lost"), "{stderr}");
    // Afterwards `oml status` does not report the vanished demo PBX as a
    // failure: the demo disabled its server and stopped its campaign.
    let status = Command::cargo_bin("oml")
        .unwrap()
        .env_remove("OML_DATABASE_URL")
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .arg("status")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    let demo_pbx = text
        .lines()
        .find(|l| l.contains("demo-pbx"))
        .unwrap_or_else(|| panic!("no demo-pbx line in {text}"));
    assert!(
        demo_pbx.starts_with("ok") && demo_pbx.contains("disabled"),
        "{text}"
    );
    // (Disk checks judge this machine's real free space: left out.)
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("FAILURE") && !l.contains(" disk ")),
        "{text}"
    );
}
