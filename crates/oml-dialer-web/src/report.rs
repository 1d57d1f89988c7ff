//! A campaign's compliance report (SPEC §3): the abandon rate over the
//! campaign's regulatory window with the counts behind it, its contacts by
//! state and its attempts by outcome — what `oml campaign stats` prints, as
//! a console page and as `GET /api/v1/campaigns/{name}/report`.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use minijinja::context;
use oml_store::compliance::RuleSet;
use oml_store::{Campaign, Store};
use oml_web::api::{ApiError, ApiSupervisor};
use oml_web::auth::SupervisorUser;
use oml_web::pages::render;
use oml_web::{AppState, WebError};
use serde::Serialize;

/// The report of one campaign, now.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub name: String,
    pub state: String,
    /// `us` (30 days) or `uk` (24 hours).
    pub abandon_window: String,
    /// The window's start, Unix ms.
    pub window_start_ms: i64,
    /// Seconds within which an answered call must reach an agent.
    pub abandon_seconds: i64,
    /// The rules the window stands for (FCC or Ofcom) and their limits.
    pub rule_set: RuleSet,
    /// Settings beyond the rule set were allowed explicitly.
    pub non_compliant: bool,
    /// The settings beyond the rule set, each with the rule it breaks.
    pub breaches: Vec<String>,
    pub live_answered: i64,
    pub abandoned: i64,
    pub abandon_rate: f64,
    pub max_abandon_rate: f64,
    pub within_limit: bool,
    pub contacts_total: i64,
    pub contacts_left: i64,
    pub due_now: i64,
    /// Contacts by state.
    pub contacts: std::collections::BTreeMap<String, i64>,
    pub attempts_total: i64,
    pub in_flight: i64,
    /// Attempts by outcome.
    pub outcomes: std::collections::BTreeMap<String, i64>,
}

/// Reads the report of `c` at `now`.
pub async fn report(store: &Store, c: &Campaign, now: i64) -> oml_store::Result<Report> {
    let s = store.stats_of(c, now).await?;
    let rate = s.abandon.rate();
    Ok(Report {
        name: c.name.clone(),
        state: c.state.to_string(),
        abandon_window: c.abandon_window.as_str().to_string(),
        window_start_ms: s.window_start_ms,
        abandon_seconds: c.abandon_seconds,
        rule_set: *c.abandon_window.rule_set(),
        non_compliant: c.non_compliant,
        breaches: c.breaches().iter().map(ToString::to_string).collect(),
        live_answered: s.abandon.live_answered,
        abandoned: s.abandon.abandoned,
        abandon_rate: rate,
        max_abandon_rate: c.max_abandon_rate,
        within_limit: rate <= c.max_abandon_rate,
        contacts_total: s.contacts_total,
        contacts_left: s.contacts_left,
        due_now: s.due_now,
        contacts: s.contacts,
        attempts_total: s.attempts_total,
        in_flight: s.in_flight,
        outcomes: s.outcomes,
    })
}

/// Recorded calls the report page lists (the newest).
const SHOWN_RECORDINGS: i64 = 50;

/// The report page's query: the day whose curves it shows (today by default).
#[derive(Debug, Default, serde::Deserialize)]
pub struct DayQuery {
    pub day: Option<String>,
}

pub async fn report_page(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
    Query(q): Query<DayQuery>,
) -> Result<Response, WebError> {
    let c = crate::common::campaign_or_404(&state, &name).await?;
    let now = oml_store::now_ms();
    let tz: chrono_tz::Tz = c.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let day = match q.day.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => d.to_string(),
        None => chrono::DateTime::from_timestamp_millis(now)
            .unwrap_or_default()
            .with_timezone(&tz)
            .format("%Y-%m-%d")
            .to_string(),
    };
    if chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").is_err() {
        return Err(WebError::BadRequest(format!(
            "day={day} is not a day: give it as 2026-12-07"
        )));
    }
    let (from, to) =
        crate::export::period::period(Some(&day), Some(&day), tz).map_err(WebError::BadRequest)?;
    let minutes = state.store().campaign_minutes(c.id, from, to).await?;
    let charts = crate::charts::campaign_charts(&minutes, from, to, tz);
    let r = report(state.store(), &c, now).await?;
    let recordings: Vec<minijinja::Value> = state
        .store()
        .campaign_recordings(c.id, SHOWN_RECORDINGS)
        .await?
        .into_iter()
        .map(|x| {
            let day = x.deleted_at.map(oml_store::retention::recordings_day);
            minijinja::Value::from_serialize(serde_json::json!({
                "attempt_id": x.attempt_id, "contact_id": x.contact_id, "phone": x.phone,
                "attempt_no": x.attempt_no, "placed_at": x.placed_at, "outcome": x.outcome,
                "agent": x.agent, "file": x.file, "deleted_day": day,
            }))
        })
        .collect();
    Ok(render(
        &state,
        &u.ctx,
        "report.html",
        context! {
            title => format!("Report of {}", c.name),
            r => r,
            day => day,
            minutes => minutes.len(),
            charts => charts,
            recordings => recordings,
        },
    )?
    .into_response())
}

/// `GET /api/v1/campaigns/{name}/report`.
pub async fn report_api(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
    Path(name): Path<String>,
) -> Result<Json<Report>, ApiError> {
    let c = state
        .store()
        .campaign_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("campaign `{name}` not found")))?;
    Ok(Json(report(state.store(), &c, oml_store::now_ms()).await?))
}
