//! The `from` and `to` of an export, pure: a day (`2026-12-07`, in the
//! campaign's time zone, `to` included whole) or an instant (RFC 3339,
//! `2026-12-07T18:00:00-03:00`); either may be left out.

use chrono::{DateTime, NaiveDate, TimeZone};
use chrono_tz::Tz;

/// `[from_ms, to_ms)`, from the query's `from` and `to`.
pub fn period(from: Option<&str>, to: Option<&str>, tz: Tz) -> Result<(i64, i64), String> {
    let from_ms = match from.map(str::trim).filter(|s| !s.is_empty()) {
        None => i64::MIN,
        Some(s) => bound("from", s, tz, false)?,
    };
    let to_ms = match to.map(str::trim).filter(|s| !s.is_empty()) {
        None => i64::MAX,
        Some(s) => bound("to", s, tz, true)?,
    };
    if from_ms >= to_ms {
        return Err(format!(
            "from ({}) must be before to ({})",
            from.unwrap_or_default(),
            to.unwrap_or_default()
        ));
    }
    Ok((from_ms, to_ms))
}

/// The start of the day (or the next day's, for an inclusive `to`) or the
/// instant `s` names.
fn bound(name: &str, s: &str, tz: Tz, day_end: bool) -> Result<i64, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if day_end {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        return tz
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| format!("{name}={s}: that day has no midnight in {tz}"));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            format!(
                "{name}={s} is not a date: give a day (2026-12-07, in the campaign's time zone {tz}) or an instant (2026-12-07T18:00:00-03:00)"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_the_campaign_s_and_to_is_inclusive() {
        let tz: Tz = "America/Argentina/Buenos_Aires".parse().unwrap();
        let (f, t) = period(Some("2026-12-07"), Some("2026-12-07"), tz).unwrap();
        assert_eq!(f, 1_796_612_400_000); // 2026-12-07T03:00:00Z
        assert_eq!(t - f, 24 * 3600 * 1000);
        let (f, t) = period(Some("2026-12-07T21:00:00Z"), None, tz).unwrap();
        assert_eq!((f, t), (1_796_677_200_000, i64::MAX));
        assert_eq!(period(None, None, tz).unwrap(), (i64::MIN, i64::MAX));
    }

    #[test]
    fn bad_bounds_are_named() {
        let tz = chrono_tz::UTC;
        let e = period(Some("yesterday"), None, tz).unwrap_err();
        assert!(e.starts_with("from=yesterday is not a date"), "{e}");
        let e = period(None, Some("2026-13-01"), tz).unwrap_err();
        assert!(e.starts_with("to=2026-13-01"), "{e}");
        let e = period(Some("2026-12-08"), Some("2026-12-07"), tz).unwrap_err();
        assert!(e.contains("must be before"), "{e}");
    }
}
