//! Taking, renewing and releasing one lease row: the compare-and-set that
//! gives a key to one engine at a time (its epoch grows at every change of
//! holder), writes a node's capacity and a campaign's reason, and reads
//! back who asked for it.

use std::time::{Duration, Instant};

use super::{db_now, timely, Leadership};
use crate::{on_pool, Result};

impl Leadership {
    /// Takes or renews `key`: `true` held, `false` another engine holds it
    /// (the fence forgets it).
    pub(super) async fn acquire(&mut self, key: &str, limit: Duration) -> Result<bool> {
        self.acquire_for(key, "", limit).await
    }

    /// [`acquire`](Leadership::acquire), writing `reason` (a campaign's)
    /// and this node's capacity (its name's row).
    pub(super) async fn acquire_for(
        &mut self,
        key: &str,
        reason: &str,
        limit: Duration,
    ) -> Result<bool> {
        let sent = Instant::now();
        let now = db_now(self.store.backend());
        // A holder that died on this machine is replaced at once.
        let dead = match self.fence.epoch(key) {
            Some(_) => None,
            None => timely(limit, self.holder_of(key))
                .await?
                .filter(|h| self.dead_here(h)),
        };
        let sql = format!(
            "INSERT INTO dialer_leases (key, holder, node, epoch, expires_at, capacity, reason)
             VALUES ($1, $2, $3, 1, {now} + $4, $7, $8)
             ON CONFLICT (key) DO UPDATE SET
                 epoch = CASE WHEN dialer_leases.holder = excluded.holder
                                   AND dialer_leases.expires_at > {now}
                              THEN dialer_leases.epoch ELSE dialer_leases.epoch + 1 END,
                 asked_by = CASE WHEN dialer_leases.holder = excluded.holder
                                 THEN dialer_leases.asked_by END,
                 holder = excluded.holder, node = excluded.node, expires_at = excluded.expires_at,
                 capacity = excluded.capacity, reason = excluded.reason
             WHERE dialer_leases.holder = excluded.holder OR dialer_leases.expires_at + $5 < {now}
                OR dialer_leases.holder = $6
             RETURNING epoch, asked_by"
        );
        let ttl = self.ttl.as_millis() as i64;
        let margin = self.margin.as_millis() as i64;
        let capacity = key.starts_with("node:").then_some(i64::from(self.capacity));
        let reason = (!reason.is_empty()).then_some(reason);
        let store = &self.store;
        let row: Option<(i64, Option<String>)> = timely(limit, async {
            Ok(on_pool!(store, |p| sqlx::query_as(&sql)
                .bind(key)
                .bind(self.fence.holder())
                .bind(&self.node)
                .bind(ttl)
                .bind(margin)
                .bind(&dead)
                .bind(capacity)
                .bind(reason)
                .fetch_optional(p)
                .await?))
        })
        .await?;
        match row {
            Some((e, asked)) => {
                self.fence.set(key, e, sent + self.ttl);
                match asked {
                    Some(n) => self.asked.insert(key.to_owned(), n),
                    None => self.asked.remove(key),
                };
                Ok(true)
            }
            None => {
                self.fence.remove(key);
                self.asked.remove(key);
                Ok(false)
            }
        }
    }

    /// The holder named in `key`'s row, if any.
    pub(super) async fn holder_of(&self, key: &str) -> Result<Option<String>> {
        let store = &self.store;
        Ok(on_pool!(store, |p| sqlx::query_scalar(
            "SELECT holder FROM dialer_leases WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(p)
        .await?))
    }

    pub(super) fn dead_here(&self, holder: &str) -> bool {
        super::local::dead_here(holder, self.scope.as_deref(), std::path::Path::new("/proc"))
    }

    /// Lets go of `key` at once (the next engine need not wait).
    pub(super) async fn release(&self, key: &str) -> Result<()> {
        let store = &self.store;
        on_pool!(store, |p| sqlx::query(
            "UPDATE dialer_leases SET expires_at = 0 WHERE key = $1 AND holder = $2"
        )
        .bind(key)
        .bind(self.fence.holder())
        .execute(p)
        .await
        .map(|_| ())?);
        Ok(())
    }
}
