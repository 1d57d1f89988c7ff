//! Server-side SVG line charts of a campaign's per-minute history (issue 20
//! item 2), pure: each series is a polyline with its own dash pattern and
//! a legend naming it, so the charts read without colour; the axes carry
//! their values and the hours of the day in the campaign's time zone.

use std::fmt::Write as _;

use chrono::DateTime;
use chrono_tz::Tz;
use oml_store::history::CampaignMinute;

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 40.0;
/// Dash patterns, one per series (solid first).
const DASHES: [&str; 5] = ["", "6 3", "2 3", "10 3 2 3", "1 1"];

/// One line of a chart.
pub struct Series {
    pub label: String,
    /// (epoch ms, value).
    pub points: Vec<(i64, f64)>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG chart of `series` over `[from_ms, to_ms)`; `percent` shows the
/// values (fractions) as percentages.
pub fn line_chart(
    id: &str,
    title: &str,
    series: &[Series],
    from_ms: i64,
    to_ms: i64,
    percent: bool,
    tz: Tz,
) -> String {
    let y_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0_f64, f64::max);
    let y_max = if y_max <= 0.0 { 1.0 } else { y_max * 1.1 };
    let span = (to_ms - from_ms).max(1) as f64;
    let x = |t: i64| LEFT + (t - from_ms) as f64 / span * (W - LEFT - RIGHT);
    let y = |v: f64| TOP + (1.0 - v / y_max) * (H - TOP - BOTTOM);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="{id}" class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{t}"><title>{t}</title><text x="{LEFT}" y="14" font-size="12">{t}</text>"#,
        t = esc(title)
    );
    // Axes and the y scale (0, half, top).
    let _ = write!(
        svg,
        r#"<line x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}" stroke="currentColor"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b}" stroke="currentColor"/>"#,
        b = H - BOTTOM,
        r = W - RIGHT
    );
    for v in [0.0, y_max / 2.0, y_max] {
        let shown = if percent {
            format!("{:.1} %", v * 100.0)
        } else {
            format!("{v:.1}")
        };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="10" text-anchor="end">{shown}</text>"#,
            LEFT - 4.0,
            y(v) + 3.0
        );
    }
    // Time marks on the x axis from its start (a local midnight for a
    // day), every few hours.
    let hours = ((to_ms - from_ms) / 3_600_000).max(1);
    let step = ((hours + 5) / 6).max(1) * 3_600_000;
    let mut t = from_ms;
    while t < to_ms {
        if let Some(d) = DateTime::from_timestamp_millis(t) {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
                x(t),
                H - BOTTOM + 12.0,
                d.with_timezone(&tz).format("%H:%M")
            );
        }
        t += step;
    }
    for (i, s) in series.iter().enumerate() {
        let dash = DASHES[i % DASHES.len()];
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let pts: Vec<String> = s
            .points
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline class="series" data-label="{l}" fill="none" stroke="currentColor" stroke-width="1.5"{dash_attr} points="{p}"/>"#,
            l = esc(&s.label),
            p = pts.join(" ")
        );
        // Legend: a sample of the line and its name.
        let lx = LEFT + (i as f64) * 150.0;
        let ly = H - 8.0;
        let _ = write!(
            svg,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="currentColor" stroke-width="1.5"{dash_attr}/><text x="{}" y="{}" font-size="10">{}</text>"#,
            lx + 24.0,
            lx + 28.0,
            ly + 3.0,
            esc(&s.label)
        );
    }
    svg.push_str("</svg>");
    svg
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
        assert_eq!(abandon.matches("<polyline").count(), 3);
        assert!(
            abandon.contains("stroke-dasharray=\"6 3\""),
            "patterns, not colours"
        );
        // No answers: the minute's own rate has no point.
        assert!(abandon.contains("data-label=\"abandoned / answered in the minute\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\" points=\"\""));
        assert!(line_chart("x", "<b>", &[], 0, 1, false, chrono_tz::UTC).contains("&lt;b&gt;"));
    }
}
