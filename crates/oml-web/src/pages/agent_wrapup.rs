//! The wrap-up after each call (issue 19 items 5 and 6). When a call the
//! agent took ends and its campaign has dispositions, the agent is paused
//! with reason `wrap-up` (`QueuePause` with `Reason` on every server, then
//! the stored state) and the page shows the form: the campaign's
//! dispositions, a callback date and time in the contact's time zone (shown
//! as such) for "me" or "anyone", and a note. Submitting stores it with
//! [`oml_store::Store::dispose`] and makes the agent ready again. When the
//! campaign's wrap-up limit passes first, the agent is made ready
//! automatically and the call keeps no disposition (supervisors see it in
//! the agents view, column "without disposition").
//!
//! The limit is enforced twice: by the page's event stream (each poll) and
//! by a timer started with the pause, so a closed browser does not leave
//! the agent paused.

use super::agent::agent_of;
use super::agent_ami::send_all;
use super::agent_queue::{interface, queue_pause};
use crate::auth::AnyUser;
use crate::session::redirect_with_flash;
use crate::{AppState, WebError};
use axum::extract::{Form, State};
use axum::response::Response;
use oml_store::agent_overview::WRAP_UP;
use oml_store::callbacks::{contact_time_zone, utc_to_local};
use oml_store::dispose::DisposeRequest;
use oml_store::{AgentCall, Store};
use serde::Serialize;
use std::time::Duration;

/// How Asterisk and the store know an agent.
#[derive(Debug, Clone)]
pub struct AgentNames {
    pub user_id: i64,
    /// The queue member name (the username).
    pub member: String,
    /// `PJSIP/<extension>`.
    pub interface: String,
}

/// One disposition in the form.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Choice {
    pub name: String,
    /// It asks for a callback date and time.
    pub callback: bool,
}

/// What the form shows (the `wrapup` event's data; `null`: no form).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WrapupView {
    pub attempt_id: i64,
    pub campaign: String,
    pub phone: String,
    pub dispositions: Vec<Choice>,
    /// The contact's time zone (the campaign's when it has none): the
    /// callback's date and time are read in it.
    pub time_zone: String,
    /// The callback field's starting value: this time tomorrow in that
    /// zone (`2026-12-09T10:30`).
    pub callback_default: String,
    /// When the wrap-up ends (Unix ms) and that time in UTC, in words.
    pub deadline: i64,
    pub deadline_label: String,
    pub limit_s: i64,
}

/// Whether `call` still waits for its disposition at `now`: it ended, has
/// none, and the agent is in wrap-up or its limit has not passed.
pub fn waiting(call: &AgentCall, in_wrapup: bool, limit_s: i64, now: i64) -> bool {
    match (call.ended_at, &call.disposition) {
        (Some(end), None) => in_wrapup || now < end + limit_s * 1000,
        _ => false,
    }
}

/// The form for `call`, whose wrap-up ends at `deadline`.
pub async fn view(
    store: &Store,
    call: &AgentCall,
    limit_s: i64,
    deadline: i64,
    now: i64,
) -> oml_store::Result<WrapupView> {
    let dispositions = store
        .dispositions(call.campaign_id)
        .await?
        .into_iter()
        .map(|d| Choice {
            name: d.name,
            callback: d.callback,
        })
        .collect();
    let campaign_zone = store
        .campaign_by_id(call.campaign_id)
        .await?
        .map(|c| c.time_zone)
        .unwrap_or_else(|| "UTC".into());
    let attributes = store
        .contact_history(call.contact_id)
        .await?
        .map(|h| h.contact.attributes)
        .unwrap_or_default();
    let time_zone = contact_time_zone(&attributes, &campaign_zone);
    let callback_default = utc_to_local(now + 86_400_000, &time_zone).replacen(' ', "T", 1);
    Ok(WrapupView {
        attempt_id: call.attempt_id,
        campaign: call.campaign.clone(),
        phone: call.phone.clone(),
        dispositions,
        time_zone,
        callback_default,
        deadline,
        deadline_label: oml_store::format_ms(deadline),
        limit_s,
    })
}

fn in_wrapup(s: Option<&oml_store::AgentState>) -> bool {
    s.is_some_and(|s| s.state == "paused" && s.reason.as_deref() == Some(WRAP_UP))
}

/// Sends `QueuePause` (wrap-up, or ready) to every enabled server; false
/// (logged) when one refused.
async fn pause_all(store: &Store, iface: &str, reason: Option<&str>) -> bool {
    let servers = match store.servers().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "wrap-up: cannot read the servers");
            return false;
        }
    };
    let action = queue_pause(iface, reason);
    match send_all(&servers, &[action], |_| None).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "wrap-up: QueuePause refused");
            false
        }
    }
}

/// The call `call` of agent `a` just ended: when its campaign has
/// dispositions and the agent is ready, pause them for wrap-up and start
/// the timer that ends it after the campaign's limit.
pub async fn begin(store: &Store, a: &AgentNames, call: &AgentCall) {
    let begun = async {
        if store.dispositions(call.campaign_id).await?.is_empty() {
            return Ok::<_, oml_store::StoreError>(None);
        }
        let current = store.agent_state(a.user_id).await?;
        if current.as_ref().map(|s| s.state.as_str()) != Some("ready") {
            return Ok(None);
        }
        let limit_s = store.wrapup_limit_s(call.campaign_id).await?;
        if !pause_all(store, &a.interface, Some(WRAP_UP)).await {
            return Ok(None);
        }
        let now = oml_store::now_ms();
        store
            .set_agent_state(a.user_id, Some(("paused", Some(WRAP_UP))), now)
            .await?;
        Ok(Some(limit_s))
    }
    .await;
    match begun {
        Ok(Some(limit_s)) => {
            let (store, a) = (store.clone(), a.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(limit_s as u64 * 1000 + 200)).await;
                if let Err(e) = expire_if_due(&store, &a, limit_s, oml_store::now_ms()).await {
                    tracing::warn!(error = %e, "wrap-up: cannot end an expired wrap-up");
                }
            });
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "wrap-up: cannot begin"),
    }
}

/// Ends agent `a`'s wrap-up (ready again) when it began `limit_s` or more
/// before `now`; true when it did.
pub async fn expire_if_due(
    store: &Store,
    a: &AgentNames,
    limit_s: i64,
    now: i64,
) -> oml_store::Result<bool> {
    let s = store.agent_state(a.user_id).await?;
    match s {
        Some(s) if in_wrapup(Some(&s)) && now >= s.started_at + limit_s * 1000 => {
            if !pause_all(store, &a.interface, None).await {
                return Ok(false);
            }
            // Still the same wrap-up (not ended by a submit meanwhile)?
            let again = store.agent_state(a.user_id).await?;
            if again.is_some_and(|g| g.started_at == s.started_at && in_wrapup(Some(&g))) {
                store
                    .set_agent_state(a.user_id, Some(("ready", None)), now)
                    .await?;
                tracing::info!(
                    agent = %a.member,
                    limit_s,
                    "wrap-up limit passed: ready again, the call keeps no disposition"
                );
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The wrap-up form's fields.
#[derive(serde::Deserialize)]
pub struct WrapupForm {
    attempt_id: i64,
    #[serde(default)]
    disposition: String,
    /// `2026-12-09T10:30` in the contact's time zone; blank: none.
    #[serde(default)]
    callback_at: String,
    /// `me` or `anyone`.
    #[serde(default)]
    callback_for: String,
    #[serde(default)]
    note: String,
}

/// `POST /agent/wrapup`: stores the disposition and ends the wrap-up.
pub async fn submit(
    State(state): State<AppState>,
    u: AnyUser,
    Form(f): Form<WrapupForm>,
) -> Result<Response, WebError> {
    let (user, ext) = agent_of(&u)?;
    let a = AgentNames {
        user_id: user.id,
        member: user.username.clone(),
        interface: interface(ext),
    };
    let store = state.store();
    let error = |m: String| Ok(redirect_with_flash(&u.ctx, "/agent", "error", &m));
    let Some(call) = store.agent_latest_call(&a.member, &a.interface).await? else {
        return error("You have taken no call yet: there is nothing to wrap up.".into());
    };
    if call.attempt_id != f.attempt_id {
        return error(format!(
            "Call {} is not your latest call ({}): only the latest call is wrapped up here.",
            f.attempt_id, call.attempt_id
        ));
    }
    let current = store.agent_state(user.id).await?;
    let limit_s = store.wrapup_limit_s(call.campaign_id).await?;
    let now = oml_store::now_ms();
    if call.ended_at.is_some()
        && call.disposition.is_none()
        && !waiting(&call, in_wrapup(current.as_ref()), limit_s, now)
    {
        return error(format!(
            "The wrap-up time of call {} ({limit_s} s) has passed: it keeps no disposition. Ask your supervisor if it needs one.",
            call.attempt_id
        ));
    }
    if f.disposition.trim().is_empty() {
        return error("Choose a disposition for the call.".into());
    }
    let callback_for = match f.callback_for.as_str() {
        "" | "me" => Some(user.id),
        "anyone" => None,
        other => {
            return error(format!(
                "A callback is for `me` or `anyone`, not `{other}`."
            ))
        }
    };
    let wants_callback = store
        .disposition(call.campaign_id, f.disposition.trim())
        .await?
        .is_some_and(|d| d.callback);
    let callback_local = f.callback_at.trim();
    let done = store
        .dispose(&DisposeRequest {
            attempt_id: call.attempt_id,
            disposition: f.disposition.trim(),
            by: &user.username,
            callback_local: (wants_callback && !callback_local.is_empty())
                .then_some(callback_local),
            callback_for,
            note: Some(f.note.as_str()),
            now,
        })
        .await;
    let done = match done {
        Ok(d) => d,
        Err(
            e @ (oml_store::StoreError::Invalid { .. } | oml_store::StoreError::NotFound { .. }),
        ) => return error(format!("{e}.")),
        Err(e) => return Err(e.into()),
    };
    let ip = u.ctx.client_ip.to_string();
    let detail = format!("call {}: {}", call.attempt_id, f.disposition.trim());
    if let Err(e) = store
        .audit(
            now,
            &user.username,
            "disposition",
            &user.username,
            Some(&ip),
            &detail,
        )
        .await
    {
        tracing::warn!(error = %e, "cannot write the audit log");
    }
    let mut msg = format!("Call {}: {} saved.", call.attempt_id, f.disposition.trim());
    if let (Some(at), Some(zone)) = (done.callback_at, &done.callback_zone) {
        let who = if callback_for.is_some() {
            "you"
        } else {
            "anyone"
        };
        msg.push_str(&format!(
            " Callback {} ({zone}) for {who}.",
            utc_to_local(at, zone)
        ));
    }
    if in_wrapup(current.as_ref()) {
        if pause_all(store, &a.interface, None).await {
            store
                .set_agent_state(user.id, Some(("ready", None)), oml_store::now_ms())
                .await?;
            msg.push_str(" Ready: calls come to you now.");
        } else {
            msg.push_str(" Asterisk did not take Ready: choose Ready again.");
        }
    }
    Ok(redirect_with_flash(&u.ctx, "/agent", "ok", &msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(ended: Option<i64>, disposition: Option<&str>) -> AgentCall {
        AgentCall {
            attempt_id: 1,
            campaign_id: 1,
            campaign: "sales".into(),
            contact_id: 1,
            attempt_no: 1,
            phone: "+1".into(),
            connected_at: Some(0),
            ended_at: ended,
            outcome: None,
            disposition: disposition.map(Into::into),
        }
    }

    #[test]
    fn a_call_waits_until_disposed_or_out_of_time() {
        assert!(
            !waiting(&call(None, None), true, 60, 0),
            "still on the call"
        );
        assert!(waiting(&call(Some(1000), None), false, 60, 30_000));
        assert!(!waiting(&call(Some(1000), None), false, 60, 61_000));
        assert!(
            waiting(&call(Some(1000), None), true, 60, 61_000),
            "paused for wrap-up"
        );
        assert!(!waiting(&call(Some(1000), Some("sale")), true, 60, 2000));
    }
}
