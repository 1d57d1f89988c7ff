//! CSV exports of a campaign (issue 20 item 4): its attempts, its contacts
//! with their state, its per-minute history and its compliance report,
//! from the console (`/dialer/campaigns/NAME/export/KIND.csv`) and the API
//! (`/api/v1/campaigns/NAME/export/KIND.csv`), for supervisors and admins,
//! each export audited. The body is streamed a page at a time
//! ([`oml_store::exports::EXPORT_PAGE`] rows), so an export of any size
//! holds one page in the server's memory.

pub(crate) mod period;
pub mod rows;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;
use futures::stream::{self, Stream, StreamExt};
use oml_store::exports::EXPORT_PAGE;
use oml_store::{Campaign, Store};
use oml_web::api::{ApiError, ApiSupervisor};
use oml_web::auth::SupervisorUser;
use oml_web::{AppState, WebError};
use serde::Deserialize;

/// What an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Attempts,
    Contacts,
    History,
    Report,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Attempts, Kind::Contacts, Kind::History, Kind::Report];

    /// The last part of its URL: `attempts.csv` ...
    pub fn file(self) -> &'static str {
        match self {
            Kind::Attempts => "attempts.csv",
            Kind::Contacts => "contacts.csv",
            Kind::History => "history.csv",
            Kind::Report => "report.csv",
        }
    }
}

/// The query of an export: `?from=&to=` (days or RFC 3339 instants).
#[derive(Debug, Default, Deserialize)]
pub struct Range {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// `GET /dialer/campaigns/{name}/export/{kind}.csv`.
pub async fn console(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
    Query(range): Query<Range>,
    kind: Kind,
) -> Result<Response, WebError> {
    let c = crate::common::campaign_or_404(&state, &name).await?;
    let (tz, from, to) = bounds(&c, &range).map_err(WebError::BadRequest)?;
    let detail = detail(kind, &range);
    crate::common::audit(&state, &u, "campaign.export", &c.name, &detail).await;
    Ok(respond(state.store().clone(), c, kind, tz, from, to).await?)
}

/// `GET /api/v1/campaigns/{name}/export/{kind}.csv`.
pub async fn api(
    State(state): State<AppState>,
    caller: ApiSupervisor,
    Path(name): Path<String>,
    Query(range): Query<Range>,
    kind: Kind,
) -> Result<Response, ApiError> {
    let c = state
        .store()
        .campaign_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("campaign `{name}` not found")))?;
    let (tz, from, to) = bounds(&c, &range).map_err(ApiError::bad_request)?;
    let caller = caller.0;
    let ip = caller.ctx.client_ip.to_string();
    let detail = detail(kind, &range);
    if let Err(e) = state
        .store()
        .audit(
            oml_store::now_ms(),
            &caller.actor(),
            "campaign.export",
            &c.name,
            Some(&ip),
            &detail,
        )
        .await
    {
        tracing::warn!(error = %e, "cannot write the audit log");
    }
    Ok(respond(state.store().clone(), c, kind, tz, from, to).await?)
}

fn detail(kind: Kind, r: &Range) -> String {
    format!(
        "{} from {} to {}",
        kind.file(),
        r.from
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("the start"),
        r.to.as_deref().filter(|s| !s.is_empty()).unwrap_or("now")
    )
}

fn bounds(c: &Campaign, r: &Range) -> Result<(Tz, i64, i64), String> {
    let tz: Tz = c.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let (from, to) = period::period(r.from.as_deref(), r.to.as_deref(), tz)?;
    Ok((tz, from, to))
}

/// The streamed CSV response.
async fn respond(
    store: Store,
    c: Campaign,
    kind: Kind,
    tz: Tz,
    from: i64,
    to: i64,
) -> oml_store::Result<Response> {
    let body = match kind {
        Kind::Report => {
            let r = crate::report::report(&store, &c, oml_store::now_ms()).await?;
            let mut records = vec![vec!["item".to_string(), "value".to_string()]];
            records.extend(rows::report_records(&r, tz));
            Body::from(rows::csv_bytes(records))
        }
        _ => Body::from_stream(pages(store, c.id, kind, tz, from, to)),
    };
    let file = format!("{}-{}", c.name, kind.file());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.replace('"', "")),
            ),
        ],
        body,
    )
        .into_response())
}

/// Where the next page starts: after this key (attempts: placed at, id;
/// contacts: id; minutes: the minute, and 0).
#[derive(Clone, Copy)]
enum Cursor {
    Header,
    After((i64, i64)),
    Done,
}

/// The header, then one CSV chunk per page until a page comes back short.
/// A database error ends the body early (the download fails visibly).
fn pages(
    store: Store,
    campaign: i64,
    kind: Kind,
    tz: Tz,
    from: i64,
    to: i64,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    stream::unfold(Cursor::Header, move |cursor| {
        let store = store.clone();
        async move {
            let (records, next): (Vec<Vec<String>>, Cursor) = match cursor {
                Cursor::Done => return None,
                Cursor::Header => {
                    let h = match kind {
                        Kind::Attempts => rows::attempt_header(),
                        Kind::Contacts => rows::contact_header(),
                        _ => rows::minute_header(),
                    };
                    (vec![h], Cursor::After((i64::MIN, i64::MIN)))
                }
                Cursor::After(after) => {
                    match page(&store, campaign, kind, tz, from, to, after).await {
                        Ok((records, last)) => {
                            let next = match last {
                                Some(l) if records.len() as i64 == EXPORT_PAGE => Cursor::After(l),
                                _ => Cursor::Done,
                            };
                            (records, next)
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "export: cannot read the next page");
                            return Some((Err(std::io::Error::other(e.to_string())), Cursor::Done));
                        }
                    }
                }
            };
            Some((Ok(Bytes::from(rows::csv_bytes(records))), next))
        }
    })
    .boxed()
}

/// One page of records after key `after`, and the last key in it.
async fn page(
    store: &Store,
    campaign: i64,
    kind: Kind,
    tz: Tz,
    from: i64,
    to: i64,
    after: (i64, i64),
) -> oml_store::Result<(Vec<Vec<String>>, Option<(i64, i64)>)> {
    Ok(match kind {
        Kind::Attempts => {
            let p = store
                .export_attempts(campaign, from, to, after, EXPORT_PAGE)
                .await?;
            let last = p.last().map(|a| (a.placed_at, a.id));
            (
                p.iter().map(|a| rows::attempt_record(a, tz)).collect(),
                last,
            )
        }
        Kind::Contacts => {
            let p = store
                .campaign_contacts(campaign, None, after.0.max(0), EXPORT_PAGE)
                .await?;
            let last = p.last().map(|c| (c.id, 0));
            (
                p.iter().map(|c| rows::contact_record(c, tz)).collect(),
                last,
            )
        }
        _ => {
            let after = (after.0 != i64::MIN).then_some(after.0);
            let p = store
                .export_minutes(campaign, from, to, after, EXPORT_PAGE)
                .await?;
            let last = p.last().map(|m| (m.minute_at, 0));
            (p.iter().map(|m| rows::minute_record(m, tz)).collect(), last)
        }
    })
}
