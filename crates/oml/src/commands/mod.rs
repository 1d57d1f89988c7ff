//! One module per `oml` subcommand.

pub mod asterisk;
pub mod asterisk_config;
pub mod backup;
pub mod campaign;
pub mod campaign_args;
pub mod campaign_import;
pub mod campaign_run;
pub mod demo;
pub mod deploy;
pub mod deploy_args;
pub mod dialer;
pub mod dialer_run;
pub mod dnc;
pub mod init;
pub mod inventory;
pub mod passwords;
pub mod pbxsim;
pub mod regenerate;
pub mod render;
pub mod restore;
pub mod serve;
pub mod trunk;
pub mod uninstall;
pub mod update;
pub mod users;
pub mod version;
