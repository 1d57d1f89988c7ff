//! Issue 21 item 5: `oml init` writes a commented oml.toml with every key
//! and its default, and keeps an administrator's file byte for byte but
//! for the key it sets (`--default-country`).

mod common;

const ADMINS: &str = "\
# written by hand before installing
[dialer]
# the carrier's limit
ami_rate_limit = 40

[web]
listen = \"0.0.0.0:9000\"  # behind nginx
";

#[test]
fn init_writes_the_commented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let out = common::oml(&data).arg("init").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(data.join("oml.toml")).unwrap();
    assert_eq!(text, oml_config::DEFAULT_TEXT);
    assert!(String::from_utf8_lossy(&out.stdout).contains("oml.toml (every key with its default"));
}

#[test]
fn init_keeps_the_administrators_file_but_for_the_default_country() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("oml.toml"), ADMINS).unwrap();
    let out = common::oml(&data)
        .args(["init", "--default-country", "AR"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(data.join("oml.toml")).unwrap();
    let expected = ADMINS.replace(
        "ami_rate_limit = 40\n",
        "ami_rate_limit = 40\ndefault_country = \"AR\"\n",
    );
    assert_eq!(text, expected);
}

#[test]
fn a_broken_file_stops_init_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("oml.toml"), "[lockout]\nlogin_failure_limt = 5\n").unwrap();
    let out = common::oml(&data).arg("init").output().unwrap();
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("login_failure_limt"), "{err}");
    assert!(!data.join("oml.db").exists(), "no database was created");
}
