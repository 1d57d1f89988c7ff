//! The console's pages: thin handlers that check input (`forms`), call the
//! store, and render a template through [`render`], which adds what the
//! layout needs (user, navigation, CSRF token, flash message).

mod account;
mod admin;
mod agent;
mod agent_ami;
mod agent_events;
mod agent_fields;
mod agent_preview;
pub mod agent_queue;
mod agent_users;
mod agent_view;
mod agent_wrapup;

use crate::auth::AnyUser;
use crate::error::ErrorPage;
use crate::session::RequestCtx;
use crate::{AppState, WebError};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/static/console.css", get(css))
        .route(
            "/setup",
            get(account::setup_page).post(account::setup_submit),
        )
        .route(
            "/login",
            get(account::login_page).post(account::login_submit),
        )
        .route("/logout", post(account::logout))
        .route(
            "/account/password",
            get(account::password_page).post(account::password_submit),
        )
        .route("/admin/blocked", get(admin::blocked_page))
        .route("/admin/blocked/unblock", post(admin::unblock))
        .route("/admin/users", get(admin::users_page).post(admin::user_add))
        .route("/admin/users/role", post(admin::user_role))
        .route("/admin/users/active", post(admin::user_active))
        .route("/admin/users/password", post(admin::user_password))
        .route("/admin/users/agent", post(agent_users::user_agent))
        .route("/admin/audit", get(admin::audit_page))
        .route("/agent", get(agent::agent_page))
        .route("/agent/login", post(agent::login))
        .route("/agent/ready", post(agent::ready))
        .route("/agent/pause", post(agent::pause))
        .route("/agent/logout", post(agent::logout))
        .route("/agent/events", get(agent::events))
        .route("/agent/preview", get(agent_preview::page))
        .route("/agent/preview/next", post(agent_preview::next))
        .route("/agent/preview/call", post(agent_preview::call))
        .route("/agent/preview/skip", post(agent_preview::skip))
        .route("/agent/wrapup", post(agent_wrapup::submit))
        .route("/static/agent.js", get(agent::script))
        .fallback(|| async { WebError::NotFound })
}

/// What the layout needs, for the request `ctx`.
pub fn base_context(state: &AppState, ctx: &RequestCtx) -> Value {
    let user = ctx.auth.as_ref().map(|a| {
        context! {
            username => a.user.username.clone(),
            role => a.user.role.as_str(),
            must_change_password => a.user.must_change_password,
        }
    });
    let nav: Vec<Value> = match &ctx.auth {
        Some(a) if !a.user.must_change_password => state
            .nav()
            .iter()
            .filter(|n| a.user.role >= n.min_role)
            .map(|n| {
                let current = if n.href == "/" {
                    ctx.path == "/"
                } else {
                    ctx.path.starts_with(&n.href)
                };
                context! { label => n.label.clone(), href => n.href.clone(), current => current }
            })
            .collect(),
        _ => Vec::new(),
    };
    context! {
        user => user,
        nav => nav,
        csrf_token => ctx.csrf_token.clone(),
        flash => ctx.flash.clone(),
        path => ctx.path.clone(),
    }
}

/// Renders page template `name` with the layout's context plus `page`.
pub fn render(
    state: &AppState,
    ctx: &RequestCtx,
    name: &str,
    page: Value,
) -> Result<Html<String>, WebError> {
    let base = base_context(state, ctx);
    let html = state
        .templates()
        .render(name, context! { ..page, ..base })?;
    Ok(Html(html))
}

/// The status of every refused form, on every page: the page comes back
/// with the values and the reason next to the field, and nothing is stored.
pub const REFUSED: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// A page re-rendered because its form was refused: answered [`REFUSED`].
pub fn refused(page: Html<String>) -> Response {
    (REFUSED, page).into_response()
}

/// The error page (used by the middleware for every [`WebError`]).
pub fn render_error(state: &AppState, ctx: &RequestCtx, page: &ErrorPage) -> String {
    let reason = page.status.canonical_reason().unwrap_or("Error");
    let title = format!("{} {reason}", page.status.as_u16());
    let ctx_page = context! {
        title => title.clone(),
        status => page.status.as_u16(),
        reason => reason,
        message => page.message.clone(),
    };
    render(state, ctx, "error.html", ctx_page)
        .map(|h| h.0)
        .unwrap_or_else(|_| {
            format!(
                "<!doctype html><title>{} · oml console</title><p>{}</p>",
                minijinja::HtmlEscape(&title),
                minijinja::HtmlEscape(&page.message)
            )
        })
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        crate::templates::CONSOLE_CSS,
    )
}

async fn home(
    axum::extract::State(state): axum::extract::State<AppState>,
    u: AnyUser,
) -> Result<Html<String>, WebError> {
    let now = oml_store::now_ms();
    let blocked = if u.auth.user.role == oml_store::Role::Admin {
        Some(state.store().active_blocks(now).await?.len())
    } else {
        None
    };
    render(
        &state,
        &u.ctx,
        "home.html",
        context! { blocked_count => blocked, title => "Home" },
    )
}
