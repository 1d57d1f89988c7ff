//! One error type for the host operations: a message written for the
//! administrator (what failed, why, what to do), with the causes joined as
//! `what: why`. Messages never carry a secret.

use std::fmt::Display;

/// A host operation failed; the message says what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(message: impl Display) -> Error {
        Error(message.to_string())
    }

    /// This error, explained by `what` first (`what: error`).
    pub fn context(self, what: impl Display) -> Error {
        Error(format!("{what}: {}", self.0))
    }
}

/// `.context(...)` on any result whose error can be shown.
pub trait Context<T> {
    fn context(self, what: impl Display) -> Result<T>;
    fn with_context<S: Display>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Display) -> Result<T> {
        self.map_err(|e| Error(format!("{what}: {e}")))
    }
    fn with_context<S: Display>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| Error(format!("{}: {e}", what())))
    }
}

macro_rules! from_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error(e.to_string())
            }
        }
    )*};
}
from_errors!(
    std::io::Error,
    oml_store::StoreError,
    oml_ops::InventoryError,
    oml_ops::render::RenderError,
    oml_ops::plan::ApplyError,
    oml_backup::BackupError
);

/// Returns early with an [`Error`] built like `format!`.
#[macro_export]
macro_rules! bail {
    ($($t:tt)*) => { return Err($crate::Error(format!($($t)*))) };
}
