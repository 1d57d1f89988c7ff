//! Phone numbers as oml stores and compares them, contacts and do-not-call
//! entries alike: parsed with the `phonenumber` crate (Google's
//! libphonenumber metadata: trunk prefixes, international call prefixes,
//! national forms) into E.164 when the country is known, and the rule that
//! keeps a do-not-call entry written without a country code on the safe
//! side: it matches its national number under every country code.
//! Pure logic, no I/O; the SQL in `contacts.rs` and `dialing.rs` mirrors
//! [`dnc_matches`] through [`dnc_match_sql`].

use phonenumber::{country, metadata::DATABASE, Mode};
use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::OnceLock;

/// Fewest digits a phone number may have (short internal extensions are not
/// dialer targets).
pub const MIN_DIGITS: usize = 6;
/// Most digits a phone number may have (ITU-T E.164).
pub const MAX_DIGITS: usize = 15;

/// Why a phone number is not dialable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("`{0}` looks like spreadsheet scientific notation: format the phone column as text before exporting")]
    Scientific(String),
    #[error("`{text}` contains {ch:?}: only digits, a leading +, spaces, dashes, dots and parentheses are allowed")]
    BadChar { text: String, ch: char },
    #[error("`{0}` has a + that is not at the start")]
    MisplacedPlus(String),
    #[error("`{text}` has {digits} digits: a phone number has {MIN_DIGITS} to {MAX_DIGITS}")]
    Length { text: String, digits: usize },
    #[error("`{text}` is not a phone number: {why}")]
    Unparsable { text: String, why: String },
}

/// A default country that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("default country `{0}`: give a country calling code (e.g. 54 or +54) or a two-letter country (e.g. AR)")]
pub struct CountryError(pub String);

/// The country that numbers written without a country code belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// The calling code, e.g. 54.
    pub code: u16,
    id: country::Id,
}

impl Country {
    /// `54`, `+54` or `AR` (any case). For a code shared by several
    /// countries (1: US, CA, ...) the main one is taken: the trunk prefix
    /// and number lengths are the same for all of them.
    pub fn parse(text: &str) -> Result<Country, CountryError> {
        let t = text.trim();
        let bad = || CountryError(t.to_string());
        let digits = t.strip_prefix('+').unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let code: u16 = digits.parse().map_err(|_| bad())?;
            if digits.starts_with('0') || digits.len() > 3 {
                return Err(bad());
            }
            let id = DATABASE
                .by_code(&code)
                .and_then(|m| m.first().map(|m| m.id().to_string()))
                .and_then(|id| country::Id::from_str(&id).ok())
                .ok_or_else(bad)?;
            return Ok(Country { code, id });
        }
        let upper = t.to_ascii_uppercase();
        let meta = DATABASE.by_id(upper.as_str()).ok_or_else(bad)?;
        let id = country::Id::from_str(&upper).map_err(|_| bad())?;
        Ok(Country {
            code: meta.country_code(),
            id,
        })
    }
}

/// A number as stored: `number` is E.164 (`+541140000001`) when the country
/// is known, else the digits as written. `national` is set when the number
/// was written without a country code: its national significant number
/// (`1140000001`), under which a do-not-call entry matches every country.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Phone {
    pub number: String,
    pub national: Option<String>,
}

/// Turns raw phone text into a [`Phone`].
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    country: Option<Country>,
}

impl Normalizer {
    /// `default_country` (`54`, `+54`, `AR`; empty means none) is the
    /// country of every number written without a country code.
    pub fn new(default_country: Option<&str>) -> Result<Normalizer, CountryError> {
        let country = match default_country.map(str::trim) {
            None | Some("") => None,
            Some(c) => Some(Country::parse(c)?),
        };
        Ok(Normalizer { country })
    }

    pub fn country(&self) -> Option<Country> {
        self.country
    }

    /// The number as stored and dialed, or why it cannot be dialed.
    pub fn normalize(&self, raw: &str) -> Result<String, PhoneError> {
        self.phone(raw).map(|p| p.number)
    }

    /// The number with its national part when written without a country
    /// code (what a do-not-call entry stores).
    pub fn phone(&self, raw: &str) -> Result<Phone, PhoneError> {
        let text = raw.trim();
        let cleaned = clean(text)?;
        let international = cleaned.starts_with('+');
        let phone = match (international, self.country) {
            (false, None) => Phone {
                national: Some(national_guess(&cleaned).to_string()),
                number: cleaned,
            },
            (_, country) => {
                let parsed = phonenumber::parse(country.map(|c| c.id), &cleaned).map_err(|e| {
                    PhoneError::Unparsable {
                        text: text.to_string(),
                        why: e.to_string(),
                    }
                })?;
                let nsn = parsed.national();
                let national = format!("{}{}", "0".repeat(usize::from(nsn.zeros())), nsn.value());
                let written_without_code =
                    matches!(parsed.code().source(), country::Source::Default);
                let number = parsed.format().mode(Mode::E164).to_string();
                // Some impossible numbers (`+10000001`) format into a text
                // that reads as another number: stored, it would not match
                // itself when written again. Refuse those.
                let again = phonenumber::parse(country.map(|c| c.id), &number)
                    .map(|p| p.format().mode(Mode::E164).to_string());
                if again.ok().as_deref() != Some(number.as_str()) {
                    return Err(PhoneError::Unparsable {
                        text: text.to_string(),
                        why: "not a possible number (it does not read back as itself)".into(),
                    });
                }
                Phone {
                    number,
                    national: written_without_code.then_some(national),
                }
            }
        };
        let digits = phone.number.trim_start_matches('+').len();
        if digits == 0 {
            return Err(PhoneError::Empty);
        }
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
            return Err(PhoneError::Length {
                text: text.to_string(),
                digits,
            });
        }
        Ok(phone)
    }
}

/// Digits with the leading `+` kept; separators dropped; anything else is
/// an error naming it.
fn clean(text: &str) -> Result<String, PhoneError> {
    if text.is_empty() {
        return Err(PhoneError::Empty);
    }
    let mut out = String::with_capacity(text.len());
    for (i, ch) in text.chars().enumerate() {
        match ch {
            '0'..='9' => out.push(ch),
            '+' if i == 0 => out.push('+'),
            '+' if looks_scientific(text) => return Err(PhoneError::Scientific(text.to_string())),
            '+' => return Err(PhoneError::MisplacedPlus(text.to_string())),
            '-' | '.' | '(' | ')' | '/' => {}
            c if c.is_whitespace() => {}
            _ if looks_scientific(text) => return Err(PhoneError::Scientific(text.to_string())),
            c => {
                return Err(PhoneError::BadChar {
                    text: text.to_string(),
                    ch: c,
                })
            }
        }
    }
    if out.trim_start_matches('+').is_empty() {
        return Err(PhoneError::Empty);
    }
    Ok(out)
}

/// `5.4911E+12`, `5,49E+12`: what a spreadsheet makes of a long number.
fn looks_scientific(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    let Some((mantissa, exp)) = upper.split_once('E') else {
        return false;
    };
    let exp = exp.trim_start_matches(['+', '-']);
    !mantissa.is_empty()
        && mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
}

/// The national number of digits written without a country code when the
/// country is unknown: one leading trunk `0` dropped (the most common trunk
/// prefix). Mirrored in SQL by [`dnc_match_sql`].
pub fn national_guess(digits: &str) -> &str {
    digits.strip_prefix('0').unwrap_or(digits)
}

/// Every country calling code known to the metadata.
fn country_codes() -> &'static BTreeSet<u16> {
    static CODES: OnceLock<BTreeSet<u16>> = OnceLock::new();
    CODES.get_or_init(|| DATABASE.iter().map(|m| m.country_code()).collect())
}

/// How many leading digits of an E.164 number (without its `+`) are its
/// country code. Country codes are prefix-free, so at most one length fits.
pub fn country_code_len(digits: &str) -> Option<usize> {
    if digits.starts_with('0') {
        return None;
    }
    (1..=3).find(|&n| {
        digits
            .get(..n)
            .and_then(|p| p.parse::<u16>().ok())
            .is_some_and(|c| country_codes().contains(&c))
    })
}

/// Whether a do-not-call entry (`entry_phone`, and `entry_national` when it
/// was written without a country code) blocks the stored contact number
/// `contact`. An entry matches its own number; one written without a
/// country code also matches its national number under any country code,
/// and a contact stored without one matches any entry with the same
/// national number: not calling someone is a lesser harm than calling
/// someone who opted out.
pub fn dnc_matches(entry_phone: &str, entry_national: Option<&str>, contact: &str) -> bool {
    if entry_phone == contact {
        return true;
    }
    let Some(national) = entry_national else {
        return false;
    };
    match contact.strip_prefix('+') {
        Some(digits) => country_code_len(digits).is_some_and(|n| &digits[n..] == national),
        None => national_guess(contact) == national,
    }
}

/// The national numbers of a stored contact number under which
/// national do-not-call entries are looked up (see [`dnc_matches`]).
pub fn national_key(contact: &str) -> Option<&str> {
    match contact.strip_prefix('+') {
        Some(digits) => country_code_len(digits).map(|n| &digits[n..]),
        None => Some(national_guess(contact)),
    }
}

/// The SQL condition, over a `dnc_numbers` row aliased `d`, that is true
/// when the entry blocks the contact number in the SQL expression
/// `contact` (the same rule as [`dnc_matches`]).
pub fn dnc_match_sql(contact: &str) -> String {
    static CODES: OnceLock<String> = OnceLock::new();
    let codes = CODES.get_or_init(|| {
        country_codes()
            .iter()
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(",")
    });
    format!(
        "(d.phone = {contact} OR (d.national IS NOT NULL AND (\
           ({contact} LIKE '+%' \
            AND d.national IN (substr({contact}, 3), substr({contact}, 4), substr({contact}, 5)) \
            AND substr({contact}, 2, length({contact}) - 1 - length(d.national)) IN ({codes})) \
           OR ({contact} NOT LIKE '+%' \
            AND d.national = CASE WHEN {contact} LIKE '0%' THEN substr({contact}, 2) ELSE {contact} END))))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(raw: &str) -> Result<String, PhoneError> {
        Normalizer::default().normalize(raw)
    }

    fn ar() -> Normalizer {
        Normalizer::new(Some("54")).unwrap()
    }

    #[test]
    fn normalises_common_writings() {
        assert_eq!(n(" +54 (11) 4321-5678 ").unwrap(), "+541143215678");
        assert_eq!(n("011.4321.5678").unwrap(), "01143215678");
        assert_eq!(n("555 1234").unwrap(), "5551234");
        assert_eq!(n("123456").unwrap(), "123456");
        assert_eq!(n("+123456789012345").unwrap(), "+123456789012345");
    }

    #[test]
    fn rejects_with_a_reason() {
        assert_eq!(n("   "), Err(PhoneError::Empty));
        assert_eq!(n("+"), Err(PhoneError::Empty));
        assert!(matches!(
            n("12345"),
            Err(PhoneError::Length { digits: 5, .. })
        ));
        assert!(matches!(
            n("1234567890123456"),
            Err(PhoneError::Length { digits: 16, .. })
        ));
        assert!(matches!(
            n("555-CALL-NOW"),
            Err(PhoneError::BadChar { ch: 'C', .. })
        ));
        assert!(matches!(n("54+911"), Err(PhoneError::MisplacedPlus(_))));
        assert!(matches!(n("5.49114E+12"), Err(PhoneError::Scientific(_))));
        assert!(matches!(n("5,49114E+12"), Err(PhoneError::Scientific(_))));
        assert!(n("5.49114E+12")
            .unwrap_err()
            .to_string()
            .contains("as text"));
        let e = n("+0 11 4000 0001").unwrap_err();
        assert!(matches!(e, PhoneError::Unparsable { .. }), "{e}");
    }

    #[test]
    fn default_country_uses_the_countrys_own_prefixes() {
        let ar = ar();
        assert_eq!(ar.normalize("011 4321 5678").unwrap(), "+541143215678");
        assert_eq!(ar.normalize("1143215678").unwrap(), "+541143215678");
        assert_eq!(ar.normalize("0034 91 123 4567").unwrap(), "+34911234567");
        assert_eq!(ar.normalize("+1 212 555 0100").unwrap(), "+12125550100");
        // Argentine mobiles written the national way (0 area 15 number).
        assert_eq!(ar.normalize("011 15 4000-0001").unwrap(), "+5491140000001");
        // The United States' trunk prefix is 1, not 0.
        let us = Normalizer::new(Some("US")).unwrap();
        assert_eq!(us.normalize("1 (212) 555-0100").unwrap(), "+12125550100");
        assert_eq!(us.normalize("212 555 0100").unwrap(), "+12125550100");
        // Italy keeps its leading 0 after the country code.
        let it = Normalizer::new(Some("+39")).unwrap();
        assert_eq!(it.normalize("06 1234 5678").unwrap(), "+390612345678");
        for bad in ["0", "1234", "ab", "+", "054", "999", "XX"] {
            let e = Normalizer::new(Some(bad)).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
        assert!(Normalizer::new(Some("")).unwrap().country().is_none());
        assert_eq!(
            Normalizer::new(Some("ar")).unwrap().country().unwrap().code,
            54
        );
    }

    #[test]
    fn entries_written_without_a_country_code_keep_their_national_number() {
        let p = ar().phone("01140000001").unwrap();
        assert_eq!(p.number, "+541140000001");
        assert_eq!(p.national.as_deref(), Some("1140000001"));
        let p = ar().phone("+54 11 4000 0001").unwrap();
        assert_eq!(p.national, None);
        let p = ar().phone("0054 11 4000 0001").unwrap();
        assert_eq!(p.national, None);
        let p = Normalizer::default().phone("01140000001").unwrap();
        assert_eq!(p.number, "01140000001");
        assert_eq!(p.national.as_deref(), Some("1140000001"));
    }

    /// The case: default country 54, contact `011 4000-0001`,
    /// do-not-call `01140000001` (docs/contacts-import.md's example).
    #[test]
    fn the_documented_dnc_example_matches() {
        let contact = ar().normalize("011 4000-0001").unwrap();
        let entry = ar().phone("01140000001").unwrap();
        assert!(dnc_matches(
            &entry.number,
            entry.national.as_deref(),
            &contact
        ));
        // Entered without a default country, it still matches.
        let entry = Normalizer::default().phone("01140000001").unwrap();
        assert!(dnc_matches(
            &entry.number,
            entry.national.as_deref(),
            &contact
        ));
        // And whatever country code the contact got.
        let uy = Normalizer::new(Some("598")).unwrap();
        let contact = uy.normalize("011 4000-0001").unwrap();
        assert!(contact.starts_with("+598"), "{contact}");
        assert!(dnc_matches(
            &entry.number,
            entry.national.as_deref(),
            &contact
        ));
        // An entry written with its country code matches that country only.
        let entry = ar().phone("+54 11 4000 0001").unwrap();
        assert!(!dnc_matches(
            &entry.number,
            entry.national.as_deref(),
            &contact
        ));
        // A contact stored without a country matches a national entry.
        assert!(dnc_matches(
            "+541140000001",
            Some("1140000001"),
            "01140000001"
        ));
        assert!(!dnc_matches(
            "+541140000001",
            Some("1140000001"),
            "+541140000002"
        ));
    }

    #[test]
    fn country_codes_are_found_by_prefix() {
        assert_eq!(country_code_len("541140000001"), Some(2));
        assert_eq!(country_code_len("12125550100"), Some(1));
        assert_eq!(country_code_len("5981234567"), Some(3));
        assert_eq!(country_code_len("0123"), None);
        assert_eq!(national_key("+541140000001"), Some("1140000001"));
        assert_eq!(national_key("01140000001"), Some("1140000001"));
    }

    proptest! {
        /// Whatever the input, a normalised number is `+`? then 6-15 digits,
        /// and normalising it again changes nothing.
        #[test]
        fn normalised_numbers_are_canonical(raw in "[+]?[0-9 ().-]{0,25}", cc in prop::sample::select(vec!["", "54", "1", "39", "598", "44"])) {
            let norm = Normalizer::new(Some(cc)).unwrap();
            if let Ok(p) = norm.normalize(&raw) {
                let digits = p.strip_prefix('+').unwrap_or(&p);
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!((MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()));
                prop_assert_eq!(norm.normalize(&p).unwrap(), p);
            }
        }

        /// Separators never change the number.
        #[test]
        fn separators_do_not_matter(d in "[0-9]{6,15}", seps in proptest::collection::vec("[ ().-]", 0..6)) {
            let mut s = String::new();
            for (i, c) in d.chars().enumerate() {
                s.push(c);
                if let Some(sep) = seps.get(i) { s.push_str(sep); }
            }
            prop_assert_eq!(n(&s).unwrap(), d);
        }

        /// Any text: never a panic, and an error or a stored form.
        #[test]
        fn any_text_is_refused_or_normalised(raw in "\\PC{0,30}") {
            let _ = ar().phone(&raw);
            let _ = Normalizer::default().phone(&raw);
        }

        /// A national entry matches its contact whatever the default
        /// country the contact was imported with.
        #[test]
        fn national_entries_match_under_every_country(nat in "[1-9][0-9]{7,9}", cc in prop::sample::select(vec!["54", "598", "34", "52", "1"])) {
            let entry = Normalizer::default().phone(&format!("0{nat}")).unwrap();
            let norm = Normalizer::new(Some(cc)).unwrap();
            if let Ok(contact) = norm.phone(&format!("+{cc}{nat}")) {
                let key = &contact.number[1 + cc.len()..];
                prop_assume!(key == nat);
                prop_assert!(dnc_matches(&entry.number, entry.national.as_deref(), &contact.number));
            }
        }
    }
}
