//! Operations: inventory, configuration rendering, regenerate-asterisk
//! (backup/restore and deploy build on these).
//!
//! Every operation is planned first ([`plan::Plan`]), printed by `--dry-run`
//! and executed by [`plan::Plan::apply`]; tests assert on plans.
//!
//! - [`inventory`]: read the OMniLeads inventory as it is, validate it, edit
//!   it in place.
//! - [`render`]: the configuration files of every service, rendered from the
//!   inventory and the database into a root folder.
//! - [`regenerate`]: `oml regenerate-asterisk`, the AstDB families the
//!   dialplan reads, rewritten on every Asterisk server.
//! - [`network`]: `oml deploy --change-network`: is the inventory this
//!   machine, and which services read which rendered files.

pub mod fsutil;
pub mod inventory;
pub mod network;
pub mod plan;
pub mod regenerate;
pub mod render;
pub mod sounds;

pub use inventory::{Edit, Inventory, InventoryConfig, InventoryError};
pub use plan::{Plan, Step};
