//! One AMI message (action, response or event): an ordered list of
//! `Key: Value` headers, repeated keys allowed, plus the free-text body of an
//! old-style `Response: Follows` command reply.
//!
//! The text of all headers lives in one `String` and headers are offsets into
//! it, so decoding a frame costs two allocations whatever its size.

use std::fmt;

/// Header names whose value is a credential: never printed by `Debug`.
const SECRET_KEYS: [&str; 2] = ["secret", "key"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) k0: usize,
    pub(crate) k1: usize,
    pub(crate) v0: usize,
    pub(crate) v1: usize,
}

/// An AMI message. Header names compare case-insensitively, as Asterisk does.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Message {
    text: String,
    fields: Vec<Span>,
    /// Byte range of the `Response: Follows` body in `text`, if any.
    body: Option<(usize, usize)>,
}

impl Message {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// A message starting with `Action: name`.
    pub fn action(name: &str) -> Self {
        let mut m = Self::new();
        m.push("Action", name);
        m
    }

    /// A message starting with `Response: status` (used by servers).
    pub fn response(status: &str) -> Self {
        let mut m = Self::new();
        m.push("Response", status);
        m
    }

    /// A message starting with `Event: name` (used by servers).
    pub fn event(name: &str) -> Self {
        let mut m = Self::new();
        m.push("Event", name);
        m
    }

    /// Appends a header (builder form).
    pub fn with(mut self, key: &str, value: impl AsRef<str>) -> Self {
        self.push(key, value.as_ref());
        self
    }

    /// Appends a header. Repeated keys are kept in order.
    pub fn push(&mut self, key: &str, value: &str) {
        let k0 = self.text.len();
        self.text.push_str(key);
        let k1 = self.text.len();
        self.text.push_str(value);
        let v1 = self.text.len();
        self.fields.push(Span { k0, k1, v0: k1, v1 });
    }

    /// Replaces the value of every header `key` by one header at the end,
    /// or appends it.
    pub fn set(&mut self, key: &str, value: &str) {
        if self.get(key).is_some() {
            self.remove(key);
        }
        self.push(key, value);
    }

    /// Removes every header named `key` (the text stays; it is only unlinked).
    pub fn remove(&mut self, key: &str) {
        let text = &self.text;
        self.fields
            .retain(|s| !text[s.k0..s.k1].eq_ignore_ascii_case(key));
    }

    /// Sets the free-text body of a `Response: Follows` message.
    pub fn set_body(&mut self, body: &str) {
        let b0 = self.text.len();
        self.text.push_str(body);
        self.body = Some((b0, self.text.len()));
    }

    /// The first value of header `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|s| self.text[s.k0..s.k1].eq_ignore_ascii_case(key))
            .map(|s| &self.text[s.v0..s.v1])
    }

    /// Every value of header `key`, in order (e.g. several `Variable:`).
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |s| self.text[s.k0..s.k1].eq_ignore_ascii_case(key))
            .map(|s| &self.text[s.v0..s.v1])
    }

    /// All headers in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.fields
            .iter()
            .map(|s| (&self.text[s.k0..s.k1], &self.text[s.v0..s.v1]))
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the message has no header and no body.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.body.is_none()
    }

    /// The `Response: Follows` body, if this message had one.
    pub fn body(&self) -> Option<&str> {
        self.body.map(|(a, b)| &self.text[a..b])
    }

    /// Command output lines, from either form Asterisk uses: the old
    /// `Response: Follows` body or the newer repeated `Output:` headers.
    pub fn output_lines(&self) -> Vec<&str> {
        match self.body() {
            Some(b) => b.lines().collect(),
            None => self.get_all("Output").collect(),
        }
    }

    /// `Event` header value.
    pub fn event_name(&self) -> Option<&str> {
        self.get("Event")
    }

    /// `Response` header value.
    pub fn response_status(&self) -> Option<&str> {
        self.get("Response")
    }

    /// `Action` header value.
    pub fn action_name(&self) -> Option<&str> {
        self.get("Action")
    }

    /// `ActionID` header value.
    pub fn action_id(&self) -> Option<&str> {
        self.get("ActionID")
    }

    /// Builds a message from parsed text and spans (used by the decoder).
    pub(crate) fn from_parts(
        text: String,
        fields: Vec<Span>,
        body: Option<(usize, usize)>,
    ) -> Self {
        Self { text, fields, body }
    }
}

impl fmt::Debug for Message {
    /// Prints headers, with credentials (`Secret`, `Key`) redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.iter() {
            if SECRET_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s)) {
                m.entry(&k, &"<redacted>");
            } else {
                m.entry(&k, &v);
            }
        }
        if let Some(b) = self.body() {
            m.entry(&"<body>", &b);
        }
        m.finish()
    }
}

impl fmt::Display for Message {
    /// One line `Key: Value | Key: Value`, credentials redacted; for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            if SECRET_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s)) {
                write!(f, "{k}: <redacted>")?;
            } else {
                write!(f, "{k}: {v}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_case_insensitive_and_repeatable() {
        let m = Message::action("Originate")
            .with("Variable", "A=1")
            .with("variable", "B=2");
        assert_eq!(m.get("ACTION"), Some("Originate"));
        assert_eq!(m.get_all("Variable").collect::<Vec<_>>(), ["A=1", "B=2"]);
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn debug_and_display_redact_secrets() {
        let m = Message::action("Login")
            .with("Username", "admin")
            .with("Secret", "hunter2")
            .with("Key", "abcdef");
        let d = format!("{m:?} {m}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(!d.contains("abcdef"), "{d}");
        assert!(d.contains("admin"));
    }

    #[test]
    fn set_replaces() {
        let mut m = Message::action("Ping").with("ActionID", "1");
        m.set("actionid", "2");
        assert_eq!(m.get_all("ActionID").collect::<Vec<_>>(), ["2"]);
    }
}
