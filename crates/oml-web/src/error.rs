//! Errors of the console and their one mapping to HTTP.
//!
//! A handler returns `Result<_, WebError>`; [`WebError::into_response`]
//! picks the status and attaches an [`ErrorPage`] marker that the session
//! middleware turns into a full page (with the layout and navigation), so
//! every error looks the same wherever it comes from.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use oml_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("This page does not exist.")]
    NotFound,
    #[error("You do not have access to this page. Ask an administrator if you need it.")]
    Forbidden,
    #[error("Log in first.")]
    LoginRequired,
    #[error("The form expired or did not come from this console. Reload the page and try again.")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    /// A body over the limit, refused (from `Content-Length` when it is
    /// given) before it is read.
    #[error("{0}")]
    TooLarge(String),
    #[error("Too many logins are being checked right now. Try again in a moment.")]
    Busy,
    #[error("database error: {0}")]
    Store(#[from] StoreError),
    #[error("template error: {0}")]
    Template(String),
    #[error("server setup: {0}")]
    Setup(String),
}

impl From<minijinja::Error> for WebError {
    fn from(e: minijinja::Error) -> Self {
        WebError::Template(format!("{e:#}"))
    }
}

/// Marker placed in a response's extensions: "render the error page with
/// this status and message". Added by [`WebError::into_response`].
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub message: String,
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden => StatusCode::FORBIDDEN,
            WebError::LoginRequired => StatusCode::SEE_OTHER,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Store(_) | WebError::Template(_) | WebError::Setup(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::LoginRequired = self {
            return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
        }
        let status = self.status();
        let message = if status.is_server_error() && !matches!(self, WebError::Busy) {
            // Details go to the log, not to the browser.
            tracing::error!(error = %self, "request failed");
            "Something went wrong on the server. The details are in the oml log.".to_string()
        } else {
            self.to_string()
        };
        let mut resp = (status, message.clone()).into_response();
        if matches!(self, WebError::Busy) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        resp.extensions_mut().insert(ErrorPage { status, message });
        resp
    }
}
