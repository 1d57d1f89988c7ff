//! The password check and its lock-out policy (SPEC §2.8), for logins and
//! for the current password asked by "change your password".
//!
//! Order of an attempt, and why:
//! 1. A username, client address or IPv6 /64 under an active block is
//!    refused at once, with no password hash computed.
//! 2. A failure "slot" is reserved *before* the hash, atomically in the
//!    database (for the username, then the address, then its /64): while a
//!    counter is at its limit no slot is given, so fifty concurrent wrong
//!    passwords get exactly `limit` hash computations and the others are
//!    refused unhashed.
//! 3. The password is checked on a blocking thread ([`crate::hashing`]), in
//!    the lane kept for known logins when the username, address or /64 has
//!    logged in successfully before ([`crate::known`]).
//! 4. A correct password gives the slots back (the username's counter goes
//!    to zero) and is remembered; a wrong one keeps them, is audited, and
//!    the attempt that used the last slot creates the block.

use oml_config::Lockout;
use oml_store::web::SlotReservation;
use oml_store::{BlockKind, Store, User};
use secrecy::SecretString;
use std::net::IpAddr;
use tokio::sync::OnceCell;

use crate::hashing::{Hasher, Lane};
use crate::known::{Known, Subject};
use crate::{net, WebError};

/// The newest audit entries read at the first attempt to learn where
/// logins succeeded before this server started.
const SEED_FROM_AUDIT: i64 = 5_000;

/// The lock-out settings in the units the code needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub user_limit: i64,
    /// `None` when per-address blocking is off. The same limit applies to
    /// an IPv6 client's /64 network.
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

/// Why a password is being checked: decides the audit actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The login form: audited `login` / `login_failed`.
    Login,
    /// The current password on "change your password": a wrong one is
    /// audited `password_check_failed` and counts like a wrong login.
    CurrentPassword,
}

impl Purpose {
    fn failed_action(self) -> &'static str {
        match self {
            Purpose::Login => "login_failed",
            Purpose::CurrentPassword => "password_check_failed",
        }
    }
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    Success(User),
    /// Wrong username or password (one message for both).
    Invalid,
    /// Refused by a block on the username or the client address (or its
    /// /64). `until` `None` means until an administrator unblocks.
    Blocked {
        kind: BlockKind,
        until: Option<i64>,
    },
}

/// The hashing lanes and the memory of successful logins. One per server.
pub struct LoginGuard {
    hasher: Hasher,
    known: Known,
    seeded: OnceCell<()>,
}

/// The failure slots one attempt holds.
struct Slots {
    user: i64,
    /// (subject, failures) per address subject, when per-address counting is on.
    nets: Vec<(String, i64)>,
}

impl LoginGuard {
    pub fn new() -> Result<LoginGuard, WebError> {
        Self::with_general_threads(Hasher::general_threads_for_this_host())
    }

    /// A guard whose general lane hashes `n` passwords at once (tests).
    pub fn with_general_threads(n: usize) -> Result<LoginGuard, WebError> {
        Ok(LoginGuard {
            hasher: Hasher::new(n)?,
            known: Known::new(crate::known::REMEMBERED),
            seeded: OnceCell::new(),
        })
    }

    /// How many password hashes this server has computed (tests and metrics).
    pub fn hashes_computed(&self) -> u64 {
        self.hasher.hashes_computed()
    }

    /// Attempts now waiting for a hashing thread in `lane`.
    pub fn waiting(&self, lane: Lane) -> usize {
        self.hasher.waiting(lane)
    }

    /// Learns, once, the usernames and addresses of the successful logins
    /// in the newest audit entries (so a restart does not forget them).
    async fn seed(&self, store: &Store) -> Result<(), WebError> {
        self.seeded
            .get_or_try_init(|| async {
                let entries = store
                    .audit_entries(&oml_store::AuditFilter {
                        limit: SEED_FROM_AUDIT,
                        ..Default::default()
                    })
                    .await?;
                for e in entries.iter().filter(|e| e.action == "login") {
                    let mut subjects = vec![Subject::User(e.subject.clone())];
                    if let Some(ip) = e.ip.as_deref().and_then(|i| i.parse::<IpAddr>().ok()) {
                        subjects.extend(net::lockout_subjects(ip).into_iter().map(Subject::Net));
                    }
                    self.known.remember(subjects);
                }
                Ok::<(), WebError>(())
            })
            .await?;
        Ok(())
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
        self.check(store, policy, Purpose::Login, username, password, ip, now)
            .await
    }

    /// Checks `password` for `username` from `ip` under the lock-out
    /// policy: blocks first, failure slots reserved before the hash, the
    /// hash in its lane, then reset or count (and block) and audit.
    #[allow(clippy::too_many_arguments)]
    pub async fn check(
        &self,
        store: &Store,
        policy: &Policy,
        purpose: Purpose,
        username: &str,
        password: SecretString,
        ip: IpAddr,
        now: i64,
    ) -> Result<LoginOutcome, WebError> {
        self.seed(store).await?;
        let ip_text = ip.to_canonical().to_string();
        let nets = if policy.ip_limit.is_some() {
            net::lockout_subjects(ip)
        } else {
            Vec::new()
        };
        // 1. Blocks in force: refuse before any hash.
        if let Some(b) = store.active_block(BlockKind::User, username, now).await? {
            return Ok(LoginOutcome::Blocked {
                kind: BlockKind::User,
                until: b.until_at,
            });
        }
        for subject in &nets {
            if let Some(b) = store.active_block(BlockKind::Ip, subject, now).await? {
                return Ok(LoginOutcome::Blocked {
                    kind: BlockKind::Ip,
                    until: b.until_at,
                });
            }
        }
        // 2. Reserve the failure slots.
        let Some(slots) = self.reserve(store, policy, username, &nets, now).await? else {
            return Ok(LoginOutcome::Blocked {
                kind: BlockKind::Ip,
                until: policy.block_until(now),
            });
        };
        if slots.user == 0 {
            return Ok(LoginOutcome::Blocked {
                kind: BlockKind::User,
                until: policy.block_until(now),
            });
        }
        // 3. The password check, in the lane its subjects earned.
        let mut subjects = vec![Subject::User(username.to_string())];
        subjects.extend(net::lockout_subjects(ip).into_iter().map(Subject::Net));
        let lane = if self.known.any(&subjects) {
            Lane::Known
        } else {
            Lane::General
        };
        let user = store.user_by_name(username).await?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let verified = match self.hasher.verify(password, hash, lane).await {
            Ok(v) => v,
            Err(e) => {
                // Not checked: give the slots back.
                release(store, username, &slots).await?;
                return Err(e);
            }
        };
        let done = oml_store::now_ms();
        // 4. Success resets; failure keeps the slots and may block.
        if let Some(user) = user.filter(|u| verified && u.active) {
            store
                .reset_login_failures(BlockKind::User, username)
                .await?;
            for (subject, _) in &slots.nets {
                store.release_login_slot(BlockKind::Ip, subject).await?;
            }
            self.known.remember(subjects);
            if purpose == Purpose::Login {
                store
                    .audit(done, username, "login", username, Some(&ip_text), "")
                    .await?;
            }
            return Ok(LoginOutcome::Success(user));
        }
        store
            .audit(
                done,
                username,
                purpose.failed_action(),
                username,
                Some(&ip_text),
                &format!("failure {} of {}", slots.user, policy.user_limit),
            )
            .await?;
        let blocked = self
            .block_at_limit(store, policy, username, &ip_text, &slots, done)
            .await?;
        Ok(match blocked {
            Some((kind, until)) => LoginOutcome::Blocked { kind, until },
            None => LoginOutcome::Invalid,
        })
    }

    /// Reserves a slot for the username, then each address subject.
    /// `None`: an address subject is at its limit (the others are given
    /// back); `Some` with `user == 0`: the username is at its limit.
    async fn reserve(
        &self,
        store: &Store,
        policy: &Policy,
        username: &str,
        nets: &[String],
        now: i64,
    ) -> Result<Option<Slots>, WebError> {
        let stale = policy.stale_before(now);
        let user = match store
            .reserve_login_slot(BlockKind::User, username, policy.user_limit, now, stale)
            .await?
        {
            SlotReservation::Reserved(n) => n,
            SlotReservation::Exhausted => {
                return Ok(Some(Slots {
                    user: 0,
                    nets: Vec::new(),
                }))
            }
        };
        let mut slots = Slots {
            user,
            nets: Vec::new(),
        };
        if let Some(limit) = policy.ip_limit {
            for subject in nets {
                match store
                    .reserve_login_slot(BlockKind::Ip, subject, limit, now, stale)
                    .await?
                {
                    SlotReservation::Reserved(n) => slots.nets.push((subject.clone(), n)),
                    SlotReservation::Exhausted => {
                        release(store, username, &slots).await?;
                        return Ok(None);
                    }
                }
            }
        }
        Ok(Some(slots))
    }

    /// Creates the blocks whose counters this failure brought to the limit;
    /// returns the first (username before address).
    async fn block_at_limit(
        &self,
        store: &Store,
        policy: &Policy,
        username: &str,
        ip_text: &str,
        slots: &Slots,
        done: i64,
    ) -> Result<Option<(BlockKind, Option<i64>)>, WebError> {
        let until = policy.block_until(done);
        let mut blocked: Option<(BlockKind, Option<i64>)> = None;
        if slots.user >= policy.user_limit {
            let n = slots.user;
            store
                .create_block(
                    BlockKind::User,
                    username,
                    done,
                    until,
                    n,
                    "too many failed logins",
                )
                .await?;
            store
                .audit(
                    done,
                    "system",
                    "block",
                    username,
                    Some(ip_text),
                    &format!("{n} failed password checks in a row"),
                )
                .await?;
            tracing::warn!(%username, ip = %ip_text, failures = n, "username blocked");
            blocked = Some((BlockKind::User, until));
        }
        let Some(limit) = policy.ip_limit else {
            return Ok(blocked);
        };
        for (subject, n) in slots.nets.iter().filter(|(_, n)| *n >= limit) {
            let what = if subject.ends_with("/64") {
                "this IPv6 /64 network"
            } else {
                "this address"
            };
            store
                .create_block(
                    BlockKind::Ip,
                    subject,
                    done,
                    until,
                    *n,
                    &format!("too many failed logins from {what}"),
                )
                .await?;
            store
                .audit(
                    done,
                    "system",
                    "block",
                    subject,
                    Some(ip_text),
                    &format!("{n} failed password checks from {what}"),
                )
                .await?;
            tracing::warn!(subject = %subject, failures = n, "client address blocked");
            blocked.get_or_insert((BlockKind::Ip, until));
        }
        Ok(blocked)
    }
}

/// Gives back the slots of an attempt that was not checked.
async fn release(store: &Store, username: &str, slots: &Slots) -> Result<(), WebError> {
    store.release_login_slot(BlockKind::User, username).await?;
    for (subject, _) in &slots.nets {
        store.release_login_slot(BlockKind::Ip, subject).await?;
    }
    Ok(())
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
