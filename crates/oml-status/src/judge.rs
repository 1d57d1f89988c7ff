//! Facts in, verdicts out: each function turns what `gather` found about one
//! thing (the database, a disk, the last backup, an Asterisk server, the
//! dialer, a campaign, the lock-outs) into a [`Check`] with a level and a
//! line that says what to do when it is not well. Pure, tested alone.

use serde::Serialize;
use std::time::Duration;

/// How a check came out, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warning,
    Failure,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Failure => "FAILURE",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// database, config, disk, backup, asterisk, dialer, campaign, lock-out.
    pub section: &'static str,
    /// What was checked: a folder, a server, a campaign...
    pub name: String,
    pub level: Level,
    /// What was found, and what to do when it is not well.
    pub detail: String,
}

impl Check {
    fn new(section: &'static str, name: impl Into<String>, level: Level, detail: String) -> Check {
        Check {
            section,
            name: name.into(),
            level,
            detail,
        }
    }
}

/// Every check, and the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The worst level of the checks.
    pub level: Level,
    pub warnings: usize,
    pub failures: usize,
    /// Milliseconds since the Unix epoch.
    pub checked_at: i64,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn new(checks: Vec<Check>, checked_at: i64) -> Report {
        let count = |l| checks.iter().filter(|c| c.level == l).count();
        Report {
            level: checks.iter().map(|c| c.level).max().unwrap_or(Level::Ok),
            warnings: count(Level::Warning),
            failures: count(Level::Failure),
            checked_at,
            checks,
        }
    }

    /// 0 all well, 1 warnings, 2 failures.
    pub fn exit_code(&self) -> u8 {
        match self.level {
            Level::Ok => 0,
            Level::Warning => 1,
            Level::Failure => 2,
        }
    }

    /// The report as a terminal shows it: the verdict, then one line per
    /// check (level, section, name: detail).
    pub fn text(&self) -> String {
        let verdict = match self.level {
            Level::Ok => "all well".to_string(),
            _ => format!("{} failure(s), {} warning(s)", self.failures, self.warnings),
        };
        let mut out = format!("oml status: {verdict}\n\n");
        for c in &self.checks {
            out.push_str(&format!(
                "{:<8} {:<9} {}: {}\n",
                c.level.as_str(),
                c.section,
                c.name,
                c.detail
            ));
        }
        out
    }
}

/// The database could not be opened at all.
pub fn database_unreachable(location: &str, error: &str) -> Check {
    Check::new(
        "database",
        location,
        Level::Failure,
        format!("cannot open it: {error}"),
    )
}

/// The database opened; its schema against the one this oml needs.
pub fn database(location: &str, backend: &str, schema: Option<i64>, supported: i64) -> Check {
    let (level, detail) = match schema {
        None => (
            Level::Failure,
            "it holds no oml schema: run `oml init`".to_string(),
        ),
        Some(s) if s < supported => (
            Level::Failure,
            format!("schema version {s}, this oml needs {supported}: run `oml deploy --update`"),
        ),
        Some(s) if s > supported => (
            Level::Failure,
            format!(
                "schema version {s} is newer than this oml knows ({supported}): run the newer oml"
            ),
        ),
        Some(s) => (
            Level::Ok,
            format!("{backend}, schema version {s} (current)"),
        ),
    };
    Check::new("database", location, level, detail)
}

/// oml.toml could not be read.
pub fn config_unreadable(error: &str) -> Check {
    Check::new("config", "oml.toml", Level::Failure, error.to_string())
}

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

fn size(bytes: u64) -> String {
    if bytes >= GIB {
        format!("{:.1} GiB", bytes as f64 / GIB as f64)
    } else {
        format!("{} MiB", bytes / MIB)
    }
}

/// Free space of the file system holding `path` (`what`: data folder,
/// backup folder, recordings): a failure under 256 MiB or 2 % free, a
/// warning under 2 GiB or 10 %.
pub fn disk(what: &str, path: &str, free: u64, total: u64, exists: bool) -> Check {
    let pct = if total == 0 {
        0.0
    } else {
        free as f64 * 100.0 / total as f64
    };
    let level = if free < 256 * MIB || pct < 2.0 {
        Level::Failure
    } else if free < 2 * GIB || pct < 10.0 {
        Level::Warning
    } else {
        Level::Ok
    };
    let mut detail = format!("{} free of {} ({pct:.0} %)", size(free), size(total));
    if !exists {
        detail.push_str("; the folder does not exist yet");
    }
    if level != Level::Ok {
        detail.push_str(": free space (old backups: `oml backup prune`)");
    }
    Check::new("disk", format!("{what} {path}"), level, detail)
}

/// A folder whose file system could not be measured.
pub fn disk_unreadable(what: &str, path: &str, error: &str) -> Check {
    Check::new(
        "disk",
        format!("{what} {path}"),
        Level::Warning,
        format!("cannot measure it: {error}"),
    )
}

fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// The newest archive in the backup folder: a warning when there is none
/// or it is older than 24 h.
pub fn backup(folder: &str, newest: Option<(&str, Duration)>) -> Check {
    let (level, detail) = match newest {
        None => (
            Level::Warning,
            "no backup yet: run `oml backup` (and schedule it daily)".to_string(),
        ),
        Some((name, old)) if old > Duration::from_secs(24 * 3600) => (
            Level::Warning,
            format!(
                "the newest, {name}, is {} old (over 24 h): run `oml backup`, and check its schedule",
                age(old)
            ),
        ),
        Some((name, old)) => (Level::Ok, format!("newest {name}, {} old", age(old))),
    };
    Check::new("backup", folder, level, detail)
}

/// Agents on a server, from the dialer's published status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agents {
    pub logged_in: u32,
    pub free: u32,
    pub talking: u32,
}

/// An Asterisk server: its AMI login (tried now, with a short time-out)
/// and its agents as the dialer last saw them.
pub fn asterisk(
    name: &str,
    addr: &str,
    enabled: bool,
    login: Result<Duration, String>,
    agents: Option<Agents>,
) -> Check {
    let name = format!("{name} ({addr})");
    if !enabled {
        return Check::new("asterisk", name, Level::Ok, "disabled".into());
    }
    match login {
        Err(e) => Check::new(
            "asterisk",
            name,
            Level::Failure,
            format!("AMI login failed: {e}: see `oml asterisk check`"),
        ),
        Ok(took) => {
            let agents = match agents {
                Some(a) => format!(
                    "agents: {} logged in, {} free, {} talking",
                    a.logged_in, a.free, a.talking
                ),
                None => "agents: unknown (no dialer engine is linked to it)".into(),
            };
            Check::new(
                "asterisk",
                name,
                Level::Ok,
                format!("AMI login in {} ms; {agents}", took.as_millis()),
            )
        }
    }
}

/// The dialer: whether it is started, and whether an engine runs to dial.
pub fn dialer(play: bool, nodes: &[String], running_campaigns: usize) -> Check {
    let (level, detail) = match (play, nodes.is_empty()) {
        (true, true) => (
            Level::Failure,
            "started, but no engine runs: start `oml serve` (or `oml dialer run`)".to_string(),
        ),
        (true, false) => (
            Level::Ok,
            format!("started; engine(s) running on {}", nodes.join(", ")),
        ),
        (false, _) if running_campaigns > 0 => (
            Level::Warning,
            format!(
                "stopped, while {running_campaigns} campaign(s) are running: nothing dials until `oml dialer start`"
            ),
        ),
        (false, _) => (Level::Ok, "stopped".to_string()),
    };
    Check::new("dialer", "play", level, detail)
}

/// A running campaign's abandon rate over its regulatory window against
/// its limit: a failure over it, a warning past 80 % of it.
pub fn campaign(name: &str, abandoned: i64, live_answered: i64, max_rate: f64) -> Check {
    let rate = if live_answered > 0 {
        abandoned as f64 / live_answered as f64
    } else {
        0.0
    };
    let figures = format!(
        "abandon {:.2} % ({abandoned} of {live_answered} live answers), limit {:.2} %",
        rate * 100.0,
        max_rate * 100.0
    );
    let (level, detail) = if rate > max_rate {
        (
            Level::Failure,
            format!("{figures}: OVER THE LIMIT; pause it (`oml campaign pause {name}`) and check its pacing"),
        )
    } else if rate > 0.8 * max_rate {
        (Level::Warning, format!("{figures}: close to the limit"))
    } else {
        (Level::Ok, figures)
    };
    Check::new("campaign", name, level, detail)
}

/// One lock-out in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// `user` or `ip`.
    pub kind: String,
    pub subject: String,
    /// Minutes until it ends by itself; `None` until an administrator
    /// unblocks.
    pub minutes_left: Option<i64>,
}

/// The lock-outs in force: a warning while there are any (someone cannot
/// log in).
pub fn lockouts(blocks: &[Block]) -> Check {
    if blocks.is_empty() {
        return Check::new("lock-out", "console", Level::Ok, "none in force".into());
    }
    let list: Vec<String> = blocks
        .iter()
        .take(5)
        .map(|b| match b.minutes_left {
            Some(m) => format!("{} {} ({m} min left)", b.kind, b.subject),
            None => format!("{} {} (until unblocked)", b.kind, b.subject),
        })
        .collect();
    let more = if blocks.len() > 5 {
        format!(" and {} more", blocks.len() - 5)
    } else {
        String::new()
    };
    Check::new(
        "lock-out",
        "console",
        Level::Warning,
        format!(
            "{} in force: {}{more}: `oml users blocked`, `oml users unblock`",
            blocks.len(),
            list.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_is_the_worst_check_and_sets_the_exit_code() {
        let ok = dialer(false, &[], 0);
        let warn = backup("/b", None);
        let fail = dialer(true, &[], 1);
        assert_eq!(Report::new(vec![ok.clone()], 0).exit_code(), 0);
        assert_eq!(
            Report::new(vec![ok.clone(), warn.clone()], 0).exit_code(),
            1
        );
        let r = Report::new(vec![ok, warn, fail], 0);
        assert_eq!((r.exit_code(), r.warnings, r.failures), (2, 1, 1));
        assert!(r
            .text()
            .starts_with("oml status: 1 failure(s), 1 warning(s)"));
    }

    #[test]
    fn schema_behind_or_ahead_fails_with_what_to_run() {
        assert_eq!(database("x", "sqlite", Some(6), 6).level, Level::Ok);
        let behind = database("x", "sqlite", Some(3), 6);
        assert_eq!(behind.level, Level::Failure);
        assert!(behind.detail.contains("oml deploy --update"));
        assert_eq!(database("x", "sqlite", Some(7), 6).level, Level::Failure);
        assert!(database("x", "sqlite", None, 6).detail.contains("oml init"));
    }

    #[test]
    fn disk_levels_follow_free_space_and_share() {
        let t = 100 * GIB;
        assert_eq!(disk("data", "/d", 50 * GIB, t, true).level, Level::Ok);
        assert_eq!(disk("data", "/d", 5 * GIB, t, true).level, Level::Warning);
        assert_eq!(disk("data", "/d", GIB, t, true).level, Level::Failure);
        // A small disk: 1.5 GiB of 2 GiB is plenty in share, little in size.
        assert_eq!(
            disk("data", "/d", 1536 * MIB, 2 * GIB, true).level,
            Level::Warning
        );
        assert_eq!(
            disk("data", "/d", 100 * MIB, 2 * GIB, true).level,
            Level::Failure
        );
    }

    #[test]
    fn a_backup_older_than_a_day_warns() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        assert_eq!(backup("/b", Some(("a", h(23)))).level, Level::Ok);
        let old = backup("/b", Some(("a", h(50))));
        assert_eq!(old.level, Level::Warning);
        assert!(old.detail.contains("2 d 2 h"), "{}", old.detail);
    }

    #[test]
    fn abandon_over_the_limit_fails_and_near_it_warns() {
        assert_eq!(campaign("c", 2, 100, 0.03).level, Level::Ok);
        assert_eq!(campaign("c", 3, 100, 0.03).level, Level::Warning);
        let over = campaign("c", 4, 100, 0.03);
        assert_eq!(over.level, Level::Failure);
        assert!(over.detail.contains("oml campaign pause c"));
        assert_eq!(campaign("c", 0, 0, 0.03).level, Level::Ok);
    }

    #[test]
    fn servers_dialer_and_lockouts() {
        let a = Agents {
            logged_in: 3,
            free: 1,
            talking: 2,
        };
        let up = asterisk(
            "pbx1",
            "10.0.0.1:5038",
            true,
            Ok(Duration::from_millis(3)),
            Some(a),
        );
        assert_eq!(up.level, Level::Ok);
        assert!(up.detail.contains("3 logged in"));
        let down = asterisk("pbx2", "10.0.0.2:5038", true, Err("refused".into()), None);
        assert_eq!(down.level, Level::Failure);
        assert_eq!(
            asterisk("pbx3", "x", false, Err("refused".into()), None).level,
            Level::Ok
        );
        assert_eq!(dialer(false, &[], 2).level, Level::Warning);
        assert_eq!(dialer(true, &["n1".into()], 2).level, Level::Ok);
        assert_eq!(lockouts(&[]).level, Level::Ok);
        let b = Block {
            kind: "user".into(),
            subject: "alice".into(),
            minutes_left: Some(12),
        };
        let l = lockouts(&[b]);
        assert_eq!(l.level, Level::Warning);
        assert!(l.detail.contains("user alice (12 min left)"));
    }
}
