//! Callbacks (issue 19 item 6): a contact an agent asked to call again at a
//! date and time, for themselves or for anyone. The row is written by
//! [`crate::dispose`]; here are the time-zone reading of the chosen time,
//! the lists ("my callbacks", a campaign's), and the filter the hopper's
//! claim uses to take due callbacks before ordinary contacts.
//!
//! A callback is open while `closed_at` is NULL: until a later call of the
//! contact is dispositioned, or the contact ends (done, exhausted, dnc).

use chrono::{NaiveDateTime, TimeZone};
use serde::Serialize;

use crate::{on_pool, Result, Store, StoreError};

/// The contact attributes (imported CSV columns) read as the contact's own
/// time zone, in this order.
pub const TIME_ZONE_ATTRIBUTES: [&str; 3] = ["time_zone", "timezone", "tz"];

/// The contact's time zone: its own (an attribute naming a valid IANA zone),
/// else the campaign's.
pub fn contact_time_zone(attributes_json: &str, campaign_zone: &str) -> String {
    let attrs: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(attributes_json).unwrap_or_default();
    TIME_ZONE_ATTRIBUTES
        .iter()
        .filter_map(|k| attrs.get(*k).and_then(|v| v.as_str()))
        .map(str::trim)
        .find(|z| z.parse::<chrono_tz::Tz>().is_ok())
        .unwrap_or(campaign_zone)
        .to_string()
}

/// Reads a date and time written in `zone` (`2026-12-09 10:30`, with `T`
/// or a space, seconds optional) as epoch milliseconds. A time the clock
/// skips (daylight saving) is refused naming it; a repeated one is the first.
pub fn local_to_utc(local: &str, zone: &str) -> Result<i64> {
    let tz: chrono_tz::Tz = zone.parse().map_err(|_| {
        StoreError::invalid("time zone", format!("`{zone}` is not an IANA time zone"))
    })?;
    let text = local.trim().replacen('T', " ", 1);
    let naive = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
        .ok_or_else(|| {
            StoreError::invalid(
                "callback time",
                format!("`{local}`: write the date and time as 2026-12-09 10:30"),
            )
        })?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| {
            StoreError::invalid(
                "callback time",
                format!("`{local}` does not exist in {zone} (the clocks skip it): choose another"),
            )
        })
}

/// Epoch milliseconds `ms` as a wall-clock time in `zone` (`2026-12-09
/// 10:30`), the way the agent chose it; in UTC when `zone` is unknown.
pub fn utc_to_local(ms: i64, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// An open callback, for the agent's page and the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Callback {
    pub id: i64,
    pub campaign: String,
    pub contact_id: i64,
    pub phone: String,
    /// The agent it is for; `None`: anyone.
    pub agent: Option<String>,
    /// Epoch ms, UTC.
    pub due_at: i64,
    /// The zone the time was chosen in.
    pub time_zone: String,
    pub created_by: String,
}

const SELECT: &str = "SELECT b.id, c.name AS campaign, b.contact_id, k.phone, u.username AS agent,
       b.due_at, b.time_zone, b.created_by
  FROM callbacks b JOIN campaigns c ON c.id = b.campaign_id
  JOIN contacts k ON k.id = b.contact_id LEFT JOIN users u ON u.id = b.user_id
 WHERE b.closed_at IS NULL";

/// Narrows the hopper's candidate contacts (`contacts` rows of campaign
/// `$1`, due by `$2`) to those with an open callback: the claim takes these
/// first.
pub(crate) const DUE_CALLBACKS_FILTER: &str = " AND id IN (SELECT contact_id FROM callbacks
     WHERE campaign_id = $1 AND closed_at IS NULL AND due_at <= $2)";

impl Store {
    /// The open callbacks for agent `user_id` (theirs only), soonest first.
    pub async fn agent_callbacks(&self, user_id: i64) -> Result<Vec<Callback>> {
        let sql = format!("{SELECT} AND b.user_id = $1 ORDER BY b.due_at, b.id");
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Callback>(&sql)
            .bind(user_id)
            .fetch_all(p)
            .await?))
    }

    /// The campaign's open callbacks, soonest first.
    pub async fn campaign_callbacks(&self, campaign_id: i64) -> Result<Vec<Callback>> {
        let sql = format!("{SELECT} AND b.campaign_id = $1 ORDER BY b.due_at, b.id");
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Callback>(&sql)
            .bind(campaign_id)
            .fetch_all(p)
            .await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_in_their_zone() {
        // 10:30 in Buenos Aires (UTC-3) is 13:30 UTC.
        let t = local_to_utc("2026-12-09 10:30", "America/Argentina/Buenos_Aires").unwrap();
        assert_eq!(t, 1_796_823_000_000);
        assert_eq!(local_to_utc("2026-12-09T13:30:00", "UTC").unwrap(), t);
        // New York skips 02:00-03:00 on 2026-03-08.
        let skipped = local_to_utc("2026-03-08 02:30", "America/New_York").unwrap_err();
        assert!(skipped.to_string().contains("does not exist"), "{skipped}");
        assert!(local_to_utc("tomorrow", "UTC")
            .unwrap_err()
            .to_string()
            .contains("2026-12-09 10:30"));
        assert!(local_to_utc("2026-12-09 10:30", "Mars/Olympus")
            .unwrap_err()
            .to_string()
            .contains("Mars/Olympus"));
    }

    #[test]
    fn utc_back_to_the_chosen_zone() {
        let zone = "America/Argentina/Buenos_Aires";
        let t = local_to_utc("2026-12-09 10:30", zone).unwrap();
        assert_eq!(utc_to_local(t, zone), "2026-12-09 10:30");
        assert_eq!(utc_to_local(t, "UTC"), "2026-12-09 13:30");
        assert_eq!(utc_to_local(t, "nowhere"), "2026-12-09 13:30");
    }

    #[test]
    fn the_contact_zone_wins_when_valid() {
        let z = contact_time_zone(r#"{"name":"Ana","tz":"Europe/Madrid"}"#, "UTC");
        assert_eq!(z, "Europe/Madrid");
        assert_eq!(contact_time_zone(r#"{"tz":"nowhere"}"#, "UTC"), "UTC");
        assert_eq!(contact_time_zone("{}", "America/Lima"), "America/Lima");
    }
}
