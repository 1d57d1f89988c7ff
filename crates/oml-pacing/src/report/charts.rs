//! The benchmark report's pictures (issue 20 item 5), drawn with
//! `oml-charts` (the console's SVG charts): per scenario, occupancy and
//! abandon rate minute by minute for each mode (pooled over the seeds), and
//! the trade-off of the baseline sweep against predictive (mean occupancy
//! against the worst seed's abandon rate, with the limit as a line). Pure:
//! the caller writes the files and names the folder the Markdown links to.

use oml_charts::{Chart, Rule, Series};

use super::*;

/// One picture of the report: its file name (in the charts folder), what
/// it shows (the link's text) and its SVG.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    pub name: String,
    pub title: String,
    pub svg: String,
}

/// Marks under a time axis of `minutes` minutes: at most about 8.
fn minute_marks(minutes: usize) -> Vec<(f64, String)> {
    let step = [5, 10, 15, 30, 60, 120, 240]
        .into_iter()
        .find(|s| minutes / s <= 8)
        .unwrap_or(480);
    (0..=minutes)
        .step_by(step)
        .map(|m| (m as f64, m.to_string()))
        .collect()
}

/// The modes drawn over time: preview, progressive, predictive, the best
/// compliant baseline and the best compliant fixed ratio (when run).
fn time_modes(r: &ScenarioReport) -> Vec<&Summary> {
    let mut names: Vec<&str> = vec!["preview", "progressive", "predictive"];
    names.extend(r.best_baseline.as_deref());
    names.extend(r.best_fixed_ratio.as_deref());
    names.iter().filter_map(|n| r.mode(n)).collect()
}

/// A mode's minutes as points (minute, value), `None` values left out.
fn minute_series(m: &Summary, f: impl Fn(&MinutePoint) -> Option<f64>) -> Series {
    Series::line(
        m.mode.clone(),
        m.per_minute
            .iter()
            .enumerate()
            .filter_map(|(i, p)| f(p).map(|v| (i as f64, v)))
            .collect(),
    )
}

/// The lowest tenth under the smallest value, so close lines stay apart.
fn floor_tenth(values: impl Iterator<Item = f64>) -> f64 {
    let min = values.fold(f64::INFINITY, f64::min);
    if min.is_finite() {
        ((min - 0.02).max(0.0) * 10.0).floor() / 10.0
    } else {
        0.0
    }
}

fn limit_rule(limit: f64, vertical: bool) -> Rule {
    Rule {
        label: format!("limit {}", pct(limit)),
        at: limit,
        vertical,
    }
}

/// A chart of scenario `r` over the minutes of the measured period: one
/// line per mode of `modes`, the value `f` of each pooled minute; file
/// `<scenario>-<kind>.svg`. `y_from` 0 starts the scale at 0, else it
/// starts just under the smallest value.
fn minute_chart(
    r: &ScenarioReport,
    kind: &str,
    what: &str,
    modes: &[&Summary],
    f: impl Fn(&MinutePoint) -> Option<f64> + Copy,
    rules: Vec<Rule>,
) -> ChartFile {
    let minutes = modes.iter().map(|m| m.per_minute.len()).max().unwrap_or(0);
    let series: Vec<Series> = modes.iter().map(|m| minute_series(m, f)).collect();
    let seeds = modes.first().map_or(0, |m| m.seeds);
    let title = format!(
        "Scenario {}: {what} per minute, {seeds} seeds pooled",
        r.scenario
    );
    let y_from = if rules.is_empty() {
        floor_tenth(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)))
    } else {
        0.0
    };
    let chart = Chart {
        title: title.clone(),
        x_to: minutes.max(1) as f64,
        x_marks: minute_marks(minutes),
        x_name: "minutes after the warm-up".into(),
        percent: true,
        y_from,
        series,
        rules,
        ..Chart::default()
    };
    ChartFile {
        name: format!("{}-{kind}.svg", r.scenario),
        title,
        svg: chart.svg(),
    }
}

/// Occupancy per minute, one line per mode.
pub fn occupancy_chart(r: &ScenarioReport) -> ChartFile {
    let modes = time_modes(r);
    minute_chart(
        r,
        "occupancy",
        "occupancy",
        &modes,
        |p| Some(p.occupancy),
        Vec::new(),
    )
}

/// Abandoned / live-answered per minute for the modes that abandon, with
/// the limit.
pub fn abandon_chart(r: &ScenarioReport) -> ChartFile {
    let modes: Vec<&Summary> = time_modes(r)
        .into_iter()
        .filter(|m| m.abandon_mean > 0.0)
        .collect();
    let limit = limit_rule(r.config.max_abandon_rate, false);
    let what = "abandoned / live-answered";
    minute_chart(r, "abandon", what, &modes, |p| p.abandon_rate, vec![limit])
}

/// A group of modes as one line of the trade-off chart: (worst-seed
/// abandon, mean occupancy), each point labelled.
fn sweep(label: &str, points: Vec<(&Summary, String)>) -> Option<Series> {
    if points.is_empty() {
        return None;
    }
    Some(Series {
        label: label.into(),
        points: points
            .iter()
            .map(|(m, _)| (m.abandon_worst, m.occupancy_mean))
            .collect(),
        markers: true,
        point_labels: points.into_iter().map(|(_, l)| l).collect(),
    })
}

/// Mean occupancy against the worst seed's abandon rate: the baseline
/// sweep (both tallies over their drop targets, and the fixed ratios when
/// run), predictive with fixed risk thresholds, and predictive itself;
/// the limit is a vertical line, so what lies right of it is not compliant.
pub fn tradeoff_chart(r: &ScenarioReport, t: Option<&Tradeoff>) -> ChartFile {
    let of = |prefix: &str| -> Vec<(&Summary, String)> {
        r.modes
            .iter()
            .filter(|m| m.mode.starts_with(prefix))
            .map(|m| {
                let label = m
                    .mode
                    .split([',', '('])
                    .nth(if prefix.starts_with("fixed") { 1 } else { 2 })
                    .unwrap_or("")
                    .trim_end_matches(')')
                    .split(' ')
                    .next()
                    .unwrap_or("")
                    .to_string();
                (m, label)
            })
            .collect()
    };
    let mut series: Vec<Series> = Vec::new();
    series.extend(sweep("ratio, ready tally", of("ratio(ready")));
    series.extend(sweep("ratio, active tally", of("ratio(active")));
    series.extend(sweep("fixed ratio per ready agent", of("fixed(")));
    if let Some(t) = t {
        series.extend(sweep(
            "predictive, fixed risk threshold",
            t.points.iter().map(|(f, m)| (m, format!("{f}×"))).collect(),
        ));
    }
    series.extend(sweep(
        "predictive",
        r.mode("predictive")
            .map(|m| (m, String::new()))
            .into_iter()
            .collect(),
    ));
    let limit = r.config.max_abandon_rate;
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(limit, f64::max)
        * 1.1;
    let step = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2]
        .into_iter()
        .find(|s| x_max / s <= 8.0)
        .unwrap_or(0.5);
    let x_marks = (0..)
        .map(|i| i as f64 * step)
        .take_while(|x| *x <= x_max)
        .map(|x| (x, format!("{:.1} %", x * 100.0)))
        .collect();
    let title = format!(
        "Scenario {}: mean occupancy against the worst seed's abandon rate",
        r.scenario
    );
    let chart = Chart {
        title: title.clone(),
        x_to: x_max,
        x_marks,
        x_name: "abandon rate, worst seed".into(),
        percent: true,
        y_from: floor_tenth(series.iter().flat_map(|s| s.points.iter().map(|p| p.1))),
        series,
        rules: vec![limit_rule(limit, true)],
        ..Chart::default()
    };
    ChartFile {
        name: format!("{}-tradeoff.svg", r.scenario),
        title,
        svg: chart.svg(),
    }
}

/// Every picture of scenario `r`.
pub fn scenario_charts(r: &ScenarioReport, t: Option<&Tradeoff>) -> Vec<ChartFile> {
    vec![occupancy_chart(r), abandon_chart(r), tradeoff_chart(r, t)]
}

/// Every picture of the report, scenario by scenario.
pub fn report_charts(b: &BenchReport) -> Vec<ChartFile> {
    b.scenarios
        .iter()
        .flat_map(|r| {
            let t = b.tradeoffs.iter().find(|t| t.scenario == r.scenario);
            scenario_charts(r, t)
        })
        .collect()
}

/// The folder of the pictures of report `FILE.md`: `FILE-charts`, beside it.
pub fn charts_folder_name(report_file_stem: &str) -> String {
    format!("{report_file_stem}-charts")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Scenario;

    #[test]
    fn one_point_per_minute_and_the_sweep_against_the_limit() {
        let mut cfg = Scenario::T2.config();
        cfg.duration_s = 12.0 * 60.0;
        let modes = compare_modes(PredictiveConfig::default());
        let rep = compare(Some(Scenario::T2), &cfg, &modes, 0, 2).unwrap();
        let charts = scenario_charts(&rep, None);
        let occ = &charts[0];
        assert_eq!(occ.name, "T2-occupancy.svg");
        for mode in ["preview", "progressive", "predictive"] {
            assert_eq!(
                oml_charts::polyline_points(&occ.svg, mode),
                Some(12),
                "{mode}: one point per minute"
            );
        }
        let abandon = &charts[1];
        assert!(abandon.svg.contains("limit 3.00 %"), "{}", abandon.svg);
        assert_eq!(oml_charts::polyline_points(&abandon.svg, "preview"), None);
        let trade = &charts[2];
        assert_eq!(
            oml_charts::polyline_points(&trade.svg, "ratio, ready tally"),
            Some(3)
        );
        assert_eq!(
            oml_charts::polyline_points(&trade.svg, "ratio, active tally"),
            Some(3)
        );
        assert_eq!(
            oml_charts::polyline_points(&trade.svg, "predictive"),
            Some(1)
        );
        assert!(
            trade.svg.contains(">2%</text>"),
            "drop targets label the points"
        );
        assert!(trade.svg.contains("class=\"rule\""));
    }

    #[test]
    fn the_pooled_minutes_add_the_seeds_up() {
        let mut cfg = Scenario::T1.config();
        cfg.duration_s = 5.0 * 60.0;
        let (s, runs) = run_seeds(&cfg, &ModeSpec::Progressive, 0, 3).unwrap();
        assert_eq!(s.per_minute.len(), 5);
        let talk: f64 = runs.iter().map(|r| r.per_minute_time[2][1]).sum();
        let agent: f64 = runs.iter().map(|r| r.per_minute_time[2][0]).sum();
        assert!((s.per_minute[2].occupancy - talk / agent).abs() < 1e-12);
        assert_eq!(
            minute_marks(58)
                .iter()
                .map(|m| m.1.as_str())
                .collect::<Vec<_>>(),
            ["0", "10", "20", "30", "40", "50"]
        );
    }
}
