//! Errors of the pacing crate: every message names the parameter to fix.

use thiserror::Error;

/// A parameter given to the pacing code or the simulator is not usable.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PacingError {
    /// A parameter is out of its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter's name as the user knows it (command-line option or field).
        name: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// A distribution could not be parsed.
    #[error("invalid distribution for `{name}`: `{text}`: {reason} (expected e.g. `U(40,60)`, `exp(90)`, `lognormal(90,30)` or `const(5)`)")]
    InvalidDistribution {
        /// The parameter the distribution was given for.
        name: String,
        /// The text as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An unknown scenario or mode name.
    #[error("unknown {what} `{given}`; expected one of: {expected}")]
    Unknown {
        /// What kind of name (scenario, mode, window).
        what: &'static str,
        /// The name given.
        given: String,
        /// The accepted names.
        expected: String,
    },
}

impl PacingError {
    /// Builds an [`PacingError::InvalidParameter`].
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        PacingError::InvalidParameter {
            name: name.into(),
            reason: reason.into(),
        }
    }
}
