//! Aggregation of simulation runs over seeds and the side-by-side
//! comparison of modes (with the VICIdial-style baseline swept over its
//! settings), used by `oml dialer simulate` and the benchmark report
//! docs/PACING.md. The targets checked are in `report/checks.rs`, the
//! benchmark's own figures and findings in `report/bench.rs`, the text and
//! Markdown renderings in `report/render.rs`.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::PacingError;
use crate::pacer::{ModeSpec, PredictiveConfig, RatioConfig, RatioTally};
use crate::sim::{simulate, Scenario, SimConfig, SimResult};
use crate::windows::{self, AfterChange, Span};

/// Figures of one mode over several seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The mode's label.
    pub mode: String,
    /// Seeds run.
    pub seeds: usize,
    /// Mean occupancy.
    pub occupancy_mean: f64,
    /// Lowest occupancy over the seeds.
    pub occupancy_worst: f64,
    /// Standard error of the mean occupancy (its standard deviation over the
    /// seeds / √seeds; 0 for one seed).
    #[serde(default)]
    pub occupancy_se: f64,
    /// Mean talk minutes per agent-hour.
    pub talk_min_mean: f64,
    /// Lowest talk minutes per agent-hour.
    pub talk_min_worst: f64,
    /// Mean abandon rate.
    pub abandon_mean: f64,
    /// Highest abandon rate over the seeds.
    pub abandon_worst: f64,
    /// Mean calls placed.
    pub calls_placed_mean: f64,
    /// Most calls placed in one run.
    pub calls_placed_max: u64,
    /// Mean live-answered calls.
    pub live_answered_mean: f64,
    /// The 15-minute window with the highest abandon rate, pooled over seeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandon_worst_window: Option<Span>,
    /// Pooled abandon rates in minutes 0–10, 10–30 and 30–60 after each change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub abandon_after_change: Vec<AfterChange>,
    /// Per campaign, when several share the agents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaigns: Vec<CampaignSummary>,
    /// Each minute of the measured period pooled over the seeds (the
    /// report's charts; not in the JSON output).
    #[serde(skip)]
    pub per_minute: Vec<MinutePoint>,
}

/// One minute of the measured period, pooled over the seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinutePoint {
    /// Agent time talking / agent time logged in, all seeds' minutes together.
    pub occupancy: f64,
    /// Abandoned / live-answered among the calls answered in the minute
    /// (`None` without answers).
    pub abandon_rate: Option<f64>,
}

/// The runs' minutes pooled: sums of times and counts, then ratios.
fn pooled_minutes(runs: &[SimResult]) -> Vec<MinutePoint> {
    let n = runs
        .iter()
        .map(|r| r.per_minute_time.len())
        .min()
        .unwrap_or(0);
    (0..n)
        .map(|m| {
            let (mut agent, mut talk, mut answered, mut abandoned) = (0.0, 0.0, 0u64, 0u64);
            for r in runs {
                agent += r.per_minute_time[m][0];
                talk += r.per_minute_time[m][1];
                if let Some(c) = r.per_minute.get(m) {
                    answered += u64::from(c[0]);
                    abandoned += u64::from(c[1]);
                }
            }
            MinutePoint {
                occupancy: if agent > 0.0 { talk / agent } else { 0.0 },
                abandon_rate: (answered > 0).then(|| abandoned as f64 / answered as f64),
            }
        })
        .collect()
}

/// The standard error of the mean of `xs` (0 below two values).
fn standard_error(xs: impl Iterator<Item = f64> + Clone) -> f64 {
    let n = xs.clone().count();
    if n < 2 {
        return 0.0;
    }
    let mean = xs.clone().sum::<f64>() / n as f64;
    let var = xs.map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (var / n as f64).sqrt()
}

/// One campaign's figures over the seeds, when several share the agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSummary {
    /// Campaign number, from 1.
    pub campaign: usize,
    /// Mean share of the agents' time talking on its calls.
    pub occupancy_mean: f64,
    /// Mean abandon rate.
    pub abandon_mean: f64,
    /// Highest abandon rate over the seeds.
    pub abandon_worst: f64,
    /// Mean calls placed.
    pub calls_placed_mean: f64,
    /// Mean live-answered calls.
    pub live_answered_mean: f64,
}

impl Summary {
    /// Summarises runs of one mode. Empty input gives zeros.
    pub fn of(mode: &str, runs: &[SimResult]) -> Summary {
        let n = runs.len().max(1) as f64;
        let mean = |f: &dyn Fn(&SimResult) -> f64| runs.iter().map(f).sum::<f64>() / n;
        let min = |f: &dyn Fn(&SimResult) -> f64| {
            if runs.is_empty() {
                0.0
            } else {
                runs.iter().map(f).fold(f64::INFINITY, f64::min)
            }
        };
        let max = |f: &dyn Fn(&SimResult) -> f64| runs.iter().map(f).fold(0.0, f64::max);
        Summary {
            mode: mode.to_string(),
            seeds: runs.len(),
            occupancy_mean: mean(&|r| r.occupancy),
            occupancy_worst: min(&|r| r.occupancy),
            occupancy_se: standard_error(runs.iter().map(|r| r.occupancy)),
            talk_min_mean: mean(&|r| r.talk_min_per_agent_hour),
            talk_min_worst: min(&|r| r.talk_min_per_agent_hour),
            abandon_mean: mean(&|r| r.abandon_rate),
            abandon_worst: max(&|r| r.abandon_rate),
            calls_placed_mean: mean(&|r| r.calls_placed as f64),
            calls_placed_max: runs.iter().map(|r| r.calls_placed).max().unwrap_or(0),
            live_answered_mean: mean(&|r| r.live_answered as f64),
            abandon_worst_window: windows::worst_window(runs),
            abandon_after_change: Vec::new(),
            campaigns: campaign_summaries(runs),
            per_minute: pooled_minutes(runs),
        }
    }
}

fn campaign_summaries(runs: &[SimResult]) -> Vec<CampaignSummary> {
    let k = runs.iter().map(|r| r.campaigns.len()).min().unwrap_or(0);
    let n = runs.len().max(1) as f64;
    (0..k)
        .map(|i| {
            let c = |f: &dyn Fn(&crate::sim::CampaignResult) -> f64| {
                runs.iter()
                    .map(|r| f(&r.campaigns[i]))
                    .collect::<Vec<f64>>()
            };
            let mean = |v: Vec<f64>| v.iter().sum::<f64>() / n;
            CampaignSummary {
                campaign: i + 1,
                occupancy_mean: mean(c(&|x| x.occupancy)),
                abandon_mean: mean(c(&|x| x.abandon_rate)),
                abandon_worst: c(&|x| x.abandon_rate).into_iter().fold(0.0, f64::max),
                calls_placed_mean: mean(c(&|x| x.calls_placed as f64)),
                live_answered_mean: mean(c(&|x| x.live_answered as f64)),
            }
        })
        .collect()
}

/// Runs `mode` on seeds `first_seed .. first_seed + seeds`.
pub fn run_seeds(
    cfg: &SimConfig,
    mode: &ModeSpec,
    first_seed: u64,
    seeds: u64,
) -> Result<(Summary, Vec<SimResult>), PacingError> {
    if seeds == 0 {
        return Err(PacingError::invalid("seeds", "must be at least 1"));
    }
    let runs = (first_seed..first_seed + seeds)
        .map(|s| simulate(cfg, mode, s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut summary = Summary::of(&mode.label(), &runs);
    summary.abandon_after_change = windows::after_changes(&runs, &cfg.change_times());
    Ok((summary, runs))
}

/// The VICIdial-style baselines compared against: both tallies, drop targets 1, 2 and 3 %.
pub fn baseline_modes() -> Vec<ModeSpec> {
    let mut v = Vec::new();
    for tally in [RatioTally::Ready, RatioTally::Active] {
        for target in [0.01, 0.02, 0.03] {
            v.push(ModeSpec::Ratio(RatioConfig {
                tally,
                drop_target: target,
                ..RatioConfig::default()
            }));
        }
    }
    v
}

/// Fixed ratios of 1 to `max` calls per ready agent (the sweep of scenario N5).
pub fn fixed_ratio_modes(max: u32) -> Vec<ModeSpec> {
    (1..=max)
        .map(|k| ModeSpec::Ratio(RatioConfig::fixed(k as f64)))
        .collect()
}

/// Every mode of a `--compare` run: preview, progressive, predictive and the baselines.
pub fn compare_modes(predictive: PredictiveConfig) -> Vec<ModeSpec> {
    let mut v = vec![
        ModeSpec::Preview,
        ModeSpec::Progressive,
        ModeSpec::Predictive(predictive),
    ];
    v.extend(baseline_modes());
    v
}

/// The modes of a `--compare` run on one scenario: [`compare_modes`], plus
/// the fixed-ratio sweep (1 to 12 calls per ready agent) on scenario N5.
pub fn compare_modes_for(
    scenario: Option<Scenario>,
    predictive: PredictiveConfig,
) -> Vec<ModeSpec> {
    let mut v = compare_modes(predictive);
    if scenario == Some(Scenario::N5) {
        v.extend(fixed_ratio_modes(12));
    }
    v
}

/// One target and whether it is met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What is checked.
    pub what: String,
    /// The target.
    pub target: String,
    /// The measured figure.
    pub measured: String,
    /// Met or not.
    pub pass: bool,
}

/// The comparison of the modes on one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Scenario id (`T1` ...) or `custom`.
    pub scenario: String,
    /// The simulated campaign.
    pub config: SimConfig,
    /// Closed-form occupancy of progressive dialing.
    pub progressive_closed_form: Option<f64>,
    /// Closed-form occupancy of preview dialing.
    pub preview_closed_form: Option<f64>,
    /// One summary per mode run.
    pub modes: Vec<Summary>,
    /// The best baseline whose worst seed stays within the abandon limit.
    pub best_baseline: Option<String>,
    /// The best fixed ratio (calls per ready agent) of the sweep whose worst
    /// seed stays within the limit, when a sweep was run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_fixed_ratio: Option<String>,
    /// Targets checked on this scenario.
    pub checks: Vec<Check>,
}

impl ScenarioReport {
    /// The summary of a mode family (`predictive`, `progressive` ...), first match.
    pub fn mode(&self, label: &str) -> Option<&Summary> {
        self.modes.iter().find(|s| s.mode == label)
    }
}

/// Occupancy target of the predictive mode on a stationary scenario (issue 14's targets).
pub fn occupancy_target(scenario: Option<Scenario>) -> Option<f64> {
    match scenario? {
        Scenario::T1 | Scenario::T2 | Scenario::B => Some(0.92),
        Scenario::T3 => Some(0.97),
        _ => None,
    }
}

fn pct(f: f64) -> String {
    format!("{:.2} %", f * 100.0)
}

/// Runs `modes` on one campaign and checks the targets.
pub fn compare(
    scenario: Option<Scenario>,
    cfg: &SimConfig,
    modes: &[ModeSpec],
    first_seed: u64,
    seeds: u64,
) -> Result<ScenarioReport, PacingError> {
    cfg.validate()?;
    let mut summaries = Vec::new();
    for m in modes {
        summaries.push(run_seeds(cfg, m, first_seed, seeds)?.0);
    }
    let limit = cfg.max_abandon_rate;
    let best = |fixed: bool| {
        modes
            .iter()
            .zip(&summaries)
            .filter(|(m, s)| {
                matches!(m, ModeSpec::Ratio(r) if r.is_fixed() == fixed) && s.abandon_worst <= limit
            })
            .max_by(|a, b| a.1.occupancy_mean.total_cmp(&b.1.occupancy_mean))
            .map(|(_, s)| s.mode.clone())
    };
    let best_baseline = best(false);
    let best_fixed_ratio = best(true);
    let mut rep = ScenarioReport {
        scenario: scenario
            .map(|s| s.id().to_string())
            .unwrap_or_else(|| "custom".into()),
        config: cfg.clone(),
        progressive_closed_form: cfg.progressive_closed_form(),
        preview_closed_form: cfg.preview_closed_form(),
        modes: summaries,
        best_baseline,
        best_fixed_ratio,
        checks: Vec::new(),
    };
    rep.checks = checks(scenario, &rep);
    Ok(rep)
}

mod bench;
mod charts;
mod checks;
mod machines;
mod render;
pub use bench::*;
pub use charts::*;
use checks::checks;
pub use machines::*;
pub use render::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_takes_mean_and_worst() {
        let r = |occ: f64, ab: f64, placed: u64| SimResult {
            mode: "x".into(),
            seed: 0,
            occupancy: occ,
            talk_min_per_agent_hour: occ * 60.0,
            abandon_rate: ab,
            live_answered: 100,
            abandoned: (ab * 100.0) as u64,
            calls_placed: placed,
            events: 1,
            per_minute: Vec::new(),
            per_minute_time: Vec::new(),
            campaigns: Vec::new(),
        };
        let s = Summary::of("x", &[r(0.9, 0.01, 10), r(0.8, 0.03, 20)]);
        assert!((s.occupancy_mean - 0.85).abs() < 1e-12);
        assert_eq!(s.occupancy_worst, 0.8);
        assert_eq!(s.abandon_worst, 0.03);
        assert_eq!(s.calls_placed_max, 20);
    }

    #[test]
    fn compare_checks_progressive_against_its_closed_form() {
        let cfg = Scenario::T2.config();
        let rep = compare(Some(Scenario::T2), &cfg, &[ModeSpec::Progressive], 0, 2).unwrap();
        let c = rep
            .checks
            .iter()
            .find(|c| c.what.starts_with("progressive occupancy"))
            .unwrap();
        assert!(c.pass, "{c:?}");
        assert!(render_text(&rep).contains("progressive"));
    }

    #[test]
    fn zero_seeds_is_an_error_naming_seeds() {
        let e = run_seeds(&Scenario::S.config(), &ModeSpec::Progressive, 0, 0).unwrap_err();
        assert!(e.to_string().contains("`seeds`"));
    }
}
