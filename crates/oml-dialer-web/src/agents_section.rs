//! The supervisor's view of agents (issue 19 item 7) in the console and the
//! API: `/dialer/agents` (the section `dialer_agents.html`, which the Dialer
//! page's live part can include with [`context`]) and `GET /api/v1/agents`.
//! The day starts at midnight UTC.

use axum::extract::State;
use axum::response::Html;
use axum::Json;
use minijinja::context;
use oml_store::agent_overview::AgentOverview;
use oml_web::api::{ApiError, ApiSupervisor};
use oml_web::auth::SupervisorUser;
use oml_web::pages::render;
use oml_web::{AppState, WebError};
use serde::Serialize;

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

/// The section's template context at `now`: `agents` and `day_start`.
pub async fn context(state: &AppState, now: i64) -> Result<minijinja::Value, WebError> {
    let start = day_start(now);
    let rows: Vec<Row> = state
        .store()
        .agents_overview(start)
        .await?
        .into_iter()
        .map(|a| Row {
            for_: a.since.map(|t| duration((now - t) / 1000)),
            talk_today: duration(a.talk_s_today),
            agent: a,
        })
        .collect();
    Ok(context! { agents => rows, day_start => oml_store::format_ms(start) })
}

/// `GET /dialer/agents`: the section on a page of its own.
pub async fn page(
    State(state): State<AppState>,
    u: SupervisorUser,
) -> Result<Html<String>, WebError> {
    let ctx = context(&state, oml_store::now_ms()).await?;
    render(
        &state,
        &u.ctx,
        "dialer_agents_page.html",
        context! { title => "Agents", ..ctx },
    )
}

/// `GET /api/v1/agents`: every active agent's state and day.
pub async fn api(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
) -> Result<Json<Vec<AgentOverview>>, ApiError> {
    let now = oml_store::now_ms();
    Ok(Json(state.store().agents_overview(day_start(now)).await?))
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
    }
}
