//! Is a campaign allowed to dial now? Its calling hours (minutes of the day,
//! start inclusive, end exclusive) and days of the week are read in the
//! campaign's own time zone, so daylight-saving changes and servers in UTC
//! do not shift them. Pure: the time is passed in.

use chrono::{Datelike, TimeZone, Timelike};
use chrono_tz::Tz;

/// When a campaign may dial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallingWindow {
    pub tz: Tz,
    /// Minute of the day the window opens (0-1440).
    pub start_minute: i64,
    /// Minute of the day the window closes (exclusive, 0-1440).
    pub end_minute: i64,
    /// Bit 0 = Monday ... bit 6 = Sunday.
    pub days_mask: i64,
}

/// A time zone name that is not in the IANA database.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not an IANA time zone name (e.g. America/Argentina/Buenos_Aires); fix it with `oml campaign edit --time-zone`")]
pub struct BadTimeZone(pub String);

impl CallingWindow {
    /// Builds the window of a stored campaign.
    pub fn of(c: &oml_store::Campaign) -> Result<Self, BadTimeZone> {
        Ok(CallingWindow {
            tz: c
                .time_zone
                .parse()
                .map_err(|_| BadTimeZone(c.time_zone.clone()))?,
            start_minute: c.window_start_minute,
            end_minute: c.window_end_minute,
            days_mask: c.days_mask,
        })
    }

    /// Whether dialing is allowed at `now_ms` (Unix epoch milliseconds).
    pub fn is_open(&self, now_ms: i64) -> bool {
        let Some(local) = self.tz.timestamp_millis_opt(now_ms).single() else {
            return false;
        };
        let day_bit = local.weekday().num_days_from_monday();
        if self.days_mask & (1 << day_bit) == 0 {
            return false;
        }
        let minute = i64::from(local.hour() * 60 + local.minute());
        minute >= self.start_minute && minute < self.end_minute
    }

    /// The next moment (ms, at most 8 days ahead, minute resolution) the
    /// window is open, `None` if it never opens.
    pub fn next_open(&self, now_ms: i64) -> Option<i64> {
        if self.is_open(now_ms) {
            return Some(now_ms);
        }
        let step = 60_000;
        let mut t = now_ms - now_ms.rem_euclid(step) + step;
        for _ in 0..(8 * 24 * 60) {
            if self.is_open(t) {
                return Some(t);
            }
            t += step;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ms(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn hours_and_days_in_the_campaign_zone() {
        let tz: Tz = "America/Argentina/Buenos_Aires".parse().unwrap();
        let w = CallingWindow {
            tz,
            start_minute: 9 * 60,
            end_minute: 21 * 60,
            days_mask: 31, // mon-fri
        };
        // Friday 2026-11-27 in Buenos Aires (UTC-3).
        assert!(w.is_open(ms(tz, 2026, 11, 27, 9, 0)));
        assert!(w.is_open(ms(tz, 2026, 11, 27, 20, 59)));
        assert!(!w.is_open(ms(tz, 2026, 11, 27, 21, 0)), "end is exclusive");
        assert!(!w.is_open(ms(tz, 2026, 11, 27, 8, 59)));
        // 23:30 UTC Friday is 20:30 in Buenos Aires: open, though UTC says late.
        assert!(w.is_open(ms(chrono_tz::UTC, 2026, 11, 27, 23, 30)));
        // Saturday closed.
        assert!(!w.is_open(ms(tz, 2026, 11, 28, 12, 0)));
        // Next opening from Saturday noon is Monday 09:00.
        assert_eq!(
            w.next_open(ms(tz, 2026, 11, 28, 12, 0)),
            Some(ms(tz, 2026, 11, 30, 9, 0))
        );
    }

    #[test]
    fn daylight_saving_keeps_local_hours() {
        let tz: Tz = "Europe/Madrid".parse().unwrap();
        let w = CallingWindow {
            tz,
            start_minute: 9 * 60,
            end_minute: 18 * 60,
            days_mask: 127,
        };
        // 09:00 local in summer (UTC+2) and in winter (UTC+1).
        assert!(w.is_open(ms(tz, 2026, 7, 1, 9, 0)));
        assert!(w.is_open(ms(tz, 2026, 1, 15, 9, 0)));
        // 06:30 UTC in July is 08:30 in Madrid: closed; 07:30 UTC is 09:30: open.
        assert!(!w.is_open(ms(chrono_tz::UTC, 2026, 7, 1, 6, 30)));
        assert!(w.is_open(ms(chrono_tz::UTC, 2026, 7, 1, 7, 30)));
    }
}
