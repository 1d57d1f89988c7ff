//! Key/value settings that must survive a restart (the dialer's "play"
//! state, console options).

use crate::{now_ms, on_pool, Result, Store};

/// Settings key of this database's instance id (see [`Store::instance_id`]).
pub const INSTANCE_KEY: &str = "dialer.instance";

impl Store {
    /// This database's instance id: 12 random hexadecimal digits, stored
    /// once (when the schema is created or migrated) and never changed.
    /// The dialer's calls carry it (`OMLINSTANCE`) and the PBX keeps their
    /// records under `OML/CALL/<instance>`, so two oml databases sharing
    /// an Asterisk keep apart what each placed. A backup restored keeps it.
    pub async fn instance_id(&self) -> Result<String> {
        if let Some(id) = self.setting(INSTANCE_KEY).await? {
            return Ok(id);
        }
        self.ensure_instance_id().await?;
        Ok(on_pool!(self, |p| sqlx::query_scalar(
            "SELECT value FROM settings WHERE key = $1"
        )
        .bind(INSTANCE_KEY)
        .fetch_one(p)
        .await?))
    }

    /// Stores a new instance id unless one is stored (two processes racing
    /// keep the first).
    pub(crate) async fn ensure_instance_id(&self) -> Result<()> {
        let id = format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(INSTANCE_KEY)
            .bind(&id)
            .bind(now_ms())
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(())
    }

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

    /// Every setting whose key starts with `prefix`, by key.
    pub async fn settings_under(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let mut pattern = String::with_capacity(prefix.len() + 1);
        for c in prefix.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        Ok(on_pool!(self, |p| sqlx::query_as::<_, (String, String)>(
            "SELECT key, value FROM settings WHERE key LIKE $1 ESCAPE '\\' ORDER BY key"
        )
        .bind(&pattern)
        .fetch_all(p)
        .await?))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::backends;

    #[tokio::test]
    async fn the_instance_id_is_stored_once_and_differs_between_databases() {
        let mut seen = Vec::new();
        for t in backends().await {
            let s = &t.store;
            // Stored when the schema was made.
            let stored = s.setting(super::INSTANCE_KEY).await.unwrap();
            let id = s.instance_id().await.unwrap();
            assert_eq!(stored.as_deref(), Some(id.as_str()), "{}", t.label);
            assert_eq!(id.len(), 12, "{}: {id}", t.label);
            assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
            s.ensure_instance_id().await.unwrap();
            assert_eq!(s.instance_id().await.unwrap(), id, "{}", t.label);
            // The engine's copy, read at open.
            assert_eq!(s.instance(), id, "{}", t.label);
            seen.push(id);
        }
        if let [a, b] = &seen[..] {
            assert_ne!(a, b, "two databases, two instances");
        }
    }

    #[tokio::test]
    async fn settings_under_a_prefix_match_it_literally() {
        for t in backends().await {
            let s = &t.store;
            for (k, v) in [
                ("dialer.status.a", "1"),
                ("dialer.status.b", "2"),
                ("dialer.statusX", "3"),
                ("dialer_status.c", "4"),
                ("dialer.play", "on"),
            ] {
                s.set_setting(k, v).await.unwrap();
            }
            let got = s.settings_under("dialer.status.").await.unwrap();
            let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["dialer.status.a", "dialer.status.b"], "{}", t.label);
            // `_` is not a wildcard.
            let got = s.settings_under("dialer_").await.unwrap();
            assert_eq!(got.len(), 1, "{}", t.label);
        }
    }
}
