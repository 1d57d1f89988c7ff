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
