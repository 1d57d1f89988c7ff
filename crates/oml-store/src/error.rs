//! The errors of the store, each worded to say what the user should fix.

use thiserror::Error;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("no oml database at {path}: run `oml init` first (or pass --data-dir / OML_HOME)")]
    NotInitialised { path: String },
    #[error("data folder {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("malformed database URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot connect to the database {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("the database has schema version {found} but this oml understands up to {supported}: upgrade oml first")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("{what} `{name}` already exists")]
    AlreadyExists { what: &'static str, name: String },
    #[error("{what} `{name}` not found")]
    NotFound { what: &'static str, name: String },
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("this dialer engine no longer holds the lease {key} (it expired, or another node took it over): nothing was written")]
    NotLeader { key: String },
    #[error("database error: {0}")]
    Sql(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Sql(e)
    }
}

impl StoreError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// True when the database refused a row because a unique key exists.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sql(sqlx::Error::Database(d)) if d.is_unique_violation())
    }
}
