//! Call recordings in the console and over the API (issue 18 item 4): a
//! contact's page with its attempts and their recordings, and the download
//! of one attempt's recording, for supervisors and admins only (agents get
//! 403), every download audited (`recording_download`: who, which file,
//! when, from where).
//!
//! A download names the attempt by its id, never a path: the file is the
//! name stored with the attempt (a bare `dialer-...` name, checked again
//! here), opened in `paths.recordings_dir` only, and must be a regular file
//! (a symbolic link is refused). It is streamed in 64 KiB chunks as an
//! attachment. A recording deleted by retention, or missing from the
//! folder, is answered 404 with a message saying which.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use minijinja::context;
use oml_store::retention::{recording_path, recordings_day, AttemptRecording};
use oml_web::api::{ApiError, ApiSupervisor};
use oml_web::auth::SupervisorUser;
use oml_web::error::ErrorPage;
use oml_web::pages::render;
use oml_web::state::AppStateBuilder;
use oml_web::{AppState, WebError};
use tokio::io::AsyncReadExt;

/// Bytes read from the file per chunk of the response.
const CHUNK: usize = 64 << 10;

/// The contact page's template.
pub fn register(builder: AppStateBuilder) -> AppStateBuilder {
    builder.template("contact.html", include_str!("../templates/contact.html"))
}

/// The contact page and the downloads, console and API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dialer/contacts/{id}", get(contact_page))
        .route("/dialer/attempts/{id}/recording", get(download_page))
        .route("/api/v1/attempts/{id}/recording", get(download_api))
}

/// Why a recording is not served: status and a message saying what to do.
struct Refusal(StatusCode, String);

/// An opened recording, ready to stream.
struct Opened {
    rec: AttemptRecording,
    file_name: String,
    file: tokio::fs::File,
    len: u64,
}

fn parse_id(text: &str, what: &str) -> Result<i64, Refusal> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            Refusal(
                StatusCode::BAD_REQUEST,
                format!(
                    "`{}` is not {what} id (a whole number)",
                    text.chars().take(60).collect::<String>()
                ),
            )
        })
}

/// Finds attempt `id`'s recording and opens it in the recordings folder.
async fn open(state: &AppState, id: &str) -> Result<Opened, Refusal> {
    let id = parse_id(id, "an attempt")?;
    let server_error = |e: oml_store::StoreError| {
        tracing::error!(error = %e, "recording download: database error");
        Refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "database error (see the server log)".into(),
        )
    };
    let rec = state
        .store()
        .attempt_recording(id)
        .await
        .map_err(server_error)?
        .ok_or_else(|| Refusal(StatusCode::NOT_FOUND, format!("no attempt has the id {id}")))?;
    let Some(name) = rec.file.clone() else {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            format!("attempt {id} was not recorded"),
        ));
    };
    if let Some(at) = rec.deleted_at {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            format!(
                "the recording of attempt {id} ({name}) was deleted by retention on {}",
                recordings_day(at)
            ),
        ));
    }
    let dir = &state.config().paths.recordings_dir;
    let Some(path) = recording_path(dir, &name) else {
        tracing::warn!(
            attempt = id,
            "a stored recording name is not a bare file name; not served"
        );
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            format!(
                "attempt {id}'s stored recording name is not a recording file name: not served"
            ),
        ));
    };
    // The folder is named in the log, not to the caller.
    let missing = || {
        tracing::warn!(attempt = id, file = %name, folder = %dir.display(), "a recording is not in the recordings folder");
        Refusal(
            StatusCode::NOT_FOUND,
            format!("the recording of attempt {id} ({name}) is not in the recordings folder (paths.recordings_dir)"),
        )
    };
    // Only a regular file, not a link out of the folder.
    let meta = tokio::fs::symlink_metadata(&path)
        .await
        .map_err(|_| missing())?;
    if !meta.file_type().is_file() {
        return Err(missing());
    }
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::warn!(error = %e, file = %name, "cannot open a recording");
        missing()
    })?;
    Ok(Opened {
        rec,
        file_name: name,
        file,
        len: meta.len(),
    })
}

/// The file's media type, from its format.
fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "wav" | "WAV" => "audio/wav",
        "mp3" => "audio/mpeg",
        "gsm" => "audio/x-gsm",
        _ => "application/octet-stream",
    }
}

/// The streamed attachment.
fn attachment(o: Opened) -> Response {
    let stream = futures::stream::unfold(o.file, |mut f| async move {
        let mut buf = vec![0u8; CHUNK];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&o.file_name)),
    );
    // The name is letters, digits and `- _ . +` (checked): safe to quote.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", o.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(o.len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Audits a download (a failure to write the row refuses the download: an
/// unaudited download must not happen).
async fn audit(state: &AppState, actor: &str, ip: &str, o: &Opened) -> Result<(), Refusal> {
    let detail = format!(
        "attempt {} of campaign {}, contact {}, {} bytes",
        o.rec.attempt_id, o.rec.campaign, o.rec.contact_id, o.len
    );
    state
        .store()
        .audit(
            oml_store::now_ms(),
            actor,
            "recording_download",
            &o.file_name,
            Some(ip),
            &detail,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot audit a recording download; refused");
            Refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the download could not be audited, so it was refused (see the server log)".into(),
            )
        })
}

/// `GET /dialer/attempts/{id}/recording` (console, supervisors and admins).
pub async fn download_page(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(id): Path<String>,
) -> Response {
    let ip = u.ctx.client_ip.to_string();
    let result = match open(&state, &id).await {
        Ok(o) => audit(&state, &u.auth.user.username, &ip, &o)
            .await
            .map(|_| o),
        Err(r) => Err(r),
    };
    match result {
        Ok(o) => {
            tracing::info!(user = %u.auth.user.username, file = %o.file_name, "recording downloaded");
            attachment(o)
        }
        Err(Refusal(status, message)) => {
            let mut resp = (status, message.clone()).into_response();
            resp.extensions_mut().insert(ErrorPage { status, message });
            resp
        }
    }
}

/// `GET /api/v1/attempts/{id}/recording` (supervisor or admin tokens).
pub async fn download_api(
    State(state): State<AppState>,
    ApiSupervisor(caller): ApiSupervisor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let ip = caller.ctx.client_ip.to_string();
    let actor = caller.actor();
    let o = open(&state, &id)
        .await
        .map_err(|Refusal(s, m)| ApiError::new(s, m))?;
    audit(&state, &actor, &ip, &o)
        .await
        .map_err(|Refusal(s, m)| ApiError::new(s, m))?;
    tracing::info!(%actor, file = %o.file_name, "recording downloaded over the API");
    Ok(attachment(o))
}

/// `GET /dialer/contacts/{id}`: a contact, its attempts and their recordings.
pub async fn contact_page(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id, "a contact").map_err(|Refusal(_, m)| WebError::BadRequest(m))?;
    let h = state
        .store()
        .contact_history(id)
        .await?
        .ok_or(WebError::NotFound)?;
    let attributes: serde_json::Value =
        serde_json::from_str(&h.contact.attributes).unwrap_or(serde_json::Value::Null);
    let deleted: Vec<Option<String>> = h
        .history
        .iter()
        .map(|a| a.recording_deleted_at.map(recordings_day))
        .collect();
    Ok(render(
        &state,
        &u.ctx,
        "contact.html",
        context! {
            title => format!("Contact {} of {}", h.contact.id, h.contact.campaign),
            h => h,
            deleted => deleted,
            attributes => attributes,
        },
    )?
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_whole_positive_numbers() {
        assert_eq!(parse_id(" 42 ", "an attempt").ok(), Some(42));
        for bad in ["0", "-1", "..%2Fetc", "../../etc/passwd", "1.5", ""] {
            let Err(Refusal(s, m)) = parse_id(bad, "an attempt") else {
                panic!("{bad} accepted")
            };
            assert_eq!(s, StatusCode::BAD_REQUEST);
            assert!(m.contains("is not an attempt id"), "{m}");
        }
        assert_eq!(content_type("dialer-1-x.wav"), "audio/wav");
        assert_eq!(content_type("dialer-1-x.mp3"), "audio/mpeg");
    }
}
