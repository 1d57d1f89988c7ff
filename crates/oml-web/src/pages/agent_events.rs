//! The agent page's live updates (issue 19 items 2 and 3): a server-sent
//! event stream at `/agent/events` that watches the store every
//! [`POLL`] and sends what changed:
//!
//! - `state`: the agent's state (logged out, ready, paused with a reason,
//!   previewing), whoever changed it (this page, another tab, the wrap-up);
//! - `call`: the screen pop, as soon as the engine stores a call as
//!   connected to the agent (AgentConnect);
//! - `call-ended`: that call ended;
//! - `wrapup`: the wrap-up form to show (`agent_wrapup.rs`), or `null`
//!   when there is none (submitted, or its time passed).
//!
//! The stream also starts the wrap-up when the call ends (the agent paused
//! with reason wrap-up) and ends it when the campaign's limit passes.
//!
//! Reading the store rather than one node's memory makes the stream the
//! same on every node serving the console.

use super::agent_view::{call_ended, history_parts, screen_pop, state_view};
use super::agent_wrapup::{self, AgentNames};
use crate::AppState;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream, StreamExt};
use oml_store::Store;
use std::convert::Infallible;
use std::time::Duration;

/// How often the stream looks at the store: a screen pop shows within
/// this plus the engine's write of the connected call.
pub const POLL: Duration = Duration::from_millis(300);

/// What the stream has already sent.
struct Watch {
    store: Store,
    user_id: i64,
    /// (member name, interface): how Asterisk names the agent.
    names: (String, String),
    state: Option<String>,
    /// The stored state now: (paused with reason wrap-up, since when).
    wrapup_since: Option<i64>,
    /// The wrap-up limit of the latest call's campaign: (campaign id, s).
    limit: Option<(i64, i64)>,
    /// The wrap-up form last sent (its JSON), `None` before the first.
    wrapup: Option<String>,
    /// The call last shown: (attempt id, ended).
    call: Option<(i64, bool)>,
    first: bool,
}

fn event(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_else(|_| "{}".into()))
}

impl Watch {
    /// The events due now (none when nothing changed).
    async fn step(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        match self.store.agent_state(self.user_id).await {
            Ok(s) => {
                self.wrapup_since = s
                    .as_ref()
                    .filter(|s| {
                        s.state == "paused"
                            && s.reason.as_deref() == Some(oml_store::agent_overview::WRAP_UP)
                    })
                    .map(|s| s.started_at);
                let v = state_view(s.as_ref());
                let text = serde_json::to_string(&v).unwrap_or_default();
                if self.state.as_deref() != Some(text.as_str()) {
                    out.push(event("state", &v));
                    self.state = Some(text);
                }
            }
            Err(e) => tracing::warn!(error = %e, "agent events: cannot read the state"),
        }
        let (member, interface) = (&self.names.0, &self.names.1);
        match self.store.agent_latest_call(member, interface).await {
            Ok(Some(c)) => {
                let key = (c.attempt_id, c.ended_at.is_some());
                if self.call != Some(key) {
                    if c.ended_at.is_none() {
                        let h = self
                            .store
                            .contact_history(c.contact_id)
                            .await
                            .ok()
                            .flatten();
                        let (row, attempts) = history_parts(h.as_ref());
                        out.push(event("call", &screen_pop(&c, &row, &attempts)));
                    } else if !self.first {
                        out.push(event("call-ended", &call_ended(&c)));
                        agent_wrapup::begin(&self.store, &self.agent(), &c).await;
                    }
                    self.call = Some(key);
                }
                self.wrapup_step(&c, &mut out).await;
            }
            Ok(None) => {
                if self.wrapup.is_none() {
                    out.push(event("wrapup", &serde_json::Value::Null));
                    self.wrapup = Some("null".into());
                }
            }
            Err(e) => tracing::warn!(error = %e, "agent events: cannot read the agent's call"),
        }
        self.first = false;
        out
    }

    fn agent(&self) -> AgentNames {
        AgentNames {
            user_id: self.user_id,
            member: self.names.0.clone(),
            interface: self.names.1.clone(),
        }
    }

    /// Ends a wrap-up past its limit, and sends the form when it changed.
    async fn wrapup_step(&mut self, c: &oml_store::AgentCall, out: &mut Vec<Event>) {
        let limit_s = match self.limit {
            Some((id, l)) if id == c.campaign_id => l,
            _ => match self.store.wrapup_limit_s(c.campaign_id).await {
                Ok(l) => {
                    self.limit = Some((c.campaign_id, l));
                    l
                }
                Err(e) => {
                    tracing::warn!(error = %e, "agent events: cannot read the wrap-up limit");
                    return;
                }
            },
        };
        let now = oml_store::now_ms();
        if self.wrapup_since.is_some_and(|t| now >= t + limit_s * 1000) {
            match agent_wrapup::expire_if_due(&self.store, &self.agent(), limit_s, now).await {
                Ok(true) => self.wrapup_since = None,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "agent events: cannot end the wrap-up"),
            }
        }
        let waiting = agent_wrapup::waiting(c, self.wrapup_since.is_some(), limit_s, now);
        let deadline = self
            .wrapup_since
            .or(c.ended_at)
            .map_or(now, |t| t + limit_s * 1000);
        let key = if waiting {
            format!("{}@{deadline}", c.attempt_id)
        } else {
            "null".into()
        };
        if self.wrapup.as_deref() == Some(key.as_str()) {
            return;
        }
        if waiting {
            match agent_wrapup::view(&self.store, c, limit_s, deadline, now).await {
                // A campaign without dispositions has no wrap-up form.
                Ok(v) if v.dispositions.is_empty() => {
                    out.push(event("wrapup", &serde_json::Value::Null))
                }
                Ok(v) => out.push(event("wrapup", &v)),
                Err(e) => {
                    tracing::warn!(error = %e, "agent events: cannot read the wrap-up form");
                    return;
                }
            }
        } else {
            out.push(event("wrapup", &serde_json::Value::Null));
        }
        self.wrapup = Some(key);
    }
}

/// The stream for agent `user_id`, known to Asterisk by `names` (member
/// name, interface).
pub fn stream(
    state: &AppState,
    user_id: i64,
    names: (String, String),
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let watch = Watch {
        store: state.store().clone(),
        user_id,
        names,
        state: None,
        wrapup_since: None,
        limit: None,
        wrapup: None,
        call: None,
        first: true,
    };
    let s = stream::unfold(watch, |mut w| async move {
        if !w.first {
            tokio::time::sleep(POLL).await;
        }
        let events = w.step().await;
        Some((stream::iter(events.into_iter().map(Ok)), w))
    })
    .flatten();
    Sse::new(s).keep_alive(KeepAlive::default())
}
