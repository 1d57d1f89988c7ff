//! Host operations of `oml deploy` and `oml uninstall`, as a library: the
//! `oml` binary parses arguments, asks and prints; everything it does to a
//! host lives here, planned first and tested without a host.
//!
//! - [`update`]: `--update`: upgrade paths, pre-flight, migrations, render,
//!   restarts, roll-back from the pre-upgrade backup, runs on another host.
//! - [`change_network`]: `--change-network`: re-render for the new address,
//!   restart what reads the changed files, put the files back if a restart fails.
//! - [`passwords`]: `--change-passwords`: a plan of steps, each with its
//!   inverse (the undo list is data, printed by dry runs).
//! - [`uninstall`]: what is stopped, deleted, edited, dropped and kept, and
//!   doing it; only folders oml can prove are its own ([`ownership`]).
//! - [`host`]: what these share: is an address this host, database URLs,
//!   AMI logins, running service commands.

pub mod change_network;
pub mod error;
pub mod host;
pub mod ownership;
pub mod passwords;
pub mod uninstall;
pub mod update;

pub use error::{Context, Error, Result};

/// Where progress lines go (the binary prints them).
pub type Say<'a> = &'a dyn Fn(&str);
