//! Errors of the AMI codec and client. Each message says what to check.

use std::time::Duration;

/// A frame could not be read or written.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The peer sent more than the frame limit without ending the frame.
    #[error("AMI frame larger than {limit} bytes without an empty line; the peer is not speaking AMI or the limit (max_frame) is too small")]
    TooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// A header name that cannot be sent (empty, or with `:`, CR or LF).
    #[error("AMI header name {0:?} is empty or contains ':', CR or LF")]
    InvalidHeaderName(String),
    /// A header value with CR or LF, which would end the frame early.
    #[error("value of AMI header {0:?} contains CR or LF; remove line breaks from it")]
    InvalidHeaderValue(String),
    /// Reading or writing the socket failed.
    #[error("AMI connection I/O error: {0}")]
    Io(String),
}

impl From<std::io::Error> for FrameError {
    fn from(e: std::io::Error) -> Self {
        FrameError::Io(e.to_string())
    }
}

/// Errors of [`crate::AmiClient`].
#[derive(Debug, thiserror::Error)]
pub enum AmiError {
    /// TCP connection to the server failed.
    #[error("cannot connect to AMI server {addr}: {source}; check host, port (default 5038) and that Asterisk's manager.conf has enabled = yes")]
    Connect {
        /// Address tried.
        addr: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The server rejected the user name or secret.
    #[error("AMI login as {username:?} on {addr} refused: {message}; check the AMI user and secret (manager.conf, inventory ami_user / ami_password)")]
    Auth {
        /// Address.
        addr: String,
        /// User name tried.
        username: String,
        /// The server's `Message`.
        message: String,
    },
    /// The server did not send the `Asterisk Call Manager` greeting.
    #[error("{addr} did not greet as an AMI server (got {got:?}); is this the AMI port?")]
    NotAmi {
        /// Address.
        addr: String,
        /// What came instead.
        got: String,
    },
    /// The connection was lost before the response arrived.
    #[error("AMI connection lost before the response to {action} arrived; the client reconnects by itself, retry the action")]
    Disconnected {
        /// Action name.
        action: String,
    },
    /// No response within the timeout.
    #[error("no AMI response to {action} within {timeout:?}; the server may be overloaded")]
    Timeout {
        /// Action name.
        action: String,
        /// Timeout that expired.
        timeout: Duration,
    },
    /// The client was shut down.
    #[error("AMI client is shut down")]
    Closed,
    /// A frame could not be encoded or decoded.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The server answered `Response: Error`.
    #[error("AMI action {action} failed: {message}")]
    ActionFailed {
        /// Action name.
        action: String,
        /// The server's `Message`.
        message: String,
    },
}
