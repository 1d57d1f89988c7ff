//! The sounds campaigns play, in the console (supervisors and admins):
//! the list, an upload form and a remove button; what `oml sound add|list|
//! remove` does (see `oml_ops::sounds`). An upload is read whole (at most
//! 5 MB: a larger body is refused 413 before or while it is read), checked
//! and converted, and stored all or nothing; a refusal says why and
//! stores nothing. Adding and removing are audited.

use axum::extract::multipart::MultipartError;
use axum::extract::{DefaultBodyLimit, Form, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::context;
use oml_ops::sounds;
use oml_web::auth::SupervisorUser;
use oml_web::limits::content_length;
use oml_web::pages::{render, REFUSED};
use oml_web::session::redirect_with_flash;
use oml_web::state::AppStateBuilder;
use oml_web::{AppState, WebError};
use serde::Deserialize;

use crate::common::audit;

const PAGE: &str = "/dialer/sounds";
/// The request body: the file plus the form around it.
const MAX_BODY: usize = sounds::MAX_BYTES as usize + (64 << 10);

pub fn register(builder: AppStateBuilder) -> AppStateBuilder {
    builder.template("sounds.html", include_str!("../templates/sounds.html"))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            PAGE,
            get(sounds_page)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_BODY)),
        )
        .route("/dialer/sounds/remove", post(remove))
}

async fn page(
    state: &AppState,
    u: &SupervisorUser,
    error: Option<String>,
    name: &str,
    status: StatusCode,
) -> Result<Response, WebError> {
    let dir = &state.config().paths.sounds_dir;
    let all = sounds::list(dir).map_err(|e| WebError::Setup(e.to_string()))?;
    let html = render(
        state,
        &u.ctx,
        "sounds.html",
        context! {
            title => "Sounds",
            sounds => all,
            error => error,
            name => name,
            max_mb => sounds::MAX_BYTES / (1024 * 1024),
            max_seconds => sounds::MAX_SECONDS,
            rate => sounds::RATE,
        },
    )?;
    Ok((status, html).into_response())
}

pub async fn sounds_page(
    State(state): State<AppState>,
    u: SupervisorUser,
) -> Result<Response, WebError> {
    page(&state, &u, None, "", StatusCode::OK).await
}

fn too_large() -> String {
    "The file is over 5 MB, the most a sound may have: nothing was stored.".to_string()
}

/// The form's name and file (name, bytes), or why it could not be read.
async fn read_form(mut mp: Multipart) -> Result<(String, String, Vec<u8>), (StatusCode, String)> {
    let broken = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            (StatusCode::PAYLOAD_TOO_LARGE, too_large())
        } else {
            (
                StatusCode::BAD_REQUEST,
                format!(
                    "The upload did not arrive whole ({}): nothing was stored. Send it again.",
                    e.body_text()
                ),
            )
        }
    };
    let (mut name, mut file, mut data) = (String::new(), String::new(), Vec::new());
    while let Some(mut field) = mp.next_field().await.map_err(broken)? {
        match field.name().unwrap_or("") {
            "name" => {
                name = field
                    .text()
                    .await
                    .map_err(broken)?
                    .chars()
                    .take(100)
                    .collect()
            }
            "file" => {
                file = field.file_name().unwrap_or("").to_string();
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    if (data.len() + chunk.len()) as u64 > sounds::MAX_BYTES {
                        return Err((StatusCode::PAYLOAD_TOO_LARGE, too_large()));
                    }
                    data.extend_from_slice(&chunk);
                }
            }
            _ => {}
        }
    }
    Ok((name.trim().to_string(), file, data))
}

/// `POST /dialer/sounds` (multipart: `name`, `file`).
pub async fn upload(
    State(state): State<AppState>,
    u: SupervisorUser,
    headers: HeaderMap,
    mp: Multipart,
) -> Result<Response, WebError> {
    if content_length(&headers).is_some_and(|n| n > MAX_BODY as u64) {
        return page(
            &state,
            &u,
            Some(too_large()),
            "",
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await;
    }
    let (name, file, data) = match read_form(mp).await {
        Ok(f) => f,
        Err((status, msg)) => return page(&state, &u, Some(msg), "", status).await,
    };
    if data.is_empty() {
        let msg = "Choose a sound file (WAV or GSM) to upload.".to_string();
        return page(&state, &u, Some(msg), &name, REFUSED).await;
    }
    let shown = if file.is_empty() { "the file" } else { &file };
    let dir = &state.config().paths.sounds_dir;
    match sounds::add(dir, &name, shown, &data) {
        Ok(s) => {
            let detail = format!(
                "{} {} bytes {:.1} s from {shown}",
                s.format, s.bytes, s.seconds
            );
            audit(&state, &u, "sound_add", &s.name, &detail).await;
            tracing::info!(user = %u.auth.user.username, sound = %s.name, "sound uploaded");
            let msg = format!(
                "Sound {} stored ({}, {:.1} s). Campaigns play it as {} once `oml regenerate-asterisk` has copied it to Asterisk.",
                s.name, s.format, s.seconds, s.asterisk_name
            );
            Ok(redirect_with_flash(&u.ctx, PAGE, "ok", &msg))
        }
        Err(sounds::SoundError::Io { what, path, source }) => Err(WebError::Setup(format!(
            "{what} {}: {source}",
            path.display()
        ))),
        Err(e) => {
            let msg = format!("{e}. Nothing was stored.");
            page(&state, &u, Some(msg), &name, REFUSED).await
        }
    }
}

#[derive(Deserialize)]
pub struct NameForm {
    name: String,
}

/// `POST /dialer/sounds/remove`: refused while a campaign plays the sound.
pub async fn remove(
    State(state): State<AppState>,
    u: SupervisorUser,
    Form(f): Form<NameForm>,
) -> Result<Response, WebError> {
    let wanted = format!("{}/{}", sounds::ASTERISK_FOLDER, f.name);
    let campaigns = state.store().campaigns().await?;
    let users: Vec<String> = state
        .store()
        .call_paths()
        .await?
        .into_iter()
        .filter(|(_, p)| p.sounds().iter().any(|(_, s)| *s == wanted))
        .filter_map(|(id, _)| {
            campaigns
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.name.clone())
        })
        .collect();
    if !users.is_empty() {
        let msg = format!(
            "Nothing was removed: campaign(s) {} play {wanted}; change their messages first.",
            users.join(", ")
        );
        return Ok(redirect_with_flash(&u.ctx, PAGE, "error", &msg));
    }
    match sounds::remove(&state.config().paths.sounds_dir, &f.name) {
        Ok(s) => {
            audit(&state, &u, "sound_remove", &s.name, s.format).await;
            let msg = format!(
                "Sound {} removed; `oml regenerate-asterisk` removes its copy from Asterisk.",
                s.name
            );
            Ok(redirect_with_flash(&u.ctx, PAGE, "ok", &msg))
        }
        Err(e) => Ok(redirect_with_flash(
            &u.ctx,
            PAGE,
            "error",
            &format!("Nothing was removed: {e}."),
        )),
    }
}
