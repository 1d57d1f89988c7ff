//! `oml dialer`: the dialer from the shell. `oml dialer simulate` replays a
//! campaign profile in virtual time with the same pacing code the live dialer
//! runs, so a supervisor can choose a mode and settings before dialing real
//! people, and writes the pacing benchmark report (docs/PACING.md).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use oml_pacing::overrides::{floors, Overrides};
use oml_pacing::report::{self, BenchReport, ScenarioReport, SpeedFigure};
use oml_pacing::{ModeSpec, PacingError, PredictiveConfig, Scenario, SimConfig};

use crate::cli::GlobalArgs;

mod machines;

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum DialerCommand {
    /// Simulate a campaign in virtual time and print occupancy, talk minutes
    /// per agent-hour, abandon rate and calls placed for each mode.
    Simulate(SimulateArgs),
    /// Allow dialing: campaigns in state running place calls (persisted).
    Start,
    /// Stop placing new calls; calls in progress finish (persisted).
    Stop,
    /// Live figures: links, agents, calls in flight, abandon rate, contacts left.
    Status(super::dialer_run::StatusArgs),
    /// Run the dialer engine alone in the foreground (`oml serve` runs it too).
    Run(super::dialer_run::RunArgs),
    /// Days of per-minute campaign history kept: show, or set with --keep-days.
    History(super::dialer_history::HistoryArgs),
}

#[derive(Args)]
pub struct SimulateArgs {
    /// Reference scenario of the pacing benchmark: T1, T2, T3, B, S, N1..N5,
    /// or all. Parameters given explicitly override the scenario's.
    #[arg(long)]
    scenario: Option<String>,
    /// Agents logged in: 30, or a schedule 30@0,15@60m,30@80m (agents who
    /// leave finish their call first).
    #[arg(long, allow_hyphen_values = true)]
    agents: Option<String>,
    /// Live answer rate: 0.8 or 80%, a schedule 40%@0,15%@60m, one per
    /// campaign separated by `|` (40%|20%).
    #[arg(long, allow_hyphen_values = true)]
    answer_rate: Option<String>,
    /// Campaigns sharing the agents, each with its own pacer (default: as
    /// many as --answer-rate gives).
    #[arg(long)]
    campaigns: Option<usize>,
    /// Ring time of answered calls, seconds: U(15,25), exp(20), lognormal(20,5), const(20).
    #[arg(long, allow_hyphen_values = true)]
    time_to_answer: Option<String>,
    /// Ring time after which an unanswered call is given up, seconds (same forms).
    #[arg(long, allow_hyphen_values = true)]
    no_answer_after: Option<String>,
    /// Talk time, seconds (same forms), or a schedule
    /// 'lognormal(180,120)@0,lognormal(240,160)@60m'.
    #[arg(long, allow_hyphen_values = true)]
    talk: Option<String>,
    /// Wrap-up time after each call, seconds (same forms; default 0).
    #[arg(long, allow_hyphen_values = true)]
    wrap_up: Option<String>,
    /// Preview mode only: time an agent reads the contact, seconds (default 10).
    #[arg(long, allow_hyphen_values = true)]
    preview: Option<String>,
    /// Measured duration: 3480, 3480s, 58m or 1h (default 58m).
    #[arg(long, allow_hyphen_values = true)]
    duration: Option<String>,
    /// Warm-up before measuring (default 5m).
    #[arg(long, allow_hyphen_values = true)]
    warmup: Option<String>,
    /// Seconds after the answer within which an agent must take the call (default 2).
    #[arg(long, allow_hyphen_values = true)]
    abandon_seconds: Option<String>,
    /// The campaign's maximum abandon rate: 0.03 or 3% (default 3%).
    #[arg(long, allow_hyphen_values = true)]
    max_abandon_rate: Option<String>,
    /// Regulatory window of the abandon rate: us (30 days) or uk (24 h).
    #[arg(long)]
    window: Option<String>,
    #[command(flatten)]
    machines: machines::MachineArgs,
    /// Mode(s), comma-separated: preview, progressive, predictive, ratio.
    #[arg(long, default_value = "predictive")]
    mode: String,
    /// Run every mode side by side (including the VICIdial-style baselines).
    #[arg(long)]
    compare: bool,
    /// Seeds per mode.
    #[arg(long, default_value_t = 20)]
    seeds: u64,
    /// First seed (seeds are first-seed .. first-seed + seeds).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Write the benchmark report (Markdown) to this file; implies --compare.
    #[arg(long)]
    report: Option<PathBuf>,
}

pub async fn run(g: &GlobalArgs, cmd: DialerCommand) -> Result<ExitCode> {
    match cmd {
        DialerCommand::Simulate(a) => simulate(a),
        DialerCommand::Start => super::dialer_run::start(g).await,
        DialerCommand::Stop => super::dialer_run::stop(g).await,
        DialerCommand::Status(a) => super::dialer_run::status(g, a).await,
        DialerCommand::Run(a) => super::dialer_run::run(g, a).await,
        DialerCommand::History(a) => super::dialer_history::run(g, a).await,
    }
}

fn simulate(a: SimulateArgs) -> Result<ExitCode> {
    let scenarios = campaigns(&a)?;
    let compare = a.compare || a.report.is_some();
    let predictive = PredictiveConfig::default();
    let modes: Vec<ModeSpec> = a
        .mode
        .split(',')
        .map(|m| m.parse::<ModeSpec>())
        .collect::<Result<_, PacingError>>()?;
    if a.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    let mut reports: Vec<ScenarioReport> = Vec::new();
    for (scenario, cfg) in &scenarios {
        let modes = if compare {
            report::compare_modes_for(*scenario, predictive)
        } else {
            modes.clone()
        };
        let rep = report::compare(*scenario, cfg, &modes, a.first_seed, a.seeds)?;
        if !a.json {
            say(&report::render_text(&rep))?;
        }
        reports.push(rep);
    }
    if let Some(path) = &a.report {
        let mut tradeoffs = Vec::new();
        for (rep, (_, cfg)) in reports.iter().zip(&scenarios) {
            tradeoffs.push(report::threshold_sweep(
                &rep.scenario,
                cfg,
                predictive,
                &[0.5, 1.0, 1.5],
                a.first_seed,
                a.seeds,
            )?);
        }
        let mut holdout = Vec::new();
        for (rep, (_, cfg)) in reports.iter().zip(&scenarios) {
            let mode = ModeSpec::Predictive(predictive);
            let (summary, _) =
                report::run_seeds(cfg, &mode, a.first_seed + report::HOLDOUT_OFFSET, a.seeds)?;
            holdout.push((rep.scenario.clone(), summary));
        }
        let speed = measure_speed();
        let bench = BenchReport {
            command: command_line(),
            seeds: a.seeds,
            first_seed: a.first_seed,
            predictive,
            scenarios: reports.clone(),
            speed: Some(speed.clone()),
            tradeoffs,
            holdout,
            machines: Some(report::machine_figure(predictive, a.first_seed, a.seeds)?),
            charts_folder: Some(report::charts_folder_name(
                &path.file_stem().unwrap_or_default().to_string_lossy(),
            )),
        };
        let charts = write_charts(path, &bench)?;
        std::fs::write(path, report::render_markdown(&bench))
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
        if !a.json {
            say(&format!(
                "simulator speed: {} in {:.1} ms ({:.0}x real time)\nreport written to {}, its {} charts to {}",
                speed.what,
                speed.wall_s * 1000.0,
                speed.simulated_s / speed.wall_s.max(1e-9),
                path.display(),
                charts.1,
                charts.0.display()
            ))?;
        }
    }
    if a.json {
        say(&serde_json::to_string_pretty(&reports)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the report's SVG charts into their folder beside `report` (made
/// if missing; the charts of an earlier run are replaced); the folder and
/// how many.
fn write_charts(report: &std::path::Path, bench: &BenchReport) -> Result<(PathBuf, usize)> {
    let folder = report.with_file_name(bench.charts_folder.as_deref().unwrap_or("charts"));
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot make the charts folder {}", folder.display()))?;
    let charts = report::report_charts(bench);
    for c in &charts {
        let file = folder.join(&c.name);
        std::fs::write(&file, &c.svg)
            .with_context(|| format!("cannot write the chart {}", file.display()))?;
    }
    Ok((folder, charts.len()))
}

/// Prints a block to standard output; a closed pipe is an error, not a panic.
fn say(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").context("cannot write to standard output")?;
    Ok(())
}

/// The floors to simulate: the scenario(s) with the parameters given.
fn campaigns(a: &SimulateArgs) -> Result<Vec<(Option<Scenario>, SimConfig)>> {
    let o = Overrides {
        agents: a.agents.clone(),
        answer_rate: a.answer_rate.clone(),
        campaigns: a.campaigns,
        time_to_answer: a.time_to_answer.clone(),
        no_answer_after: a.no_answer_after.clone(),
        talk: a.talk.clone(),
        wrap_up: a.wrap_up.clone(),
        preview: a.preview.clone(),
        duration: a.duration.clone(),
        warmup: a.warmup.clone(),
        abandon_seconds: a.abandon_seconds.clone(),
        max_abandon_rate: a.max_abandon_rate.clone(),
        window: a.window.clone(),
        machines: a.machines.overrides(),
    };
    Ok(floors(a.scenario.as_deref(), &o)?)
}

/// Wall-clock time of one simulated hour of a 50-agent campaign (T1, predictive), best of 5.
fn measure_speed() -> SpeedFigure {
    let mut cfg = Scenario::T1.config();
    cfg.warmup_s = 0.0;
    cfg.duration_s = 3600.0;
    let mode = ModeSpec::Predictive(PredictiveConfig::default());
    let mut best = f64::INFINITY;
    for seed in 0..5 {
        let t = Instant::now();
        let r = oml_pacing::simulate(&cfg, &mode, seed);
        let el = t.elapsed().as_secs_f64();
        if r.is_ok() {
            best = best.min(el);
        }
    }
    SpeedFigure {
        what: "1 h of T1 (50 agents), predictive".into(),
        simulated_s: 3600.0,
        wall_s: best,
    }
}

fn command_line() -> String {
    let mut args = std::env::args();
    let _ = args.next();
    let rest: Vec<String> = args.collect();
    format!("oml {}", rest.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report links every chart it writes, and each link resolves to
    /// a file beside the report whose time charts have one point per
    /// simulated minute.
    #[test]
    fn the_report_links_the_charts_it_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("PACING.md");
        let mut cfg = Scenario::T1.config();
        cfg.duration_s = 7.0 * 60.0;
        let predictive = PredictiveConfig::default();
        let modes = report::compare_modes(predictive);
        let rep = report::compare(Some(Scenario::T1), &cfg, &modes, 0, 1).unwrap();
        let bench = BenchReport {
            command: "test".into(),
            seeds: 1,
            first_seed: 0,
            predictive,
            scenarios: vec![rep],
            speed: None,
            tradeoffs: Vec::new(),
            holdout: Vec::new(),
            machines: None,
            charts_folder: Some(report::charts_folder_name("PACING")),
        };
        let (folder, n) = write_charts(&path, &bench).unwrap();
        assert_eq!(folder, dir.path().join("PACING-charts"));
        assert_eq!(n, 3);
        let md = report::render_markdown(&bench);
        let links: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with("!["))
            .filter_map(|l| l.split("](").nth(1)?.strip_suffix(')'))
            .collect();
        assert_eq!(links.len(), n, "{md}");
        for link in links {
            let svg = std::fs::read_to_string(dir.path().join(link))
                .unwrap_or_else(|e| panic!("{link} does not resolve: {e}"));
            assert!(svg.starts_with("<svg"), "{link}");
            if link.ends_with("occupancy.svg") {
                let pts = svg
                    .split("data-label=\"predictive\"")
                    .nth(1)
                    .and_then(|l| l.split("points=\"").nth(1))
                    .and_then(|l| l.split('"').next())
                    .map(|p| p.split_whitespace().count());
                assert_eq!(pts, Some(7), "{link}: one point per minute");
            }
        }
    }
}
