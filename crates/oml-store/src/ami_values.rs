//! Rules for the stored values that end up in an AMI header or in the
//! dialplan (caller ID, dial string, context, extension, queue, AMI user and
//! secret). They are checked when stored, so a value that would break an AMI
//! frame (a CR or LF ends the header early and injects another) or name a
//! dialplan object Asterisk cannot have is refused at configuration time
//! with the field named, never discovered at dial time.

use crate::{Result, StoreError};

/// Longest value accepted in any AMI-bound field.
pub const MAX_AMI_VALUE: usize = 256;

/// Refuses control characters (CR and LF above all: they end an AMI header)
/// and overly long values. `secret` leaves the value out of the message.
fn check_text(field: &'static str, value: &str, secret: bool) -> Result<()> {
    if value.len() > MAX_AMI_VALUE {
        return Err(StoreError::invalid(
            field,
            format!("it is longer than {MAX_AMI_VALUE} characters"),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        let shown = if secret {
            String::new()
        } else {
            format!("`{}` ", value.escape_default())
        };
        return Err(StoreError::invalid(
            field,
            format!(
                "{shown}contains the control character {c:?}: line breaks and other control characters cannot be sent to Asterisk; remove them"
            ),
        ));
    }
    Ok(())
}

/// Free text sent as one AMI header value (caller ID, AMI user).
pub fn check_header_value(field: &'static str, value: &str) -> Result<()> {
    check_text(field, value, false)
}

/// A secret sent as an AMI header value: the same rule, the value never shown.
pub fn check_secret_value(field: &'static str, value: &str) -> Result<()> {
    check_text(field, value, true)
}

/// A dialplan name (context, queue): letters, digits, `-`, `_`, `.`, and at
/// most 79 characters (Asterisk's limit for a context name).
pub fn check_dialplan_name(field: &'static str, value: &str) -> Result<()> {
    check_text(field, value, false)?;
    if value.chars().count() > 79 {
        return Err(StoreError::invalid(
            field,
            "it is longer than 79 characters (Asterisk's limit)",
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(StoreError::invalid(
            field,
            format!(
                "`{}`: character {c:?} is not allowed (use letters, digits, - _ .)",
                value.escape_default()
            ),
        ));
    }
    Ok(())
}

/// A dialplan extension: digits, letters, and `* # + _ . - [ ] !` (patterns).
pub fn check_extension(field: &'static str, value: &str) -> Result<()> {
    check_text(field, value, false)?;
    if let Some(c) = value.chars().find(|c| {
        !(c.is_ascii_alphanumeric()
            || matches!(c, '*' | '#' | '+' | '_' | '.' | '-' | '[' | ']' | '!'))
    }) {
        return Err(StoreError::invalid(
            field,
            format!(
                "`{}`: character {c:?} is not allowed in an extension",
                value.escape_default()
            ),
        ));
    }
    Ok(())
}

/// A dial string (the `Channel` header of an Originate): no spaces, no
/// control characters.
pub fn check_dial_string(field: &'static str, value: &str) -> Result<()> {
    check_text(field, value, false)?;
    if value.contains(char::is_whitespace) {
        return Err(StoreError::invalid(field, "it must not contain spaces"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use oml_ami::{encode_message, FrameDecoder, Message};
    use proptest::prelude::*;

    #[test]
    fn line_breaks_are_refused_naming_the_field() {
        let e = check_header_value("caller ID", "Sales <5550000>\r\nAction: Hangup")
            .unwrap_err()
            .to_string();
        assert!(e.contains("caller ID") && e.contains("'\\r'"), "{e}");
        let e = check_secret_value("AMI secret", "pw\nx")
            .unwrap_err()
            .to_string();
        assert!(e.contains("AMI secret") && !e.contains("pw"), "{e}");
        assert!(check_dialplan_name("delivery context", "from oml").is_err());
        assert!(check_dialplan_name("queue", "sales_1").is_ok());
        assert!(check_extension("delivery extension", "_X.").is_ok());
        assert!(check_extension("delivery extension", "1,2").is_err());
        assert!(check_dial_string("dial string", "PJSIP/${num}@carrier").is_ok());
        assert!(check_dial_string("dial string", "PJSIP/${num}\r").is_err());
        assert!(check_header_value("caller ID", "\"Ventas\" <+54 11 5555>").is_ok());
    }

    /// The header the value becomes, encoded and read back as Asterisk would.
    fn round_trip(value: &str) -> Option<String> {
        let msg = Message::action("Originate").with("CallerID", value);
        let mut buf = BytesMut::new();
        encode_message(&msg, &mut buf).ok()?;
        let mut dec = FrameDecoder::server(1 << 20);
        match dec.decode(&mut buf).ok()?? {
            oml_ami::Frame::Message(m) => {
                // Exactly one frame, with exactly the two headers sent.
                if !buf.is_empty() || m.len() != 2 {
                    return None;
                }
                m.get("CallerID").map(str::to_owned)
            }
            oml_ami::Frame::Greeting(_) => None,
        }
    }

    proptest! {
        /// Whatever a user types, a value the store accepts is one AMI
        /// header that arrives as it was written: nothing injected.
        #[test]
        fn accepted_values_are_one_header(value in "\\PC{0,40}|[a-zA-Z0-9 \r\n\t:<>\"]{0,40}") {
            let checks = [
                check_header_value("v", &value).is_ok(),
                check_secret_value("v", &value).is_ok(),
                check_dialplan_name("v", &value).is_ok(),
                check_extension("v", &value).is_ok(),
                check_dial_string("v", &value).is_ok(),
            ];
            if checks.iter().any(|ok| *ok) {
                let got = round_trip(&value);
                // The decoder trims the space after the colon and at the end.
                prop_assert_eq!(got.as_deref().map(str::trim), Some(value.trim()));
            }
        }
    }
}
