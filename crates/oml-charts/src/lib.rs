//! Small hand-made SVG line charts, pure and dependency-free, shared by the
//! console's campaign charts (oml-dialer-web) and the simulator's report
//! (oml-pacing): each series is a polyline with its own dash pattern (and,
//! for scatter-like series, its own marker shape) and a legend naming it,
//! so a chart reads without colour; the axes carry their values, the x
//! marks are the caller's (hours of a day, minutes of a run, percentages);
//! reference lines (a limit) are drawn dashed and labelled.

use std::fmt::Write as _;

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 40.0;
/// Height of each legend row after the first.
const LEGEND_ROW: f64 = 14.0;
/// The least room of a legend entry; a longer name takes more.
const LEGEND_ENTRY: f64 = 150.0;
/// Dash patterns, one per series (solid first).
pub const DASHES: [&str; 5] = ["", "6 3", "2 3", "10 3 2 3", "1 1"];

/// One line of a chart: (x, y) points in the axes' units.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Draw a marker (its shape differs per series) at each point.
    pub markers: bool,
    /// A short text beside each point (empty: none), e.g. a setting.
    pub point_labels: Vec<String>,
}

impl Series {
    /// A plain line.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            label: label.into(),
            points,
            ..Series::default()
        }
    }
}

/// A labelled reference line across the plot: horizontal at `y = at`
/// (`vertical` false) or vertical at `x = at`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub label: String,
    pub at: f64,
    pub vertical: bool,
}

/// A chart: title, x range and marks, y scale, series and reference lines.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// The `id` attribute of the `<svg>` (empty: none).
    pub id: String,
    pub title: String,
    /// The x range shown.
    pub x_from: f64,
    pub x_to: f64,
    /// Marks under the x axis: (x, text).
    pub x_marks: Vec<(f64, String)>,
    /// A name for the x axis, written at its right end (empty: none).
    pub x_name: String,
    /// The y values are fractions shown as percentages.
    pub percent: bool,
    /// The lowest y shown (0 by default); the top is the largest value
    /// (series and horizontal rules) plus 10 %.
    pub y_from: f64,
    pub series: Vec<Series>,
    pub rules: Vec<Rule>,
}

/// Escapes text for SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A marker of shape `i` (circle, square, triangle, diamond, cross) at (x, y).
/// Where each legend entry goes: (column x, row), entries flowing left to
/// right and onto a new row when the next name would not fit; and the rows.
fn legend_layout(series: &[Series]) -> (Vec<(f64, usize)>, usize) {
    let mut out = Vec::with_capacity(series.len());
    let (mut x, mut row) = (LEFT, 0);
    for s in series {
        // 28 px of sample line, about 6 px per character of 10 px text.
        let text = 28.0 + 6.0 * s.label.chars().count() as f64;
        if x > LEFT && x + text > W - RIGHT {
            x = LEFT;
            row += 1;
        }
        out.push((x, row));
        x += LEGEND_ENTRY.max(text + 12.0);
    }
    (out, row + 1)
}

fn marker(svg: &mut String, i: usize, x: f64, y: f64) {
    let _ = match i % 5 {
        0 => write!(
            svg,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="none" stroke="currentColor"/>"#
        ),
        1 => write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="6" height="6" fill="currentColor"/>"#,
            x - 3.0,
            y - 3.0
        ),
        2 => write!(
            svg,
            r#"<path d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z" fill="none" stroke="currentColor"/>"#,
            y - 4.0,
            x + 4.0,
            y + 3.0,
            x - 4.0,
            y + 3.0
        ),
        3 => write!(
            svg,
            r#"<path d="M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z" fill="currentColor"/>"#,
            y - 4.0,
            x + 4.0,
            y + 4.0,
            x - 4.0
        ),
        _ => write!(
            svg,
            r#"<path d="M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}" stroke="currentColor"/>"#,
            x - 3.0,
            y - 3.0,
            x + 3.0,
            y + 3.0,
            x - 3.0,
            y + 3.0,
            x + 3.0,
            y - 3.0
        ),
    };
}

impl Chart {
    /// The chart as an SVG document (an `<svg>` element, inline or a file).
    pub fn svg(&self) -> String {
        let y_top = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(self.rules.iter().filter(|r| !r.vertical).map(|r| r.at))
            .fold(self.y_from, f64::max);
        let y_span = if y_top <= self.y_from {
            1.0
        } else {
            (y_top - self.y_from) * 1.1
        };
        let y_max = self.y_from + y_span;
        let (legend, legend_rows) = legend_layout(&self.series);
        let h = H + (legend_rows - 1) as f64 * LEGEND_ROW;
        let bottom = h - BOTTOM - (legend_rows - 1) as f64 * LEGEND_ROW;
        let span = (self.x_to - self.x_from).max(f64::MIN_POSITIVE);
        let x = |v: f64| LEFT + (v - self.x_from) / span * (W - LEFT - RIGHT);
        let y = |v: f64| TOP + (1.0 - (v - self.y_from) / y_span) * (bottom - TOP);
        let mut svg = String::new();
        let id = if self.id.is_empty() {
            String::new()
        } else {
            format!(r#" id="{}""#, esc(&self.id))
        };
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg"{id} class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="{t}"><title>{t}</title><text x="{LEFT}" y="14" font-size="12">{t}</text>"#,
            t = esc(&self.title)
        );
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" y1="{bottom}" x2="{r}" y2="{bottom}" stroke="currentColor"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="currentColor"/>"#,
            r = W - RIGHT
        );
        let shown = |v: f64| {
            if self.percent {
                format!("{:.1} %", v * 100.0)
            } else {
                format!("{v:.1}")
            }
        };
        for v in [self.y_from, self.y_from + y_span / 2.0, y_max] {
            let _ = write!(
                svg,
                r#"<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>"#,
                LEFT - 4.0,
                y(v) + 3.0,
                shown(v)
            );
        }
        for (v, text) in &self.x_marks {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
                x(*v),
                bottom + 12.0,
                esc(text)
            );
        }
        if !self.x_name.is_empty() {
            let _ = write!(
                svg,
                r#"<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>"#,
                W - RIGHT,
                bottom + 24.0,
                esc(&self.x_name)
            );
        }
        for r in &self.rules {
            let (x1, y1, x2, y2, tx, ty, anchor) = if r.vertical {
                let v = x(r.at);
                (v, TOP, v, bottom, v + 3.0, bottom - 4.0, "start")
            } else {
                let v = y(r.at);
                (LEFT, v, W - RIGHT, v, W - RIGHT, v - 3.0, "end")
            };
            let _ = write!(
                svg,
                r#"<line class="rule" x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="currentColor" stroke-width="1" stroke-dasharray="4 4"/><text x="{tx:.1}" y="{ty:.1}" font-size="10" text-anchor="{anchor}">{}</text>"#,
                esc(&r.label)
            );
        }
        for (i, s) in self.series.iter().enumerate() {
            let dash = DASHES[i % DASHES.len()];
            let dash_attr = if dash.is_empty() {
                String::new()
            } else {
                format!(r#" stroke-dasharray="{dash}""#)
            };
            let pts: Vec<String> = s
                .points
                .iter()
                .map(|(px, py)| format!("{:.1},{:.1}", x(*px), y(*py)))
                .collect();
            let _ = write!(
                svg,
                r#"<polyline class="series" data-label="{l}" fill="none" stroke="currentColor" stroke-width="1.5"{dash_attr} points="{p}"/>"#,
                l = esc(&s.label),
                p = pts.join(" ")
            );
            if s.markers {
                for (px, py) in &s.points {
                    marker(&mut svg, i, x(*px), y(*py));
                }
            }
            for ((px, py), text) in s.points.iter().zip(&s.point_labels) {
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" font-size="9">{}</text>"#,
                    x(*px) + 5.0,
                    y(*py) - 4.0,
                    esc(text)
                );
            }
            // Legend: a sample of the line (and marker) and its name.
            let (lx, row) = legend[i];
            let ly = h - 8.0 - ((legend_rows - 1 - row) as f64) * LEGEND_ROW;
            let _ = write!(
                svg,
                r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="currentColor" stroke-width="1.5"{dash_attr}/><text x="{}" y="{}" font-size="10">{}</text>"#,
                lx + 24.0,
                lx + 28.0,
                ly + 3.0,
                esc(&s.label)
            );
            if s.markers {
                marker(&mut svg, i, lx + 12.0, ly);
            }
        }
        svg.push_str("</svg>");
        svg
    }
}

/// The points of the polyline of series `label` in `svg` (as written by
/// [`Chart::svg`]): for tests that count a chart's points.
pub fn polyline_points(svg: &str, label: &str) -> Option<usize> {
    let needle = format!("data-label=\"{}\"", esc(label));
    let rest = &svg[svg.find(&needle)?..];
    let pts = rest.split("points=\"").nth(1)?.split('"').next()?;
    Some(pts.split(' ').filter(|p| !p.is_empty()).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(series: Vec<Series>) -> Chart {
        Chart {
            id: "c".into(),
            title: "T <1>".into(),
            x_from: 0.0,
            x_to: 10.0,
            x_marks: vec![(0.0, "0".into()), (5.0, "5 min".into())],
            percent: true,
            series,
            ..Chart::default()
        }
    }

    #[test]
    fn one_point_per_value_a_pattern_and_a_legend_per_series() {
        let a = Series::line("a", (0..10).map(|i| (i as f64, 0.04 * i as f64)).collect());
        let b = Series::line("b & c", vec![(0.0, 0.1), (9.0, 0.2)]);
        let svg = chart(vec![a, b]).svg();
        assert_eq!(polyline_points(&svg, "a"), Some(10));
        assert_eq!(polyline_points(&svg, "b & c"), Some(2));
        assert!(
            svg.contains("stroke-dasharray=\"6 3\""),
            "patterns, not colours"
        );
        assert!(svg.contains(">b &amp; c</text>"), "the legend names it");
        assert!(svg.contains("T &lt;1&gt;"));
        // The top of the scale: the largest value + 10 %.
        assert!(svg.contains("39.6 %"), "{svg}");
        assert!(svg.contains(">5 min</text>"));
    }

    #[test]
    fn rules_raise_the_scale_and_markers_differ_per_series() {
        let mut c = chart(vec![
            Series {
                markers: true,
                point_labels: vec!["1 %".into()],
                ..Series::line("x", vec![(1.0, 0.01)])
            },
            Series {
                markers: true,
                ..Series::line("y", vec![(2.0, 0.02)])
            },
        ]);
        c.rules.push(Rule {
            label: "3 % limit".into(),
            at: 0.03,
            vertical: false,
        });
        let svg = c.svg();
        assert!(
            svg.contains("3.3 %"),
            "the limit is inside the scale: {svg}"
        );
        assert!(svg.contains(">3 % limit</text>"));
        assert!(svg.contains("<circle") && svg.contains("<rect"));
        assert!(svg.contains(">1 %</text>"));
        assert_eq!(svg.matches("class=\"rule\"").count(), 1);
    }

    #[test]
    fn legends_wrap_into_rows_and_the_chart_grows() {
        let many: Vec<Series> = (0..6)
            .map(|i| Series::line(format!("s{i}"), vec![(0.0, 0.1)]))
            .collect();
        let svg = chart(many).svg();
        assert!(svg.contains("viewBox=\"0 0 640 214\""), "{svg}");
        let few = chart(vec![Series::line("s", vec![])]).svg();
        assert!(few.contains("viewBox=\"0 0 640 200\""));
        assert_eq!(polyline_points(&few, "s"), Some(0));
    }
}
