//! The JSON API's half of the console: bearer-token callers and JSON errors.
//!
//! Integrators call `/api/...` with `Authorization: Bearer <token>` (a token
//! made with `oml users token add`). The token acts as its user, with the
//! user's role *now*: a deactivated user or a role lowered below what a call
//! needs is refused. API routes are public to the session middleware (no
//! login redirect) and, carrying no cookies, need no CSRF token: a browser
//! never adds an `Authorization` header by itself. Errors are JSON
//! (`{"error": "..."}`), never the console's HTML error page.

use crate::session::{token_hash, RequestCtx};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use oml_store::{ApiToken, Role, StoreError, User};

/// Where the API lives; registered as a public prefix by whoever adds API routes.
pub const API_PREFIX: &str = "/api/";

/// An API error: its status and a message that says what to fix.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ApiError::not_found(e.to_string()),
            StoreError::AlreadyExists { .. } => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            StoreError::Invalid { .. } => ApiError::bad_request(e.to_string()),
            other => {
                tracing::error!(error = %other, "API: database error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "database error (see the server log)",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"oml\""),
            );
        }
        resp
    }
}

/// The bearer token of a request, if it carries one.
fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks the request's token and that its user has at least `min`.
async fn caller(parts: &Parts, state: &AppState, min: Role) -> Result<ApiCaller, ApiError> {
    let ctx = parts
        .extensions
        .get::<RequestCtx>()
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the console middleware is not installed",
            )
        })?;
    let token = bearer(parts).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "send `Authorization: Bearer <token>` (make one with `oml users token add USER LABEL`)",
        )
    })?;
    let found = state.store().api_token_user(&token_hash(token)).await?;
    let Some((token, user)) = found else {
        tracing::info!(ip = %ctx.client_ip, "API call refused: unknown token");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unknown or revoked API token",
        ));
    };
    let now = oml_store::now_ms();
    if token.expired(now) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!(
                "API token `{}` of `{}` expired on {}: make a new one with `oml users token add`",
                token.label,
                user.username,
                oml_store::format_ms(token.expires_at.unwrap_or(now))
            ),
        ));
    }
    if !user.active {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("user `{}` is deactivated", user.username),
        ));
    }
    if user.role < min {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "user `{}` is {} and this call needs {} or above",
                user.username,
                user.role.as_str(),
                min.as_str()
            ),
        ));
    }
    if token.last_used_at.is_none_or(|t| now - t > 60_000) {
        state.store().touch_api_token(token.id, now).await?;
    }
    Ok(ApiCaller { ctx, user, token })
}

/// A caller with a valid token whose user is a supervisor or an admin.
pub struct ApiCaller {
    pub ctx: RequestCtx,
    pub user: User,
    pub token: ApiToken,
}

impl ApiCaller {
    /// The name written to the audit log: `api:<user>/<label>`.
    pub fn actor(&self) -> String {
        format!("api:{}/{}", self.user.username, self.token.label)
    }
}

/// [`ApiCaller`] whose user is at least a supervisor.
pub struct ApiSupervisor(pub ApiCaller);

impl FromRequestParts<AppState> for ApiSupervisor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        caller(parts, state, Role::Supervisor)
            .await
            .map(ApiSupervisor)
    }
}

/// [`ApiCaller`] of any role, agents included (calls that act on the
/// caller's own work, such as disposing of their own calls).
pub struct ApiAgent(pub ApiCaller);

impl FromRequestParts<AppState> for ApiAgent {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        caller(parts, state, Role::Agent).await.map(ApiAgent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(auth: Option<&str>) -> Parts {
        let mut b = Request::builder().uri("/api/v1/dialer");
        if let Some(a) = auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn bearer_is_read_case_insensitively_and_nothing_else_is() {
        assert_eq!(bearer(&parts(Some("Bearer abc"))), Some("abc"));
        assert_eq!(bearer(&parts(Some("bearer  abc "))), Some("abc"));
        assert_eq!(bearer(&parts(Some("Basic abc"))), None);
        assert_eq!(bearer(&parts(Some("Bearer"))), None);
        assert_eq!(bearer(&parts(None)), None);
    }
}
