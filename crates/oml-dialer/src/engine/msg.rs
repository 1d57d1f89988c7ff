//! The one message type the engine's helper tasks (links, writer,
//! leadership, orphans) send to its shell. It lives apart from `shell.rs` so
//! that those tasks depend on it, not on the shell that spawns them.

use oml_ami::AmiClient;

use super::core::Input;

/// What the helper tasks send to the shell.
pub(crate) enum Msg {
    Input(Input),
    /// A link is (again) up with this client.
    LinkUp {
        server: i64,
        client: AmiClient,
    },
}
