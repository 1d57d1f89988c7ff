//! How a client's session ended, counted by kind and logged once. A client
//! that closes or resets its connection is a disconnect (logged at info);
//! only a frame the codec refuses is bad AMI input (a warning). The
//! classification is pure; the server records each end here.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use oml_ami::FrameError;

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientEnd {
    /// The client sent `Logoff`.
    LoggedOff,
    /// The client closed or reset the connection (or stopped reading).
    Disconnected,
    /// The client sent something that is not AMI (an oversized frame...).
    BadInput,
    /// A `Fault::DropConnections` closed it.
    Dropped,
    /// The simulator stopped.
    Shutdown,
}

impl ClientEnd {
    /// The end a read error means: the socket failing is the client going
    /// away; anything the codec refuses is bad input.
    pub fn of_read_error(e: &FrameError) -> Self {
        match e {
            FrameError::Io(_) => ClientEnd::Disconnected,
            _ => ClientEnd::BadInput,
        }
    }
}

/// How many sessions ended each way so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientEnds {
    /// Ended by `Logoff`.
    pub logged_off: u64,
    /// Closed or reset by the client.
    pub disconnected: u64,
    /// Dropped for input that is not AMI.
    pub bad_input: u64,
    /// Closed by fault injection.
    pub dropped: u64,
    /// Closed because the simulator stopped.
    pub shutdown: u64,
}

/// The counters behind [`ClientEnds`], shared by the connection tasks.
#[derive(Debug, Default)]
pub(crate) struct EndCounters([AtomicU64; 5]);

impl EndCounters {
    /// Counts `end` and logs it, with `detail` (the error) when there is one.
    pub(crate) fn record(&self, peer: SocketAddr, end: ClientEnd, detail: Option<&str>) {
        let detail = detail.unwrap_or("");
        match end {
            ClientEnd::BadInput => {
                tracing::warn!(%peer, error = detail, "pbxsim dropping client: bad AMI input")
            }
            ClientEnd::Disconnected => {
                tracing::info!(%peer, detail, "pbxsim client disconnected")
            }
            ClientEnd::LoggedOff => tracing::debug!(%peer, "pbxsim client logged off"),
            ClientEnd::Dropped => tracing::debug!(%peer, "pbxsim client dropped (fault)"),
            ClientEnd::Shutdown => tracing::debug!(%peer, "pbxsim client closed: shutdown"),
        }
        self.0[end as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ClientEnds {
        let n = |e: ClientEnd| self.0[e as usize].load(Ordering::Relaxed);
        ClientEnds {
            logged_off: n(ClientEnd::LoggedOff),
            disconnected: n(ClientEnd::Disconnected),
            bad_input: n(ClientEnd::BadInput),
            dropped: n(ClientEnd::Dropped),
            shutdown: n(ClientEnd::Shutdown),
        }
    }
}

#[cfg(test)]
mod tests {
    use oml_ami::FrameError;

    use super::ClientEnd;

    #[test]
    fn a_reset_is_a_disconnect_and_a_huge_frame_is_bad_input() {
        let reset = FrameError::Io("Connection reset by peer (os error 104)".into());
        assert_eq!(ClientEnd::of_read_error(&reset), ClientEnd::Disconnected);
        let huge = FrameError::TooLarge { limit: 10 };
        assert_eq!(ClientEnd::of_read_error(&huge), ClientEnd::BadInput);
    }
}
