//! Server-side SVG line charts of a campaign's per-minute history (issue 20
//! item 2), pure: each series is a polyline with its own dash pattern and
//! a legend naming it, so the charts read without colour; the axes carry
//! their values and the hours of the day in the campaign's time zone.

use chrono::DateTime;
use chrono_tz::Tz;
use oml_charts::Chart;
use oml_store::history::CampaignMinute;

/// One line of a chart.
pub struct Series {
    pub label: String,
    /// (epoch ms, value).
    pub points: Vec<(i64, f64)>,
}

/// An SVG chart of `series` over `[from_ms, to_ms)`; `percent` shows the
/// values (fractions) as percentages. Drawn by `oml-charts` (shared with
/// the simulator's report); the x marks are the hours of the day in `tz`.
pub fn line_chart(
    id: &str,
    title: &str,
    series: &[Series],
    from_ms: i64,
    to_ms: i64,
    percent: bool,
    tz: Tz,
) -> String {
    // Time marks on the x axis from its start (a local midnight for a
    // day), every few hours.
    let hours = ((to_ms - from_ms) / 3_600_000).max(1);
    let step = ((hours + 5) / 6).max(1) * 3_600_000;
    let x_marks = (0..)
        .map(|i| from_ms + i * step)
        .take_while(|t| *t < to_ms)
        .filter_map(|t| {
            DateTime::from_timestamp_millis(t)
                .map(|d| (t as f64, d.with_timezone(&tz).format("%H:%M").to_string()))
        })
        .collect();
    Chart {
        id: id.into(),
        title: title.into(),
        x_from: from_ms as f64,
        x_to: to_ms.max(from_ms + 1) as f64,
        x_marks,
        percent,
        series: series
            .iter()
            .map(|s| {
                oml_charts::Series::line(
                    s.label.clone(),
                    s.points.iter().map(|(t, v)| (*t as f64, *v)).collect(),
                )
            })
            .collect(),
        ..Chart::default()
    }
    .svg()
}

/// The campaign page's charts of `minutes` over `[from_ms, to_ms)`.
pub fn campaign_charts(
    minutes: &[CampaignMinute],
    from_ms: i64,
    to_ms: i64,
    tz: Tz,
) -> Vec<String> {
    let s = |label: &str, f: &dyn Fn(&CampaignMinute) -> Option<f64>| Series {
        label: label.into(),
        points: minutes
            .iter()
            .filter_map(|m| f(m).map(|v| (m.minute_at, v)))
            .collect(),
    };
    let chart = |id: &str, title: &str, series: Vec<Series>, percent: bool| {
        line_chart(id, title, &series, from_ms, to_ms, percent, tz)
    };
    vec![
        chart(
            "chart-occupancy",
            "Occupancy",
            vec![s("occupancy", &|m| Some(m.occupancy))],
            true,
        ),
        chart(
            "chart-abandon",
            "Abandon rate of the regulatory window against the limit",
            vec![
                s("window abandon rate", &|m| Some(m.window_abandon_rate)),
                s("limit", &|m| Some(m.max_abandon_rate)),
                s("abandoned / answered in the minute", &|m| {
                    (m.live_answers > 0).then(|| m.abandons as f64 / m.live_answers as f64)
                }),
                // Predictive only: the largest chance of an abandon the
                // pacer accepted for a call placed at the minute's end.
                s("risk threshold (predictive)", &|m| m.risk_threshold),
            ],
            true,
        ),
        chart(
            "chart-answer",
            "Answer rate",
            vec![s("answer rate", &|m| m.answer_rate)],
            true,
        ),
        chart(
            "chart-calls",
            "Calls in flight",
            vec![
                s("calls in flight", &|m| Some(m.calls_in_flight)),
                s("dial-ahead", &|m| Some(m.dial_ahead)),
            ],
            false,
        ),
        chart(
            "chart-agents",
            "Agents by state",
            vec![
                s("ready", &|m| Some(m.agents_ready)),
                s("talking", &|m| Some(m.agents_talking)),
                s("wrap-up", &|m| Some(m.agents_wrap_up)),
                s("paused", &|m| Some(m.agents_paused)),
            ],
            false,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_per_minute_and_a_legend_per_series() {
        let minutes: Vec<CampaignMinute> = (0..5)
            .map(|i| CampaignMinute {
                minute_at: 60_000 * i,
                occupancy: 0.1 * i as f64,
                max_abandon_rate: 0.03,
                ..Default::default()
            })
            .collect();
        let charts = campaign_charts(&minutes, 0, 3_600_000, chrono_tz::UTC);
        assert_eq!(charts.len(), 5);
        let occ = &charts[0];
        let points = occ
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(points.split(' ').count(), 5, "{occ}");
        assert!(occ.contains("data-label=\"occupancy\""));
        assert!(occ.contains("44.0 %"), "the top of the scale: {occ}");
        let abandon = &charts[1];
        assert_eq!(abandon.matches("<polyline").count(), 4);
        assert!(
            abandon.contains("stroke-dasharray=\"6 3\""),
            "patterns, not colours"
        );
        // No answers: the minute's own rate has no point.
        assert!(abandon.contains("data-label=\"abandoned / answered in the minute\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\" points=\"\""));
        assert!(line_chart("x", "<b>", &[], 0, 1, false, chrono_tz::UTC).contains("&lt;b&gt;"));
    }
}
