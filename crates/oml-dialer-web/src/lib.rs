//! The dialer in the console and over HTTP: the supervisor's **Dialer** page
//! (play/stop, every campaign's live figures, start/pause/stop) and the JSON
//! API integrators drive from their CRM (`/api/v1/...`, bearer tokens).
//!
//! Both go through `oml_dialer::control`, like `oml dialer` and
//! `oml campaign` do, so every front end changes the same settings and
//! writes the same audit rows. `oml serve` adds this crate to the console
//! with [`register`] and [`routes`]. The API is described by
//! `openapi.json` (served at `/api/v1/openapi.json`), and `/metrics` gives
//! the same figures to Prometheus.

mod agents_section;
mod api;
mod board;
mod campaign_form;
mod charts;
mod common;
mod contacts;
mod contacts_api;
mod dispositions_api;
mod dispositions_page;
pub mod export;
mod live;
mod live_data;
pub mod metrics;
mod metrics_counters;
mod page;
mod recordings;
pub mod report;
mod setup;
mod sounds_page;
mod sparkline;
pub mod view;

pub use contacts::MAX_UPLOAD_BYTES;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use oml_store::Role;
use oml_web::state::AppStateBuilder;
use oml_web::{AppState, NavItem, WebError};

/// Adds the Dialer page's template and navigation entry, and lets the API
/// through the login redirect (it authenticates with its own tokens).
pub fn register(builder: AppStateBuilder) -> AppStateBuilder {
    let builder = dispositions_page::register(builder);
    let builder = recordings::register(builder);
    let builder = sounds_page::register(builder);
    agents_section::register(builder)
        .template("dialer.html", include_str!("../templates/dialer.html"))
        .template(
            "dialer_live.html",
            include_str!("../templates/dialer_live.html"),
        )
        .template(
            "dialer_wall.html",
            include_str!("../templates/dialer_wall.html"),
        )
        .template(
            "dialer_wall_tiles.html",
            include_str!("../templates/dialer_wall_tiles.html"),
        )
        .template("contacts.html", include_str!("../templates/contacts.html"))
        .template(
            "dialer_setup.html",
            include_str!("../templates/dialer_setup.html"),
        )
        .template("report.html", include_str!("../templates/report.html"))
        .template(
            "campaign_form.html",
            include_str!("../templates/campaign_form.html"),
        )
        .nav(NavItem::new("Dialer", "/dialer", Role::Supervisor))
        .public_prefix(oml_web::api::API_PREFIX)
        .public_prefix("/metrics")
}

/// The CSV exports' routes, console and API (see [`export`]).
fn export_routes() -> Router<AppState> {
    let mut r = Router::new();
    for kind in export::Kind::ALL {
        r = r
            .route(
                &format!("/dialer/campaigns/{{name}}/export/{}", kind.file()),
                get(move |s, u, p, q| export::console(s, u, p, q, kind)),
            )
            .route(
                &format!("/api/v1/campaigns/{{name}}/export/{}", kind.file()),
                get(move |s, c, p, q| export::api(s, c, p, q, kind)),
            );
    }
    r
}

/// The page's and the API's routes, for [`oml_web::build_router`].
pub fn routes() -> Router<AppState> {
    export_routes()
        .merge(dispositions_api::routes())
        .merge(dispositions_page::routes())
        .merge(agents_section::routes())
        .merge(recordings::routes())
        .merge(sounds_page::routes())
        .route("/dialer", get(page::dialer_page))
        .route("/dialer/live", get(live::live))
        .route("/dialer/live.js", get(live::script))
        .route("/dialer/live.css", get(live::style))
        .route("/dialer/wall", get(live::wall_page))
        .route("/dialer/play", post(page::play))
        .route("/dialer/campaign", post(page::campaign_state))
        .route(
            "/dialer/campaigns/new",
            get(campaign_form::new_page).post(campaign_form::create),
        )
        .route(
            "/dialer/campaigns/{name}/edit",
            get(campaign_form::edit_page).post(campaign_form::edit),
        )
        .route("/dialer/campaigns/{name}/report", get(report::report_page))
        .route("/dialer/setup", get(setup::setup_page))
        .route("/dialer/setup/server", post(setup::add_server))
        .route("/dialer/setup/server/remove", post(setup::remove_server))
        .route("/dialer/setup/server/enabled", post(setup::server_enabled))
        .route("/dialer/setup/trunk", post(setup::add_trunk))
        .route("/dialer/setup/trunk/remove", post(setup::remove_trunk))
        .route(
            "/dialer/campaigns/{name}/contacts",
            get(contacts::contacts_page)
                .post(contacts::upload)
                .layer(DefaultBodyLimit::max(contacts::MAX_BODY_BYTES)),
        )
        .route("/api/v1/status", get(api::health))
        .route("/api/v1/dialer", get(api::status))
        .route("/api/v1/dialer/{action}", post(api::play))
        .route("/api/v1/campaigns", get(api::campaigns))
        .route("/api/v1/campaigns/{name}", get(api::campaign))
        .route(
            "/api/v1/campaigns/{name}/{action}",
            post(api::campaign_action),
        )
        .route("/api/v1/campaigns/{name}/report", get(report::report_api))
        .route(
            "/api/v1/campaigns/{name}/contacts",
            get(contacts_api::campaign_contacts),
        )
        .route("/api/v1/contacts", get(contacts_api::contacts_by_phone))
        .route("/api/v1/contacts/{id}", get(contacts_api::contact))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/metrics", get(metrics::metrics))
}

/// The console with the dialer's page and API, on a state made with [`register`].
pub fn app(state: AppState) -> Router {
    oml_web::build_router(state, routes())
}

/// The whole console `oml serve` and `oml demo` run: the console's own
/// pages, the Dialer page and the JSON API.
pub fn console(store: oml_store::Store, config: oml_config::Config) -> Result<Router, WebError> {
    Ok(app(register(AppState::builder(store, config)).build()?))
}
