//! A campaign's contact lists in the console (supervisors and admins): the
//! lists imported so far and an upload form. An upload runs the same import
//! as `oml campaign import` (one transaction: all or nothing) and the page
//! then shows the counts and the rejected rows with their row numbers.

use std::io::Cursor;

use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use minijinja::{context, Value};
use oml_dialer::contact_import::{import_contacts, FirstRejections, ImportOptions};
use oml_dialer::import::Summary;
use oml_store::Campaign;
use oml_web::auth::SupervisorUser;
use oml_web::pages::render;
use oml_web::{AppState, WebError};

use crate::common::campaign_or_404;

/// The largest file the upload takes (a million contacts fit well under it).
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;
/// Rejected rows listed on the page (the counts cover them all).
const SHOWN_REJECTIONS: usize = 200;

/// What the form asked for.
#[derive(Default)]
struct Upload {
    file_name: String,
    data: Vec<u8>,
    phone_column: String,
    country_code: String,
}

/// The page, with `result` (an import just done) or `error` (why nothing
/// was imported) when there is one.
async fn page(
    state: &AppState,
    u: &SupervisorUser,
    c: &Campaign,
    result: Value,
    error: Option<String>,
    form: &Upload,
) -> Result<Response, WebError> {
    let lists = state.store().contact_lists(c.id).await?;
    let left = state.store().contacts_left(c.id).await?;
    Ok(render(
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
    )?
    .into_response())
}

pub async fn contacts_page(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let c = campaign_or_404(&state, &name).await?;
    page(&state, &u, &c, Value::UNDEFINED, None, &Upload::default()).await
}

/// Reads the form's fields; the file whole (bounded by the route's limit).
async fn read_form(mut mp: Multipart) -> Result<Upload, String> {
    let mut up = Upload::default();
    while let Some(field) = mp.next_field().await.map_err(|e| e.body_text())? {
        match field.name().unwrap_or("") {
            "file" => {
                up.file_name = field.file_name().unwrap_or("").to_string();
                up.data = field.bytes().await.map_err(|e| e.body_text())?.to_vec();
            }
            "phone_column" => up.phone_column = field.text().await.map_err(|e| e.body_text())?,
            "country_code" => up.country_code = field.text().await.map_err(|e| e.body_text())?,
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
    mp: Multipart,
) -> Result<Response, WebError> {
    let c = campaign_or_404(&state, &name).await?;
    let form = match read_form(mp).await {
        Ok(f) => f,
        Err(why) => {
            let msg = format!(
                "The upload did not arrive whole ({why}); files up to {} MB are taken. Nothing was imported.",
                MAX_UPLOAD_BYTES >> 20
            );
            return page(
                &state,
                &u,
                &c,
                Value::UNDEFINED,
                Some(msg),
                &Upload::default(),
            )
            .await;
        }
    };
    if form.file_name.is_empty() && form.data.is_empty() {
        let msg = "Choose a CSV file to upload.".to_string();
        return page(&state, &u, &c, Value::UNDEFINED, Some(msg), &form).await;
    }
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
    let done = import_contacts(
        state.store(),
        c.id,
        Cursor::new(&form.data),
        &opts,
        &mut shown,
    )
    .await;
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
            page(&state, &u, &c, result, None, &form).await
        }
        Err(e) => {
            page(
                &state,
                &u,
                &c,
                Value::UNDEFINED,
                Some(e.about(&file)),
                &form,
            )
            .await
        }
    }
}
