//! The call an agent is on, for the agent page's screen pop (issue 19
//! item 3): the newest attempt the engine stored as connected to the agent
//! (`call_attempts.agent`, written as soon as Asterisk reports
//! AgentConnect), with its campaign. The contact's fields and earlier
//! outcomes come from [`Store::contact_history`].

use crate::{on_pool, Result, Store};
use serde::Serialize;

/// An agent's newest connected call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AgentCall {
    /// The attempt's row id.
    pub attempt_id: i64,
    pub campaign_id: i64,
    pub campaign: String,
    pub contact_id: i64,
    pub attempt_no: i64,
    pub phone: String,
    pub connected_at: Option<i64>,
    /// `None` while the call goes on.
    pub ended_at: Option<i64>,
    pub outcome: Option<String>,
    /// The disposition given to it (the wrap-up form), `None` until then.
    pub disposition: Option<String>,
}

impl Store {
    /// The newest call stored as taken by the agent known to Asterisk as
    /// `member` (the member name the agent page gives it) or `interface`
    /// (`PJSIP/<extension>`), ended or not; `None` before their first.
    pub async fn agent_latest_call(
        &self,
        member: &str,
        interface: &str,
    ) -> Result<Option<AgentCall>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT a.id AS attempt_id, a.campaign_id, c.name AS campaign, a.contact_id,
                    a.attempt_no, k.phone, a.connected_at, a.ended_at, a.outcome, a.disposition
             FROM call_attempts a
             JOIN campaigns c ON c.id = a.campaign_id
             JOIN contacts k ON k.id = a.contact_id
             WHERE a.agent = $1 OR a.agent = $2 ORDER BY a.id DESC LIMIT 1"
        )
        .bind(member)
        .bind(interface)
        .fetch_optional(p)
        .await?))
    }
}
