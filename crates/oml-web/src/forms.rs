//! Form input checking: every field is read as text, checked here, and any
//! problem becomes an inline error next to the field (nothing is stored
//! unless every field is valid). Pure functions.
//!
//! Passwords are the one free-form field: any character is allowed in a
//! password (it is never displayed), only its length is checked.

use oml_store::Role;
use secrecy::SecretString;
use std::collections::BTreeMap;

/// Password length bounds; the same as the store's (a test checks).
pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Longest text accepted in a free text field that is not a password.
pub const MAX_TEXT: usize = 200;

/// Field name → message, rendered next to each field.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FormErrors(BTreeMap<String, String>);

impl FormErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
}

/// A username: required, 1–64 of letters, digits, `. _ - @`.
pub fn username(errors: &mut FormErrors, field: &str, value: &str) -> Option<String> {
    let v = value.trim();
    match oml_store::validate_username(v) {
        Ok(()) => Some(v.to_string()),
        Err(e) => {
            let msg = match e {
                oml_store::StoreError::Invalid { reason, .. } => {
                    format!("The username is not valid: {reason}.")
                }
                other => other.to_string(),
            };
            errors.add(field, msg);
            None
        }
    }
}

/// A new password and its confirmation.
pub fn new_password(
    errors: &mut FormErrors,
    field: &str,
    value: &str,
    confirm_field: Option<(&str, &str)>,
) -> Option<SecretString> {
    let n = value.chars().count();
    if n == 0 {
        errors.add(field, "Enter a password.");
        return None;
    }
    if n < MIN_PASSWORD_LEN {
        errors.add(
            field,
            format!(
                "The password must have at least {} characters.",
                MIN_PASSWORD_LEN
            ),
        );
        return None;
    }
    if n > MAX_PASSWORD_LEN {
        errors.add(
            field,
            format!(
                "The password must have at most {} characters.",
                MAX_PASSWORD_LEN
            ),
        );
        return None;
    }
    if let Some((cfield, cvalue)) = confirm_field {
        if cvalue != value {
            errors.add(cfield, "The two passwords differ.");
            return None;
        }
    }
    Some(SecretString::from(value.to_string()))
}

/// One of admin, supervisor, agent.
pub fn role(errors: &mut FormErrors, field: &str, value: &str) -> Option<Role> {
    if value.trim().is_empty() {
        errors.add(field, "Choose a role.");
        return None;
    }
    match value.parse::<Role>() {
        Ok(r) if value.len() <= 20 => Some(r),
        _ => {
            errors.add(field, "Choose admin, supervisor or agent.");
            None
        }
    }
}

/// An optional date `YYYY-MM-DD` (UTC), as epoch ms of its first moment.
/// `end_of_day` gives the first moment of the next day instead.
pub fn optional_date(
    errors: &mut FormErrors,
    field: &str,
    value: &str,
    end_of_day: bool,
) -> Option<i64> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.len() > 10 {
        errors.add(field, "Use the form YYYY-MM-DD, e.g. 2026-11-27.");
        return None;
    }
    match chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) => {
            let d = if end_of_day { d.succ_opt()? } else { d };
            Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
        }
        Err(_) => {
            errors.add(field, "Use the form YYYY-MM-DD, e.g. 2026-11-27.");
            None
        }
    }
}

/// A required free text of at most `max` characters, without `<` or `>`.
pub fn text(errors: &mut FormErrors, field: &str, value: &str, max: usize) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        errors.add(field, "This field is required.");
        None
    } else if v.chars().count() > max {
        errors.add(field, format!("At most {max} characters."));
        None
    } else if v.contains(['<', '>']) {
        errors.add(field, "The characters < and > are not allowed.");
        None
    } else {
        Some(v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn usernames() {
        let mut e = FormErrors::default();
        assert_eq!(username(&mut e, "u", " ana "), Some("ana".into()));
        assert!(e.is_empty());
        assert_eq!(username(&mut e, "u", "<script>"), None);
        assert!(e.get("u").unwrap().contains("not allowed"));
        let mut e = FormErrors::default();
        assert_eq!(username(&mut e, "u", ""), None);
        assert_eq!(
            username(&mut FormErrors::default(), "u", &"a".repeat(65)),
            None
        );
    }

    #[test]
    fn passwords() {
        let mut e = FormErrors::default();
        assert!(new_password(&mut e, "p", "", None).is_none());
        assert_eq!(e.get("p"), Some("Enter a password."));
        let mut e = FormErrors::default();
        assert!(new_password(&mut e, "p", "short", None).is_none());
        let mut e = FormErrors::default();
        assert!(new_password(&mut e, "p", &"x".repeat(1025), None).is_none());
        let mut e = FormErrors::default();
        assert!(new_password(&mut e, "p", "long enough", Some(("c", "other one"))).is_none());
        assert!(e.get("c").is_some());
        let ok = new_password(
            &mut FormErrors::default(),
            "p",
            "long enough",
            Some(("c", "long enough")),
        );
        assert_eq!(ok.unwrap().expose_secret(), "long enough");
    }

    #[test]
    fn password_bounds_match_the_store() {
        let at = |n: usize| SecretString::from("x".repeat(n));
        assert!(oml_store::validate_password(&at(MIN_PASSWORD_LEN)).is_ok());
        assert!(oml_store::validate_password(&at(MIN_PASSWORD_LEN - 1)).is_err());
        assert!(oml_store::validate_password(&at(MAX_PASSWORD_LEN)).is_ok());
        assert!(oml_store::validate_password(&at(MAX_PASSWORD_LEN + 1)).is_err());
    }

    #[test]
    fn roles_dates_text() {
        let mut e = FormErrors::default();
        assert_eq!(role(&mut e, "r", "admin"), Some(Role::Admin));
        assert_eq!(role(&mut e, "r", "root"), None);
        assert!(e.get("r").is_some());
        let mut e = FormErrors::default();
        assert_eq!(optional_date(&mut e, "d", "", false), None);
        assert!(e.is_empty());
        assert_eq!(
            optional_date(&mut e, "d", "1970-01-02", false),
            Some(86_400_000)
        );
        assert_eq!(
            optional_date(&mut e, "d", "1970-01-01", true),
            Some(86_400_000)
        );
        assert_eq!(optional_date(&mut e, "d", "yesterday", false), None);
        assert!(e.get("d").is_some());
        let mut e = FormErrors::default();
        assert_eq!(text(&mut e, "t", "<script>", 50), None);
        assert_eq!(
            text(&mut FormErrors::default(), "t", &"x".repeat(51), 50),
            None
        );
        assert_eq!(
            text(&mut FormErrors::default(), "t", "ok", 50),
            Some("ok".into())
        );
    }
}
