//! `oml status` and `GET /api/v1/status`: one screen that answers "is
//! everything all right?" at 3 a.m. [`judge`] turns facts into checks with a
//! level each (pure, tested alone); [`gather`] collects the facts (database,
//! disks, backups, Asterisk links probed in parallel with a short time-out,
//! the dialer's published status, lock-outs). The verdict is the worst
//! level, and the exit code follows it: 0 all well, 1 warnings, 2 failures.

pub mod gather;
pub mod judge;

pub use gather::{gather, gather_running, Inputs};
pub use judge::{Check, Level, Report};
