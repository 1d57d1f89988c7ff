//! `oml uninstall`: [`plan`] says what is stopped, deleted, edited, dropped
//! and kept; [`apply`] does it (the binary writes the final backup first and
//! asks before).

mod apply;
mod plan;

pub use apply::{apply_files, execute};
pub use plan::{plan, Action, Inputs, UninstallError};
