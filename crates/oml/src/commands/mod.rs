//! One module per `oml` subcommand.

pub mod init;
pub mod users;
pub mod version;
pub mod inventory;
pub mod regenerate;
pub mod render;
