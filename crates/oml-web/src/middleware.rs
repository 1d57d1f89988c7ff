//! The middleware every request goes through.
//!
//! For each request it works out the client address (trusting
//! `X-Forwarded-For` only from configured proxies), loads the server-side
//! session (idle expiry), checks the CSRF token of every state-changing
//! request, sends anonymous visitors of non-public paths to the login page,
//! holds users who must change their password on that page, and renders
//! error pages and security headers on the way out. It sits above the
//! pages and the API (it imports both; neither imports it).

use crate::api::API_PREFIX;
use crate::error::ErrorPage;
use crate::pages::render_error;
use crate::session::{
    constant_time_eq, cookie, decode_flash, is_token, parse_cookies, random_token,
    redirect_with_flash, token_hash, Authed, RequestCtx, CSRF_FIELD, FLASH_COOKIE, PRE_CSRF_COOKIE,
    SESSION_COOKIE,
};
use crate::{limits, net, AppState, WebError};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// A session is written back to the database at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;
/// The largest form body the middleware reads to find the CSRF token.
const MAX_FORM_BYTES: usize = 1 << 20;
/// `Strict-Transport-Security` on every answer over HTTPS: one year, this
/// host only (other hosts of the domain may still serve plain HTTP).
pub const HSTS: &str = "max-age=31536000";
/// Paths a user who must change the password may still open.
const MUST_CHANGE_ALLOWED: &[&str] = &["/account/password", "/logout"];

/// The CSRF token a request carries: `X-CSRF-Token`, or the `csrf_token`
/// field of a URL-encoded form body, or (for multipart uploads, whose body
/// is not read here) of the query string.
fn provided_csrf(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Option<String> {
    if let Some(v) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return Some(v.to_string());
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let source: &[u8] = if ctype.starts_with("application/x-www-form-urlencoded") {
        body
    } else if ctype.starts_with("multipart/form-data") {
        query.unwrap_or("").as_bytes()
    } else {
        return None;
    };
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(source)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v)
}

/// True when an `Origin` header names another site than `Host`.
fn cross_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin == "null" {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    !origin_host.eq_ignore_ascii_case(host)
}

/// The console middleware (see the module documentation).
pub async fn console_middleware(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    match handle(&state, req, next).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn handle(state: &AppState, mut req: Request, next: Next) -> Result<Response, WebError> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let headers = req.headers();
    let trusted = &state.config().web.trusted_proxies;
    let header_str = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let client_ip = net::client_ip(peer, header_str("x-forwarded-for"), trusted);
    let secure =
        state.serves_tls() || net::forwarded_https(peer, header_str("x-forwarded-proto"), trusted);
    let cookies = parse_cookies(headers);
    let now = oml_store::now_ms();
    let idle_ms = i64::try_from(state.config().web.session_idle_seconds)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);

    // The session, if any and still fresh.
    let mut expired = false;
    let mut auth = None;
    if let Some(token) = cookies.get(SESSION_COOKIE).filter(|t| is_token(t)) {
        let hash = token_hash(token);
        match state.store().web_session(&hash).await? {
            Some((s, u)) if s.last_seen_at.saturating_add(idle_ms) >= now && u.active => {
                if now - s.last_seen_at > TOUCH_EVERY_MS {
                    state.store().touch_web_session(&hash, now).await?;
                }
                auth = Some(Authed {
                    user: u,
                    session: s,
                });
            }
            Some(_) => {
                state.store().delete_web_session(&hash).await?;
                expired = true;
            }
            None => expired = true,
        }
    }
    let (pre_csrf, new_pre_csrf) = match cookies.get(PRE_CSRF_COOKIE).filter(|t| is_token(t)) {
        Some(t) => (t.clone(), false),
        None => (random_token(), true),
    };
    let csrf_token = auth
        .as_ref()
        .map(|a| a.session.csrf_token.clone())
        .unwrap_or_else(|| pre_csrf.clone());
    let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
    let flash = if is_get {
        cookies.get(FLASH_COOKIE).and_then(|v| decode_flash(v))
    } else {
        None
    };
    let path = req.uri().path().to_string();

    // CSRF: every state-changing request carries the token.
    let safe_method = is_get || req.method() == Method::OPTIONS;
    // The API authenticates by bearer token only (never by cookie), so a
    // forged cross-site request gains nothing there: no CSRF token needed.
    let api_call = path.starts_with(API_PREFIX)
        || (headers.contains_key(header::AUTHORIZATION)
            && !cookies.contains_key(SESSION_COOKIE)
            && !cookies.contains_key(PRE_CSRF_COOKIE));
    if !safe_method && !api_call {
        if cross_origin(req.headers()) {
            return Err(WebError::Csrf);
        }
        // Before login the token is double-submitted: the cookie must have
        // come with the request, not been made up just now.
        if auth.is_none() && new_pre_csrf {
            return Err(WebError::Csrf);
        }
        // An upload's body (multipart) stays unread: its token is in the
        // query string, and the handler streams the file with its own limit.
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("multipart/form-data"));
        let (parts, body) = req.into_parts();
        let (bytes, body) = if multipart {
            (axum::body::Bytes::new(), body)
        } else {
            let what = "forms up to 1 MiB are taken";
            limits::refuse_announced_over(&parts.headers, MAX_FORM_BYTES as u64, what)?;
            let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
                .await
                .map_err(|_| WebError::TooLarge(format!("The form is too large: {what}.")))?;
            (bytes.clone(), Body::from(bytes))
        };
        let provided = provided_csrf(&parts.headers, parts.uri.query(), &bytes);
        if !provided.is_some_and(|p| constant_time_eq(p.as_bytes(), csrf_token.as_bytes())) {
            tracing::info!(%path, ip = %client_ip, "request refused: missing or wrong CSRF token");
            return Err(WebError::Csrf);
        }
        req = Request::from_parts(parts, body);
    }

    let ctx = RequestCtx {
        client_ip,
        secure,
        auth,
        csrf_token,
        flash,
        path: path.clone(),
    };

    // Access: login required outside the public paths.
    let early: Option<Response> = match &ctx.auth {
        None if !state.is_public(&path) => Some(if expired {
            redirect_with_flash(&ctx, "/login", "info", "Your session ended. Log in again.")
        } else {
            Redirect::to("/login").into_response()
        }),
        Some(a)
            if a.user.must_change_password
                && !MUST_CHANGE_ALLOWED.contains(&path.as_str())
                && !path.starts_with("/static/") =>
        {
            Some(Redirect::to("/account/password").into_response())
        }
        _ => None,
    };
    let mut resp = match early {
        Some(r) => r,
        None => {
            req.extensions_mut().insert(ctx.clone());
            next.run(req).await
        }
    };

    // An error page in the layout.
    if let Some(page) = resp.extensions().get::<ErrorPage>().cloned() {
        let body = render_error(state, &ctx, &page);
        let extra: Vec<(header::HeaderName, HeaderValue)> = resp
            .headers()
            .iter()
            .filter(|(k, _)| *k == header::SET_COOKIE || *k == header::RETRY_AFTER)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        resp = (page.status, axum::response::Html(body)).into_response();
        for (k, v) in extra {
            resp.headers_mut().append(k, v);
        }
    }

    let h = resp.headers_mut();
    if new_pre_csrf && !path.starts_with(API_PREFIX) {
        h.append(
            header::SET_COOKIE,
            cookie(PRE_CSRF_COOKIE, &pre_csrf, None, secure),
        );
    }
    if ctx.flash.is_some() && resp.status() == StatusCode::OK {
        let sets_flash = resp
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.as_bytes().starts_with(FLASH_COOKIE.as_bytes()));
        if !sets_flash {
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookie(FLASH_COOKIE, "", Some(0), secure),
            );
        }
    }
    let h = resp.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    // Over HTTPS (ours or the proxy's), browsers must never fall back to
    // plain HTTP for this host: a year, renewed on every answer.
    if secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; style-src 'self'; script-src 'none'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
    }
    if !path.starts_with("/static/") && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_token_found_in_header_form_or_multipart_query() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert_eq!(
            provided_csrf(&h, None, b"a=1&csrf_token=xyz"),
            Some("xyz".into())
        );
        assert_eq!(provided_csrf(&h, None, b"a=1"), None);
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=x"),
        );
        assert_eq!(
            provided_csrf(&h, Some("csrf_token=q"), b"whatever"),
            Some("q".into())
        );
        h.insert("x-csrf-token", HeaderValue::from_static("hdr"));
        assert_eq!(provided_csrf(&h, None, b""), Some("hdr".into()));
    }

    #[test]
    fn origin_must_match_host() {
        let mut h = HeaderMap::new();
        assert!(!cross_origin(&h));
        h.insert(header::HOST, HeaderValue::from_static("console:8080"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://console:8080"),
        );
        assert!(!cross_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(cross_origin(&h));
    }
}
