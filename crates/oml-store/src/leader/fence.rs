//! The fencing token an engine's writes carry: which leases this running
//! engine holds, under which epoch, and until when by its own clock. The
//! writes that start calls (an attempt's insert, a claim into the hopper)
//! check it twice: here first (no lease, or its holder's own deadline has
//! passed: refused without asking the database), then in their own
//! transaction against the lease row ([`LEASE_VALID`]), so the write of an
//! engine that lost its lease fails even if it does not know it yet.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::Backend;

/// The leases of one running engine, shared by its leadership task (which
/// renews them) and its store handle (which checks them on every write
/// that starts a call). Cheap to clone.
#[derive(Clone)]
pub struct Fence(Arc<Inner>);

struct Inner {
    /// This running engine: its node name and a random token.
    holder: String,
    /// Key -> (epoch, this engine's own deadline).
    keys: Mutex<HashMap<String, (i64, Instant)>>,
}

impl std::fmt::Debug for Fence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fence")
            .field("holder", &self.0.holder)
            .field("live", &self.live_keys())
            .finish()
    }
}

/// The lease key of a campaign.
pub fn campaign_key(campaign_id: i64) -> String {
    format!("campaign:{campaign_id}")
}

impl Fence {
    pub(crate) fn new(holder: String) -> Fence {
        Fence(Arc::new(Inner {
            holder,
            keys: Mutex::new(HashMap::new()),
        }))
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Instant)>> {
        self.0.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The holder token stored in the lease rows.
    pub fn holder(&self) -> &str {
        &self.0.holder
    }

    pub(crate) fn set(&self, key: &str, epoch: i64, deadline: Instant) {
        self.keys().insert(key.to_owned(), (epoch, deadline));
    }

    pub(crate) fn remove(&self, key: &str) {
        self.keys().remove(key);
    }

    pub(crate) fn clear(&self) {
        self.keys().clear();
    }

    /// The epoch under which `key` may be written now: `None` when it is not
    /// held, or its deadline has passed (the database may give it to
    /// another engine soon: this one stops by itself).
    pub fn epoch(&self, key: &str) -> Option<i64> {
        self.epoch_at(key, Instant::now())
    }

    pub(crate) fn epoch_at(&self, key: &str, now: Instant) -> Option<i64> {
        match self.keys().get(key) {
            Some((epoch, deadline)) if *deadline > now => Some(*epoch),
            _ => None,
        }
    }

    /// The keys held now (deadline not passed).
    pub fn live_keys(&self) -> BTreeSet<String> {
        let now = Instant::now();
        self.keys()
            .iter()
            .filter(|(_, (_, d))| *d > now)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Every key with an entry, live or past its deadline.
    pub(crate) fn all_keys(&self) -> BTreeSet<String> {
        self.keys().keys().cloned().collect()
    }

    /// The earliest deadline of the keys held now.
    pub fn next_deadline(&self) -> Option<Instant> {
        let now = Instant::now();
        self.keys()
            .values()
            .map(|(_, d)| *d)
            .filter(|d| *d > now)
            .min()
    }
}

/// The database's clock in milliseconds since 1970, as an SQL expression
/// (every lease time is taken from it, so nodes' clocks never matter).
pub(crate) fn db_now(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::int8",
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    }
}

/// The lease row check of a write that starts calls, with `{now}` to
/// replace by [`db_now`]: `$H` the holder, `$K` the key, `$E` the epoch
/// (placeholders each caller numbers for itself).
pub(crate) fn lease_valid(backend: Backend, holder: &str, key: &str, epoch: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM dialer_leases l WHERE l.key = {key} AND l.holder = {holder}
                 AND l.epoch = {epoch} AND l.expires_at > {})",
        db_now(backend)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_key_is_writable_until_its_own_deadline() {
        let f = Fence::new("n1#x".into());
        let t0 = Instant::now();
        f.set("campaign:1", 7, t0 + Duration::from_secs(4));
        assert_eq!(f.epoch_at("campaign:1", t0), Some(7));
        assert_eq!(f.epoch_at("campaign:1", t0 + Duration::from_secs(4)), None);
        assert_eq!(f.epoch_at("campaign:2", t0), None);
        f.clone().remove("campaign:1");
        assert_eq!(f.epoch_at("campaign:1", t0), None, "clones share the keys");
        assert_eq!(campaign_key(12), "campaign:12");
    }
}
