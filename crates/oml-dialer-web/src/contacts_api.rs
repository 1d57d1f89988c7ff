//! A campaign's contacts and a contact's history over the API, what
//! `oml campaign contacts` and `oml contact show` print: contacts page by
//! page (`?state=&after=&limit=`, the next page starting after
//! `next_after`), a contact by id, and the contacts with a phone number
//! (read like the import reads it, under `[dialer] default_country`).
//! Supervisor or admin tokens, like every other call.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use oml_store::contact_history::{ContactHistory, ContactSummary};
use oml_store::phone::Normalizer;
use oml_web::api::{ApiError, ApiSupervisor};
use oml_web::AppState;
use serde::{Deserialize, Serialize};

/// Contacts per page when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 100;
/// Most contacts one page may hold.
pub const MAX_LIMIT: i64 = 1000;

/// The query of `GET /api/v1/campaigns/{name}/contacts`, as text so that a
/// bad value is answered with a JSON error naming it.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    state: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

/// One page of a campaign's contacts.
#[derive(Debug, Serialize)]
pub struct ContactPage {
    pub contacts: Vec<ContactSummary>,
    /// Give it as `after` for the next page; `null` on the last one.
    pub next_after: Option<i64>,
}

/// A whole number from the query, or an error naming the parameter.
fn number(
    name: &str,
    text: Option<&str>,
    default: i64,
    range: (i64, i64),
) -> Result<i64, ApiError> {
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(default);
    };
    match t.parse::<i64>() {
        Ok(n) if (range.0..=range.1).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(format!(
            "`{name}` must be a whole number from {} to {}, not `{t}`",
            range.0, range.1
        ))),
    }
}

/// `GET /api/v1/campaigns/{name}/contacts?state=&after=&limit=`.
pub async fn campaign_contacts(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<ContactPage>, ApiError> {
    let after = number("after", q.after.as_deref(), 0, (0, i64::MAX))?;
    let limit = number("limit", q.limit.as_deref(), DEFAULT_LIMIT, (1, MAX_LIMIT))?;
    let filter = q.state.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let c = state
        .store()
        .campaign_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("campaign `{name}` not found")))?;
    let contacts = state
        .store()
        .campaign_contacts(c.id, filter, after, limit)
        .await?;
    let next_after = (contacts.len() as i64 == limit)
        .then(|| contacts.last().map(|c| c.id))
        .flatten();
    Ok(Json(ContactPage {
        contacts,
        next_after,
    }))
}

/// `GET /api/v1/contacts/{id}`.
pub async fn contact(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
    Path(id): Path<String>,
) -> Result<Json<ContactHistory>, ApiError> {
    let n = id.trim().parse::<i64>().map_err(|_| {
        ApiError::bad_request(format!("`{id}` is not a contact id (a whole number)"))
    })?;
    state
        .store()
        .contact_history(n)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no contact has the id {n}")))
}

/// The query of `GET /api/v1/contacts`.
#[derive(Debug, Default, Deserialize)]
pub struct PhoneQuery {
    phone: Option<String>,
}

/// `GET /api/v1/contacts?phone=NUMBER`: the contacts with this number in
/// every campaign (an empty list when none has it).
pub async fn contacts_by_phone(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
    Query(q): Query<PhoneQuery>,
) -> Result<Json<Vec<ContactHistory>>, ApiError> {
    let Some(raw) = q.phone.filter(|p| !p.trim().is_empty()) else {
        return Err(ApiError::bad_request(
            "give the number to look for: /api/v1/contacts?phone=NUMBER",
        ));
    };
    let normalizer = Normalizer::new(state.config().dialer.default_country.as_deref())
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("oml.toml: {e}")))?;
    let phone = normalizer
        .normalize(&raw)
        .map_err(|e| ApiError::bad_request(format!("`phone`: {e}")))?;
    Ok(Json(
        state.store().contact_histories_by_phone(&phone).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_and_named() {
        assert_eq!(number("limit", None, 100, (1, 1000)).unwrap(), 100);
        assert_eq!(number("limit", Some(" 5 "), 100, (1, 1000)).unwrap(), 5);
        for bad in ["0", "1001", "ten", "-1"] {
            let e = number("limit", Some(bad), 100, (1, 1000)).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert!(
                e.message
                    .contains("`limit` must be a whole number from 1 to 1000"),
                "{}",
                e.message
            );
        }
    }
}
