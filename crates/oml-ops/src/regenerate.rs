//! `oml regenerate-asterisk`.
