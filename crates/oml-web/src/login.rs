//! The login check and its lock-out policy (SPEC §2.8).
//!
//! Order of a login attempt, and why:
//! 1. A username or client IP under an active block is refused at once, with
//!    no password hash computed.
//! 2. A failure "slot" is reserved *before* the hash, atomically in the
//!    database (first for the username, then for the IP): while a counter is
//!    at its limit no slot is given, so fifty concurrent wrong passwords get
//!    exactly `limit` hash computations and the others are refused unhashed.
//! 3. The password is checked on a blocking thread, at most a few at a time.
//!    Unknown usernames are checked against a dummy hash, so they take as
//!    long as known ones and get the same answer.
//! 4. A correct password gives the slots back (the username's counter goes
//!    to zero); a wrong one keeps them, and the attempt that used the last
//!    slot creates the block and writes it to the audit log.

use oml_config::Lockout;
use oml_store::web::SlotReservation;
use oml_store::{BlockKind, Store, User};
use secrecy::SecretString;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

use crate::WebError;

/// Attempts waiting for a hashing thread beyond this many are refused with
/// "busy": a flood of logins must not queue without bound.
const MAX_WAITING_HASHES: usize = 512;

/// The lock-out settings in the units the code needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub user_limit: i64,
    /// `None` when per-IP blocking is off.
    pub ip_limit: Option<i64>,
    /// `None`: blocks last until an administrator unblocks.
    pub cool_off_ms: Option<i64>,
}

impl Policy {
    pub fn from_config(c: &Lockout) -> Policy {
        Policy {
            user_limit: i64::from(c.login_failure_limit.max(1)),
            ip_limit: c
                .ip_blocking
                .then_some(i64::from(c.ip_failure_limit.max(1))),
            cool_off_ms: (c.cool_off_seconds > 0).then(|| {
                i64::try_from(c.cool_off_seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
            }),
        }
    }

    /// When a block created at `now` ends (`None`: until unblocked).
    pub fn block_until(&self, now: i64) -> Option<i64> {
        self.cool_off_ms.map(|c| now.saturating_add(c))
    }

    /// Failures older than this no longer count (the cool-off has passed).
    pub fn stale_before(&self, now: i64) -> Option<i64> {
        self.cool_off_ms.map(|c| now.saturating_sub(c))
    }
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    Success(User),
    /// Wrong username or password (one message for both).
    Invalid,
    /// Refused by a block on the username or the client IP. `until` `None`
    /// means until an administrator unblocks.
    Blocked {
        kind: BlockKind,
        until: Option<i64>,
    },
}

/// Hashing capacity and the dummy hash for unknown usernames. One per server.
pub struct LoginGuard {
    dummy_hash: String,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    hashes: AtomicU64,
}

impl LoginGuard {
    pub fn new() -> Result<LoginGuard, WebError> {
        use rand::distributions::{Alphanumeric, DistString};
        let random: SecretString = Alphanumeric
            .sample_string(&mut rand::rngs::OsRng, 32)
            .into();
        let dummy_hash = oml_store::hash_password(&random)
            .map_err(|e| WebError::Setup(format!("cannot make the dummy password hash: {e}")))?;
        // Leave one core to the pages while a brute force runs.
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Ok(LoginGuard {
            dummy_hash,
            permits: Arc::new(Semaphore::new(cores.saturating_sub(1).max(1))),
            waiting: AtomicUsize::new(0),
            hashes: AtomicU64::new(0),
        })
    }

    /// How many password hashes this server has computed (tests and metrics).
    pub fn hashes_computed(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// Checks `password` against `hash` (or the dummy) on a blocking thread.
    async fn verify(&self, password: SecretString, hash: Option<String>) -> Result<bool, WebError> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING_HASHES {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(WebError::Busy);
        }
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let permit = permit.map_err(|_| WebError::Busy)?;
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

    /// One login attempt by `username` from `ip` at `now` (epoch ms).
    pub async fn attempt(
        &self,
        store: &Store,
        policy: &Policy,
        username: &str,
        password: SecretString,
        ip: IpAddr,
        now: i64,
    ) -> Result<LoginOutcome, WebError> {
        let ip_text = ip.to_string();
        // 1. Blocks in force: refuse before any hash.
        if let Some(b) = store.active_block(BlockKind::User, username, now).await? {
            return Ok(LoginOutcome::Blocked {
                kind: BlockKind::User,
                until: b.until_at,
            });
        }
        if policy.ip_limit.is_some() {
            if let Some(b) = store.active_block(BlockKind::Ip, &ip_text, now).await? {
                return Ok(LoginOutcome::Blocked {
                    kind: BlockKind::Ip,
                    until: b.until_at,
                });
            }
        }
        // 2. Reserve the failure slots.
        let stale = policy.stale_before(now);
        let user_n = match store
            .reserve_login_slot(BlockKind::User, username, policy.user_limit, now, stale)
            .await?
        {
            SlotReservation::Reserved(n) => n,
            SlotReservation::Exhausted => {
                return Ok(LoginOutcome::Blocked {
                    kind: BlockKind::User,
                    until: policy.block_until(now),
                });
            }
        };
        let ip_slot = match policy.ip_limit {
            Some(limit) => match store
                .reserve_login_slot(BlockKind::Ip, &ip_text, limit, now, stale)
                .await?
            {
                SlotReservation::Reserved(n) => Some(n),
                SlotReservation::Exhausted => {
                    store.release_login_slot(BlockKind::User, username).await?;
                    return Ok(LoginOutcome::Blocked {
                        kind: BlockKind::Ip,
                        until: policy.block_until(now),
                    });
                }
            },
            None => None,
        };
        // 3. The password check.
        let user = store.user_by_name(username).await?;
        let verified = match self
            .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
            .await
        {
            Ok(v) => v,
            Err(e) => {
                // Not checked: give the slots back.
                store.release_login_slot(BlockKind::User, username).await?;
                if ip_slot.is_some() {
                    store.release_login_slot(BlockKind::Ip, &ip_text).await?;
                }
                return Err(e);
            }
        };
        let done = oml_store::now_ms();
        // 4. Success resets; failure keeps the slot and may block.
        if let Some(user) = user.filter(|u| verified && u.active) {
            store
                .reset_login_failures(BlockKind::User, username)
                .await?;
            if ip_slot.is_some() {
                store.release_login_slot(BlockKind::Ip, &ip_text).await?;
            }
            store
                .audit(done, username, "login", username, Some(&ip_text), "")
                .await?;
            return Ok(LoginOutcome::Success(user));
        }
        store
            .audit(
                done,
                username,
                "login_failed",
                username,
                Some(&ip_text),
                &format!("failure {user_n} of {}", policy.user_limit),
            )
            .await?;
        let mut blocked: Option<(BlockKind, Option<i64>)> = None;
        if user_n >= policy.user_limit {
            let until = policy.block_until(done);
            store
                .create_block(
                    BlockKind::User,
                    username,
                    done,
                    until,
                    user_n,
                    "too many failed logins",
                )
                .await?;
            store
                .audit(
                    done,
                    "system",
                    "block",
                    username,
                    Some(&ip_text),
                    &format!("{user_n} failed logins in a row"),
                )
                .await?;
            tracing::warn!(%username, ip = %ip_text, failures = user_n, "username blocked");
            blocked = Some((BlockKind::User, until));
        }
        if let (Some(n), Some(limit)) = (ip_slot, policy.ip_limit) {
            if n >= limit {
                let until = policy.block_until(done);
                store
                    .create_block(
                        BlockKind::Ip,
                        &ip_text,
                        done,
                        until,
                        n,
                        "too many failed logins from this address",
                    )
                    .await?;
                store
                    .audit(
                        done,
                        "system",
                        "block",
                        &ip_text,
                        Some(&ip_text),
                        &format!("{n} failed logins from this address"),
                    )
                    .await?;
                tracing::warn!(ip = %ip_text, failures = n, "client address blocked");
                if blocked.is_none() {
                    blocked = Some((BlockKind::Ip, until));
                }
            }
        }
        Ok(match blocked {
            Some((kind, until)) => LoginOutcome::Blocked { kind, until },
            None => LoginOutcome::Invalid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_follows_the_config() {
        let p = Policy::from_config(&Lockout::default());
        assert_eq!(p.user_limit, 3);
        assert_eq!(p.ip_limit, Some(20));
        assert_eq!(p.cool_off_ms, Some(300_000));
        assert_eq!(p.block_until(1_000), Some(301_000));
        assert_eq!(p.stale_before(400_000), Some(100_000));

        let forever = Policy::from_config(&Lockout {
            cool_off_seconds: 0,
            ip_blocking: false,
            ..Lockout::default()
        });
        assert_eq!(forever.block_until(5), None);
        assert_eq!(forever.stale_before(5), None);
        assert_eq!(forever.ip_limit, None);
    }
}
