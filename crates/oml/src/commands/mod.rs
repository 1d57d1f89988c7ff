//! One module per `oml` subcommand.

pub mod init;
pub mod users;
pub mod version;
