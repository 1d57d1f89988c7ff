//! The agent's page `/agent` (issue 19 item 2): log in to the campaigns'
//! queues (`QueueAdd` of `PJSIP/<extension>` on every enabled Asterisk
//! server), Ready / Pause with a reason (`QueuePause` with `Reason`), log
//! out (`QueueRemove`), with live updates and the screen pop over
//! server-sent events (`agent_events.rs`, drawn by `/static/agent.js`).
//! The state is stored (`agent_states`) only once Asterisk took the change;
//! a refused action is undone on the servers that took it and the page
//! says which server refused what.
//!
//! The wrap-up form after each call (`agent_wrapup.rs`, template
//! `agent_wrapup.html`) is filled by the script from the stream's `wrapup`
//! event; the stream's events are also re-sent in the page as DOM events
//! (`oml:call`, `oml:call-ended`, `oml:wrapup`). A wrap-up pause is stored
//! as state `paused`, reason `wrap-up`. "My callbacks" lists the agent's
//! open callbacks at the time chosen, in the contact's time zone.

use super::agent_ami::send_all;
use super::agent_queue::{
    interface, pause_reasons, queue_add, queue_pause, queue_remove, LOGIN_REASON,
    PAUSE_REASONS_SETTING,
};
use super::render;
use crate::auth::AnyUser;
use crate::session::redirect_with_flash;
use crate::{AppState, WebError};
use axum::extract::{Form, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use oml_ami::Message;
use oml_store::{dialplan, Campaign, Role, User};

/// The page's policy: the console's, plus its own script (same origin).
pub const AGENT_CSP: &str = "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'";

/// The agent's script, served at `/static/agent.js`.
pub const AGENT_JS: &str = include_str!("../../static/agent.js");

/// The logged-in user, who must be an agent with an extension.
pub(super) fn agent_of(u: &AnyUser) -> Result<(&User, &str), WebError> {
    let user = &u.auth.user;
    if user.role != Role::Agent {
        return Err(WebError::BadRequest(
            "The agent page is for agents: log in as an agent (users with role agent).".into(),
        ));
    }
    let ext = user.extension.as_deref().ok_or_else(|| {
        WebError::BadRequest(
            "You have no extension: ask an administrator to give you one (oml users agent NAME --extension E).".into(),
        )
    })?;
    Ok((user, ext))
}

/// The agent's campaigns, by name.
pub(super) async fn campaigns_of(
    state: &AppState,
    user_id: i64,
) -> Result<Vec<Campaign>, WebError> {
    let names = state
        .store()
        .agent_campaigns()
        .await?
        .remove(&user_id)
        .unwrap_or_default();
    let mut out = Vec::new();
    for n in names {
        if let Some(c) = state.store().campaign_by_name(&n).await? {
            out.push(c);
        }
    }
    Ok(out)
}

async fn reasons(state: &AppState) -> Result<Vec<String>, WebError> {
    Ok(pause_reasons(
        state
            .store()
            .setting(PAUSE_REASONS_SETTING)
            .await?
            .as_deref(),
    ))
}

pub async fn agent_page(State(state): State<AppState>, u: AnyUser) -> Result<Response, WebError> {
    let (user, ext) = agent_of(&u)?;
    let current = state.store().agent_state(user.id).await?;
    let campaigns: Vec<_> = campaigns_of(&state, user.id)
        .await?
        .iter()
        .map(|c| {
            context! {
                name => c.name.clone(),
                mode => format!("{:?}", c.mode).to_lowercase(),
                queue => dialplan::queue(c).into_owned(),
            }
        })
        .collect();
    let now = oml_store::now_ms();
    let callbacks: Vec<_> = state
        .store()
        .agent_callbacks(user.id)
        .await?
        .into_iter()
        .map(|c| {
            context! {
                campaign => c.campaign,
                phone => c.phone,
                due => oml_store::callbacks::utc_to_local(c.due_at, &c.time_zone),
                zone => c.time_zone,
                due_utc => oml_store::format_ms(c.due_at),
                is_due => c.due_at <= now,
            }
        })
        .collect();
    let page = render(
        &state,
        &u.ctx,
        "agent.html",
        context! {
            title => "Agent",
            callbacks => callbacks,
            extension => ext,
            state => super::agent_view::state_view(current.as_ref()),
            reasons => reasons(&state).await?,
            campaigns => campaigns,
        },
    )?;
    let mut resp = page.into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(AGENT_CSP),
    );
    Ok(resp)
}

/// Sends `actions` to every server, then stores `next`; the page with a
/// flash message either way.
async fn change(
    state: &AppState,
    u: &AnyUser,
    actions: Vec<Message>,
    undo: impl Fn(&Message) -> Option<Message>,
    next: Option<(&str, Option<&str>)>,
    done: &str,
) -> Result<Response, WebError> {
    let (user, _) = agent_of(u)?;
    let servers = state.store().servers().await?;
    if !servers.iter().any(|s| s.enabled) {
        return Ok(redirect_with_flash(
            &u.ctx,
            "/agent",
            "error",
            "No Asterisk server is enabled: ask an administrator (oml dialer servers) before logging in.",
        ));
    }
    if let Err(e) = send_all(&servers, &actions, undo).await {
        return Ok(redirect_with_flash(
            &u.ctx,
            "/agent",
            "error",
            &e.to_string(),
        ));
    }
    state
        .store()
        .set_agent_state(user.id, next, oml_store::now_ms())
        .await?;
    Ok(redirect_with_flash(&u.ctx, "/agent", "ok", done))
}

pub async fn login(State(state): State<AppState>, u: AnyUser) -> Result<Response, WebError> {
    let (user, ext) = agent_of(&u)?;
    let iface = interface(ext);
    let campaigns = campaigns_of(&state, user.id).await?;
    if campaigns.is_empty() {
        return Ok(redirect_with_flash(
            &u.ctx,
            "/agent",
            "error",
            "You work no campaign yet: ask an administrator to give you some (Users page).",
        ));
    }
    let mut actions: Vec<Message> = campaigns
        .iter()
        .map(|c| queue_add(&dialplan::queue(c), &iface, &user.username))
        .collect();
    // A member already there (logged in before) keeps its pause state:
    // pause it too, so Asterisk and the stored state agree.
    actions.push(queue_pause(&iface, Some(LOGIN_REASON)));
    let undo_iface = iface.clone();
    let undo = move |a: &Message| a.get("Queue").map(|q| queue_remove(q, &undo_iface));
    change(
        &state,
        &u,
        actions,
        undo,
        Some(("paused", Some(LOGIN_REASON))),
        "Logged in to your campaigns' queues, paused: choose Ready to take calls.",
    )
    .await
}

pub async fn ready(State(state): State<AppState>, u: AnyUser) -> Result<Response, WebError> {
    let (user, ext) = agent_of(&u)?;
    if state.store().agent_state(user.id).await?.is_none() {
        return Ok(redirect_with_flash(
            &u.ctx,
            "/agent",
            "error",
            "Log in first.",
        ));
    }
    let iface = interface(ext);
    let undo_iface = iface.clone();
    let undo = move |_: &Message| Some(queue_pause(&undo_iface, Some(LOGIN_REASON)));
    let actions = vec![queue_pause(&iface, None)];
    change(
        &state,
        &u,
        actions,
        undo,
        Some(("ready", None)),
        "Ready: calls come to you now.",
    )
    .await
}

#[derive(serde::Deserialize)]
pub struct PauseForm {
    #[serde(default)]
    reason: String,
}

pub async fn pause(
    State(state): State<AppState>,
    u: AnyUser,
    Form(f): Form<PauseForm>,
) -> Result<Response, WebError> {
    let (user, ext) = agent_of(&u)?;
    let reason = f.reason.trim();
    let known = reasons(&state).await?;
    if !known.iter().any(|r| r == reason) {
        return Ok(redirect_with_flash(
            &u.ctx,
            "/agent",
            "error",
            &format!(
                "Choose a pause reason from the list ({}).",
                known.join(", ")
            ),
        ));
    }
    if state.store().agent_state(user.id).await?.is_none() {
        return Ok(redirect_with_flash(
            &u.ctx,
            "/agent",
            "error",
            "Log in first.",
        ));
    }
    let iface = interface(ext);
    let actions = vec![queue_pause(&iface, Some(reason))];
    let undo = |_: &Message| None;
    let done = format!("Paused: {reason}.");
    change(
        &state,
        &u,
        actions,
        undo,
        Some(("paused", Some(reason))),
        &done,
    )
    .await
}

pub async fn logout(State(state): State<AppState>, u: AnyUser) -> Result<Response, WebError> {
    let (user, ext) = agent_of(&u)?;
    let iface = interface(ext);
    let actions: Vec<Message> = campaigns_of(&state, user.id)
        .await?
        .iter()
        .map(|c| queue_remove(&dialplan::queue(c), &iface))
        .collect();
    let undo = |_: &Message| None;
    change(
        &state,
        &u,
        actions,
        undo,
        None,
        "Logged out of your campaigns' queues.",
    )
    .await
}

pub async fn events(State(state): State<AppState>, u: AnyUser) -> Result<Response, WebError> {
    let (user, ext) = agent_of(&u)?;
    let names = (user.username.clone(), interface(ext));
    Ok(super::agent_events::stream(&state, user.id, names).into_response())
}

pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        AGENT_JS,
    )
}
