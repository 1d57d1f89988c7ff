//! The rendered bench (`.ci/asterisk-bench.sh rendered up`) as the tests of
//! the rendered dialplan use it: started and stopped around a test, the
//! `oml` command on a data folder, `oml dialer run` in the background.
//! Moved from rendered_dialplan.rs so rendered_machines.rs shares it.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The bench script, from this crate's folder.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/asterisk-bench.sh")
}

/// The rendered bench, stopped when the test ends (also on a panic).
pub struct Rendered {
    pub port: u16,
    pub secret: String,
    pub root: PathBuf,
}

impl Rendered {
    pub fn up() -> Rendered {
        let out = Command::new("bash")
            .arg(script())
            .args(["rendered", "up"])
            .output()
            .expect("run .ci/asterisk-bench.sh");
        assert!(
            out.status.success(),
            "rendered bench did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = Command::new("bash")
            .arg(script())
            .args(["rendered", "env-file"])
            .output()
            .unwrap();
        let path = String::from_utf8(path.stdout).unwrap();
        let env = std::fs::read_to_string(path.trim()).expect("rendered bench env file");
        let get = |k: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("export {k}=")))
                .unwrap_or_else(|| panic!("{k} missing from the rendered bench env file"))
                .to_string()
        };
        Rendered {
            port: get("OML_TEST_RENDERED_ASTERISK_PORT").parse().unwrap(),
            secret: get("OML_TEST_RENDERED_ASTERISK_SECRET"),
            root: PathBuf::from(get("OML_TEST_RENDERED_ASTERISK_ROOT")),
        }
    }
}

impl Drop for Rendered {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["rendered", "down"])
            .output();
    }
}

pub fn inventory() -> String {
    format!(
        "[omnileads-aio]\n\
         {} ansible_connection=local ansible_user=root ansible_host=127.0.0.1\n\
         \n\
         [everyone:children]\n\
         omnileads-aio\n\
         \n\
         [everyone:vars]\n\
         postgres_password=pg-secret-1\n\
         admin_pass=admin-secret-1\n\
         ami_user=omnileadsami\n\
         ami_password=ami-secret-1\n\
         TZ=UTC\n",
        crate::common::hostname()
    )
}

/// Runs `oml ARGS` on `data`, asserting success; returns stdout.
pub fn oml(data: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut c = crate::common::oml(data);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "oml {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn json(data: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&oml(data, args, &[])).unwrap()
}

pub fn spawn_dialer(data: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_oml"))
        .arg("--data-dir")
        .arg(data)
        .args(["dialer", "run", "--ami-rate", "0"])
        .env_remove("OML_DATABASE_URL")
        .env_remove("OML_HOME")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start oml dialer run")
}
