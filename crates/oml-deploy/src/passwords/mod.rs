//! `oml deploy --change-passwords`: the inventory holds new passwords; apply
//! each to its service and to every file that carries it, all or nothing.
//!
//! [`plan`] turns what the host has into a list of [`Step`]s, each with its
//! inverse, as data: a dry run prints both, and tests check them without a
//! host. [`apply`] does the steps in order and, when one fails, the
//! inverses of the steps done, newest first.

mod apply;
mod gather;
mod plan;

pub use apply::apply;
pub use gather::gather;
pub use plan::{assemble, Found, PasswordPlan, PgChange, Step, UserChange};
