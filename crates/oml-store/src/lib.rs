//! The database of oml: one repository API over SQLite (the embedded default,
//! a file in the data folder, WAL mode) and PostgreSQL.
//!
//! Every other crate reads and writes through [`Store`]; SQL lives here, next
//! to the function that runs it. The same SQL text runs on both backends
//! (`$1` placeholders work on both); where the dialects differ a function
//! matches on [`Backend`]. Migrations live in `migrations/sqlite` and
//! `migrations/postgres` with the same version numbers and are applied when
//! the store is opened.

mod agent_calls;
pub mod agent_overview;
mod agent_states;
mod agents;
pub mod amd_false_positives;
pub mod ami_values;
mod api_tokens;
mod audit;
pub mod call_path;
pub mod call_totals;
pub mod callbacks;
pub mod compliance;
pub mod contact_history;
mod contacts;
mod dialer_config;
pub mod dialing;
pub mod dialplan;
pub mod dispose;
pub mod dispositions;
mod error;
pub mod exports;
pub mod history;
mod leader;
mod lockout;
pub mod pacing_memory;
pub mod phone;
pub mod recordings;
pub mod renormalise;
mod reservations;
pub mod retention;
mod settings;
mod users;
pub mod web;

#[cfg(feature = "test-support")]
pub mod testing;

pub use agent_calls::AgentCall;
pub use agent_states::{validate_agent_state, AgentState, AGENT_STATES, MAX_REASON_LEN};
pub use agents::{validate_extension, AgentSetup, EXTENSION_LEN};
pub use api_tokens::ApiToken;
pub use audit::{AuditEntry, AuditFilter};
pub use call_path::{AmdParams, CallPath, MachineHandling, Recording, RecordingFormat};
pub use contacts::*;
pub use dialer_config::*;
pub use error::{Result, StoreError};
pub use leader::{campaign_key, Fence, Leadership, LeaseRow, DEFAULT_CAPACITY, MAX_CAPACITY};
pub use lockout::{Block, BlockKind};
pub use reservations::{reservation_owner, RESERVED};
pub use users::{
    hash_password, validate_password, validate_username, verify_password_hash, NewUser, Role, User,
};

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// File name of the embedded database inside the data folder.
pub const SQLITE_FILE: &str = "oml.db";

/// Runs `$body` with `$p` bound to the concrete pool of whichever backend the
/// store uses. The body is compiled once per backend, so the same query code
/// serves both without the limits of a type-erased driver.
macro_rules! on_pool {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
        })
    }
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Where the database is.
#[derive(Clone)]
pub enum Location {
    /// The embedded SQLite file `oml.db` inside this data folder.
    DataDir(PathBuf),
    /// A PostgreSQL server, `postgres://user:password@host:port/db`.
    Postgres(secrecy::SecretString),
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::DataDir(p) => write!(f, "DataDir({})", p.display()),
            Location::Postgres(url) => {
                write!(
                    f,
                    "Postgres({})",
                    redact_url(secrecy::ExposeSecret::expose_secret(url))
                )
            }
        }
    }
}

impl Location {
    /// Chooses PostgreSQL when a URL is given, else the SQLite file in `data_dir`.
    pub fn from_args(data_dir: &Path, database_url: Option<&str>) -> Self {
        match database_url {
            Some(url) if !url.trim().is_empty() => Location::Postgres(url.trim().into()),
            _ => Location::DataDir(data_dir.to_path_buf()),
        }
    }

    /// A description safe to print: file path, or URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Location::DataDir(p) => p.join(SQLITE_FILE).display().to_string(),
            Location::Postgres(url) => redact_url(secrecy::ExposeSecret::expose_secret(url)),
        }
    }
}

/// Query parameters of a connection URL whose value is a credential.
const SECRET_PARAMS: &[&str] = &["password", "sslpassword", "pass", "passwd", "secret"];

/// A connection URL safe to show: the password of its user-info and the
/// value of every credential query parameter (`password=`, `sslpassword=`)
/// become `***`. The one function for every URL oml prints or logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return "<malformed URL>".into();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let authority = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let shown = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{shown}@{}", &authority[at + 1..])
        }
        None => authority.to_string(),
    };
    let tail = &rest[authority_end..];
    let (before_query, query) = match tail.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (tail, None),
    };
    let mut out = format!("{}://{authority}{before_query}", &url[..scheme_end]);
    if let Some(q) = query {
        let (q, fragment) = match q.split_once('#') {
            Some((q, f)) => (q, Some(f)),
            None => (q, None),
        };
        out.push('?');
        let params: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_secret_param(k) => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&params.join("&"));
        if let Some(f) = fragment {
            out.push('#');
            out.push_str(f);
        }
    }
    out
}

fn is_secret_param(key: &str) -> bool {
    let key = percent_decode(key).to_ascii_lowercase();
    SECRET_PARAMS.contains(&key.as_str())
}

/// `%XX` sequences decoded (invalid ones kept as written).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every credential a URL holds, as written and percent-decoded: what must
/// never appear in a message about it.
fn url_secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(scheme_end) = url.find("://") else {
        return out;
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if let Some(at) = authority.rfind('@') {
        if let Some((_, pw)) = authority[..at].split_once(':') {
            out.push(pw.to_string());
        }
    }
    if let Some((_, q)) = rest[authority_end..].split_once('?') {
        let q = q.split('#').next().unwrap_or("");
        for pair in q.split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                if is_secret_param(k) {
                    out.push(v.to_string());
                }
            }
        }
    }
    let decoded: Vec<String> = out.iter().map(|s| percent_decode(s)).collect();
    out.extend(decoded);
    out.retain(|s| !s.is_empty());
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

/// Whether [`Store::open`] may create a database that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// `oml init`: create the SQLite file (and data folder) when missing.
    Create,
    /// Every other command: the database must already exist.
    Existing,
    /// An existing database exactly as it is, without applying migrations
    /// (`oml deploy --update` backs it up before it migrates it).
    AsIs,
}

/// The handle every other crate uses to read and write oml's data.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    location: Location,
    /// The leases the dialer's writes that start calls must hold.
    fence: Option<leader::Fence>,
    /// This database's instance id, read when it was opened (see
    /// [`Store::instance_id`]).
    instance: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish()
    }
}

impl Store {
    /// Opens (or with [`OpenMode::Create`] creates) the database and applies
    /// any migration it lacks.
    pub async fn open(location: &Location, mode: OpenMode) -> Result<Store> {
        let pool = match location {
            Location::DataDir(dir) => Pool::Sqlite(open_sqlite(dir, mode).await?),
            Location::Postgres(url) => {
                Pool::Postgres(open_postgres(secrecy::ExposeSecret::expose_secret(url)).await?)
            }
        };
        let store = Store {
            pool,
            location: location.clone(),
            fence: None,
            instance: Default::default(),
        };
        if mode == OpenMode::AsIs {
            store.refuse_too_new().await?;
        } else {
            store.migrate().await?;
            let id = store.instance_id().await?;
            let _ = store.instance.set(id);
        }
        Ok(store)
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// This database's instance id as read when it was opened (empty for
    /// a store opened [`OpenMode::AsIs`]): what the dialer's calls carry as
    /// `OMLINSTANCE` (see [`dialplan::INSTANCE_VAR`]).
    pub fn instance(&self) -> &str {
        self.instance.get().map_or("", String::as_str)
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The SQLite pool, for the few callers that need engine-specific work
    /// (backups use `VACUUM INTO`).
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(p) => Some(p),
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, for engine-specific work (`FOR UPDATE SKIP LOCKED`).
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(p) => Some(p),
            Pool::Sqlite(_) => None,
        }
    }

    async fn refuse_too_new(&self) -> Result<()> {
        let newest_known = latest_schema_version();
        if let Some(current) = self.schema_version().await? {
            if current > newest_known {
                return Err(StoreError::SchemaTooNew {
                    found: current,
                    supported: newest_known,
                });
            }
        }
        Ok(())
    }

    async fn migrate(&self) -> Result<()> {
        self.refuse_too_new().await?;
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        self.ensure_instance_id().await
    }

    /// The newest migration applied to this database, `None` before the first.
    pub async fn schema_version(&self) -> Result<Option<i64>> {
        let exists: bool = match &self.pool {
            Pool::Sqlite(p) => sqlx::query_scalar(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            )
            .fetch_one(p)
            .await?,
            Pool::Postgres(p) => sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(p)
                .await?,
        };
        if !exists {
            return Ok(None);
        }
        let v: Option<i64> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success"
        )
        .fetch_one(p)
        .await?);
        Ok(v)
    }

    /// Closes every pooled connection (waits for them to be returned).
    pub async fn close(&self) {
        // sqlx hands a released connection back to its pool from a spawned
        // task; one that lands after `close()` drained the pool stays open
        // for the pool's life (sqlx#3217), and a restore then finds the
        // database "being accessed by other users". So first wait (briefly)
        // until every connection is back, then close.
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        on_pool!(self, |p| {
            while p.num_idle() < p.size() as usize && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            p.close().await
        })
    }
}

/// The schema version this binary creates and understands.
pub fn latest_schema_version() -> i64 {
    SQLITE_MIGRATIONS
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

async fn open_sqlite(dir: &Path, mode: OpenMode) -> Result<SqlitePool> {
    let file = dir.join(SQLITE_FILE);
    if mode != OpenMode::Create && !file.exists() {
        return Err(StoreError::NotInitialised {
            path: file.display().to_string(),
        });
    }
    if mode == OpenMode::Create {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::DataDir {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        check_writable(dir)?;
    }
    let options = SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(mode == OpenMode::Create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Connect {
            target: file.display().to_string(),
            reason: e.to_string(),
        })
}

/// Creating a file proves the folder is writable before anything else is made.
fn check_writable(dir: &Path) -> Result<()> {
    let probe = dir.join(".oml-write-test");
    std::fs::write(&probe, b"")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| StoreError::DataDir {
            path: dir.display().to_string(),
            reason: format!("not writable ({e})"),
        })
}

async fn open_postgres(url: &str) -> Result<PgPool> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::BadUrl {
            url: redact_url(url),
            reason: "it must start with postgres:// or postgresql://".into(),
        });
    }
    let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl {
        url: redact_url(url),
        reason: scrub_url(&e.to_string(), url),
    })?;
    let connect_error = |e: sqlx::Error| StoreError::Connect {
        target: redact_url(url),
        reason: scrub_url(&e.to_string(), url),
    };
    // One direct connection first: a pool would hide "connection refused" or
    // "password authentication failed" behind a generic time-out.
    let first = tokio::time::timeout(Duration::from_secs(10), options.connect())
        .await
        .map_err(|_| StoreError::Connect {
            target: redact_url(url),
            reason: "no answer within 10 s".into(),
        })?
        .map_err(connect_error)?;
    first.close().await.ok();
    // Connections a burst opened (claims of many campaigns at once) close
    // after 30 s unused instead of sqlx's 10 minutes: an idle engine holds
    // the few its periodic work needs (issue 17: idle cost).
    PgPoolOptions::new()
        .max_connections(16)
        .idle_timeout(Duration::from_secs(30))
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(connect_error)
}

/// Removes the URL and every credential it holds from a message (a driver
/// error may quote either).
pub fn scrub_url(message: &str, url: &str) -> String {
    let mut out = message.replace(url, &redact_url(url));
    for secret in url_secrets(url) {
        out = out.replace(&secret, "***");
    }
    out
}

/// Milliseconds since the Unix epoch, UTC: the unit of every stored timestamp.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Formats a stored timestamp for people: `2026-11-27 18:59:00 UTC`.
pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password_in_url() {
        assert_eq!(
            redact_url("postgres://oml:s3cret@db:5432/oml?sslmode=disable"),
            "postgres://oml:***@db:5432/oml?sslmode=disable"
        );
        assert_eq!(redact_url("postgres://db/oml"), "postgres://db/oml");
        assert_eq!(redact_url("nonsense"), "<malformed URL>");
        assert_eq!(url_secrets("postgres://a:b@c/d"), ["b"]);
    }

    /// Issue 16: a password given as a query parameter was echoed.
    #[test]
    fn redacts_every_credential_form() {
        for (url, shown) in [
            (
                "postgres://u@127.0.0.1:1/x?password=topsecret",
                "postgres://u@127.0.0.1:1/x?password=***",
            ),
            (
                "postgresql://u:pw1@h/x?sslmode=require&sslpassword=topsecret&PassWord=topsecret#f",
                "postgresql://u:***@h/x?sslmode=require&sslpassword=***&PassWord=***#f",
            ),
            (
                "postgres://h/x?pass%77ord=topsecret",
                "postgres://h/x?pass%77ord=***",
            ),
        ] {
            assert_eq!(redact_url(url), shown);
        }
        let url = "postgres://u@h/x?password=top%20secret";
        let msg = format!("error with {url}: password \"top secret\" refused");
        let scrubbed = scrub_url(&msg, url);
        assert!(!scrubbed.contains("top"), "{scrubbed}");
    }

    /// Opening a store with a password in the query says what failed and
    /// never shows the password.
    #[tokio::test]
    async fn connect_errors_hide_query_passwords() {
        for url in [
            "postgres://u@127.0.0.1:1/x?password=topsecret",
            "postgres://u@127.0.0.1:1/x?sslmode=bogus&password=topsecret",
            "postgres://u:topsecret@127.0.0.1:1/x?port=notanumber",
        ] {
            let loc = Location::from_args(Path::new("x"), Some(url));
            let e = Store::open(&loc, OpenMode::Existing).await.unwrap_err();
            let shown = format!("{e} {e:?} {loc:?} {}", loc.describe());
            assert!(!shown.contains("topsecret"), "{shown}");
        }
    }

    #[test]
    fn location_debug_hides_password() {
        let loc = Location::from_args(Path::new("x"), Some("postgres://u:topsecret@h/d"));
        let shown = format!("{loc:?} {}", loc.describe());
        assert!(!shown.contains("topsecret"), "{shown}");
    }

    #[test]
    fn both_backends_know_the_same_schema_versions() {
        let a: Vec<i64> = SQLITE_MIGRATIONS.iter().map(|m| m.version).collect();
        let b: Vec<i64> = POSTGRES_MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(a, b);
        assert!(latest_schema_version() >= 1);
    }
}
