//! One module per `oml` subcommand.

pub mod asterisk;
pub mod dialer;
pub mod dialer_run;
pub mod campaign_run;
pub mod init;
pub mod pbxsim;
pub mod users;
pub mod version;
pub mod inventory;
pub mod regenerate;
pub mod render;
pub mod backup;
pub mod restore;
pub mod serve;
pub mod asterisk_config;
pub mod campaign;
pub mod dnc;
pub mod trunk;
