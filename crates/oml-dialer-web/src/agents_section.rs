//! The supervisor's view of agents (issue 19 item 7) in the console and the
//! API: `/dialer/agents` (the section `dialer_agents.html`, which the Dialer
//! page's live part can include with [`context`]) and `GET /api/v1/agents`.
//! "Today" starts at midnight in each campaign's time zone (a call counts
//! in its campaign's day); the page updates live (`/dialer/live?view=agents`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use minijinja::context;
use oml_store::agent_overview::AgentOverview;
use oml_web::api::{ApiError, ApiSupervisor};
use oml_web::auth::SupervisorUser;
use oml_web::pages::render;
use oml_web::{AppState, WebError};
use serde::Serialize;
use std::collections::HashMap;

/// Midnight UTC of the day of `now` (Unix ms).
pub fn day_start(now: i64) -> i64 {
    now - now.rem_euclid(86_400_000)
}

/// `1 h 02 min`, `3 min 05 s`, `12 s`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec} s"),
        (0, m, sec) => format!("{m} min {sec:02} s"),
        (h, m, _) => format!("{h} h {m:02} min"),
    }
}

/// One row of the section.
#[derive(Debug, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub agent: AgentOverview,
    /// How long in this state (or on this call).
    #[serde(rename = "for")]
    pub for_: Option<String>,
    pub talk_today: String,
}

/// Midnight in time zone `zone` (an IANA name; UTC when unknown) of the
/// day of `now` (Unix ms).
pub fn zone_day_start(now: i64, zone: &str) -> i64 {
    use chrono::TimeZone;
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    let Some(t) = chrono::DateTime::from_timestamp_millis(now) else {
        return day_start(now);
    };
    let midnight = t
        .with_timezone(&tz)
        .date_naive()
        .and_time(chrono::NaiveTime::MIN);
    // A zone whose clocks skip midnight starts its day at the first
    // moment after it.
    (0..=4)
        .find_map(|h| {
            tz.from_local_datetime(&(midnight + chrono::Duration::minutes(30 * h)))
                .earliest()
        })
        .map_or_else(|| day_start(now), |d| d.timestamp_millis())
}

/// Each campaign's day start at `now` (midnight in its time zone), and
/// the zones in words (`sales: America/Argentina/Buenos_Aires`).
async fn day_starts(
    state: &AppState,
    now: i64,
) -> Result<(HashMap<i64, i64>, Vec<String>), oml_store::StoreError> {
    let mut starts = HashMap::new();
    let mut zones = Vec::new();
    for c in state.store().campaigns().await? {
        starts.insert(c.id, zone_day_start(now, &c.time_zone));
        zones.push(format!("{}: {}", c.name, c.time_zone));
    }
    Ok((starts, zones))
}

/// Every agent's overview at `now`, today in each campaign's zone.
pub async fn overview(
    state: &AppState,
    now: i64,
) -> Result<(Vec<AgentOverview>, Vec<String>), oml_store::StoreError> {
    let (starts, zones) = day_starts(state, now).await?;
    let rows = state
        .store()
        .agents_overview_zoned(day_start(now), &starts)
        .await?;
    Ok((rows, zones))
}

/// The section's template context at `now`: `agents` and `day_zones`.
pub async fn context(state: &AppState, now: i64) -> Result<minijinja::Value, WebError> {
    let (agents, zones) = overview(state, now).await?;
    let rows: Vec<Row> = agents
        .into_iter()
        .map(|a| Row {
            for_: a.since.map(|t| duration((now - t) / 1000)),
            talk_today: duration(a.talk_s_today),
            agent: a,
        })
        .collect();
    Ok(context! { agents => rows, day_zones => zones })
}

/// `GET /dialer/agents`: the section on a page of its own.
pub async fn page(State(state): State<AppState>, u: SupervisorUser) -> Result<Response, WebError> {
    let live = crate::live::part(&state, &u.ctx, crate::live::View::Agents).await?;
    let page = render(
        &state,
        &u.ctx,
        "dialer_agents_page.html",
        context! {
            title => "Agents",
            live_since => crate::live::digest(&live),
            live_html => live,
        },
    )?;
    Ok(crate::live::with_live_csp(page.into_response()))
}

/// `GET /api/v1/agents`: every active agent's state and day.
pub async fn api(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
) -> Result<Json<Vec<AgentOverview>>, ApiError> {
    Ok(Json(overview(&state, oml_store::now_ms()).await?.0))
}

/// The routes of this file, merged into [`crate::routes`].
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/dialer/agents", get(page))
        .route("/api/v1/agents", get(api))
}

/// Registers the section's templates.
pub fn register(b: oml_web::state::AppStateBuilder) -> oml_web::state::AppStateBuilder {
    b.template(
        "dialer_agents.html",
        include_str!("../templates/dialer_agents.html"),
    )
    .template(
        "dialer_agents_page.html",
        include_str!("../templates/dialer_agents_page.html"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_days() {
        assert_eq!(duration(12), "12 s");
        assert_eq!(duration(185), "3 min 05 s");
        assert_eq!(duration(3720), "1 h 02 min");
        assert_eq!(day_start(86_400_000 * 3 + 5), 86_400_000 * 3);
        // 2026-12-08 02:00 UTC is still 2026-12-07 in Buenos Aires (UTC-3):
        // its day began at 2026-12-07 03:00 UTC.
        let now = 1_796_695_200_000; // 2026-12-08 02:00 UTC
        assert_eq!(day_start(now), 1_796_688_000_000);
        let ba = zone_day_start(now, "America/Argentina/Buenos_Aires");
        assert_eq!(ba, 1_796_612_400_000);
        assert_eq!(zone_day_start(now, "UTC"), day_start(now));
        assert_eq!(zone_day_start(now, "nowhere"), day_start(now));
        // Tokyo (UTC+9): 2026-12-08 11:00 there, its day began 2026-12-07 15:00 UTC.
        assert_eq!(zone_day_start(now, "Asia/Tokyo"), 1_796_655_600_000);
    }
}
