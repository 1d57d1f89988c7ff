//! PostgreSQL restarted under two `oml dialer run` engines while they dial
//! (issue 17's fault matrix). The test starts a PostgreSQL cluster of its
//! own (initdb + pg_ctl from /usr/lib/postgresql/<version>/bin, as user
//! postgres, on a free port, in a temporary folder) so that restarting it
//! never disturbs other tests using the shared server; it restarts it three
//! times (`pg_ctl restart -m fast`) with calls in progress. Checked from the
//! PBX's own count: each call placed once, one attempt row per call
//! placed, never two nodes dialing in overlapping periods, no outcome
//! stored as `unknown` (pbxsim knows every call's end), and dialing goes
//! on after each restart. Needs root and the PostgreSQL server binaries
//! (CI has both); SKIPPED loudly otherwise.

// The fault tests' harness; this test uses a part of it.
#[allow(dead_code)]
#[path = "dialer_fencing/harness.rs"]
mod harness;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harness::world;

/// A PostgreSQL cluster of the test's own, stopped when dropped.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Makes and starts one, or says why it cannot.
    fn start() -> Result<Cluster, String> {
        if !Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        {
            return Err("it must run as root (to run initdb as user postgres)".into());
        }
        let versions = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| "no /usr/lib/postgresql".to_string())?;
        let mut found: Vec<(u32, PathBuf)> = versions
            .filter_map(|e| {
                let e = e.ok()?;
                let v = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").exists().then_some((v, bin))
            })
            .collect();
        found.sort();
        let (_, bin) = found
            .pop()
            .ok_or("no initdb under /usr/lib/postgresql/*/bin")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        let log = dir.path().join("postgres.log");
        run(
            "chown",
            &["postgres", &dir.path().display().to_string()],
            &log,
        )?;
        run("chown", &["postgres", &log.display().to_string()], &log)?;
        as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                &data.display().to_string(),
                "-A",
                "trust",
                "-U",
                "oml",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            &log,
        )?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let c = Cluster {
            bin,
            data,
            port,
            _dir: dir,
        };
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            c.data.parent().unwrap().display()
        );
        c.pg_ctl(&["-o", &opts, "-w", "start"])?;
        Ok(c)
    }

    fn log(&self) -> PathBuf {
        self.data.parent().unwrap().join("postgres.log")
    }

    fn url(&self) -> String {
        format!("postgres://oml@127.0.0.1:{}/postgres", self.port)
    }

    /// pg_ctl on the cluster, the server's output to its log.
    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        let log = self.log();
        let log_s = log.display().to_string();
        let mut all = vec!["-D", self.data.to_str().unwrap(), "-l", &log_s];
        all.extend_from_slice(args);
        as_postgres(&self.bin.join("pg_ctl"), &all, &log)
    }

    /// `pg_ctl restart -m fast`; how long it took.
    fn restart(&self) -> Duration {
        let t = Instant::now();
        self.pg_ctl(&["-m", "fast", "-w", "restart"])
            .unwrap_or_else(|e| panic!("restart: {e}"));
        t.elapsed()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "stop"]);
    }
}

/// Runs a command with its output appended to `log` (never to a pipe: a
/// postmaster started by pg_ctl inherits it and would hold it open).
fn run(cmd: &str, args: &[&str], log: &Path) -> Result<(), String> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let status = Command::new(cmd)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(out)
        .status()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        Err(format!("{cmd} {args:?} failed: {tail:?}"))
    }
}

fn as_postgres(prog: &Path, args: &[&str], log: &Path) -> Result<(), String> {
    let mut all = vec!["-u", "postgres", "--", prog.to_str().unwrap()];
    all.extend_from_slice(args);
    run("runuser", &all, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarts_lose_nothing_and_duplicate_nothing() {
    let cluster = match Cluster::start() {
        Ok(c) => c,
        Err(why) => {
            eprintln!("SKIPPED: dialer_pg_restart needs a PostgreSQL cluster of its own: {why}");
            return;
        }
    };
    // The harness makes its database on the server this variable names:
    // here the private cluster (this test binary has no other test).
    std::env::set_var(oml_store::testing::TEST_URL_VAR, cluster.url());
    let Some(w) = world("postgresql_restarts").await else {
        return;
    };
    let a = w.start("node-a");
    let b = w.start("node-b");
    assert!(
        w.wait_placed(Duration::from_secs(60), |p| p.len() >= 20)
            .await,
        "node-a never dialed\n{}",
        w.engine_log()
    );
    for i in 1..=3 {
        let before = w.placed().await.len();
        let took = cluster.restart();
        eprintln!("restart {i}: PostgreSQL was back {took:?} after the restart began");
        let resumed = w
            .wait_placed(Duration::from_secs(30), |p| p.len() >= before + 10)
            .await;
        assert!(
            resumed,
            "dialing did not go on after restart {i}\n{}",
            w.engine_log()
        );
    }
    a.stop();
    b.stop();
    let attempts = w.t.store.campaign_attempts(w.campaign).await.unwrap();
    let unknown: Vec<_> = attempts
        .iter()
        .filter(|a| a.outcome.as_deref() == Some("unknown"))
        .collect();
    assert!(unknown.is_empty(), "outcomes stored unknown: {unknown:?}");
    let placed = w.placed().await;
    eprintln!(
        "{} calls placed, {} attempt rows, {} ended",
        placed.len(),
        attempts.len(),
        attempts.iter().filter(|a| a.outcome.is_some()).count()
    );
    // node-a keeps the campaign through the restarts or loses it and takes
    // it back: at most two changes of the dialing node, never overlapping.
    w.assert_no_overlap_no_duplicate(2).await;
}
