//! The dialer's setup in the console (supervisors and admins): the Asterisk
//! servers it drives over AMI and the trunks it dials through — the seed's
//! "add an Asterisk Server, add a trunk, press play" done in the browser.
//! The same store rules as `oml asterisk add` / `oml trunk add` apply, and
//! every change is audited with the same action names.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::{context, Value};
use oml_store::{ServerSpec, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::auth::SupervisorUser;
use oml_web::pages::{render, REFUSED};
use oml_web::session::redirect_with_flash;
use oml_web::{AppState, WebError};

use crate::common::{audit, refusal};
use secrecy::SecretString;
use serde::Deserialize;

const PAGE: &str = "/dialer/setup";

/// The page, with an error and the values of the form that caused it.
async fn page(
    state: &AppState,
    u: &SupervisorUser,
    error: Option<String>,
    server_form: Value,
    trunk_form: Value,
) -> Result<Response, WebError> {
    let servers = state.store().servers().await?;
    let trunks = state.store().trunks().await?;
    let server_name = |id: Option<i64>| -> String {
        id.and_then(|id| servers.iter().find(|s| s.id == id))
            .map_or_else(|| "any".to_string(), |s| s.name.clone())
    };
    let trunk_rows: Vec<Value> = trunks
        .iter()
        .map(|t| {
            context! {
                name => t.name.clone(),
                dial_string => t.dial_string.clone(),
                max_channels => t.max_channels,
                server => server_name(t.server_id),
                caller_id => t.caller_id.clone(),
            }
        })
        .collect();
    let server_rows: Vec<Value> = servers
        .iter()
        .map(|s| {
            context! {
                name => s.name.clone(),
                host => s.host.clone(),
                ami_port => s.ami_port,
                ami_user => s.ami_user.clone(),
                enabled => s.enabled,
            }
        })
        .collect();
    let server_names: Vec<String> = servers.iter().map(|s| s.name.clone()).collect();
    // A form that comes back with an error was refused: one status for that.
    let status = if error.is_some() {
        REFUSED
    } else {
        StatusCode::OK
    };
    let html = render(
        state,
        &u.ctx,
        "dialer_setup.html",
        context! {
            title => "Dialer setup",
            servers => server_rows,
            server_names => server_names,
            trunks => trunk_rows,
            error => error,
            server_form => server_form,
            trunk_form => trunk_form,
            default_dial_string => DEFAULT_DIAL_STRING,
        },
    )?;
    Ok((status, html).into_response())
}

pub async fn setup_page(
    State(state): State<AppState>,
    u: SupervisorUser,
) -> Result<Response, WebError> {
    page(&state, &u, None, Value::UNDEFINED, Value::UNDEFINED).await
}

#[derive(Deserialize, Default, serde::Serialize)]
#[serde(default)]
pub struct ServerForm {
    name: String,
    host: String,
    ami_port: String,
    ami_user: String,
    #[serde(skip_serializing)]
    ami_secret: String,
}

pub async fn add_server(
    State(state): State<AppState>,
    u: SupervisorUser,
    Form(f): Form<ServerForm>,
) -> Result<Response, WebError> {
    let port = match f.ami_port.trim() {
        "" => 5038,
        p => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => {
                let msg = format!("Nothing was changed: invalid AMI port: `{p}` is not 1-65535.");
                return page(
                    &state,
                    &u,
                    Some(msg),
                    Value::from_serialize(&f),
                    Value::UNDEFINED,
                )
                .await;
            }
        },
    };
    let spec = ServerSpec {
        name: f.name.trim().to_string(),
        host: f.host.trim().to_string(),
        ami_port: port,
        ami_user: f.ami_user.trim().to_string(),
        ami_secret: SecretString::from(f.ami_secret.clone()),
        enabled: true,
    };
    match state.store().create_server(&spec).await {
        Ok(s) => {
            audit(
                &state,
                &u,
                "asterisk_add",
                &s.name,
                &format!("{}:{}", s.host, s.ami_port),
            )
            .await;
            let msg = format!(
                "Asterisk server {} added; the dialer connects to {}:{} within a second.",
                s.name, s.host, s.ami_port
            );
            Ok(redirect_with_flash(&u.ctx, PAGE, "ok", &msg))
        }
        Err(e) => {
            let msg = format!("Nothing was changed: {}.", refusal(e)?);
            page(
                &state,
                &u,
                Some(msg),
                Value::from_serialize(&f),
                Value::UNDEFINED,
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NameForm {
    name: String,
    enabled: String,
}

pub async fn remove_server(
    State(state): State<AppState>,
    u: SupervisorUser,
    Form(f): Form<NameForm>,
) -> Result<Response, WebError> {
    match state.store().delete_server(&f.name).await {
        Ok(()) => {
            audit(&state, &u, "asterisk_remove", &f.name, "").await;
            let msg = format!("Asterisk server {} removed.", f.name);
            Ok(redirect_with_flash(&u.ctx, PAGE, "ok", &msg))
        }
        Err(e) => Ok(redirect_with_flash(
            &u.ctx,
            PAGE,
            "error",
            &format!("Nothing was changed: {}.", refusal(e)?),
        )),
    }
}

pub async fn server_enabled(
    State(state): State<AppState>,
    u: SupervisorUser,
    Form(f): Form<NameForm>,
) -> Result<Response, WebError> {
    let Some(s) = state.store().server_by_name(&f.name).await? else {
        let msg = format!("Asterisk server {} does not exist (any more).", f.name);
        return Ok(redirect_with_flash(&u.ctx, PAGE, "error", &msg));
    };
    let enabled = f.enabled == "yes";
    let spec = ServerSpec {
        name: s.name.clone(),
        host: s.host.clone(),
        ami_port: s.ami_port,
        ami_user: s.ami_user.clone(),
        ami_secret: s.ami_secret.clone(),
        enabled,
    };
    state.store().update_server(&s.name, &spec).await?;
    let detail = if enabled { "enabled" } else { "disabled" };
    audit(&state, &u, "asterisk_edit", &s.name, detail).await;
    let msg = if enabled {
        format!(
            "Asterisk server {} enabled: the dialer connects to it.",
            s.name
        )
    } else {
        format!(
            "Asterisk server {} disabled: the dialer places no new calls through it.",
            s.name
        )
    };
    Ok(redirect_with_flash(&u.ctx, PAGE, "ok", &msg))
}

#[derive(Deserialize, Default, serde::Serialize)]
#[serde(default)]
pub struct TrunkForm {
    name: String,
    dial_string: String,
    max_channels: String,
    server: String,
    caller_id: String,
}

pub async fn add_trunk(
    State(state): State<AppState>,
    u: SupervisorUser,
    Form(f): Form<TrunkForm>,
) -> Result<Response, WebError> {
    let max_channels = match f.max_channels.trim() {
        "" => 30,
        m => match m.parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                let msg =
                    format!("Nothing was changed: invalid max channels: `{m}` is not a number.");
                return page(
                    &state,
                    &u,
                    Some(msg),
                    Value::UNDEFINED,
                    Value::from_serialize(&f),
                )
                .await;
            }
        },
    };
    let dial = f.dial_string.trim();
    let spec = TrunkSpec {
        name: f.name.trim().to_string(),
        dial_string: if dial.is_empty() {
            DEFAULT_DIAL_STRING.to_string()
        } else {
            dial.to_string()
        },
        max_channels,
        server: Some(f.server.trim().to_string()).filter(|s| !s.is_empty() && s != "any"),
        caller_id: f.caller_id.trim().to_string(),
    };
    match state.store().create_trunk(&spec).await {
        Ok(t) => {
            audit(&state, &u, "trunk_add", &t.name, &t.dial_string).await;
            let msg = format!(
                "Trunk {} added: {} (at most {} channels).",
                t.name, t.dial_string, t.max_channels
            );
            Ok(redirect_with_flash(&u.ctx, PAGE, "ok", &msg))
        }
        Err(e) => {
            let msg = format!("Nothing was changed: {}.", refusal(e)?);
            page(
                &state,
                &u,
                Some(msg),
                Value::UNDEFINED,
                Value::from_serialize(&f),
            )
            .await
        }
    }
}

pub async fn remove_trunk(
    State(state): State<AppState>,
    u: SupervisorUser,
    Form(f): Form<NameForm>,
) -> Result<Response, WebError> {
    match state.store().delete_trunk(&f.name).await {
        Ok(()) => {
            audit(&state, &u, "trunk_remove", &f.name, "").await;
            let msg = format!("Trunk {} removed.", f.name);
            Ok(redirect_with_flash(&u.ctx, PAGE, "ok", &msg))
        }
        Err(e) => Ok(redirect_with_flash(
            &u.ctx,
            PAGE,
            "error",
            &format!("Nothing was changed: {}.", refusal(e)?),
        )),
    }
}
