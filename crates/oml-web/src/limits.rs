//! Request body limits: what a request announces in `Content-Length`, and
//! the refusal (413) of a body over a limit before a byte of it is read.

use crate::WebError;
use axum::http::{header, HeaderMap};

/// The `Content-Length` a request announces, if it announces a valid one.
pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Refuses (413) a request whose `Content-Length` is over `max` bytes;
/// `what` names the limit in the message ("files up to 64 MiB").
pub fn refuse_announced_over(headers: &HeaderMap, max: u64, what: &str) -> Result<(), WebError> {
    match content_length(headers) {
        Some(n) if n > max => Err(WebError::TooLarge(format!(
            "This request is {} MiB and {what}: nothing was read or changed.",
            n.div_ceil(1 << 20)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn announced_length_over_the_limit_is_refused() {
        let mut h = HeaderMap::new();
        assert_eq!(content_length(&h), None);
        assert!(refuse_announced_over(&h, 10, "x").is_ok());
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(refuse_announced_over(&h, 10, "x").is_ok());
        h.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from_static("104857600"),
        );
        let e = refuse_announced_over(&h, 10, "files up to 64 MiB are taken").unwrap_err();
        assert_eq!(e.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.to_string().contains("100 MiB"), "{e}");
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("lots"));
        assert_eq!(content_length(&h), None);
    }
}
