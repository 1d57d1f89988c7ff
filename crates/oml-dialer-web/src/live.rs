//! Live updates without reloading (issue 20 item 3): `GET /dialer/live`
//! streams server-sent events, each the HTML of a view's live part (the
//! Dialer page's or the wall's) rendered again every second when it
//! changed (each event's id is a digest of its HTML, so a page, or a
//! browser reconnecting with `Last-Event-ID`, gets only what differs from
//! what it shows); `/dialer/live.js`, the only script, puts each event in
//! place.
//! The pages using it allow scripts from this origin only ([`LIVE_CSP`]).
//! A stream ends after [`STREAM_SECONDS`] and the browser reconnects,
//! signing in again, so a session that ended stops updating within it.

use std::collections::hash_map::DefaultHasher;
use std::convert::Infallible;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use oml_web::auth::SupervisorUser;
use oml_web::pages::render;
use oml_web::session::RequestCtx;
use oml_web::{AppState, WebError};
use serde::Deserialize;

use crate::live_data::LiveData;

/// The Content-Security-Policy of the pages that update live: the
/// console's, with scripts from this origin (`/dialer/live.js`) allowed.
pub const LIVE_CSP: &str = "default-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'";
/// How long one event stream lasts before the browser opens another.
pub const STREAM_SECONDS: u32 = 30;

const SCRIPT: &str = include_str!("../static/live.js");
const LIVE_CSS: &str = include_str!("../static/live.css");

/// Which live part a stream renders.
#[derive(Debug, Clone, Copy, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// The Dialer page's state, servers and campaigns.
    #[default]
    Page,
    /// The wall's tiles.
    Wall,
    /// The agents section (`/dialer/agents`).
    Agents,
}

impl View {
    fn template(self) -> &'static str {
        match self {
            View::Page => "dialer_live.html",
            View::Wall => "dialer_wall_tiles.html",
            View::Agents => "dialer_agents.html",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LiveQuery {
    #[serde(default)]
    view: View,
    /// The digest of the part the page shows (see [`digest`]).
    since: Option<String>,
}

/// A short digest of a live part's HTML: the id of its event.
pub fn digest(html: &str) -> String {
    let mut h = DefaultHasher::new();
    html.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// `resp` with the live pages' policy.
pub fn with_live_csp(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(LIVE_CSP),
    );
    resp
}

/// The HTML of `view`'s live part now.
pub async fn part(state: &AppState, ctx: &RequestCtx, view: View) -> Result<String, WebError> {
    if let View::Agents = view {
        let page = crate::agents_section::context(state, oml_store::now_ms()).await?;
        return Ok(render(state, ctx, view.template(), page)?.0);
    }
    let data = LiveData::load(state.store()).await?;
    let page = if let View::Page = view {
        // The Dialer page also shows the agents section (the same rows as
        // /dialer/agents), updated by the same events.
        let agents = crate::agents_section::context(state, oml_store::now_ms()).await?;
        context! { ..data.context(), ..agents }
    } else {
        data.context()
    };
    Ok(render(state, ctx, view.template(), page)?.0)
}

/// `GET /dialer/live?view=page|wall|agents`: the event stream.
pub async fn live(
    State(state): State<AppState>,
    u: SupervisorUser,
    Query(q): Query<LiveQuery>,
    headers: HeaderMap,
) -> Response {
    let ctx = u.ctx;
    let shown = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
        .or(q.since);
    let stream = futures::stream::unfold((0u32, shown), move |(n, last)| {
        let (state, ctx) = (state.clone(), ctx.clone());
        async move {
            if n >= STREAM_SECONDS {
                return None;
            }
            if n > 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let ev = Event::default();
            let ev = if n == 0 {
                ev.retry(Duration::from_secs(1))
            } else {
                ev
            };
            let (ev, last) = match part(&state, &ctx, q.view).await {
                Ok(html) if last.as_deref() != Some(digest(&html).as_str()) => {
                    let id = digest(&html);
                    (ev.id(id.clone()).data(html.replace('\r', "")), Some(id))
                }
                Ok(_) => (ev.comment("unchanged"), last),
                Err(e) => {
                    tracing::warn!(error = %e, "dialer: cannot render the live view");
                    (ev.comment("not read this time"), last)
                }
            };
            Some((Ok::<_, Infallible>(ev), (n + 1, last)))
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `GET /dialer/wall`: the full-screen wall, for a TV.
pub async fn wall_page(
    State(state): State<AppState>,
    u: SupervisorUser,
) -> Result<Response, WebError> {
    let live = part(&state, &u.ctx, View::Wall).await?;
    let page = render(
        &state,
        &u.ctx,
        "dialer_wall.html",
        context! {
            title => "Dialer wall",
            live_since => digest(&live),
            live_html => live,
        },
    )?;
    Ok(with_live_csp(page.into_response()))
}

pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
}

pub async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        LIVE_CSS,
    )
}
