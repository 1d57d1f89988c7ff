//! What the CSV exports read (issue 20 item 4): a campaign's attempts and
//! its per-minute history, a page at a time by key, so an export of any
//! size holds one page in memory and no transaction open between pages.
//! Contacts are paged by `contact_history::campaign_contacts`.

use serde::Serialize;

use crate::history::{CampaignMinute, MINUTE_COLUMNS};
use crate::{on_pool, Result, Store, StoreError};

/// Rows per page of an export.
pub const EXPORT_PAGE: i64 = 1000;

/// One attempt as exported: with its contact's phone and its server's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ExportAttempt {
    pub id: i64,
    pub contact_id: i64,
    pub phone: String,
    pub attempt_no: i64,
    pub placed_at: i64,
    pub answered_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub outcome: Option<String>,
    pub hangup_cause: Option<i64>,
    pub agent: Option<String>,
    pub server: Option<String>,
    pub node: String,
    pub channel_id: String,
}

fn check_page(limit: i64) -> Result<()> {
    if (1..=10 * EXPORT_PAGE).contains(&limit) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "limit",
            format!("{limit} is out of range: give 1 to {}", 10 * EXPORT_PAGE),
        ))
    }
}

impl Store {
    /// Up to `limit` attempts of the campaign placed in `[from_ms, to_ms)`
    /// after key `after` (placed at, id; `(i64::MIN, i64::MIN)` for the
    /// first page), in that order. The key follows the index on (campaign,
    /// placed at), so each page starts where the last ended: an export reads
    /// each row once (keyed by id alone, each page re-read and sorted the
    /// campaign's rows before it: 67 s for 100,000 on SQLite in a debug
    /// build).
    pub async fn export_attempts(
        &self,
        campaign_id: i64,
        from_ms: i64,
        to_ms: i64,
        after: (i64, i64),
        limit: i64,
    ) -> Result<Vec<ExportAttempt>> {
        check_page(limit)?;
        // One lower bound on placed_at, for the index range.
        let (lo, after_id) = if after.0 >= from_ms {
            after
        } else {
            (from_ms, i64::MIN)
        };
        Ok(on_pool!(self, |p| sqlx::query_as::<_, ExportAttempt>(
            "SELECT a.id, a.contact_id, k.phone, a.attempt_no, a.placed_at, a.answered_at,
                    a.connected_at, a.ended_at, a.outcome, a.hangup_cause, a.agent,
                    s.name AS server, a.node, a.channel_id
               FROM call_attempts a
               JOIN contacts k ON k.id = a.contact_id
               LEFT JOIN asterisk_servers s ON s.id = a.server_id
              WHERE a.campaign_id = $1 AND a.placed_at >= $2 AND a.placed_at < $3
                AND (a.placed_at > $2 OR a.id > $4)
              ORDER BY a.placed_at, a.id LIMIT $5"
        )
        .bind(campaign_id)
        .bind(lo)
        .bind(to_ms)
        .bind(after_id)
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    /// Up to `limit` minutes of the campaign in `[from_ms, to_ms)` after
    /// the minute `after_ms` (exclusive), oldest first.
    pub async fn export_minutes(
        &self,
        campaign_id: i64,
        from_ms: i64,
        to_ms: i64,
        after_ms: Option<i64>,
        limit: i64,
    ) -> Result<Vec<CampaignMinute>> {
        check_page(limit)?;
        let from = after_ms.map_or(from_ms, |a| from_ms.max(a + 1));
        let sql = format!(
            "SELECT {MINUTE_COLUMNS} FROM campaign_minutes \
             WHERE campaign_id = $1 AND minute_at >= $2 AND minute_at < $3 \
             ORDER BY minute_at LIMIT $4"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, CampaignMinute>(
            &sql
        )
        .bind(campaign_id)
        .bind(from)
        .bind(to_ms)
        .bind(limit)
        .fetch_all(p)
        .await?))
    }
}
