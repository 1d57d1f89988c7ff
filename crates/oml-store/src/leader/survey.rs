//! What the lease rows say about the dialer nodes now: which nodes are
//! live and their capacity (the assignment of campaigns to nodes is
//! computed from them), which campaigns are led, by whom and why, and which
//! node asked for a campaign it is assigned. Read in one query, by the
//! leadership task every period and by `oml dialer status`.

use serde::Serialize;

use super::{db_now, timely, Leadership, TAKEOVER_MARGIN};
use crate::{on_pool, Result, Store};

/// A node's capacity when its row has none (a node from before schema 13).
pub const DEFAULT_CAPACITY: u32 = 100;
/// The largest capacity a node may be given.
pub const MAX_CAPACITY: u32 = 10_000;

/// One live lease row: a node's name, or a campaign and its leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseRow {
    /// `node:<name>` or `campaign:<id>`.
    pub key: String,
    /// The node holding it.
    pub node: String,
    /// A node row's capacity (the default for rows without one).
    pub capacity: Option<u32>,
    /// Why its holder leads the campaign.
    pub reason: Option<String>,
    /// The node that is assigned the campaign and asked for it.
    pub asked_by: Option<String>,
    /// Held by the engine that asked (a [`Leadership`] survey only).
    #[serde(skip)]
    pub mine: bool,
    #[serde(skip)]
    holder: String,
}

impl LeaseRow {
    /// The campaign id of a campaign row.
    pub fn campaign(&self) -> Option<i64> {
        self.key.strip_prefix("campaign:")?.parse().ok()
    }

    /// The node name of a node row.
    pub fn node_name(&self) -> Option<&str> {
        self.key.strip_prefix("node:")
    }
}

type Row = (
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// The lease rows whose holder may still act (expiry plus the take-over
    /// margin not past), by key.
    pub async fn live_leases(&self) -> Result<Vec<LeaseRow>> {
        let now = db_now(self.backend());
        let sql = format!(
            "SELECT key, holder, node, capacity, reason, asked_by FROM dialer_leases
             WHERE expires_at + $1 >= {now} ORDER BY key"
        );
        let margin = TAKEOVER_MARGIN.as_millis() as i64;
        let rows: Vec<Row> = on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(margin)
            .fetch_all(p)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(key, holder, node, capacity, reason, asked_by)| {
                let capacity = key.starts_with("node:").then(|| {
                    capacity.map_or(DEFAULT_CAPACITY, |c| c.clamp(0, MAX_CAPACITY as i64) as u32)
                });
                LeaseRow {
                    key,
                    node,
                    capacity,
                    reason,
                    asked_by,
                    mine: false,
                    holder,
                }
            })
            .collect())
    }
}

impl Leadership {
    /// The live lease rows, as this engine sees them: its own marked, those
    /// of a holder that died on this machine left out (see `local.rs`).
    pub async fn survey(&self) -> Result<Vec<LeaseRow>> {
        let rows = timely(self.ttl / 3, self.store.live_leases()).await?;
        let mine = self.fence.holder();
        Ok(rows
            .into_iter()
            .filter_map(|mut r| {
                r.mine = r.holder == mine;
                (r.mine || !self.dead_here(&r.holder)).then_some(r)
            })
            .collect())
    }

    /// Asks the holder of `key` (another engine) to hand it over to this
    /// node, which the assignment gives it: the holder lets go at its next
    /// renewal when it sees the same assignment.
    pub async fn ask_for(&self, key: &str) -> Result<()> {
        let store = &self.store;
        timely(self.ttl / 3, async {
            on_pool!(store, |p| sqlx::query(
                "UPDATE dialer_leases SET asked_by = $1
                 WHERE key = $2 AND holder <> $3 AND (asked_by IS NULL OR asked_by <> $1)"
            )
            .bind(&self.node)
            .bind(key)
            .bind(self.fence.holder())
            .execute(p)
            .await
            .map(|_| ())?);
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
#[path = "survey_tests.rs"]
mod tests;
