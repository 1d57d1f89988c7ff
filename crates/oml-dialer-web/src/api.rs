//! The dialer's JSON API (`/api/v1/...`): what a CRM needs to run its
//! campaigns — read the dialer's state and every campaign's figures, press
//! play/stop, start/pause/stop a campaign. Callers authenticate with a
//! bearer token of a supervisor or an admin; every change is audited as
//! `api:<user>/<token label>` with the caller's address.

use axum::extract::{Path, State};
use axum::Json;
use oml_dialer::control::{self, Actor};
use oml_web::api::{ApiError, ApiSupervisor};
use oml_web::AppState;
use serde_json::{json, Value};

use crate::view::{self, CampaignView};

/// `GET /api/v1/dialer`: play state, engine, servers, calls, campaigns.
pub async fn status(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
) -> Result<Json<Value>, ApiError> {
    let s = control::status(state.store()).await?;
    let campaigns = view::campaigns(&s);
    let live = s.live.as_ref().filter(|_| s.engine_running);
    Ok(Json(json!({
        "play": s.play,
        "engine_running": s.engine_running,
        "engine_seen_at": s.engine_seen_at,
        "nodes": s.nodes,
        "calls_in_flight": live.map(|l| l.calls_in_flight),
        "servers": live.map(|l| &l.servers),
        "campaigns": campaigns,
    })))
}

/// `GET /api/v1/status`: the report of `oml status` (always 200; its
/// `level` says ok, warning or failure).
pub async fn health(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
) -> Json<oml_status::Report> {
    Json(oml_status::gather_running(state.store(), state.config()).await)
}

/// `POST /api/v1/dialer/start|stop`.
pub async fn play(
    State(state): State<AppState>,
    ApiSupervisor(caller): ApiSupervisor,
    Path(action): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let on = match action.as_str() {
        "start" => true,
        "stop" => false,
        other => {
            return Err(ApiError::not_found(format!(
                "unknown dialer action `{other}`: use start or stop"
            )))
        }
    };
    let actor = caller.actor();
    let ip = caller.ctx.client_ip.to_string();
    control::set_play(
        state.store(),
        on,
        Actor {
            name: &actor,
            ip: Some(&ip),
        },
    )
    .await?;
    tracing::info!(%actor, play = on, "dialer play changed over the API");
    Ok(Json(json!({ "play": on })))
}

/// `GET /api/v1/campaigns`.
pub async fn campaigns(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
) -> Result<Json<Vec<CampaignView>>, ApiError> {
    let s = control::status(state.store()).await?;
    Ok(Json(view::campaigns(&s)))
}

/// `GET /api/v1/campaigns/{name}`.
pub async fn campaign(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
    Path(name): Path<String>,
) -> Result<Json<CampaignView>, ApiError> {
    let s = control::status(state.store()).await?;
    view::campaigns(&s)
        .into_iter()
        .find(|c| c.name == name)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("campaign `{name}` not found")))
}

/// `POST /api/v1/campaigns/{name}/start|pause|stop`.
pub async fn campaign_action(
    State(state): State<AppState>,
    ApiSupervisor(caller): ApiSupervisor,
    Path((name, action)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let Some(target) = view::parse_action(&action) else {
        return Err(ApiError::not_found(format!(
            "unknown campaign action `{action}`: use start, pause or stop"
        )));
    };
    let actor = caller.actor();
    let ip = caller.ctx.client_ip.to_string();
    control::set_campaign_state(
        state.store(),
        &name,
        target,
        Actor {
            name: &actor,
            ip: Some(&ip),
        },
    )
    .await?;
    tracing::info!(%actor, campaign = %name, state = target.as_str(), "campaign state changed over the API");
    let play = control::is_playing(state.store()).await?;
    Ok(Json(json!({
        "name": name,
        "state": target.as_str(),
        "dialer_started": play,
    })))
}

/// The API's description (OpenAPI 3). Written by hand: seven calls do not
/// justify deriving it from the handlers; the `openapi_matches_the_routes`
/// test keeps it in step with the router and the JSON the calls return.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// `GET /api/v1/openapi.json` (no token needed).
pub async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}
