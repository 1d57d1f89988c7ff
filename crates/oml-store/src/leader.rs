//! Leadership: which dialer engine paces a campaign when several run on one
//! database. Two engines pacing the same campaign would each dial for the
//! same free agents and abandon calls.
//!
//! A lease is a row of `dialer_leases` (key `node:<name>`,
//! `campaign:<id>`), held by one running engine (its node name and a random
//! token), with an epoch that grows at every change of holder and an expiry
//! on the database's clock. The holder renews it every period; it counts
//! itself the holder only until the moment it *sent* its last successful
//! renewal plus the lease time (its own deadline, on its monotonic clock),
//! and another engine takes it only once the database's clock is past the
//! expiry plus a margin. A frozen, partitioned or dead holder therefore
//! stops by itself before anyone else starts, and is replaced after at most
//! lease time + margin + one period. Nothing depends on a session: it works
//! through PgBouncer's transaction pooling and across a PostgreSQL restart
//! or fail-over (the rows are data like any other).
//!
//! The writes that start calls check the lease in their own transaction
//! ([`Fence`], `Store::with_fence`): the write of an engine that lost its
//! lease fails. On SQLite the same rows serve several engines on one host;
//! a data folder on a network file system takes one engine only (the key
//! `engine:single`). A lease whose holder is a process of this machine
//! that no longer runs is taken at once (`local.rs`).
//!
//! A node's row carries its capacity and a campaign's row why its holder
//! leads it and which node asked for it (`survey.rs`): the engine's
//! leadership task shares the campaigns out from them.

mod acquire;
mod adopt;
mod fence;
mod local;
mod netfs;
mod survey;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

pub use fence::{campaign_key, Fence};
pub(crate) use fence::{db_now, lease_valid};
pub use survey::{LeaseRow, DEFAULT_CAPACITY, MAX_CAPACITY};

use crate::{on_pool, Location, Result, Store, StoreError};

/// How long a renewed lease lasts.
pub const LEASE_TIME: Duration = Duration::from_secs(4);
/// How long after a lease's expiry another engine may take it.
pub const TAKEOVER_MARGIN: Duration = Duration::from_secs(2);
/// The lease of the only engine allowed on a network file system.
const SINGLE_KEY: &str = "engine:single";

/// The leases one running engine holds.
pub struct Leadership {
    store: Store,
    fence: Fence,
    node: String,
    ttl: Duration,
    margin: Duration,
    /// The SQLite data folder and the network file system it is on, if so.
    network_fs: Option<(std::path::PathBuf, String)>,
    /// This process's space (see `local.rs`).
    scope: Option<String>,
    /// The weight written on this node's row.
    capacity: u32,
    /// Key -> the node that asked for it, as of its last renewal.
    asked: HashMap<String, String>,
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("fence", &self.fence)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A new, empty set of leases for the engine running as `node`.
    pub fn leadership(&self, node: &str) -> Leadership {
        let network_fs = match &self.location {
            Location::DataDir(dir) if self.backend() == crate::Backend::Sqlite => {
                netfs::network_fs(dir).map(|fs| (dir.clone(), fs))
            }
            _ => None,
        };
        Leadership {
            store: self.clone(),
            fence: Fence::new(local::token(node)),
            node: node.to_owned(),
            ttl: LEASE_TIME,
            margin: TAKEOVER_MARGIN,
            network_fs,
            scope: local::scope(),
            capacity: DEFAULT_CAPACITY,
            asked: HashMap::new(),
        }
    }

    /// This store, whose attempt inserts and claims are valid only under
    /// the leases of `fence` (the engine's writer and claims use it).
    pub fn with_fence(&self, fence: Fence) -> Store {
        Store {
            fence: Some(fence),
            ..self.clone()
        }
    }

    /// The fence the writes that start calls check, if any.
    pub(crate) fn fence(&self) -> Option<&Fence> {
        self.fence.as_ref()
    }
}

/// Runs a lease query, failing when the database does not answer in time
/// (a partitioned connection must not hold the holder past its deadline).
async fn timely<T>(limit: Duration, f: impl Future<Output = Result<T>>) -> Result<T> {
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r,
        Err(_) => Err(StoreError::Connect {
            target: "the database".into(),
            reason: format!("no answer within {} ms", limit.as_millis()),
        }),
    }
}

impl Leadership {
    /// Other lease and margin times (tests; every engine on one database
    /// must use the same).
    pub fn with_times(mut self, ttl: Duration, margin: Duration) -> Self {
        self.ttl = ttl;
        self.margin = margin;
        self
    }

    /// How long a renewed lease lasts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The capacity this node publishes on its `node:` row (the weight of
    /// its share of the campaigns), at most [`MAX_CAPACITY`].
    pub fn with_capacity(mut self, capacity: u32) -> Self {
        self.capacity = capacity.min(MAX_CAPACITY);
        self
    }

    /// The node that asked for `key` (held by this engine) at its last
    /// renewal, if any.
    pub fn asked_by(&self, key: &str) -> Option<&str> {
        self.asked.get(key).map(String::as_str)
    }

    /// The fence the engine's writes check (shared, renewed by [`hold`]).
    ///
    /// [`hold`]: Leadership::hold
    pub fn fence(&self) -> Fence {
        self.fence.clone()
    }

    /// Holds (takes or renews) every key of `wanted` no one else holds,
    /// releases the others, and returns the keys held now. A key whose
    /// renewal fails stays held until its deadline, then lapses.
    pub async fn hold(&mut self, wanted: &BTreeSet<String>) -> Result<BTreeSet<String>> {
        let wanted = wanted.iter().map(|k| (k.clone(), String::new())).collect();
        self.hold_for(&wanted).await
    }

    /// [`hold`], each key with the reason written on its row ("" none).
    ///
    /// [`hold`]: Leadership::hold
    pub async fn hold_for(
        &mut self,
        wanted: &BTreeMap<String, String>,
    ) -> Result<BTreeSet<String>> {
        let limit = self.ttl / 3;
        if let Some((dir, fs)) = self.network_fs.clone() {
            if !self.acquire(SINGLE_KEY, limit).await? {
                return Err(StoreError::DataDir {
                    path: dir.display().to_string(),
                    reason: format!("it is on a network file system ({fs}), where only one dialer engine may run, and another one runs on it: stop it, or move the data folder to a local disk, or use PostgreSQL for several nodes"),
                });
            }
        }
        for key in self.fence.all_keys() {
            if !wanted.contains_key(&key) && key != SINGLE_KEY {
                // Not writable from now on, whatever the database says.
                self.fence.remove(&key);
                self.asked.remove(&key);
                let _ = timely(limit, self.release(&key)).await;
            }
        }
        let mut result = Ok(());
        for (key, reason) in wanted {
            if let Err(e) = self.acquire_for(key, reason, limit).await {
                result = Err(e);
                break;
            }
        }
        let mut held = self.fence.live_keys();
        held.remove(SINGLE_KEY);
        result.map(|()| held)
    }

    /// Whether another engine holds `key` now, or may still act on it (its
    /// expiry plus the margin is not past).
    pub async fn held_elsewhere(&self, key: &str) -> Result<bool> {
        if self.fence.epoch(key).is_some() {
            return Ok(false);
        }
        let now = db_now(self.store.backend());
        let sql =
            format!("SELECT holder, expires_at + $2 >= {now} FROM dialer_leases WHERE key = $1");
        let margin = self.margin.as_millis() as i64;
        let store = &self.store;
        let row: Option<(String, bool)> = timely(self.ttl / 3, async {
            Ok(on_pool!(store, |p| sqlx::query_as(&sql)
                .bind(key)
                .bind(margin)
                .fetch_optional(p)
                .await?))
        })
        .await?;
        Ok(row.is_some_and(|(holder, live)| {
            live && holder != self.fence.holder() && !self.dead_here(&holder)
        }))
    }

    /// The keys held now.
    pub fn held(&self) -> BTreeSet<String> {
        let mut held = self.fence.live_keys();
        held.remove(SINGLE_KEY);
        held
    }

    /// The earliest deadline of the keys held: past it, the engine must
    /// have stopped acting on that lease.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.fence.next_deadline()
    }

    /// Lets go of every lease.
    pub async fn release_all(&mut self) {
        self.fence.clear();
        self.asked.clear();
        let store = &self.store;
        let _ = timely(self.ttl / 3, async {
            on_pool!(store, |p| sqlx::query(
                "UPDATE dialer_leases SET expires_at = 0 WHERE holder = $1"
            )
            .bind(self.fence.holder())
            .execute(p)
            .await
            .map(|_| ())?);
            Ok(())
        })
        .await;
    }
}
