//! The scale benchmark (issue 17 item 6): several `oml dialer run` engines
//! on one PostgreSQL dialing many `oml pbxsim` servers at time scale 1,
//! measured per node, written as a Markdown report (docs/SCALE.md) with a
//! projection to a larger installation. A benchmark, not a test: it runs
//! for minutes (`--minutes 1` for a smoke run).
//!
//! ```text
//! cargo build --profile bench -p oml --bin oml
//! cargo run -p oml --example bench_scale -- --report docs/SCALE.md
//! ```
//! The engines and servers run the optimised `oml` (target/release/oml);
//! this program only starts them and reads figures, so its own build may
//! be the quick debug one.
//! It needs `OML_TEST_DATABASE_URL` (a role that may create databases): a
//! database of its own is created there and dropped at the end. Every
//! process it starts ends with it, also on a panic or Ctrl-C.

#[path = "bench_scale/db.rs"]
mod db;
#[path = "bench_scale/figures.rs"]
mod figures;
#[path = "bench_scale/layout.rs"]
mod layout;
#[path = "bench_scale/procs.rs"]
mod procs;
#[path = "bench_scale/report.rs"]
mod report;
#[path = "bench_scale/run.rs"]
mod run;
#[path = "bench_scale/sample.rs"]
mod sample;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use oml_store::CampaignMode;

#[derive(Parser, Debug)]
#[command(about = "Scale benchmark: engines, pbxsim servers and agents on one PostgreSQL")]
struct Args {
    /// Length of the measured period, minutes.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Dialing before the measured period, seconds.
    #[arg(long, default_value_t = 60)]
    warmup_secs: u64,
    /// Engines up with the dialer stopped, seconds (their fixed costs).
    #[arg(long, default_value_t = 20)]
    idle_secs: u64,
    #[arg(long, default_value_t = 5)]
    engines: usize,
    #[arg(long, default_value_t = 20)]
    servers: usize,
    /// Agents in all, split evenly over the servers.
    #[arg(long, default_value_t = 2000)]
    agents: usize,
    #[arg(long, default_value_t = 50)]
    campaigns: usize,
    /// Contacts per campaign.
    #[arg(long, default_value_t = 3000)]
    contacts: usize,
    /// Dialing mode of every campaign: predictive, progressive.
    #[arg(long, default_value = "predictive")]
    mode: String,
    /// The `oml` binary the processes run (default: target/release/oml,
    /// built optimised by `cargo build --profile bench -p oml --bin oml`).
    #[arg(long)]
    oml: Option<PathBuf>,
    /// Write the Markdown report here (else print it).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Cargo passes --bench to benchmark binaries; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn options(a: &Args) -> Result<run::Options, String> {
    let mode: CampaignMode = match a.mode.as_str() {
        "predictive" => CampaignMode::Predictive,
        "progressive" => CampaignMode::Progressive,
        m => return Err(format!("--mode {m}: give predictive or progressive")),
    };
    if !(a.minutes.is_finite() && a.minutes > 0.0) {
        return Err(format!("--minutes {} must be a positive number", a.minutes));
    }
    if a.engines == 0 {
        return Err("--engines must be at least 1".into());
    }
    layout::layout(a.servers, a.campaigns, a.agents)?;
    let oml = match &a.oml {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .ok()
            .and_then(|e| Some(e.parent()?.parent()?.parent()?.join("release/oml")))
            .ok_or("cannot tell where this example runs from; give --oml PATH")?,
    };
    if !oml.is_file() {
        return Err(format!(
            "{} not found: build it first (cargo build --profile bench -p oml --bin oml) or give --oml PATH",
            oml.display()
        ));
    }
    Ok(run::Options {
        engines: a.engines,
        servers: a.servers,
        agents: a.agents,
        campaigns: a.campaigns,
        contacts: a.contacts,
        mode,
        idle: Duration::from_secs(a.idle_secs),
        warmup: Duration::from_secs(a.warmup_secs),
        measured: Duration::from_secs_f64(a.minutes * 60.0),
        oml,
    })
}

/// When `path` was last written, UTC.
fn built(path: &std::path::Path) -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC", "-r"])
        .arg(path)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The date, commit and machine lines of the report.
fn header(o: &run::Options) -> Vec<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let dirty = !git(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    vec![
        format!(
            "Run {date} at commit {}{} with `{}` (built {}).",
            git(&["rev-parse", "--short", "HEAD"]),
            if dirty {
                " (with uncommitted changes in the work tree)"
            } else {
                ""
            },
            o.oml.display(),
            built(&o.oml)
        ),
        format!(
            "Load average (1 min) before the start: {:.1}.",
            procs::load1()
        ),
    ]
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let o = match options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench_scale: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(base) = std::env::var(oml_store::testing::TEST_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("bench_scale: set OML_TEST_DATABASE_URL to a PostgreSQL server whose role may create databases");
        return ExitCode::from(2);
    };
    let db = match db::Db::create(&base).await {
        Ok(d) => std::sync::Arc::new(d),
        Err(e) => {
            eprintln!("bench_scale: {e}");
            return ExitCode::FAILURE;
        }
    };
    let head = header(&o);
    let (o2, db2) = (o.clone(), db.clone());
    // The run in a task of its own: a panic unwinds it (its processes are
    // killed as their guards drop) and Ctrl-C or SIGTERM aborts it (the
    // same); the database is dropped either way.
    let task = tokio::spawn(async move { run::run(&o2, &db2).await });
    let abort = task.abort_handle();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::pin!(task);
    let result = tokio::select! {
        r = &mut task => r,
        _ = tokio::signal::ctrl_c() => { abort.abort(); eprintln!("interrupted: stopping every process"); task.await }
        _ = term.recv() => { abort.abort(); eprintln!("terminated: stopping every process"); task.await }
    };
    match std::sync::Arc::try_unwrap(db) {
        Ok(db) => db.drop_database().await,
        Err(db) => eprintln!(
            "bench_scale: database {} is still in use; drop it by hand",
            db.name
        ),
    }
    let figures = match result {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            eprintln!("bench_scale: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("bench_scale: the run did not finish: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = command_line(&args);
    let page = report::markdown(&o, &figures, &command, &head);
    match &args.report {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &page) {
                eprintln!("bench_scale: cannot write {}: {e}", p.display());
                return ExitCode::FAILURE;
            }
            eprintln!("report written to {}", p.display());
        }
        None => print!("{page}"),
    }
    ExitCode::SUCCESS
}

/// The command that reproduces this run.
fn command_line(a: &Args) -> String {
    let mut c = String::from(
        "cargo build --profile bench -p oml --bin oml\ncargo run -p oml --example bench_scale --",
    );
    let defaults = Args::parse_from(["bench_scale"]);
    let mut opt = |name: &str, v: String, d: String| {
        if v != d {
            c.push_str(&format!(" --{name} {v}"));
        }
    };
    opt(
        "minutes",
        a.minutes.to_string(),
        defaults.minutes.to_string(),
    );
    opt(
        "warmup-secs",
        a.warmup_secs.to_string(),
        defaults.warmup_secs.to_string(),
    );
    opt(
        "idle-secs",
        a.idle_secs.to_string(),
        defaults.idle_secs.to_string(),
    );
    opt(
        "engines",
        a.engines.to_string(),
        defaults.engines.to_string(),
    );
    opt(
        "servers",
        a.servers.to_string(),
        defaults.servers.to_string(),
    );
    opt("agents", a.agents.to_string(), defaults.agents.to_string());
    opt(
        "campaigns",
        a.campaigns.to_string(),
        defaults.campaigns.to_string(),
    );
    opt(
        "contacts",
        a.contacts.to_string(),
        defaults.contacts.to_string(),
    );
    opt("mode", a.mode.clone(), defaults.mode.clone());
    if let Some(p) = &a.report {
        c.push_str(&format!(" --report {}", p.display()));
    }
    c
}
