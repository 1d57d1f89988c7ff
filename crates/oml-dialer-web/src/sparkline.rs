//! A sparkline, pure: a small SVG polyline of one series over a span, no
//! axes, its meaning in its title (read by screen readers and shown as a
//! tooltip), for the live wall and the Dialer page's rows.

use std::fmt::Write as _;

const W: f64 = 120.0;
const H: f64 = 28.0;

/// An SVG of `points` (epoch ms, value) over `[from_ms, to_ms]`, values
/// from 0 to `max`; `title` says what it shows.
pub fn sparkline(title: &str, points: &[(i64, f64)], from_ms: i64, to_ms: i64, max: f64) -> String {
    let span = (to_ms - from_ms).max(1) as f64;
    let max = if max > 0.0 { max } else { 1.0 };
    let mut pts = String::new();
    for (i, (t, v)) in points.iter().enumerate() {
        let x = (t - from_ms) as f64 / span * W;
        let y = H - 1.0 - (v / max).clamp(0.0, 1.0) * (H - 2.0);
        let _ = write!(pts, "{}{x:.1},{y:.1}", if i == 0 { "" } else { " " });
    }
    let t = oml_charts::esc(title);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="spark" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="{t}"><title>{t}</title><polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{pts}"/></svg>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_per_value_scaled_into_the_box() {
        let s = sparkline("a <b>", &[(0, 0.0), (50, 1.0), (100, 2.0)], 0, 100, 1.0);
        assert!(s.contains(r#"points="0.0,27.0 60.0,1.0 120.0,1.0""#), "{s}");
        assert!(s.contains("a &lt;b&gt;"));
        assert!(sparkline("x", &[], 0, 1, 0.0).contains(r#"points="""#));
    }
}
