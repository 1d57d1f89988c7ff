//! `oml users preview-time [--days N]`: how long agents spent previewing
//! contacts (issue 19 item 4), read from their stored `preview` spans, in
//! the form `oml dialer simulate --preview` takes, so the simulator's
//! preview mode runs with the floor's own figure.

use crate::output::outln;
use anyhow::{bail, Result};
use oml_store::Store;

/// The count, mean and sample standard deviation (seconds) of `ms`.
pub fn summary(ms: &[i64]) -> Option<(usize, f64, f64)> {
    if ms.is_empty() {
        return None;
    }
    let n = ms.len();
    let secs: Vec<f64> = ms.iter().map(|m| *m as f64 / 1000.0).collect();
    let mean = secs.iter().sum::<f64>() / n as f64;
    let var = if n > 1 {
        secs.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    Some((n, mean, var.sqrt()))
}

/// The simulator's distribution for a mean and standard deviation.
pub fn as_dist(mean: f64, sd: f64) -> String {
    let (mean, sd) = ((mean * 10.0).round() / 10.0, (sd * 10.0).round() / 10.0);
    if sd > 0.0 && mean > 0.0 {
        format!("lognormal({mean},{sd})")
    } else {
        format!("const({mean})")
    }
}

pub async fn run(store: &Store, now: i64, days: u32) -> Result<()> {
    if days == 0 {
        bail!("--days must be at least 1");
    }
    let since = now - i64::from(days) * 86_400_000;
    let spans = store.preview_durations(since).await?;
    let plural = if days == 1 { "day" } else { "days" };
    match summary(&spans) {
        None => outln!("No previews in the last {days} {plural}: agents of preview campaigns have not asked for a contact yet.")?,
        Some((n, mean, sd)) => {
            outln!(
                "Preview time over the last {days} {plural}: {n} previews, mean {mean:.1} s, standard deviation {sd:.1} s."
            )?;
            outln!(
                "Simulate preview dialing with it: oml dialer simulate --mode preview --preview '{}'",
                as_dist(mean, sd)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_and_the_simulators_form() {
        assert_eq!(summary(&[]), None);
        let (n, mean, sd) = summary(&[10_000, 14_000, 12_000]).unwrap();
        assert_eq!(n, 3);
        assert!((mean - 12.0).abs() < 1e-9 && (sd - 2.0).abs() < 1e-9);
        assert_eq!(as_dist(mean, sd), "lognormal(12,2)");
        assert_eq!(as_dist(8.04, 0.0), "const(8)");
        // The simulator reads what is printed.
        let d: oml_pacing::Dist = as_dist(12.34, 5.55).parse().unwrap();
        assert!((d.mean() - 12.3).abs() < 1e-9);
    }
}
