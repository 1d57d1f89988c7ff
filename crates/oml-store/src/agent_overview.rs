//! The supervisor's view of agents (issue 19 item 7): per active agent,
//! what they are doing (logged out, ready, previewing, paused with a reason,
//! wrap-up, or on a call with whom since when) and their calls and talk
//! time since a given moment (the day's start). Read from the agent's open
//! state span (the agent page writes it) and the attempts the engine stored
//! with the agent's name (member name = username, or `PJSIP/<extension>`).

use std::collections::HashMap;

use serde::Serialize;

use crate::{on_pool, AgentState, Result, Store};

/// The pause reason the wrap-up form uses.
pub const WRAP_UP: &str = "wrap-up";

/// The call an agent is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct OnCall {
    #[serde(skip)]
    pub agent: String,
    pub campaign: String,
    pub phone: String,
    /// When it reached the agent (Unix ms).
    pub connected_at: i64,
}

/// One agent as supervisors see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentOverview {
    pub username: String,
    pub extension: Option<String>,
    /// `logged out`, `ready`, `preview`, `paused`, `wrap-up` or `on call`.
    pub state: String,
    /// The pause reason (paused only).
    pub reason: Option<String>,
    /// Since when (Unix ms; the call's connection when on a call).
    pub since: Option<i64>,
    pub call: Option<OnCall>,
    /// Calls connected to the agent since the day's start.
    pub calls_today: i64,
    /// Their talk time (ended calls), in seconds.
    pub talk_s_today: i64,
    /// Of those, ended calls of campaigns with dispositions that have none
    /// (the wrap-up time passed without the form being sent).
    pub undisposed_today: i64,
}

/// What the agent is doing, from their open span and the call they are on.
pub fn display_state(span: Option<&AgentState>, call: Option<&OnCall>) -> (String, Option<String>) {
    if call.is_some() {
        return ("on call".into(), None);
    }
    match span {
        None => ("logged out".into(), None),
        Some(s) if s.state == "paused" && s.reason.as_deref() == Some(WRAP_UP) => {
            (WRAP_UP.into(), None)
        }
        Some(s) => (s.state.clone(), s.reason.clone()),
    }
}

impl Store {
    /// Every active agent, by name, with their state now and their calls
    /// since `day_start` (Unix ms).
    pub async fn agents_overview(&self, day_start: i64) -> Result<Vec<AgentOverview>> {
        self.agents_overview_zoned(day_start, &HashMap::new()).await
    }

    /// Every active agent with their calls "today", where campaign `id`'s
    /// day starts at `day_starts[id]` (midnight in its time zone) and any
    /// other's at `default_start`.
    pub async fn agents_overview_zoned(
        &self,
        default_start: i64,
        day_starts: &HashMap<i64, i64>,
    ) -> Result<Vec<AgentOverview>> {
        let agents: Vec<(i64, String, Option<String>)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, username, extension FROM users
             WHERE role = 'agent' AND active ORDER BY username"
        )
        .fetch_all(p)
        .await?);
        let spans: HashMap<i64, AgentState> = self
            .agent_states()
            .await?
            .into_iter()
            .map(|s| (s.user_id, s))
            .collect();
        let calls: Vec<OnCall> = on_pool!(self, |p| sqlx::query_as(
            "SELECT a.agent, c.name AS campaign, k.phone, a.connected_at
               FROM call_attempts a JOIN campaigns c ON c.id = a.campaign_id
               JOIN contacts k ON k.id = a.contact_id
              WHERE a.outcome IS NULL AND a.connected_at IS NOT NULL AND a.agent IS NOT NULL
              ORDER BY a.connected_at"
        )
        .fetch_all(p)
        .await?);
        // Each campaign's start, written into the query as numbers.
        let earliest = day_starts.values().copied().fold(default_start, i64::min);
        let mut cases = String::new();
        for (id, start) in day_starts {
            cases.push_str(&format!(" WHEN {id} THEN {start}"));
        }
        let since = if cases.is_empty() {
            "$1".to_string()
        } else {
            format!("CASE campaign_id{cases} ELSE $1 END")
        };
        let sql = format!(
            "SELECT agent, COUNT(*), CAST(SUM(ended_at - connected_at) AS BIGINT),
                    CAST(SUM(CASE WHEN ended_at IS NOT NULL AND disposition IS NULL
                              AND campaign_id IN (SELECT campaign_id FROM campaign_dispositions)
                         THEN 1 ELSE 0 END) AS BIGINT)
               FROM call_attempts
              WHERE connected_at >= $2 AND connected_at >= {since} AND agent IS NOT NULL
              GROUP BY agent"
        );
        let totals: Vec<(String, i64, Option<i64>, i64)> = on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(default_start)
            .bind(earliest)
            .fetch_all(p)
            .await?);
        let mut out = Vec::with_capacity(agents.len());
        for (id, username, extension) in agents {
            let iface = extension.as_ref().map(|e| format!("PJSIP/{e}"));
            let mine = |name: &str| name == username || Some(name) == iface.as_deref();
            let call = calls.iter().rev().find(|c| mine(&c.agent)).cloned();
            let (calls_today, talk_ms, undisposed_today) = totals
                .iter()
                .filter(|(a, ..)| mine(a))
                .fold((0, 0, 0), |(n, t, u), (_, c, ms, un)| {
                    (n + c, t + ms.unwrap_or(0), u + un)
                });
            let span = spans.get(&id);
            let (state, reason) = display_state(span, call.as_ref());
            out.push(AgentOverview {
                since: call
                    .as_ref()
                    .map(|c| c.connected_at)
                    .or(span.map(|s| s.started_at)),
                username,
                extension,
                state,
                reason,
                call,
                calls_today,
                talk_s_today: talk_ms / 1000,
                undisposed_today,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(state: &str, reason: Option<&str>) -> AgentState {
        AgentState {
            user_id: 1,
            state: state.into(),
            reason: reason.map(Into::into),
            started_at: 5,
        }
    }

    #[test]
    fn states_as_supervisors_read_them() {
        let call = OnCall {
            agent: "ana".into(),
            campaign: "sales".into(),
            phone: "+1555".into(),
            connected_at: 9,
        };
        assert_eq!(display_state(None, None).0, "logged out");
        assert_eq!(
            display_state(Some(&span("ready", None)), Some(&call)).0,
            "on call"
        );
        assert_eq!(
            display_state(Some(&span("paused", Some("wrap-up"))), None),
            ("wrap-up".into(), None)
        );
        assert_eq!(
            display_state(Some(&span("paused", Some("Lunch"))), None),
            ("paused".into(), Some("Lunch".into()))
        );
        assert_eq!(
            display_state(Some(&span("preview", None)), None).0,
            "preview"
        );
    }
}
