//! Agents and their phones (issue 19): each agent's SIP extension and the
//! campaigns they work, checked where they are stored.
//!
//! The extension is used as a pjsip section name and SIP user
//! (`oml_pjsip_agents.conf`), as a dialplan extension (agents' calls match
//! `_X.` in `[oml-agents]`, two digits or more) and as the queue member
//! interface `PJSIP/<extension>` of QueueAdd/QueuePause: digits only, 2 to 15
//! of them (E.164's longest), is what every one of those accepts unchanged.

use crate::users::{UserRow, USER_COLUMNS};
use crate::{hash_password, now_ms, on_pool, validate_password, validate_username};
use crate::{NewUser, Result, Role, Store, StoreError, User};
use std::collections::BTreeMap;

/// The shortest and longest extension.
pub const EXTENSION_LEN: (usize, usize) = (2, 15);

/// An agent's phone and campaigns as given when adding or editing; `None`
/// keeps what is stored (or, for a new agent, the default extension
/// 1000 + id and no campaigns).
#[derive(Debug, Clone, Default)]
pub struct AgentSetup {
    pub extension: Option<String>,
    pub campaigns: Option<Vec<String>>,
}

impl AgentSetup {
    /// What was set, for the audit log: `extension=1001 campaigns=a,b`.
    pub fn describe(&self) -> String {
        let mut parts = vec![];
        if let Some(x) = &self.extension {
            parts.push(format!("extension={x}"));
        }
        if let Some(c) = &self.campaigns {
            parts.push(format!("campaigns={}", c.join(",")));
        }
        parts.join(" ")
    }
}

/// Extensions: 2 to 15 digits (why: see this module's comment).
pub fn validate_extension(ext: &str) -> Result<()> {
    let (min, max) = EXTENSION_LEN;
    if ext.is_empty() || !ext.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StoreError::invalid(
            "extension",
            format!("{ext:?} must be digits only (it names the agent's SIP endpoint, dialplan extension and queue interface PJSIP/<extension>)"),
        ));
    }
    if !(min..=max).contains(&ext.len()) {
        return Err(StoreError::invalid(
            "extension",
            format!("{ext:?} must have {min} to {max} digits"),
        ));
    }
    Ok(())
}

/// Maps a refused default extension (1000 + id, taken by someone's chosen
/// one) to an error saying what to do.
pub(crate) fn default_extension_taken(e: StoreError, username: &str) -> StoreError {
    if e.is_unique_violation() {
        StoreError::invalid(
            "extension",
            format!("the default extension of `{username}` (1000 + its id) belongs to another agent: choose one with --extension"),
        )
    } else {
        e
    }
}

impl Store {
    /// Creates a user and, for an agent, their extension and campaigns, in
    /// one transaction: nothing is stored when any part is refused.
    pub async fn create_user_with(&self, new: &NewUser<'_>, agent: &AgentSetup) -> Result<User> {
        validate_username(new.username)?;
        validate_password(new.password)?;
        let (extension, campaigns) = self.checked_setup(new.role, agent).await?;
        let hash = hash_password(new.password)?;
        let now = now_ms();
        let insert = format!(
            "INSERT INTO users (username, password_hash, role, active, must_change_password, created_at, updated_at)
             VALUES ($1, $2, $3, TRUE, $4, $5, $5) RETURNING {USER_COLUMNS}"
        );
        let set_ext = format!(
            "UPDATE users SET extension = COALESCE($1, CAST(1000 + id AS TEXT))
             WHERE id = $2 RETURNING {USER_COLUMNS}"
        );
        let row: Result<UserRow> = on_pool!(self, |p| async {
            let mut tx = p.begin().await?;
            let mut row = sqlx::query_as::<_, UserRow>(&insert)
                .bind(new.username)
                .bind(&hash)
                .bind(new.role.as_str())
                .bind(new.must_change_password)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| user_taken(e.into(), new.username))?;
            if new.role == Role::Agent {
                row = sqlx::query_as::<_, UserRow>(&set_ext)
                    .bind(extension.as_deref())
                    .bind(row.id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
                for c in campaigns.iter().flatten() {
                    sqlx::query(
                        "INSERT INTO agent_campaigns (user_id, campaign_id) VALUES ($1, $2)",
                    )
                    .bind(row.id)
                    .bind(c)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(row)
        }
        .await);
        match row {
            Ok(r) => r.try_into(),
            Err(e) if e.is_unique_violation() => Err(match &extension {
                Some(x) => self.extension_taken(x).await,
                None => default_extension_taken(e, new.username),
            }),
            Err(e) => Err(e),
        }
    }

    /// Changes an agent's extension and/or campaigns, in one transaction.
    pub async fn set_agent(&self, username: &str, agent: &AgentSetup) -> Result<()> {
        let user = self
            .user_by_name(username)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "user",
                name: username.into(),
            })?;
        if user.role != Role::Agent {
            return Err(StoreError::invalid(
                "role",
                format!("`{username}` is a {}: only agents have an extension and campaigns (change the role first)", user.role),
            ));
        }
        let (extension, campaigns) = self.checked_setup(Role::Agent, agent).await?;
        let done: Result<()> = on_pool!(self, |p| async {
            let mut tx = p.begin().await?;
            if let Some(x) = &extension {
                sqlx::query("UPDATE users SET extension = $1, updated_at = $2 WHERE id = $3")
                    .bind(x)
                    .bind(now_ms())
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(ids) = &campaigns {
                sqlx::query("DELETE FROM agent_campaigns WHERE user_id = $1")
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?;
                for c in ids {
                    sqlx::query(
                        "INSERT INTO agent_campaigns (user_id, campaign_id) VALUES ($1, $2)",
                    )
                    .bind(user.id)
                    .bind(c)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await);
        match (done, &extension) {
            (Err(e), Some(x)) if e.is_unique_violation() => Err(self.extension_taken(x).await),
            (r, _) => r,
        }
    }

    /// The campaigns of every agent that has some: user id → campaign names,
    /// by name.
    pub async fn agent_campaigns(&self) -> Result<BTreeMap<i64, Vec<String>>> {
        let rows: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT a.user_id, c.name FROM agent_campaigns a
             JOIN campaigns c ON c.id = a.campaign_id ORDER BY c.name"
        )
        .fetch_all(p)
        .await?);
        let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (user, name) in rows {
            out.entry(user).or_default().push(name);
        }
        Ok(out)
    }

    /// Checks an agent setup before anything is written: the extension's
    /// form, and each campaign by name (returned as ids).
    async fn checked_setup(
        &self,
        role: Role,
        agent: &AgentSetup,
    ) -> Result<(Option<String>, Option<Vec<i64>>)> {
        if role != Role::Agent && (agent.extension.is_some() || agent.campaigns.is_some()) {
            return Err(StoreError::invalid(
                "role",
                format!("a {role} has no extension or campaigns: only agents do"),
            ));
        }
        let extension = agent.extension.as_deref().map(str::trim);
        if let Some(x) = extension {
            validate_extension(x)?;
        }
        let campaigns = match &agent.campaigns {
            None => None,
            Some(names) => {
                let mut ids = Vec::new();
                for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                    let c = self.campaign_by_name(name).await?.ok_or_else(|| {
                        StoreError::invalid(
                            "campaigns",
                            format!("there is no campaign `{name}` (see `oml campaign list`)"),
                        )
                    })?;
                    if !ids.contains(&c.id) {
                        ids.push(c.id);
                    }
                }
                Some(ids)
            }
        };
        Ok((extension.map(str::to_string), campaigns))
    }

    /// The error for an extension another user already has, naming them.
    async fn extension_taken(&self, ext: &str) -> StoreError {
        let holder: Option<String> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT username FROM users WHERE extension = $1"
        )
        .bind(ext)
        .fetch_optional(p)
        .await
        .ok()
        .flatten());
        StoreError::invalid(
            "extension",
            match holder {
                Some(h) => format!("{ext} is already the extension of `{h}`"),
                None => format!("{ext} is already taken"),
            },
        )
    }
}

fn user_taken(e: StoreError, username: &str) -> StoreError {
    if e.is_unique_violation() {
        StoreError::AlreadyExists {
            what: "user",
            name: username.into(),
        }
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_digits_that_every_use_accepts() {
        for good in ["10", "1001", "123456789012345"] {
            assert!(validate_extension(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "7",
            "1234567890123456",
            "10a",
            "PJSIP/1001",
            "1001,x",
            "10 01",
            "_X.",
        ] {
            let e = validate_extension(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid extension:"), "{bad}: {e}");
        }
    }
}
