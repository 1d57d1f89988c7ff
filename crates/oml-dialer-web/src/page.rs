//! The console's Dialer page (supervisors and admins): the play/stop
//! button, the Asterisk links and agents, and every campaign with its live
//! figures and its start/pause/stop buttons. Its live part updates itself
//! from server-sent events (`live.rs`; without scripts it reloads every few
//! seconds); the buttons are plain forms.

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use oml_dialer::control::{self, Actor};
use oml_store::StoreError;
use oml_web::auth::SupervisorUser;
use oml_web::pages::render;
use oml_web::session::redirect_with_flash;
use oml_web::{AppState, WebError};
use serde::Deserialize;

use crate::view;

/// Seconds between the page's reloads when the browser runs no script.
const REFRESH_SECONDS: u32 = 5;

pub async fn dialer_page(
    State(state): State<AppState>,
    u: SupervisorUser,
) -> Result<Response, WebError> {
    let live = crate::live::part(&state, &u.ctx, crate::live::View::Page).await?;
    let page = render(
        &state,
        &u.ctx,
        "dialer.html",
        context! {
            title => "Dialer",
            refresh_seconds => REFRESH_SECONDS,
            live_since => crate::live::digest(&live),
            live_html => live,
        },
    )?;
    Ok(crate::live::with_live_csp(page.into_response()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PlayForm {
    play: String,
}

pub async fn play(
    State(state): State<AppState>,
    u: SupervisorUser,
    Form(form): Form<PlayForm>,
) -> Result<Response, WebError> {
    let on = match form.play.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            return Ok(redirect_with_flash(
                &u.ctx,
                "/dialer",
                "error",
                "That request was not valid: use the Start or Stop button.",
            ))
        }
    };
    let ip = u.ctx.client_ip.to_string();
    control::set_play(
        state.store(),
        on,
        Actor {
            name: &u.auth.user.username,
            ip: Some(&ip),
        },
    )
    .await?;
    tracing::info!(user = %u.auth.user.username, play = on, "dialer play changed from the console");
    let msg = if on {
        "Dialer started: running campaigns dial."
    } else {
        "Dialer stopped: no new calls; calls in progress finish."
    };
    Ok(redirect_with_flash(&u.ctx, "/dialer", "ok", msg))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CampaignForm {
    name: String,
    action: String,
}

pub async fn campaign_state(
    State(state): State<AppState>,
    u: SupervisorUser,
    Form(form): Form<CampaignForm>,
) -> Result<Response, WebError> {
    let Some(target) = view::parse_action(&form.action) else {
        return Ok(redirect_with_flash(
            &u.ctx,
            "/dialer",
            "error",
            "That request was not valid: use a campaign's Start, Pause or Stop button.",
        ));
    };
    let ip = u.ctx.client_ip.to_string();
    let done = control::set_campaign_state(
        state.store(),
        &form.name,
        target,
        Actor {
            name: &u.auth.user.username,
            ip: Some(&ip),
        },
    )
    .await;
    match done {
        Ok(()) => {}
        Err(StoreError::NotFound { .. }) => {
            return Ok(redirect_with_flash(
                &u.ctx,
                "/dialer",
                "error",
                &format!(
                    "Campaign {} does not exist (any more): nothing was changed.",
                    form.name
                ),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(user = %u.auth.user.username, campaign = %form.name, state = target.as_str(), "campaign state changed from the console");
    let play = control::is_playing(state.store()).await?;
    let msg = match form.action.as_str() {
        "start" if play => format!("Campaign {} is running.", form.name),
        "start" => format!(
            "Campaign {} is running, but the dialer is stopped: press Start dialer to dial.",
            form.name
        ),
        "pause" => format!(
            "Campaign {} paused: no new calls; calls in progress finish.",
            form.name
        ),
        _ => format!(
            "Campaign {} stopped: no new calls; calls in progress finish.",
            form.name
        ),
    };
    Ok(redirect_with_flash(&u.ctx, "/dialer", "ok", &msg))
}
