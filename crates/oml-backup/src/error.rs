//! Every way a backup, a verification or a restore can fail, each message
//! naming the file, the archive entry or the setting to fix.

use std::path::PathBuf;

pub type Result<T, E = BackupError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The archive is damaged, forged or unsafe; nothing was changed.
    #[error("archive {archive} refused: {reason}")]
    Refused { archive: String, reason: String },
    #[error("{0}")]
    BadName(String),
    #[error("the archive was written by schema version {found}, this oml supports up to {supported}: install oml {needed_version} or newer to restore it")]
    SchemaTooNew {
        found: i64,
        supported: i64,
        needed_version: String,
    },
    #[error("{0}")]
    Incompatible(String),
    #[error("database snapshot failed: {0}")]
    Snapshot(String),
    #[error("restore failed, the previous installation is unchanged: {0}")]
    RestoreFailed(String),
    #[error(transparent)]
    Store(#[from] oml_store::StoreError),
    #[error("database error: {0}")]
    Sql(String),
    #[error("a file changed while it was being backed up: {path} (run the backup again)")]
    ChangedDuringBackup { path: String },
    #[error("{0}")]
    Other(String),
}

impl BackupError {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BackupError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn refused(archive: impl std::fmt::Display, reason: impl Into<String>) -> Self {
        BackupError::Refused {
            archive: archive.to_string(),
            reason: reason.into(),
        }
    }
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Sql(e.to_string())
    }
}
