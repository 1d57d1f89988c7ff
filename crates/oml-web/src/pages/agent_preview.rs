//! Preview dialing on the agent's side (issue 19 item 4): `/agent/preview`.
//! "Next contact" reserves a contact of one of the agent's preview
//! campaigns for them alone (due callbacks first) and shows every column
//! of its imported row and its attempts so far; "Call" asks the engine
//! pacing the campaign to ring the agent's extension and then dial the
//! contact (agent-first; see `oml_store`'s `preview_call.rs` and the
//! engine's `core/preview.rs`); "Skip" gives it back, with an optional
//! reason (kept in the audit log). A reservation left alone (a closed
//! browser) returns to the campaign's due contacts after
//! [`RESERVE_TIMEOUT_MS`]. The time between "Next contact" and "Call" or
//! "Skip" is the agent's `preview` state span (`agent_states`): the
//! preview time the simulator models.
//!
//! Element ids (stable, for the browser tests): `#preview`
//! (`data-state` = `none`, `reserved` or `calling`), `#preview-campaign`
//! and `#btn-preview-next`; `#preview-phone`, `#preview-fields` (one row
//! per imported column), `#preview-attempts` (attempts so far),
//! `#preview-earlier`, `#preview-until`, `#btn-preview-call`,
//! `#preview-skip-reason` and `#btn-preview-skip`; `#preview-calling`.

use super::agent::{agent_of, campaigns_of, AGENT_CSP};
use super::agent_queue::interface;
use super::agent_view::history_parts;
use super::render;
use crate::auth::AnyUser;
use crate::session::redirect_with_flash;
use crate::{AppState, WebError};
use axum::extract::{Form, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use oml_store::{Campaign, CampaignMode};

/// How long a reserved contact stays the agent's without Call or Skip.
pub const RESERVE_TIMEOUT_MS: i64 = 120_000;
/// How long a Call waits for an engine to take it before the contact
/// returns to the due contacts (no engine runs the campaign).
pub const CALL_TIMEOUT_MS: i64 = 30_000;
/// The longest skip reason kept.
pub const MAX_SKIP_REASON: usize = 200;

/// Each column of an imported row (a JSON object as text): (name, value).
fn fields_of(attributes: &str) -> Vec<(String, String)> {
    match serde_json::from_str(attributes) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect(),
        _ => Vec::new(),
    }
}

async fn preview_campaigns(state: &AppState, user_id: i64) -> Result<Vec<Campaign>, WebError> {
    Ok(campaigns_of(state, user_id)
        .await?
        .into_iter()
        .filter(|c| c.mode == CampaignMode::Preview)
        .collect())
}

pub async fn page(State(state): State<AppState>, u: AnyUser) -> Result<Response, WebError> {
    let (user, _) = agent_of(&u)?;
    let campaigns = preview_campaigns(&state, user.id).await?;
    let held = state.store().held_preview_contact(user.id).await?;
    let mut contact = None;
    let mut view_state = "none";
    if let Some(h) = &held {
        view_state = if h.state == "reserved" {
            "reserved"
        } else {
            "calling"
        };
        let history = state.store().contact_history(h.id).await?;
        let (attributes, attempts) = history_parts(history.as_ref());
        let campaign = state
            .store()
            .campaigns()
            .await?
            .into_iter()
            .find(|c| c.id == h.campaign_id)
            .map(|c| c.name)
            .unwrap_or_default();
        let made = attempts.len() as i64;
        let earlier: Vec<_> = attempts
            .iter()
            .map(|(no, placed, outcome)| {
                context! {
                    attempt_no => no,
                    placed => oml_store::format_ms(*placed),
                    outcome => outcome.clone().unwrap_or_else(|| "in progress".into()),
                }
            })
            .collect();
        let phone = history
            .as_ref()
            .map(|x| x.contact.phone.clone())
            .unwrap_or_default();
        contact = Some(context! {
            campaign => campaign,
            phone => phone,
            fields => fields_of(&attributes),
            earlier => earlier,
            attempts => made,
            until => oml_store::format_ms(h.until),
        });
    }
    let page = render(
        &state,
        &u.ctx,
        "agent_preview.html",
        context! {
            title => "Preview",
            campaigns => campaigns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
            view_state => view_state,
            contact => contact,
        },
    )?;
    let mut resp = page.into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(AGENT_CSP),
    );
    Ok(resp)
}

fn back(u: &AnyUser, kind: &str, msg: &str) -> Response {
    redirect_with_flash(&u.ctx, "/agent/preview", kind, msg)
}

#[derive(serde::Deserialize)]
pub struct NextForm {
    #[serde(default)]
    campaign: String,
}

pub async fn next(
    State(state): State<AppState>,
    u: AnyUser,
    Form(f): Form<NextForm>,
) -> Result<Response, WebError> {
    let (user, _) = agent_of(&u)?;
    if state.store().agent_state(user.id).await?.is_none() {
        return Ok(back(
            &u,
            "error",
            "Log in to your queues first (Agent page).",
        ));
    }
    let campaigns = preview_campaigns(&state, user.id).await?;
    let name = f.campaign.trim();
    let Some(c) = campaigns.iter().find(|c| c.name == name) else {
        let names: Vec<&str> = campaigns.iter().map(|c| c.name.as_str()).collect();
        return Ok(back(
            &u,
            "error",
            &format!(
                "Choose one of your preview campaigns ({}).",
                if names.is_empty() {
                    "you have none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        ));
    };
    let now = oml_store::now_ms();
    match state
        .store()
        .reserve_preview_contact(c.id, user.id, now, RESERVE_TIMEOUT_MS)
        .await?
    {
        None => Ok(back(
            &u,
            "error",
            &format!("No contact of {} is due now.", c.name),
        )),
        Some(d) => {
            state
                .store()
                .set_agent_state(user.id, Some(("preview", None)), now)
                .await?;
            Ok(back(
                &u,
                "ok",
                &format!(
                    "Contact {} is yours for {} s: Call or Skip.",
                    d.phone,
                    RESERVE_TIMEOUT_MS / 1000
                ),
            ))
        }
    }
}

pub async fn call(State(state): State<AppState>, u: AnyUser) -> Result<Response, WebError> {
    let (user, ext) = agent_of(&u)?;
    let now = oml_store::now_ms();
    let held = state.store().held_preview_contact(user.id).await?;
    let Some(h) = held.filter(|h| h.state == "reserved") else {
        return Ok(back(
            &u,
            "error",
            "You hold no contact (your reservation may have run out): ask for the next one.",
        ));
    };
    let asked = state
        .store()
        .request_preview_call(h.id, user.id, &interface(ext), now, CALL_TIMEOUT_MS)
        .await?;
    if !asked {
        return Ok(back(
            &u,
            "error",
            "Your reservation ran out: ask for the next contact.",
        ));
    }
    state
        .store()
        .set_agent_state(user.id, Some(("ready", None)), now)
        .await?;
    Ok(redirect_with_flash(
        &u.ctx,
        "/agent",
        "ok",
        "Calling: answer your extension when it rings; the customer is dialed then.",
    ))
}

#[derive(serde::Deserialize)]
pub struct SkipForm {
    #[serde(default)]
    reason: String,
}

pub async fn skip(
    State(state): State<AppState>,
    u: AnyUser,
    Form(f): Form<SkipForm>,
) -> Result<Response, WebError> {
    let (user, _) = agent_of(&u)?;
    let reason = f.reason.trim();
    if reason.chars().count() > MAX_SKIP_REASON {
        return Ok(back(
            &u,
            "error",
            &format!("A skip reason has at most {MAX_SKIP_REASON} characters."),
        ));
    }
    let now = oml_store::now_ms();
    let held = state.store().held_preview_contact(user.id).await?;
    let Some(h) = held.filter(|h| h.state == "reserved") else {
        return Ok(back(&u, "error", "You hold no contact to skip."));
    };
    // Due again at once, after the contacts already due.
    if !state
        .store()
        .release_preview_contact(h.id, user.id, now, now)
        .await?
    {
        return Ok(back(&u, "error", "Your reservation had already run out."));
    }
    let detail = if reason.is_empty() {
        format!("contact {} skipped", h.id)
    } else {
        format!("contact {} skipped: {reason}", h.id)
    };
    let ip = u.ctx.client_ip.to_string();
    state
        .store()
        .audit(
            now,
            &user.username,
            "preview.skip",
            &h.id.to_string(),
            Some(&ip),
            &detail,
        )
        .await?;
    state
        .store()
        .set_agent_state(user.id, Some(("ready", None)), now)
        .await?;
    Ok(back(
        &u,
        "ok",
        "Skipped: the contact is back with the others.",
    ))
}
