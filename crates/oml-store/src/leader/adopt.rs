//! Who follows an open call: the node that placed it, until it stops; then
//! the node that adopts it (`call_attempts.followed_by`). Adoption is one
//! compare-and-set per attempt, so when two live nodes reach for the calls
//! of a dead one (one leads the campaign again, the other tidies a paused
//! campaign), each call gets exactly one follower.

use crate::dialing::OpenAttempt;
use crate::{on_pool, Result, Store};

/// An open attempt's columns, with its follower as `node`.
const COLUMNS: &str = "id, campaign_id, contact_id, attempt_no, server_id, channel_id, placed_at,
     answered_at, connected_at, COALESCE(followed_by, node) AS node";

impl Store {
    /// Open attempts (no outcome yet) that `node` follows: those it placed
    /// and nobody adopted, and those it adopted.
    pub async fn open_attempts_followed_by(&self, node: &str) -> Result<Vec<OpenAttempt>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM call_attempts
             WHERE outcome IS NULL AND COALESCE(followed_by, node) = $1 ORDER BY id"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, OpenAttempt>(&sql)
            .bind(node)
            .fetch_all(p)
            .await?))
    }

    /// Open attempts followed by nodes other than `node` (their `node` field
    /// is the follower).
    pub async fn open_attempts_followed_by_others(&self, node: &str) -> Result<Vec<OpenAttempt>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM call_attempts
             WHERE outcome IS NULL AND COALESCE(followed_by, node) <> $1 ORDER BY id"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, OpenAttempt>(&sql)
            .bind(node)
            .fetch_all(p)
            .await?))
    }

    /// `node` adopts these open attempts from the follower each names (its
    /// `node` field): returns those it won, still open and not taken by
    /// another node meanwhile.
    pub async fn adopt_attempts(
        &self,
        node: &str,
        attempts: &[OpenAttempt],
    ) -> Result<Vec<OpenAttempt>> {
        let mut won = Vec::new();
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            for a in attempts {
                let n = sqlx::query(
                    "UPDATE call_attempts SET followed_by = $1
                     WHERE id = $2 AND outcome IS NULL AND COALESCE(followed_by, node) = $3",
                )
                .bind(node)
                .bind(a.id)
                .bind(&a.node)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    won.push(OpenAttempt {
                        node: node.to_owned(),
                        ..a.clone()
                    });
                }
            }
            tx.commit().await?;
        });
        Ok(won)
    }
}
