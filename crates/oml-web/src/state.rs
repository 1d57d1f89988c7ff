//! The state every handler receives: the store, the configuration, the
//! templates, the login guard, and the navigation that later pages extend.

use crate::login::LoginGuard;
use crate::templates::Templates;
use oml_config::Config;
use oml_store::{Role, Store};
use std::sync::Arc;

/// One entry of the navigation bar, shown to users with at least `min_role`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NavItem {
    pub label: String,
    pub href: String,
    pub min_role: Role,
}

impl NavItem {
    pub fn new(label: &str, href: &str, min_role: Role) -> Self {
        NavItem {
            label: label.into(),
            href: href.into(),
            min_role,
        }
    }
}

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: Config,
    templates: Templates,
    guard: LoginGuard,
    nav: Vec<NavItem>,
    public_prefixes: Vec<String>,
    setup_lock: tokio::sync::Mutex<()>,
}

/// Builds an [`AppState`]; other crates add templates, navigation entries
/// and public paths before [`AppStateBuilder::build`].
pub struct AppStateBuilder {
    store: Store,
    config: Config,
    templates: Vec<(String, String)>,
    nav: Vec<NavItem>,
    public_prefixes: Vec<String>,
}

impl AppStateBuilder {
    /// Adds a template (by name, e.g. `campaigns.html`, which may
    /// `{% extends "layout.html" %}`).
    pub fn template(mut self, name: &str, source: &str) -> Self {
        self.templates.push((name.into(), source.into()));
        self
    }

    /// Adds a navigation entry after the built-in ones.
    pub fn nav(mut self, item: NavItem) -> Self {
        self.nav.push(item);
        self
    }

    /// Lets requests under `prefix` through without a console login (for
    /// an API that authenticates by itself, with tokens rather than cookies).
    pub fn public_prefix(mut self, prefix: &str) -> Self {
        self.public_prefixes.push(prefix.into());
        self
    }

    pub fn build(self) -> Result<AppState, crate::WebError> {
        let templates = Templates::new(&self.templates)?;
        Ok(AppState {
            inner: Arc::new(Inner {
                store: self.store,
                config: self.config,
                templates,
                guard: LoginGuard::new()?,
                nav: self.nav,
                public_prefixes: self.public_prefixes,
                setup_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

impl AppState {
    /// Starts a builder with the console's own navigation.
    pub fn builder(store: Store, config: Config) -> AppStateBuilder {
        AppStateBuilder {
            store,
            config,
            templates: Vec::new(),
            nav: vec![
                NavItem::new("Home", "/", Role::Agent),
                NavItem::new("Users", "/admin/users", Role::Admin),
                NavItem::new("Blocked users", "/admin/blocked", Role::Admin),
                NavItem::new("Audit log", "/admin/audit", Role::Admin),
            ],
            public_prefixes: vec![
                "/login".into(),
                "/setup".into(),
                "/static/".into(),
                "/healthz".into(),
            ],
        }
    }

    /// The console with only its own pages.
    pub fn new(store: Store, config: Config) -> Result<AppState, crate::WebError> {
        Self::builder(store, config).build()
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn templates(&self) -> &Templates {
        &self.inner.templates
    }

    pub fn guard(&self) -> &LoginGuard {
        &self.inner.guard
    }

    /// Held while the first-run setup checks and creates the administrator,
    /// so two setup forms sent at once cannot both succeed (on this node).
    pub async fn setup_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.setup_lock.lock().await
    }

    pub fn nav(&self) -> &[NavItem] {
        &self.inner.nav
    }

    /// True when `path` needs no login.
    pub fn is_public(&self, path: &str) -> bool {
        self.inner.public_prefixes.iter().any(|p| {
            if p.ends_with('/') {
                path.starts_with(p.as_str())
            } else {
                path == p
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            }
        })
    }

    /// True when the console itself terminates TLS (cookies get `Secure`).
    pub fn serves_tls(&self) -> bool {
        self.inner.config.web.tls_cert.is_some()
    }
}
