//! One module per `oml` subcommand.

pub mod asterisk;
pub mod dialer;
pub mod init;
pub mod pbxsim;
pub mod users;
pub mod version;
pub mod inventory;
pub mod regenerate;
pub mod render;
pub mod serve;
pub mod backup;
pub mod restore;
