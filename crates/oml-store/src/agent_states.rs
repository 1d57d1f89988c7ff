//! What each agent is doing (issue 19): ready, paused with a reason, or
//! previewing a contact, stored as spans of time (schema 14). The open span
//! is the agent's state, the same on every node serving the agent page and
//! for supervisors; closed spans measure time in each state (the preview
//! time the simulator models). Logged out is having no open span.

use crate::{on_pool, Result, Store, StoreError};
use serde::Serialize;

/// The states an agent logged in to their queues can be in.
pub const AGENT_STATES: [&str; 3] = ["ready", "paused", "preview"];

/// Longest pause reason.
pub const MAX_REASON_LEN: usize = 40;

/// An agent's open span: what they are doing since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AgentState {
    pub user_id: i64,
    /// One of [`AGENT_STATES`].
    pub state: String,
    /// The pause reason (`None` unless paused).
    pub reason: Option<String>,
    /// Unix ms.
    pub started_at: i64,
}

/// Checks a state and its reason before anything is written.
pub fn validate_agent_state(state: &str, reason: Option<&str>) -> Result<()> {
    if !AGENT_STATES.contains(&state) {
        return Err(StoreError::invalid(
            "state",
            format!(
                "`{state}` is not an agent state: use one of {}",
                AGENT_STATES.join(", ")
            ),
        ));
    }
    match reason {
        Some(r) if state != "paused" => Err(StoreError::invalid(
            "reason",
            format!("only a pause has a reason (got `{r}` for {state})"),
        )),
        Some(r) if r.trim().is_empty() || r.chars().count() > MAX_REASON_LEN => {
            Err(StoreError::invalid(
                "reason",
                format!("a pause reason has 1 to {MAX_REASON_LEN} characters"),
            ))
        }
        _ => Ok(()),
    }
}

impl Store {
    /// Ends the agent's open span at `now` and, unless `next` is `None`
    /// (logged out), opens `next` = (state, reason), in one transaction.
    pub async fn set_agent_state(
        &self,
        user_id: i64,
        next: Option<(&str, Option<&str>)>,
        now: i64,
    ) -> Result<()> {
        if let Some((state, reason)) = next {
            validate_agent_state(state, reason)?;
        }
        on_pool!(self, |p| {
            async {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE agent_states SET ended_at = $2 WHERE user_id = $1 AND ended_at IS NULL",
            )
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if let Some((state, reason)) = next {
                sqlx::query(
                    "INSERT INTO agent_states (user_id, state, reason, started_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(user_id)
                .bind(state)
                .bind(reason.map(str::trim))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await
        })
    }

    /// The agent's open span; `None` when logged out.
    pub async fn agent_state(&self, user_id: i64) -> Result<Option<AgentState>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT user_id, state, reason, started_at FROM agent_states
             WHERE user_id = $1 AND ended_at IS NULL"
        )
        .bind(user_id)
        .fetch_optional(p)
        .await?))
    }

    /// Every logged-in agent's open span, by user id.
    pub async fn agent_states(&self) -> Result<Vec<AgentState>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT user_id, state, reason, started_at FROM agent_states
             WHERE ended_at IS NULL ORDER BY user_id"
        )
        .fetch_all(p)
        .await?))
    }

    /// Milliseconds agent `user_id` spent in `state` within [`from`, `to`)
    /// (an open span counts until `to`).
    pub async fn agent_state_ms(
        &self,
        user_id: i64,
        state: &str,
        from: i64,
        to: i64,
    ) -> Result<i64> {
        let ms: Option<i64> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT CAST(SUM(
                 CASE WHEN COALESCE(ended_at, $4) < $4 THEN COALESCE(ended_at, $4) ELSE $4 END
                 - CASE WHEN started_at > $3 THEN started_at ELSE $3 END) AS BIGINT)
             FROM agent_states
             WHERE user_id = $1 AND state = $2 AND started_at < $4 AND COALESCE(ended_at, $4) > $3"
        )
        .bind(user_id)
        .bind(state)
        .bind(from)
        .bind(to)
        .fetch_one(p)
        .await?);
        Ok(ms.unwrap_or(0))
    }
}
