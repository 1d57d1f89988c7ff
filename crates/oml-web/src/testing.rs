//! Test helpers (feature `test-support`): the console app on a test store,
//! and a small browser-like client (cookie jar, CSRF token taken from the
//! last page, peer address, optional bearer token) that drives the router
//! in-process. Crates that add pages test them with it too.

use crate::AppState;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use oml_config::Config;
use oml_store::{NewUser, Role, Store};
use std::collections::HashMap;
use std::net::SocketAddr;
use tower::ServiceExt;

pub const ADMIN: &str = "admin";
pub const ADMIN_PW: &str = "admin-password-1";

pub fn app(store: &Store, config: Config) -> (AppState, Router) {
    let state = AppState::new(store.clone(), config).expect("app state");
    let app = crate::app(state.clone());
    (state, app)
}

pub async fn add_user(store: &Store, name: &str, password: &str, role: Role, temporary: bool) {
    store
        .create_user(&NewUser {
            username: name,
            password: &password.to_string().into(),
            role,
            must_change_password: temporary,
        })
        .await
        .expect("create user");
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
    /// Every header of the response.
    pub headers: axum::http::HeaderMap,
}

impl Resp {
    pub fn assert_redirect(&self, to: &str) {
        assert!(
            self.status.is_redirection(),
            "expected a redirect to {to}, got {} {}",
            self.status,
            &self.body[..self.body.len().min(400)]
        );
        assert_eq!(self.location.as_deref(), Some(to));
    }
}

/// A cookie-keeping client for the in-process router.
pub struct Client {
    app: Router,
    pub cookies: HashMap<String, String>,
    pub peer: SocketAddr,
    pub forwarded_for: Option<String>,
    pub origin: Option<String>,
    /// Sent as `Authorization: Bearer …` when set (API calls).
    pub bearer: Option<String>,
    csrf: Option<String>,
}

impl Client {
    pub fn new(app: &Router) -> Client {
        Client {
            app: app.clone(),
            cookies: HashMap::new(),
            peer: "192.0.2.10:50000".parse().unwrap(),
            forwarded_for: None,
            origin: None,
            bearer: None,
            csrf: None,
        }
    }

    pub fn with_peer(mut self, peer: &str) -> Client {
        self.peer = peer.parse().unwrap();
        self
    }

    /// The CSRF token of the last page seen (as a browser would submit it).
    pub fn csrf(&self) -> String {
        self.csrf.clone().unwrap_or_default()
    }

    pub async fn send(&mut self, method: Method, path: &str, body: Option<String>) -> Resp {
        let form = body.map(|b| {
            (
                "application/x-www-form-urlencoded".to_string(),
                b.into_bytes(),
            )
        });
        self.send_body(method, path, form).await
    }

    /// Posts a `multipart/form-data` upload: (field name, file name if a
    /// file, content). The CSRF token goes in the query string, as the
    /// console's upload forms send it, unless `with_token` is false.
    pub async fn upload(
        &mut self,
        path: &str,
        fields: &[(&str, Option<&str>, &[u8])],
        with_token: bool,
    ) -> Resp {
        let boundary = "oml-test-boundary-7f3a";
        let mut body = Vec::new();
        for (name, file, data) in fields {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let url = if with_token {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}csrf_token={}", self.csrf())
        } else {
            path.to_string()
        };
        let ctype = format!("multipart/form-data; boundary={boundary}");
        self.send_body(Method::POST, &url, Some((ctype, body)))
            .await
    }

    async fn send_body(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(String, Vec<u8>)>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        b = b.header(header::HOST, "console.test");
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            b = b.header(header::COOKIE, c.join("; "));
        }
        if let Some(x) = &self.forwarded_for {
            b = b.header("x-forwarded-for", x);
        }
        if let Some(o) = &self.origin {
            b = b.header(header::ORIGIN, o);
        }
        if let Some(t) = &self.bearer {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some((ctype, bytes)) => {
                b = b.header(header::CONTENT_TYPE, ctype);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let mut req = b.body(body).unwrap();
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let location = resp
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let headers = resp.headers().clone();
        let set_cookies: Vec<String> = resp
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for c in &set_cookies {
            let first = c.split(';').next().unwrap();
            let (k, v) = first.split_once('=').unwrap();
            if c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&bytes).to_string();
        if let Some(t) = find_csrf(&body) {
            self.csrf = Some(t);
        }
        Resp {
            status,
            location,
            set_cookies,
            body,
            headers,
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    /// Posts a form with the CSRF token of the last page.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf();
        all.push(("csrf_token", &token));
        let body = serde_urlencoded::to_string(&all).unwrap();
        self.send(Method::POST, path, Some(body)).await
    }

    /// Posts a form exactly as given (no token added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(Method::POST, path, Some(body)).await
    }

    /// Opens the login page and logs in.
    pub async fn login(&mut self, user: &str, password: &str) -> Resp {
        self.get("/login").await;
        self.post("/login", &[("username", user), ("password", password)])
            .await
    }
}

fn find_csrf(body: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_string())
}
