//! A campaign's contact lists in the console (supervisors and admins): the
//! lists imported so far and an upload form. An upload runs the same import
//! as `oml campaign import` (one transaction: all or nothing) and the page
//! then shows the counts and the rejected rows with their row numbers.
//!
//! The file never sits in memory: it is streamed to an unnamed temporary
//! file (deleted when closed, even if the server dies) and imported from
//! there. An upload that announces more than the limit in `Content-Length`
//! is refused with 413 before a byte is read; one that sends more than it
//! announced (or announces nothing) is cut off at the limit, also 413.

use std::io::{BufReader, Seek};

use axum::extract::multipart::Field;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::{context, Value};
use oml_dialer::contact_import::{import_contacts, FirstRejections, ImportOptions};
use oml_dialer::import::Summary;
use oml_store::Campaign;
use oml_web::auth::SupervisorUser;
use oml_web::limits::content_length;
use oml_web::pages::{render, REFUSED};
use oml_web::{AppState, WebError};
use tokio::io::AsyncWriteExt;

use crate::common::campaign_or_404;

/// The largest file the upload takes (a million contacts fit well under it).
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;
/// The largest request body: the file plus the form around it.
pub const MAX_BODY_BYTES: usize = MAX_UPLOAD_BYTES + (64 << 10);
/// Rejected rows listed on the page (the counts cover them all).
const SHOWN_REJECTIONS: usize = 200;

/// What the form asked for.
#[derive(Default)]
struct Upload {
    file_name: String,
    /// The uploaded file, spooled to an unnamed temporary file.
    data: Option<std::fs::File>,
    size: u64,
    phone_column: String,
    country_code: String,
}

/// Why an upload was not read whole.
enum ReadError {
    /// Over [`MAX_UPLOAD_BYTES`]: 413.
    TooLarge,
    /// Cut off or malformed on the way: 400.
    Broken(String),
    /// The temporary file could not be written.
    Spool(std::io::Error),
}

fn too_large_message() -> String {
    format!(
        "The file is larger than {} MiB, the most an upload takes: nothing was imported. Split it, or import it from a shell with `oml campaign import`.",
        MAX_UPLOAD_BYTES >> 20
    )
}

/// The page, with `result` (an import just done) or `error` (why nothing
/// was imported) when there is one; `status` 200 or the refusal's.
async fn page(
    state: &AppState,
    u: &SupervisorUser,
    c: &Campaign,
    (result, error): (Value, Option<String>),
    form: &Upload,
    status: StatusCode,
) -> Result<Response, WebError> {
    let lists = state.store().contact_lists(c.id).await?;
    let left = state.store().contacts_left(c.id).await?;
    let html = render(
        state,
        &u.ctx,
        "contacts.html",
        context! {
            title => format!("Contacts of {}", c.name),
            campaign => c.name.clone(),
            contacts_left => left,
            lists => lists,
            result => result,
            error => error,
            phone_column => form.phone_column.clone(),
            country_code => form.country_code.clone(),
            max_mb => MAX_UPLOAD_BYTES >> 20,
        },
    )?;
    Ok((status, html).into_response())
}

pub async fn contacts_page(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let c = campaign_or_404(&state, &name).await?;
    let nothing = (Value::UNDEFINED, None);
    page(&state, &u, &c, nothing, &Upload::default(), StatusCode::OK).await
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ReadError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ReadError::TooLarge
    } else {
        ReadError::Broken(e.body_text())
    }
}

/// Streams the file field into an unnamed temporary file, at most
/// [`MAX_UPLOAD_BYTES`]; returns the file (at its start) and its size.
async fn spool(mut field: Field<'_>) -> Result<(std::fs::File, u64), ReadError> {
    let tmp = tempfile::tempfile().map_err(ReadError::Spool)?;
    let mut out = tokio::fs::File::from_std(tmp);
    let mut size: u64 = 0;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        size += chunk.len() as u64;
        if size > MAX_UPLOAD_BYTES as u64 {
            return Err(ReadError::TooLarge);
        }
        out.write_all(&chunk).await.map_err(ReadError::Spool)?;
    }
    out.flush().await.map_err(ReadError::Spool)?;
    let mut file = out.into_std().await;
    file.rewind().map_err(ReadError::Spool)?;
    Ok((file, size))
}

/// A short text field (at most 1 KiB kept).
async fn text(field: Field<'_>) -> Result<String, ReadError> {
    let t = field.text().await.map_err(multipart_error)?;
    Ok(t.chars().take(1024).collect())
}

/// Reads the form's fields, the file into a temporary file.
async fn read_form(mut mp: Multipart) -> Result<Upload, ReadError> {
    let mut up = Upload::default();
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or("") {
            "file" => {
                up.file_name = field.file_name().unwrap_or("").to_string();
                let (file, size) = spool(field).await?;
                up.data = Some(file);
                up.size = size;
            }
            "phone_column" => up.phone_column = text(field).await?,
            "country_code" => up.country_code = text(field).await?,
            _ => {}
        }
    }
    Ok(up)
}

fn summary_value(s: &Summary, file: &str, phone_column: &str, shown: &FirstRejections) -> Value {
    let rejections: Vec<Value> = shown
        .rows
        .iter()
        .map(|r| {
            context! {
                row => r.row,
                phone => r.phone.clone(),
                reason => r.reason.to_string(),
            }
        })
        .collect();
    context! {
        file => file,
        phone_column => phone_column,
        rows => s.rows,
        imported => s.imported,
        rejected => s.rejected(),
        invalid => s.invalid,
        duplicate_in_file => s.duplicate_in_file,
        already_in_campaign => s.already_in_campaign,
        do_not_call => s.do_not_call,
        rejections => rejections,
        more => s.rejected() as usize > shown.rows.len(),
    }
}

pub async fn upload(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
    headers: HeaderMap,
    mp: Multipart,
) -> Result<Response, WebError> {
    let c = campaign_or_404(&state, &name).await?;
    let refused = |msg: String, status: StatusCode| {
        let (state, u, c) = (&state, &u, &c);
        async move {
            let shown = (Value::UNDEFINED, Some(msg));
            page(state, u, c, shown, &Upload::default(), status).await
        }
    };
    // Announced too large: refused before a byte of it is read.
    if content_length(&headers).is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return refused(too_large_message(), StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    let mut form = match read_form(mp).await {
        Ok(f) => f,
        Err(ReadError::TooLarge) => {
            return refused(too_large_message(), StatusCode::PAYLOAD_TOO_LARGE).await;
        }
        Err(ReadError::Broken(why)) => {
            let msg = format!(
                "The upload did not arrive whole ({why}): nothing was imported. Send it again."
            );
            return refused(msg, StatusCode::BAD_REQUEST).await;
        }
        Err(ReadError::Spool(e)) => {
            return Err(WebError::Setup(format!(
                "cannot write the upload to a temporary file in {}: {e}",
                std::env::temp_dir().display()
            )));
        }
    };
    let chosen = !form.file_name.is_empty() || form.size > 0;
    let Some(data) = form.data.take().filter(|_| chosen) else {
        let shown = (
            Value::UNDEFINED,
            Some("Choose a CSV file to upload.".to_string()),
        );
        return page(&state, &u, &c, shown, &form, REFUSED).await;
    };
    let file = if form.file_name.is_empty() {
        "upload.csv".to_string()
    } else {
        form.file_name.clone()
    };
    let opts = ImportOptions {
        phone_column: Some(form.phone_column.trim().to_string()).filter(|s| !s.is_empty()),
        delimiter: None,
        // The form's country, else the installation's (oml.toml).
        default_country_code: Some(form.country_code.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| state.config().dialer.default_country.clone()),
        list_name: file.clone(),
    };
    let mut shown = FirstRejections {
        max: SHOWN_REJECTIONS,
        rows: Vec::new(),
    };
    let done = import_contacts(state.store(), c.id, BufReader::new(data), &opts, &mut shown).await;
    match done {
        Ok(out) => {
            let s = &out.summary;
            let ip = u.ctx.client_ip.to_string();
            state
                .store()
                .audit(
                    oml_store::now_ms(),
                    &u.auth.user.username,
                    "contacts_import",
                    &c.name,
                    Some(&ip),
                    &format!(
                        "{file}: {} rows, {} imported, {} rejected",
                        s.rows,
                        s.imported,
                        s.rejected()
                    ),
                )
                .await?;
            tracing::info!(user = %u.auth.user.username, campaign = %c.name, %file, imported = s.imported, rejected = s.rejected(), "contacts imported from the console");
            let result = summary_value(s, &file, &out.phone_column, &shown);
            page(&state, &u, &c, (result, None), &form, StatusCode::OK).await
        }
        Err(e) => {
            let shown = (Value::UNDEFINED, Some(e.about(&file)));
            page(&state, &u, &c, shown, &form, REFUSED).await
        }
    }
}
