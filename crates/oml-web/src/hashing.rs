//! Password-checking capacity: argon2id runs on blocking threads, a few at
//! a time, in two lanes.
//!
//! - The **general lane** takes every attempt, at most (cores − 1) hashes at
//!   once (one core stays with the pages), first come first served; beyond
//!   [`MAX_WAITING`] attempts waiting, the next is answered "busy" at once.
//! - The **known lane** adds one more hashing thread for attempts whose
//!   username, address or IPv6 /64 has logged in successfully before
//!   ([`crate::known`]). Such an attempt takes whichever thread frees first,
//!   so a flood of wrong logins from new addresses, however long its queue,
//!   never stands between a real user and the password check.
//!
//! Unknown usernames are checked against a dummy hash, so they take as long
//! as known ones and get the same answer.

use secrecy::SecretString;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::WebError;

/// Attempts waiting for a hashing thread, per lane, beyond which the next
/// is refused with "busy": a flood must not queue without bound.
pub const MAX_WAITING: usize = 512;

/// Which lane an attempt waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    General,
    /// Its username, address or /64 has logged in successfully before.
    Known,
}

/// The hashing threads and the dummy hash. One per server.
pub struct Hasher {
    dummy_hash: String,
    general: Arc<Semaphore>,
    known: Arc<Semaphore>,
    waiting: [AtomicUsize; 2],
    hashes: AtomicU64,
}

/// Counts one waiting attempt of a lane while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hasher {
    /// `general` hashing threads for everyone, plus one for known logins.
    pub fn new(general: usize) -> Result<Hasher, WebError> {
        use rand::distributions::{Alphanumeric, DistString};
        let random: SecretString = Alphanumeric
            .sample_string(&mut rand::rngs::OsRng, 32)
            .into();
        let dummy_hash = oml_store::hash_password(&random)
            .map_err(|e| WebError::Setup(format!("cannot make the dummy password hash: {e}")))?;
        Ok(Hasher {
            dummy_hash,
            general: Arc::new(Semaphore::new(general.max(1))),
            known: Arc::new(Semaphore::new(1)),
            waiting: [AtomicUsize::new(0), AtomicUsize::new(0)],
            hashes: AtomicU64::new(0),
        })
    }

    /// The general lane's size for this machine: one core less than it has.
    pub fn general_threads_for_this_host() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .saturating_sub(1)
            .max(1)
    }

    /// How many password hashes were computed (tests and metrics).
    pub fn hashes_computed(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// Attempts now waiting for a thread in `lane`.
    pub fn waiting(&self, lane: Lane) -> usize {
        self.waiting[lane as usize].load(Ordering::Acquire)
    }

    async fn permit(&self, lane: Lane) -> Result<OwnedSemaphorePermit, WebError> {
        let count = &self.waiting[lane as usize];
        if count.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            count.fetch_sub(1, Ordering::AcqRel);
            return Err(WebError::Busy);
        }
        let _waiting = Waiting(count);
        let permit = match lane {
            Lane::General => self.general.clone().acquire_owned().await,
            // Whichever thread frees first; the other wait is dropped.
            Lane::Known => tokio::select! {
                p = self.known.clone().acquire_owned() => p,
                p = self.general.clone().acquire_owned() => p,
            },
        };
        permit.map_err(|_| WebError::Busy)
    }

    /// Checks `password` against `hash` (or the dummy hash, always false) on
    /// a blocking thread of `lane`.
    pub async fn verify(
        &self,
        password: SecretString,
        hash: Option<String>,
        lane: Lane,
    ) -> Result<bool, WebError> {
        let permit = self.permit(lane).await?;
        self.hashes.fetch_add(1, Ordering::Relaxed);
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.clone());
        let ok = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            oml_store::verify_password_hash(&password, &hash)
        })
        .await
        .map_err(|e| WebError::Setup(format!("password check thread failed: {e}")))?;
        Ok(ok && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_known_login_passes_a_full_general_lane() {
        let h = Arc::new(Hasher::new(1).unwrap());
        // The general lane's only thread is taken, and others wait for it.
        let held = h.general.clone().acquire_owned().await.unwrap();
        let queued: Vec<_> = (0..3)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(
                    async move { h.verify("x".to_string().into(), None, Lane::General).await },
                )
            })
            .collect();
        while h.waiting(Lane::General) < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let hash = oml_store::hash_password(&"right password".to_string().into()).unwrap();
        let ok = tokio::time::timeout(
            Duration::from_secs(30),
            h.verify("right password".to_string().into(), Some(hash), Lane::Known),
        )
        .await
        .expect("the known lane does not wait for the general one")
        .unwrap();
        assert!(ok);
        assert_eq!(
            h.waiting(Lane::General),
            3,
            "the general queue is still there"
        );
        drop(held);
        for q in queued {
            assert!(!q.await.unwrap().unwrap(), "the dummy hash never matches");
        }
        assert_eq!(h.hashes_computed(), 4);
        assert_eq!(h.waiting(Lane::General), 0);
    }
}
