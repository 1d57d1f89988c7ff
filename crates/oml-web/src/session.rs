//! Session cookies and what a request carries: the [`RequestCtx`] the
//! middleware ([`crate::middleware`]) builds for every request, the random
//! tokens, the flash message and starting or ending a login session.
//!
//! Cookies: `oml_session` (random token; only its SHA-256 is stored),
//! `oml_csrf` (anti-CSRF token for the forms shown before login: the login
//! and setup forms, double-submit), `oml_flash` (the one-time message shown
//! after a redirect). All are `HttpOnly; SameSite=Lax`, plus `Secure` when
//! the console is reached over HTTPS.

use crate::{AppState, WebError};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use oml_store::web::WebSession;
use oml_store::User;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;

pub const SESSION_COOKIE: &str = "oml_session";
pub const PRE_CSRF_COOKIE: &str = "oml_csrf";
pub const FLASH_COOKIE: &str = "oml_flash";
/// The form field (or `X-CSRF-Token` header) that carries the token.
pub const CSRF_FIELD: &str = "csrf_token";

/// A logged-in user and their session.
#[derive(Clone, Debug)]
pub struct Authed {
    pub user: User,
    pub session: WebSession,
}

/// A one-time message shown on the next page.
#[derive(Clone, Debug, serde::Serialize, PartialEq)]
pub struct Flash {
    /// `ok`, `info` or `error`.
    pub level: String,
    pub message: String,
}

/// What the middleware found out about a request; handlers extract it.
#[derive(Clone, Debug)]
pub struct RequestCtx {
    pub client_ip: IpAddr,
    /// Reached over HTTPS (directly or via a trusted proxy).
    pub secure: bool,
    pub auth: Option<Authed>,
    /// The token this request's forms must carry.
    pub csrf_token: String,
    pub flash: Option<Flash>,
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestCtx {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestCtx>()
            .cloned()
            .ok_or_else(|| WebError::Setup("the console middleware is not installed".into()))
    }
}

/// A fresh random token: 32 bytes, hex.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// What is stored for a session token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares without an early exit, so timing does not reveal a prefix.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn is_token(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The request's cookies, by name (the first of duplicates wins).
pub fn parse_cookies(headers: &HeaderMap) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(s) = value.to_str() else { continue };
        for pair in s.split(';') {
            if let Some((k, v)) = pair.split_once('=') {
                out.entry(k.trim().to_string())
                    .or_insert_with(|| v.trim().to_string());
            }
        }
    }
    out
}

/// A `Set-Cookie` value. `max_age` `Some(0)` deletes the cookie.
pub fn cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        s.push_str("; Secure");
    }
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

fn encode_flash(f: &Flash) -> String {
    let msg: String = f.message.chars().take(400).collect();
    hex::encode(format!("{}:{}", f.level, msg))
}

pub(crate) fn decode_flash(v: &str) -> Option<Flash> {
    let text = String::from_utf8(hex::decode(v).ok()?).ok()?;
    let (level, message) = text.split_once(':')?;
    let level = match level {
        "ok" | "info" | "error" => level.to_string(),
        _ => return None,
    };
    Some(Flash {
        level,
        message: message.to_string(),
    })
}

/// A 303 redirect to `to` that shows `message` on the next page.
pub fn redirect_with_flash(ctx: &RequestCtx, to: &str, level: &str, message: &str) -> Response {
    let flash = Flash {
        level: level.into(),
        message: message.into(),
    };
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie(FLASH_COOKIE, &encode_flash(&flash), Some(60), ctx.secure),
    );
    resp
}

/// Starts a session for `user` (after a login or the first-run setup):
/// stores it and returns the `Set-Cookie` header value.
pub async fn start_session(
    state: &AppState,
    ctx: &RequestCtx,
    user: &User,
) -> Result<HeaderValue, WebError> {
    let token = random_token();
    let now = oml_store::now_ms();
    state
        .store()
        .create_web_session(&WebSession {
            token_hash: token_hash(&token),
            user_id: user.id,
            csrf_token: random_token(),
            created_at: now,
            last_seen_at: now,
            ip: Some(ctx.client_ip.to_string()),
        })
        .await?;
    Ok(cookie(SESSION_COOKIE, &token, None, ctx.secure))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn end_session_cookie(ctx: &RequestCtx) -> HeaderValue {
    cookie(SESSION_COOKIE, "", Some(0), ctx.secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_round_trips_and_rejects_forgeries() {
        let f = Flash {
            level: "error".into(),
            message: "User `a<b>` blocked: yes".into(),
        };
        assert_eq!(decode_flash(&encode_flash(&f)), Some(f));
        assert_eq!(decode_flash(&hex::encode("evil:x")), None);
        assert_eq!(decode_flash("zz"), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_when_asked() {
        let c = cookie("a", "b", None, true);
        let s = c.to_str().unwrap();
        assert!(s.contains("HttpOnly") && s.contains("SameSite=Lax") && s.contains("Secure"));
        let c = cookie("a", "", Some(0), false);
        let s = c.to_str().unwrap();
        assert!(!s.contains("Secure") && s.contains("Max-Age=0"));
    }

    #[test]
    fn tokens_compare_in_full() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(is_token(&random_token()));
        assert_ne!(token_hash("a"), token_hash("b"));
    }
}
