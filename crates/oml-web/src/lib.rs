//! The oml web console: server-rendered HTML pages on axum, with login and
//! lock-out, server-side sessions, CSRF protection and roles.
//!
//! Other crates add pages and APIs by building their own
//! `Router<AppState>` and passing it to [`build_router`]; every route then
//! goes through the same [`middleware`] (who is logged in, CSRF on
//! every state-changing request, login required outside the public paths,
//! must-change-password) and the same error-to-HTTP mapping ([`WebError`]).
//! Role checks are extractors ([`auth::AdminUser`], [`auth::SupervisorUser`],
//! [`auth::AnyUser`]) so a handler cannot forget which role it needs.

pub mod api;
mod api_errors;
pub mod auth;
pub mod error;
pub mod forms;
pub mod hashing;
pub mod known;
pub mod limits;
pub mod login;
pub mod middleware;
pub mod net;
pub mod pages;
pub mod server;
pub mod session;
pub mod state;
pub mod templates;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::WebError;
pub use state::{AppState, NavItem};

use axum::Router;

/// The console's own routes, without the middleware (for merging).
pub fn console_routes() -> Router<AppState> {
    pages::routes()
}

/// The console alone (no extra routes), ready to serve.
pub fn app(state: AppState) -> Router {
    build_router(state, Router::new())
}

/// The complete application: the console's routes plus `extra` (routes added
/// by other crates), wrapped in the session/CSRF/access middleware and the
/// error-page renderer. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (see [`server`]).
pub fn build_router(state: AppState, extra: Router<AppState>) -> Router {
    let app = console_routes()
        .merge(extra)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::console_middleware,
        ))
        .with_state(state);
    // Around the whole router, not each route: axum adds a 405's `Allow`
    // header outside route layers, and the JSON body names those methods.
    Router::new()
        .fallback_service(app)
        .layer(axum::middleware::from_fn(api_errors::json_errors))
}
