//! The audit log: who did what to whom, and when. Append-only.

use crate::{on_pool, Result, Store};
use serde::Serialize;

/// One line of the audit log.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix epoch milliseconds, UTC.
    pub at: i64,
    /// Who acted: a username, `system` or `cli:<os user>`.
    pub actor: String,
    /// What happened: `login`, `login_failed`, `block`, `unblock`, `user_add`...
    pub action: String,
    /// Whom or what it concerned: a username or an IP.
    pub subject: String,
    pub ip: Option<String>,
    pub detail: String,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Entries whose actor or subject is this name.
    pub user: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Appends one entry at time `at`.
    pub async fn audit(
        &self,
        at: i64,
        actor: &str,
        action: &str,
        subject: &str,
        ip: Option<&str>,
        detail: &str,
    ) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO audit_log (at, actor, action, subject, ip, detail) VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(ip)
        .bind(detail)
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(())
    }

    /// The newest entries first, filtered.
    pub async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let limit = if f.limit <= 0 { 200 } else { f.limit };
        Ok(on_pool!(self, |p| sqlx::query_as::<_, AuditEntry>(
            "SELECT id, at, actor, action, subject, ip, detail FROM audit_log
             WHERE ($1 IS NULL OR actor = $1 OR subject = $1)
               AND ($2 IS NULL OR at >= $2)
               AND ($3 IS NULL OR at < $3)
             ORDER BY at DESC, id DESC LIMIT $4"
        )
        .bind(f.user.as_deref())
        .bind(f.from_ms)
        .bind(f.to_ms)
        .bind(limit)
        .fetch_all(p)
        .await?))
    }
}
