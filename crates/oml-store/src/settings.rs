//! Key/value settings that must survive a restart (the dialer's "play"
//! state, console options).

use crate::{now_ms, on_pool, Result, Store};

impl Store {
    /// The stored value of `key`, if any.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(on_pool!(self, |p| sqlx::query_scalar(
            "SELECT value FROM settings WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(p)
        .await?))
    }

    /// Sets `key` to `value`, replacing any previous value.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        )
        .bind(key)
        .bind(value)
        .bind(now_ms())
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(())
    }
}
