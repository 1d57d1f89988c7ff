//! What the live wall and the Dialer page add to each campaign's live row
//! (issue 20 item 3), pure: today's figures summed from its stored minutes,
//! a sparkline of the last hour's occupancy, and why it needs a
//! supervisor's eye (its abandon rate over 80 % of its limit, or pacing
//! stopped for a reason the engine gives).

use oml_store::history::CampaignMinute;
use serde::Serialize;

use crate::sparkline::sparkline;
use crate::view::CampaignView;

/// The share of its limit from which a campaign's abandon rate is flagged.
pub const WARN_SHARE: f64 = 0.8;
/// The sparkline's span.
pub const HOUR_MS: i64 = 3_600_000;

/// Today's figures, to the last stored minute.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Today {
    pub placed: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub connected: i64,
    /// Minutes stored today.
    pub minutes: usize,
}

/// One campaign's additions to its row or tile.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CampaignBoard {
    pub today: Today,
    /// An SVG of the last hour's occupancy, one point per stored minute.
    pub spark: String,
    /// Points in the sparkline.
    pub spark_points: usize,
    /// Why it is highlighted, if it is.
    pub alert: Option<String>,
}

/// Today's figures of the minutes at or after `day_start_ms`.
pub fn today(minutes: &[CampaignMinute], day_start_ms: i64) -> Today {
    minutes
        .iter()
        .filter(|m| m.minute_at >= day_start_ms)
        .fold(Today::default(), |mut t, m| {
            t.placed += m.calls_placed;
            t.answered += m.live_answers;
            t.abandoned += m.abandons;
            t.connected += m.connected;
            t.minutes += 1;
            t
        })
}

/// Why campaign `c` needs a look, in words; `None` when it does not.
pub fn alert(c: &CampaignView) -> Option<String> {
    if let Some(p) = c.live.as_ref().and_then(|l| l.problem.as_deref()) {
        return Some(format!("pacing stopped: {p}"));
    }
    (c.live_answered > 0 && c.abandon_rate > WARN_SHARE * c.max_abandon_rate).then(|| {
        format!(
            "abandon rate {:.2} % is over 80 % of its {:.1} % limit",
            c.abandon_rate * 100.0,
            c.max_abandon_rate * 100.0
        )
    })
}

/// The board of campaign `c` from its `minutes` (today's and the last
/// hour's) at `now_ms`, its day starting at `day_start_ms`.
pub fn board(
    c: &CampaignView,
    minutes: &[CampaignMinute],
    day_start_ms: i64,
    now_ms: i64,
) -> CampaignBoard {
    let from = now_ms - HOUR_MS;
    let points: Vec<(i64, f64)> = minutes
        .iter()
        .filter(|m| m.minute_at >= from)
        .map(|m| (m.minute_at, m.occupancy))
        .collect();
    CampaignBoard {
        today: today(minutes, day_start_ms),
        spark: sparkline(
            &format!("occupancy of {} over the last hour", c.name),
            &points,
            from,
            now_ms,
            1.0,
        ),
        spark_points: points.len(),
        alert: alert(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::LiveView;

    fn view(rate: f64, answered: i64, problem: Option<&str>) -> CampaignView {
        CampaignView {
            name: "sales".into(),
            mode: "predictive".into(),
            state: "running".into(),
            contacts_left: 1,
            due_now: 1,
            abandon_rate: rate,
            abandoned: 0,
            live_answered: answered,
            max_abandon_rate: 0.03,
            over_limit: false,
            live: Some(LiveView {
                window_open: true,
                ringing: 0,
                waiting_for_agent: 0,
                talking: 0,
                agents_logged_in: 0,
                agents_free: 0,
                occupancy: 0.0,
                problem: problem.map(String::from),
                paced: true,
            }),
            actions: vec![],
            pacing_start: None,
        }
    }

    #[test]
    fn flagged_over_80_percent_of_the_limit_or_when_pacing_stopped() {
        assert_eq!(alert(&view(0.024, 100, None)), None, "exactly 80 %");
        let a = alert(&view(0.025, 100, None)).unwrap();
        assert_eq!(a, "abandon rate 2.50 % is over 80 % of its 3.0 % limit");
        assert_eq!(alert(&view(0.5, 0, None)), None, "no answers yet");
        let a = alert(&view(0.0, 0, Some("no agent logged in"))).unwrap();
        assert_eq!(a, "pacing stopped: no agent logged in");
    }

    #[test]
    fn today_sums_the_days_minutes_and_the_spark_shows_the_last_hour() {
        let now = 10 * HOUR_MS;
        let minutes: Vec<CampaignMinute> = (0..120)
            .map(|i| CampaignMinute {
                minute_at: now - 2 * HOUR_MS + i * 60_000,
                calls_placed: 2,
                live_answers: 1,
                occupancy: 0.5,
                ..Default::default()
            })
            .collect();
        // The day started 90 minutes ago.
        let b = board(&view(0.0, 0, None), &minutes, now - 90 * 60_000, now);
        assert_eq!(b.today.minutes, 90);
        assert_eq!((b.today.placed, b.today.answered), (180, 90));
        assert_eq!(b.spark_points, 60);
        assert_eq!(b.spark.matches(',').count(), 60, "{}", b.spark);
        assert_eq!(b.alert, None);
    }
}
