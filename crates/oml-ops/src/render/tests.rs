//! Unit tests of rendering.
use super::*;
