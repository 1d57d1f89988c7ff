//! Dispositions and callbacks over the API (issue 19 items 5 and 6): a
//! campaign's dispositions and wrap-up limit (supervisors and admins, as
//! `oml campaign disposition` does), an agent's disposition of one of their
//! calls, and the open callbacks (an agent's own; a campaign's for
//! supervisors). Every change is audited as `api:<user>/<token label>`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use oml_store::callbacks::Callback;
use oml_store::dispose::{DisposeRequest, Disposed};
use oml_store::dispositions::Disposition;
use oml_store::{Campaign, Role};
use oml_web::api::{ApiAgent, ApiCaller, ApiError, ApiSupervisor};
use oml_web::AppState;
use serde::Deserialize;
use serde_json::{json, Value};

async fn campaign(state: &AppState, name: &str) -> Result<Campaign, ApiError> {
    state
        .store()
        .campaign_by_name(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("campaign `{name}` not found")))
}

async fn audit(state: &AppState, c: &ApiCaller, action: &str, subject: &str, detail: &str) {
    let ip = c.ctx.client_ip.to_string();
    let at = oml_store::now_ms();
    if let Err(e) = state
        .store()
        .audit(at, &c.actor(), action, subject, Some(&ip), detail)
        .await
    {
        tracing::warn!(error = %e, action, "cannot write the audit log");
    }
}

/// `GET /api/v1/campaigns/{name}/dispositions`.
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = campaign(&state, &name).await?;
    let list = state.store().dispositions(c.id).await?;
    let wrapup = state.store().wrapup_limit_s(c.id).await?;
    Ok(Json(
        json!({ "campaign": c.name, "wrapup_s": wrapup, "dispositions": list }),
    ))
}

/// The body of `POST /api/v1/campaigns/{name}/dispositions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDisposition {
    name: String,
    #[serde(default, rename = "final")]
    is_final: bool,
    #[serde(default)]
    callback: bool,
    /// `no` (default), `campaign` or `global`.
    #[serde(default)]
    dnc: Option<String>,
    #[serde(default)]
    retry_after_s: Option<i64>,
}

/// `POST /api/v1/campaigns/{name}/dispositions`: 201 with the disposition.
pub async fn add(
    State(state): State<AppState>,
    ApiSupervisor(caller): ApiSupervisor,
    Path(name): Path<String>,
    Json(b): Json<NewDisposition>,
) -> Result<(StatusCode, Json<Disposition>), ApiError> {
    let d = Disposition {
        name: b.name,
        is_final: b.is_final,
        callback: b.callback,
        dnc: b.dnc.as_deref().unwrap_or("no").parse()?,
        retry_after_s: b.retry_after_s.unwrap_or(3600),
    };
    let c = campaign(&state, &name).await?;
    state.store().add_disposition(c.id, &d).await?;
    audit(&state, &caller, "disposition_add", &c.name, &d.name).await;
    Ok((StatusCode::CREATED, Json(d)))
}

/// `DELETE /api/v1/campaigns/{name}/dispositions/{disposition}`.
pub async fn remove(
    State(state): State<AppState>,
    ApiSupervisor(caller): ApiSupervisor,
    Path((name, disposition)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let c = campaign(&state, &name).await?;
    if !state.store().remove_disposition(c.id, &disposition).await? {
        return Err(ApiError::not_found(format!(
            "campaign `{}` has no disposition `{disposition}`",
            c.name
        )));
    }
    audit(&state, &caller, "disposition_remove", &c.name, &disposition).await;
    Ok(Json(json!({ "removed": disposition })))
}

/// The body of `PUT /api/v1/campaigns/{name}/wrapup`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wrapup {
    seconds: i64,
}

/// `PUT /api/v1/campaigns/{name}/wrapup`: the campaign's wrap-up limit.
pub async fn set_wrapup(
    State(state): State<AppState>,
    ApiSupervisor(caller): ApiSupervisor,
    Path(name): Path<String>,
    Json(b): Json<Wrapup>,
) -> Result<Json<Value>, ApiError> {
    let c = campaign(&state, &name).await?;
    state.store().set_wrapup_limit_s(c.id, b.seconds).await?;
    let detail = format!("wrap-up {} s", b.seconds);
    audit(&state, &caller, "wrapup_set", &c.name, &detail).await;
    Ok(Json(json!({ "campaign": c.name, "wrapup_s": b.seconds })))
}

/// The body of `POST /api/v1/attempts/{id}/disposition`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dispose {
    disposition: String,
    /// A callback's date and time in the contact's time zone.
    #[serde(default)]
    callback_at: Option<String>,
    /// `me` (default: the caller) or `anyone`.
    #[serde(default)]
    callback_for: Option<String>,
    /// The agent's note.
    #[serde(default)]
    note: Option<String>,
}

/// The names Asterisk may have recorded for `user` as the call's agent:
/// their username (the member name) and their interface.
pub fn agent_names(user: &oml_store::User) -> Vec<String> {
    let mut names = vec![user.username.clone()];
    if let Some(ext) = &user.extension {
        names.push(format!("PJSIP/{ext}"));
    }
    names
}

/// `POST /api/v1/attempts/{id}/disposition`: an agent dispositions one of
/// their own calls (supervisors any call).
pub async fn dispose(
    State(state): State<AppState>,
    ApiAgent(caller): ApiAgent,
    Path(id): Path<i64>,
    Json(b): Json<Dispose>,
) -> Result<Json<Disposed>, ApiError> {
    let agent = state
        .store()
        .attempt_agent(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no call {id}")))?;
    let own = agent.is_some_and(|a| agent_names(&caller.user).contains(&a));
    if caller.user.role == Role::Agent && !own {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "call {id} was not taken by `{}`: agents disposition their own calls",
                caller.user.username
            ),
        ));
    }
    let callback_for = match b.callback_for.as_deref() {
        None | Some("me") => Some(caller.user.id),
        Some("anyone") => None,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`callback_for` is `me` or `anyone`, not `{other}`"
            )))
        }
    };
    let done = state
        .store()
        .dispose(&DisposeRequest {
            attempt_id: id,
            disposition: &b.disposition,
            by: &caller.user.username,
            callback_local: b.callback_at.as_deref(),
            callback_for,
            note: b.note.as_deref(),
            now: oml_store::now_ms(),
        })
        .await?;
    let detail = format!("call {id}: {}", b.disposition);
    audit(
        &state,
        &caller,
        "disposition",
        &caller.user.username,
        &detail,
    )
    .await;
    Ok(Json(done))
}

/// The query of `GET /api/v1/callbacks`.
#[derive(Debug, Default, Deserialize)]
pub struct CallbacksQuery {
    campaign: Option<String>,
}

/// `GET /api/v1/callbacks[?campaign=NAME]`: the caller's own open
/// callbacks, or (supervisors) a campaign's.
pub async fn callbacks(
    State(state): State<AppState>,
    ApiAgent(caller): ApiAgent,
    Query(q): Query<CallbacksQuery>,
) -> Result<Json<Vec<Callback>>, ApiError> {
    Ok(Json(match q.campaign {
        Some(name) if caller.user.role >= Role::Supervisor => {
            let c = campaign(&state, &name).await?;
            state.store().campaign_callbacks(c.id).await?
        }
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "a campaign's callbacks are for supervisors; leave out `campaign` for your own",
            ))
        }
        None => state.store().agent_callbacks(caller.user.id).await?,
    }))
}

/// The routes of this file, merged into [`crate::routes`].
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{delete, get, post, put};
    axum::Router::new()
        .route("/api/v1/campaigns/{name}/dispositions", get(list).post(add))
        .route(
            "/api/v1/campaigns/{name}/dispositions/{disposition}",
            delete(remove),
        )
        .route("/api/v1/campaigns/{name}/wrapup", put(set_wrapup))
        .route("/api/v1/attempts/{id}/disposition", post(dispose))
        .route("/api/v1/callbacks", get(callbacks))
}
