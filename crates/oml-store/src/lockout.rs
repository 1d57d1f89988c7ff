//! Storage for login lock-out: consecutive-failure counters and blocks, per
//! username and per client IP. The policy (limits, cool-off, when to count)
//! lives with the login code; these are the atomic primitives it needs.

use crate::{on_pool, Result, Store, StoreError};
use serde::Serialize;

/// What a block or counter applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockKind {
    User,
    Ip,
}

impl BlockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::User => "user",
            BlockKind::Ip => "ip",
        }
    }
}

impl std::str::FromStr for BlockKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "user" => Ok(BlockKind::User),
            "ip" => Ok(BlockKind::Ip),
            other => Err(StoreError::invalid("block kind", other.to_string())),
        }
    }
}

/// A block on a username or an IP.
#[derive(Debug, Clone, Serialize)]
pub struct Block {
    pub id: i64,
    pub kind: BlockKind,
    pub subject: String,
    pub since_at: i64,
    /// `None`: until an administrator unblocks.
    pub until_at: Option<i64>,
    pub failures: i64,
    pub reason: String,
}

#[derive(sqlx::FromRow)]
struct BlockRow {
    id: i64,
    kind: String,
    subject: String,
    since_at: i64,
    until_at: Option<i64>,
    failures: i64,
    reason: String,
}

impl TryFrom<BlockRow> for Block {
    type Error = StoreError;
    fn try_from(r: BlockRow) -> Result<Block> {
        Ok(Block {
            id: r.id,
            kind: r.kind.parse()?,
            subject: r.subject,
            since_at: r.since_at,
            until_at: r.until_at,
            failures: r.failures,
            reason: r.reason,
        })
    }
}

const ACTIVE: &str = "unblocked_at IS NULL AND (until_at IS NULL OR until_at > $1)";

impl Store {
    /// The current consecutive-failure count of `subject`.
    pub async fn login_failures(&self, kind: BlockKind, subject: &str) -> Result<i64> {
        let n: Option<i64> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT failures FROM login_failures WHERE kind = $1 AND subject = $2"
        )
        .bind(kind.as_str())
        .bind(subject)
        .fetch_optional(p)
        .await?);
        Ok(n.unwrap_or(0))
    }

    /// Sets the counter of `subject` back to zero (a success, or an unblock).
    pub async fn reset_login_failures(&self, kind: BlockKind, subject: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM login_failures WHERE kind = $1 AND subject = $2"
        )
        .bind(kind.as_str())
        .bind(subject)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Records a block. `until_at` `None` lasts until an administrator unblocks.
    pub async fn create_block(
        &self,
        kind: BlockKind,
        subject: &str,
        now: i64,
        until_at: Option<i64>,
        failures: i64,
        reason: &str,
    ) -> Result<Block> {
        let row = on_pool!(self, |p| sqlx::query_as::<_, BlockRow>(
            "INSERT INTO login_blocks (kind, subject, since_at, until_at, failures, reason)
             VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING id, kind, subject, since_at, until_at, failures, reason"
        )
        .bind(kind.as_str())
        .bind(subject)
        .bind(now)
        .bind(until_at)
        .bind(failures)
        .bind(reason)
        .fetch_one(p)
        .await?);
        row.try_into()
    }

    /// The block in force on `subject` at `now`, if any (the longest-lasting).
    pub async fn active_block(
        &self,
        kind: BlockKind,
        subject: &str,
        now: i64,
    ) -> Result<Option<Block>> {
        let sql = format!(
            "SELECT id, kind, subject, since_at, until_at, failures, reason FROM login_blocks
             WHERE {ACTIVE} AND kind = $2 AND subject = $3
             ORDER BY until_at IS NULL DESC, until_at DESC LIMIT 1"
        );
        let row = on_pool!(self, |p| sqlx::query_as::<_, BlockRow>(&sql)
            .bind(now)
            .bind(kind.as_str())
            .bind(subject)
            .fetch_optional(p)
            .await?);
        row.map(Block::try_from).transpose()
    }

    /// Every block in force at `now`, newest first.
    pub async fn active_blocks(&self, now: i64) -> Result<Vec<Block>> {
        let sql = format!(
            "SELECT id, kind, subject, since_at, until_at, failures, reason FROM login_blocks
             WHERE {ACTIVE} ORDER BY since_at DESC, id DESC"
        );
        let rows = on_pool!(self, |p| sqlx::query_as::<_, BlockRow>(&sql)
            .bind(now)
            .fetch_all(p)
            .await?);
        rows.into_iter().map(Block::try_from).collect()
    }

    /// Lifts every block in force on `subject` and resets its failure counter.
    /// Returns how many blocks were lifted (0 when it was not blocked).
    pub async fn unblock(&self, kind: BlockKind, subject: &str, by: &str, now: i64) -> Result<u64> {
        let sql = format!(
            "UPDATE login_blocks SET unblocked_at = $1, unblocked_by = $4
             WHERE {ACTIVE} AND kind = $2 AND subject = $3"
        );
        let n = on_pool!(self, |p| sqlx::query(&sql)
            .bind(now)
            .bind(kind.as_str())
            .bind(subject)
            .bind(by)
            .execute(p)
            .await?
            .rows_affected());
        self.reset_login_failures(kind, subject).await?;
        Ok(n)
    }
}
