//! The processes the scale benchmark starts (`oml pbxsim`, `oml dialer
//! run`) and what /proc says about them. Every child is killed when its
//! guard is dropped (also while a panic unwinds or after Ctrl-C), and by
//! the kernel if the benchmark itself dies (`PR_SET_PDEATHSIG`): none is
//! ever left behind.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Linux reports process CPU times in ticks of 1/100 s (USER_HZ).
const TICKS_PER_S: f64 = 100.0;

/// A child process, killed (SIGKILL) and reaped when dropped.
pub struct Proc {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// Starts `oml ARGS` with its output in `log`.
    pub fn start(
        oml: &Path,
        name: &str,
        args: &[String],
        env: &[(&str, &str)],
        log: PathBuf,
    ) -> Proc {
        let out = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let err = out.try_clone().expect("log file handle");
        let mut cmd = Command::new(oml);
        cmd.args(args)
            .env_remove("OML_DATABASE_URL")
            .env_remove("OML_AMI_SECRET")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (k, v) in env {
            cmd.env(k, v);
        }
        // SAFETY: prctl is async-signal-safe and touches no memory of the
        // parent; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)
            });
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} ({name}): {e}", oml.display()));
        Proc {
            name: name.into(),
            child,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until a line of its log contains `mark`; returns that line.
    pub fn wait_line(&mut self, mark: &str, limit: Duration) -> Result<String, String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(l) = text.lines().find(|l| l.contains(mark)) {
                return Ok(l.to_owned());
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                return Err(format!("{} exited ({st}): {}", self.name, tail(&text)));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "{} did not print {mark:?} within {limit:?}",
            self.name
        ))
    }

    /// SIGTERM, then waits up to `limit` for it to end (SIGKILL after).
    pub fn stop(mut self, limit: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// CPU seconds (user + system) a process used so far; `None` once gone.
pub fn cpu_s(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_S)
}

/// Resident memory now and at its peak, MiB.
pub fn rss_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |key: &str| -> Option<f64> {
        let l = status.lines().find(|l| l.starts_with(key))?;
        l.split_whitespace().nth(1)?.parse().ok()
    };
    Some((kb("VmRSS:")? / 1024.0, kb("VmHWM:")? / 1024.0))
}

/// The 1-minute load average.
pub fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// The machine's CPU time so far: (busy, total) in ticks.
pub fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// The number of processors.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
