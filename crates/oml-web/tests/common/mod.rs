//! The console's test helpers live in `oml_web::testing` (shared with the
//! crates that add pages); this re-exports them for these tests.

#![allow(unused_imports)]

pub use oml_web::testing::*;
