//! The answers the router makes itself under `/api/` (a wrong method: an
//! empty `405` with an `Allow` header; an unknown path: the console's HTML
//! `404` page) get the JSON body `{"error": ...}` every other API error
//! has, saying what to use instead, so a client parses one shape.

use crate::api::{ApiError, API_PREFIX};
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Middleware: a `405`/`404` under [`API_PREFIX`] that is not JSON gets a
/// JSON body (the `Allow` header kept).
pub async fn json_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let resp = next.run(req).await;
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !path.starts_with(API_PREFIX) || json {
        return resp;
    }
    match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = resp.headers().get(header::ALLOW).cloned();
            let allowed = allow
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let mut out = ApiError::new(status, not_allowed(method.as_str(), &path, &allowed))
                .into_response();
            if let Some(allow) = allow {
                out.headers_mut().insert(header::ALLOW, allow);
            }
            out
        }
        StatusCode::NOT_FOUND => ApiError::not_found(format!(
            "no API call at {path}: see /api/v1/openapi.json for the calls there are"
        ))
        .into_response(),
        _ => resp,
    }
}

/// The message of a `405`: the method refused and the ones to use.
fn not_allowed(method: &str, path: &str, allow: &str) -> String {
    if allow.is_empty() {
        format!("method {method} is not allowed on {path}")
    } else {
        format!("method {method} is not allowed on {path}: use {allow}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_message_names_the_methods_to_use() {
        assert_eq!(
            super::not_allowed("DELETE", "/api/v1/dialer", "GET,HEAD"),
            "method DELETE is not allowed on /api/v1/dialer: use GET,HEAD"
        );
        assert!(!super::not_allowed("PUT", "/api/x", "").contains("use"));
    }
}
