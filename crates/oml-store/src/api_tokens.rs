//! Bearer tokens for the JSON API, so a CRM can start and pause campaigns
//! without a browser session. A token belongs to a user and acts with that
//! user's role at the moment it is used (a deactivated user's tokens stop
//! working). Only the token's hash is stored; the caller hashes.

use crate::dialer_config::check_name;
use crate::{on_pool, Result, Store, StoreError, User};

/// One API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    /// What the token is for (`crm`, `wallboard`...), unique per user.
    pub label: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// After this moment (Unix ms) the token is refused; `None` = never.
    pub expires_at: Option<i64>,
}

impl ApiToken {
    /// Whether the token is expired at `now`.
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| now >= t)
    }
}

const TOKEN_COLUMNS: &str =
    "t.id, t.user_id, u.username, t.label, t.created_at, t.last_used_at, t.expires_at";

impl Store {
    /// Stores a new token of `username` called `label`, given its hash,
    /// valid until `expires_at` (Unix ms; `None` = never).
    pub async fn create_api_token(
        &self,
        username: &str,
        label: &str,
        token_hash: &str,
        now: i64,
        expires_at: Option<i64>,
    ) -> Result<ApiToken> {
        if expires_at.is_some_and(|t| t <= now) {
            return Err(StoreError::invalid("expiry", "it must be in the future"));
        }
        check_name("token label", label)?;
        let user = self
            .user_by_name(username)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "user",
                name: username.into(),
            })?;
        let inserted = on_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO api_tokens (user_id, label, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(user.id)
        .bind(label)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        });
        if let Err(e) = inserted {
            let e = StoreError::from(e);
            return Err(if e.is_unique_violation() {
                StoreError::AlreadyExists {
                    what: "API token",
                    name: format!("{username}/{label}"),
                }
            } else {
                e
            });
        }
        self.api_tokens(Some(username))
            .await?
            .into_iter()
            .find(|t| t.label == label)
            .ok_or_else(|| StoreError::NotFound {
                what: "API token",
                name: format!("{username}/{label}"),
            })
    }

    /// Every token (of `username` only, when given), by user then label.
    pub async fn api_tokens(&self, username: Option<&str>) -> Result<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE ($1 IS NULL OR u.username = $1) ORDER BY u.username, t.label"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, ApiToken>(&sql)
            .bind(username)
            .fetch_all(p)
            .await?))
    }

    /// The token with this hash and its user, if any.
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<(ApiToken, User)>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1"
        );
        let token = on_pool!(self, |p| sqlx::query_as::<_, ApiToken>(&sql)
            .bind(token_hash)
            .fetch_optional(p)
            .await?);
        let Some(token) = token else { return Ok(None) };
        Ok(self.user_by_id(token.user_id).await?.map(|u| (token, u)))
    }

    /// Records that a token was used.
    pub async fn touch_api_token(&self, id: i64, now: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2"
        )
        .bind(now)
        .bind(id)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Revokes token `label` of `username`.
    pub async fn delete_api_token(&self, username: &str, label: &str) -> Result<()> {
        let n = on_pool!(self, |p| sqlx::query(
            "DELETE FROM api_tokens WHERE label = $1
               AND user_id = (SELECT id FROM users WHERE username = $2)"
        )
        .bind(label)
        .bind(username)
        .execute(p)
        .await?
        .rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "API token",
                name: format!("{username}/{label}"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::backends;
    use crate::{NewUser, Role, StoreError};

    #[tokio::test]
    async fn tokens_are_per_user_and_label_and_revocable() {
        for t in backends().await {
            let s = &t.store;
            let pw = secrecy::SecretString::from("a long enough password");
            for (name, role) in [("sup", Role::Supervisor), ("ag", Role::Agent)] {
                s.create_user(&NewUser {
                    username: name,
                    password: &pw,
                    role,
                    must_change_password: false,
                })
                .await
                .unwrap();
            }
            let a = s
                .create_api_token("sup", "crm", "h1", 10, None)
                .await
                .unwrap();
            assert_eq!((a.username.as_str(), a.label.as_str()), ("sup", "crm"));
            assert_eq!(a.last_used_at, None);
            s.create_api_token("ag", "crm", "h2", 11, Some(1_000))
                .await
                .unwrap();
            let dup = s
                .create_api_token("sup", "crm", "h3", 12, None)
                .await
                .unwrap_err();
            assert!(matches!(dup, StoreError::AlreadyExists { .. }), "{dup}");
            assert!(dup.to_string().contains("sup/crm"), "{dup}");
            let bad = s
                .create_api_token("sup", "no spaces", "h4", 12, None)
                .await
                .unwrap_err();
            assert!(bad.to_string().contains("token label"), "{bad}");
            let nouser = s
                .create_api_token("zed", "x", "h5", 12, None)
                .await
                .unwrap_err();
            assert!(nouser.to_string().contains("zed"), "{nouser}");

            let past = s
                .create_api_token("sup", "old", "h6", 12, Some(12))
                .await
                .unwrap_err();
            assert!(past.to_string().contains("expiry"), "{past}");
            let (ag, _) = s.api_token_user("h2").await.unwrap().unwrap();
            assert!(!ag.expired(999) && ag.expired(1_000));
            let (tok, user) = s.api_token_user("h1").await.unwrap().unwrap();
            assert!(!tok.expired(i64::MAX), "no expiry: never expires");
            assert_eq!((tok.id, user.username.as_str()), (a.id, "sup"));
            assert!(s.api_token_user("nope").await.unwrap().is_none());
            s.touch_api_token(a.id, 99).await.unwrap();
            assert_eq!(
                s.api_tokens(Some("sup")).await.unwrap()[0].last_used_at,
                Some(99)
            );
            assert_eq!(s.api_tokens(None).await.unwrap().len(), 2);

            s.delete_api_token("sup", "crm").await.unwrap();
            assert!(s.api_token_user("h1").await.unwrap().is_none());
            let gone = s.delete_api_token("sup", "crm").await.unwrap_err();
            assert!(matches!(gone, StoreError::NotFound { .. }), "{gone}");
            assert_eq!(s.api_tokens(None).await.unwrap().len(), 1);
        }
    }
}
