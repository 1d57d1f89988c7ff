//! Storage the web console needs beyond plain users: server-side login
//! sessions (`web_sessions`) and the lock-out "attempt slot" reservation.
//!
//! The slot reservation exists so that the login code can count a failure
//! *before* it computes a password hash: a conditional upsert that only adds
//! one while the counter is under the limit. Fifty concurrent wrong
//! passwords therefore get exactly `limit` slots (and hash computations);
//! the rest are refused by the database, atomically, on both backends.

use crate::lockout::BlockKind;
use crate::{on_pool, Result, Role, Store, User};

/// A console login session. The cookie carries a random token; only its
/// SHA-256 (`token_hash`) is stored, so a leaked database holds no live
/// session tokens.
#[derive(Clone)]
pub struct WebSession {
    pub token_hash: String,
    pub user_id: i64,
    /// The per-session anti-CSRF token every state-changing form carries.
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: Option<String>,
}

impl std::fmt::Debug for WebSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSession")
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("ip", &self.ip)
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct SessionUserRow {
    token_hash: String,
    user_id: i64,
    csrf_token: String,
    s_created_at: i64,
    last_seen_at: i64,
    ip: Option<String>,
    username: String,
    password_hash: String,
    role: String,
    active: bool,
    must_change_password: bool,
    extension: Option<String>,
    u_created_at: i64,
    updated_at: i64,
}

/// What a slot reservation answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotReservation {
    /// The attempt may proceed; it is already counted as failure number `n`.
    Reserved(i64),
    /// The counter is at the limit: refuse without checking the password.
    Exhausted,
}

impl Store {
    /// Counts one login attempt against `subject` *if* its consecutive
    /// failures are below `limit` (or older than `stale_before`, in which case
    /// the counter restarts at 1). Atomic: concurrent callers never get more
    /// than `limit` slots between two resets.
    pub async fn reserve_login_slot(
        &self,
        kind: BlockKind,
        subject: &str,
        limit: i64,
        now: i64,
        stale_before: Option<i64>,
    ) -> Result<SlotReservation> {
        let stale = stale_before.unwrap_or(i64::MIN);
        let n: Option<i64> = on_pool!(self, |p| {
            sqlx::query_scalar(
                "INSERT INTO login_failures (kind, subject, failures, first_failure_at, last_failure_at)
                 VALUES ($1, $2, 1, $3, $3)
                 ON CONFLICT (kind, subject) DO UPDATE SET
                   failures = CASE WHEN login_failures.last_failure_at < $5 THEN 1
                                   ELSE login_failures.failures + 1 END,
                   first_failure_at = CASE WHEN login_failures.last_failure_at < $5
                                   THEN excluded.first_failure_at ELSE login_failures.first_failure_at END,
                   last_failure_at = excluded.last_failure_at
                 WHERE login_failures.failures < $4 OR login_failures.last_failure_at < $5
                 RETURNING failures",
            )
            .bind(kind.as_str())
            .bind(subject)
            .bind(now)
            .bind(limit)
            .bind(stale)
            .fetch_optional(p)
            .await?
        });
        Ok(match n {
            Some(n) => SlotReservation::Reserved(n),
            None => SlotReservation::Exhausted,
        })
    }

    /// Gives back one reserved slot (the attempt turned out not to be a
    /// failure of this subject, e.g. a correct password from this IP).
    pub async fn release_login_slot(&self, kind: BlockKind, subject: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE login_failures SET failures = failures - 1
             WHERE kind = $1 AND subject = $2 AND failures > 0"
        )
        .bind(kind.as_str())
        .bind(subject)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Stores a new session.
    pub async fn create_web_session(&self, s: &WebSession) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, ip)
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(&s.token_hash)
        .bind(s.user_id)
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.ip.as_deref())
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(())
    }

    /// The session with this token hash and its user, in one query.
    pub async fn web_session(&self, token_hash: &str) -> Result<Option<(WebSession, User)>> {
        let row = on_pool!(self, |p| sqlx::query_as::<_, SessionUserRow>(
            "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at AS s_created_at,
                    s.last_seen_at, s.ip, u.username, u.password_hash, u.role, u.active,
                    u.must_change_password, u.extension, u.created_at AS u_created_at, u.updated_at
             FROM web_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await?);
        let Some(r) = row else { return Ok(None) };
        let role: Role = r.role.parse()?;
        Ok(Some((
            WebSession {
                token_hash: r.token_hash,
                user_id: r.user_id,
                csrf_token: r.csrf_token,
                created_at: r.s_created_at,
                last_seen_at: r.last_seen_at,
                ip: r.ip,
            },
            User {
                id: r.user_id,
                username: r.username,
                password_hash: r.password_hash,
                role,
                active: r.active,
                must_change_password: r.must_change_password,
                extension: r.extension,
                created_at: r.u_created_at,
                updated_at: r.updated_at,
            },
        )))
    }

    /// Records activity on a session (the idle timer restarts).
    pub async fn touch_web_session(&self, token_hash: &str, now: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE web_sessions SET last_seen_at = $1 WHERE token_hash = $2"
        )
        .bind(now)
        .bind(token_hash)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Ends one session (logout).
    pub async fn delete_web_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM web_sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Ends every session of a user (deactivation, password reset, role change).
    pub async fn delete_web_sessions_of_user(&self, user_id: i64) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "DELETE FROM web_sessions WHERE user_id = $1"
        )
        .bind(user_id)
        .execute(p)
        .await?
        .rows_affected()))
    }

    /// Deletes sessions idle since before `idle_before`; returns how many.
    pub async fn purge_web_sessions(&self, idle_before: i64) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "DELETE FROM web_sessions WHERE last_seen_at < $1"
        )
        .bind(idle_before)
        .execute(p)
        .await?
        .rows_affected()))
    }
}
