//! The docs runner's parts: reading pages, comparing output by shape, and
//! running a page's commands.

pub mod page;
pub mod run;
pub mod shape;
