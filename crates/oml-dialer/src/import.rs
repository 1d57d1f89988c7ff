//! The rules of a contact-list import, without any I/O: which column holds
//! the phone number, how a number is normalised and when it is invalid,
//! what the other columns become, and the verdict on each row with a reason
//! a supervisor can act on. `oml campaign import` reads the file and writes
//! the database; everything it decides about a row is decided here.

use serde::Serialize;
use std::collections::HashMap;

pub use oml_store::phone::{CountryError, Normalizer, PhoneError, MAX_DIGITS, MIN_DIGITS};

/// Header names recognised as the phone column, compared after
/// [`header_key`] (lower case, no accents, no spaces, `_` or `-`), in order
/// of preference.
pub const PHONE_HEADERS: &[&str] = &[
    "phone",
    "phonenumber",
    "telefono",
    "telephone",
    "telefone",
    "tel",
    "number",
    "numero",
    "nro",
    "mobile",
    "mobilephone",
    "cell",
    "cellphone",
    "celular",
    "movil",
    "msisdn",
    "fono",
];

/// A problem with the file as a whole or with the options: the import stops
/// before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("the file has no header row (it is empty)")]
    NoHeader,
    #[error("no column named `{wanted}`; the header has: {found}")]
    NoSuchColumn { wanted: String, found: String },
    #[error("no phone column found among: {found}; name it with --phone-column (recognised names: phone, telefono, number, mobile, celular, ...)")]
    NoPhoneColumn { found: String },
    #[error(transparent)]
    Country(#[from] CountryError),
}

/// A header name reduced for matching: lower case, accents removed, BOM,
/// spaces, `_`, `-` and `.` dropped.
pub fn header_key(name: &str) -> String {
    name.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '_' | '-' | '.')))
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'Á' | 'À' | 'Â' | 'Ã' => 'a',
            'é' | 'è' | 'ê' | 'É' | 'È' | 'Ê' => 'e',
            'í' | 'ì' | 'Í' | 'Ì' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'Ó' | 'Ò' | 'Ô' | 'Õ' => 'o',
            'ú' | 'ù' | 'ü' | 'Ú' | 'Ù' | 'Ü' => 'u',
            'ñ' | 'Ñ' => 'n',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Where the phone is and what the other columns are called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Index of the phone column.
    pub phone_index: usize,
    /// Name of the phone column as written in the header.
    pub phone_header: String,
    /// `(index, attribute name)` of every other column. Empty header names
    /// become `column_<n>` (1-based); repeated names get `_2`, `_3`, ...
    pub attributes: Vec<(usize, String)>,
}

impl Layout {
    /// Finds the phone column: the one named `phone_column` (compared like
    /// [`header_key`], so `Teléfono` matches `telefono`), else the first
    /// header in [`PHONE_HEADERS`] order.
    pub fn from_header(
        headers: &[&str],
        phone_column: Option<&str>,
    ) -> Result<Layout, LayoutError> {
        if headers.is_empty() || headers.iter().all(|h| h.trim().is_empty()) {
            return Err(LayoutError::NoHeader);
        }
        let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
        let found = || {
            headers
                .iter()
                .map(|h| format!("`{}`", h.trim_start_matches('\u{feff}').trim()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let phone_index = match phone_column {
            Some(wanted) => {
                let key = header_key(wanted);
                keys.iter()
                    .position(|k| *k == key)
                    .ok_or_else(|| LayoutError::NoSuchColumn {
                        wanted: wanted.to_string(),
                        found: found(),
                    })?
            }
            None => PHONE_HEADERS
                .iter()
                .find_map(|cand| keys.iter().position(|k| k == cand))
                .ok_or_else(|| LayoutError::NoPhoneColumn { found: found() })?,
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut attributes = Vec::new();
        for (i, h) in headers.iter().enumerate() {
            if i == phone_index {
                continue;
            }
            let base = h.trim_start_matches('\u{feff}').trim();
            let base = if base.is_empty() {
                format!("column_{}", i + 1)
            } else {
                base.to_string()
            };
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            let name = if *n == 1 { base } else { format!("{base}_{n}") };
            attributes.push((i, name));
        }
        Ok(Layout {
            phone_index,
            phone_header: headers[phone_index]
                .trim_start_matches('\u{feff}')
                .trim()
                .to_string(),
            attributes,
        })
    }

    /// The row's phone text (empty when the row is short).
    pub fn phone<'a>(&self, fields: &[&'a str]) -> &'a str {
        fields.get(self.phone_index).copied().unwrap_or("")
    }

    /// The row's other columns as a JSON object text, e.g.
    /// `{"name":"Ana","debt":"120.50"}`. Missing trailing fields are left out.
    pub fn attributes_json(&self, fields: &[&str]) -> String {
        let mut map = serde_json::Map::with_capacity(self.attributes.len());
        for (i, name) in &self.attributes {
            if let Some(v) = fields.get(*i) {
                map.insert(name.clone(), serde_json::Value::String((*v).to_string()));
            }
        }
        serde_json::Value::Object(map).to_string()
    }
}

/// Chooses the field delimiter from the header line: the most frequent of
/// `,` `;` TAB `|` outside double quotes; `,` when none appears.
pub fn sniff_delimiter(header_line: &[u8]) -> u8 {
    let mut counts = [0usize; 4];
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for &b in header_line {
        if b == b'"' {
            quoted = !quoted;
        } else if b == b'\n' {
            break;
        } else if !quoted {
            if let Some(i) = CANDIDATES.iter().position(|c| *c == b) {
                counts[i] += 1;
            }
        }
    }
    let (best, n) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))
        .expect("four candidates");
    if *n == 0 {
        b','
    } else {
        CANDIDATES[best]
    }
}

/// Why a row was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The phone cannot be dialed.
    Invalid(PhoneError),
    /// The same normalised number appeared earlier in this file (at that
    /// row, when known).
    DuplicateInFile { first_row: Option<u64> },
    /// The campaign already has a contact with this number.
    AlreadyInCampaign,
    /// The number is on the do-not-call list (global or the campaign's).
    DoNotCall,
}

impl Reason {
    /// A short machine-readable kind, the `reason` column of the report.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::Invalid(_) => "invalid",
            Reason::DuplicateInFile { .. } => "duplicate_in_file",
            Reason::AlreadyInCampaign => "already_in_campaign",
            Reason::DoNotCall => "do_not_call",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Invalid(e) => write!(f, "invalid number: {e}"),
            Reason::DuplicateInFile { first_row: Some(r) } => write!(f, "duplicate of row {r}"),
            Reason::DuplicateInFile { first_row: None } => {
                f.write_str("duplicate of an earlier row of this file")
            }
            Reason::AlreadyInCampaign => f.write_str("the campaign already has this number"),
            Reason::DoNotCall => f.write_str("on the do-not-call list"),
        }
    }
}

/// A row turned away: its row number (the header is row 1, as in a
/// spreadsheet), the phone as written, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub row: u64,
    pub phone: String,
    pub reason: Reason,
}

/// A row ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub row: u64,
    pub phone: String,
    pub attributes: String,
}

/// The verdict on one row before the database is asked: normalised and with
/// its attributes, or invalid.
pub fn check_row(
    layout: &Layout,
    normalizer: &Normalizer,
    row: u64,
    fields: &[&str],
) -> Result<Accepted, Rejection> {
    let raw = layout.phone(fields);
    match normalizer.normalize(raw) {
        Ok(phone) => Ok(Accepted {
            row,
            phone,
            attributes: layout.attributes_json(fields),
        }),
        Err(e) => Err(Rejection {
            row,
            phone: raw.trim().to_string(),
            reason: Reason::Invalid(e),
        }),
    }
}

/// Removes numbers repeated inside one batch, keeping the first; the
/// repeats come back as rejections naming the first row.
pub fn dedup_batch(rows: Vec<Accepted>) -> (Vec<Accepted>, Vec<Rejection>) {
    let mut first: HashMap<String, u64> = HashMap::with_capacity(rows.len());
    let mut keep = Vec::with_capacity(rows.len());
    let mut dups = Vec::new();
    for r in rows {
        match first.get(&r.phone) {
            Some(&row) => dups.push(Rejection {
                row: r.row,
                phone: r.phone,
                reason: Reason::DuplicateInFile {
                    first_row: Some(row),
                },
            }),
            None => {
                first.insert(r.phone.clone(), r.row);
                keep.push(r);
            }
        }
    }
    (keep, dups)
}

/// The counts printed at the end of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub imported: u64,
    pub invalid: u64,
    pub duplicate_in_file: u64,
    pub already_in_campaign: u64,
    pub do_not_call: u64,
}

impl Summary {
    pub fn reject(&mut self, reason: &Reason) {
        match reason {
            Reason::Invalid(_) => self.invalid += 1,
            Reason::DuplicateInFile { .. } => self.duplicate_in_file += 1,
            Reason::AlreadyInCampaign => self.already_in_campaign += 1,
            Reason::DoNotCall => self.do_not_call += 1,
        }
    }

    pub fn rejected(&self) -> u64 {
        self.invalid + self.duplicate_in_file + self.already_in_campaign + self.do_not_call
    }

    /// Every row is either imported or rejected: nothing silently dropped.
    pub fn is_consistent(&self) -> bool {
        self.imported + self.rejected() == self.rows
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "rows read            {:>10}", self.rows)?;
        writeln!(f, "imported             {:>10}", self.imported)?;
        writeln!(f, "rejected             {:>10}", self.rejected())?;
        writeln!(f, "  invalid number     {:>10}", self.invalid)?;
        writeln!(f, "  duplicate in file  {:>10}", self.duplicate_in_file)?;
        writeln!(f, "  already in campaign{:>10}", self.already_in_campaign)?;
        write!(f, "  do-not-call        {:>10}", self.do_not_call)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_the_phone_column() {
        let l = Layout::from_header(&["\u{feff}Nombre", "Teléfono", "Deuda"], None).unwrap();
        assert_eq!(l.phone_index, 1);
        assert_eq!(l.phone_header, "Teléfono");
        assert_eq!(
            l.attributes,
            vec![(0, "Nombre".to_string()), (2, "Deuda".to_string())]
        );
        // "phone" is preferred over "number" wherever it is.
        let l = Layout::from_header(&["number", "Phone Number"], None).unwrap();
        assert_eq!(l.phone_index, 1);
        let l = Layout::from_header(&["id", "MSISDN"], None).unwrap();
        assert_eq!(l.phone_index, 1);
        let l = Layout::from_header(&["a", "b", "c"], Some("B")).unwrap();
        assert_eq!(l.phone_index, 1);
    }

    #[test]
    fn layout_errors_name_the_columns() {
        let e = Layout::from_header(&["name", "city"], None).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("`name`, `city`") && msg.contains("--phone-column"),
            "{msg}"
        );
        let e = Layout::from_header(&["name", "tel"], Some("mobile")).unwrap_err();
        assert!(e.to_string().contains("no column named `mobile`"));
        assert_eq!(Layout::from_header(&[""], None), Err(LayoutError::NoHeader));
    }

    #[test]
    fn attributes_keep_other_columns() {
        let l = Layout::from_header(&["phone", "name", "", "name"], None).unwrap();
        let json = l.attributes_json(&["5551234", "Ana", "x", "Bea"]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["name"], "Ana");
        assert_eq!(v["column_3"], "x");
        assert_eq!(v["name_2"], "Bea");
        // Short rows: missing fields are left out, the phone is empty.
        assert_eq!(l.attributes_json(&["5551234"]), "{}");
        assert_eq!(l.phone(&[]), "");
    }

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter(b"phone,name,city\n1,2,3"), b',');
        assert_eq!(sniff_delimiter(b"telefono;nombre;deuda"), b';');
        assert_eq!(sniff_delimiter(b"phone\tname"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c"), b',');
        assert_eq!(sniff_delimiter(b"phone"), b',');
    }

    #[test]
    fn rows_get_verdicts() {
        let l = Layout::from_header(&["name", "phone"], None).unwrap();
        let norm = Normalizer::default();
        let ok = check_row(&l, &norm, 2, &["Ana", "555-1234"]).unwrap();
        assert_eq!(ok.phone, "5551234");
        assert_eq!(ok.attributes, r#"{"name":"Ana"}"#);
        let bad = check_row(&l, &norm, 3, &["Bea"]).unwrap_err();
        assert_eq!(bad.row, 3);
        assert_eq!(bad.reason, Reason::Invalid(PhoneError::Empty));
        assert_eq!(bad.reason.kind(), "invalid");
    }

    #[test]
    fn batch_dedup_names_the_first_row() {
        let row = |row, phone: &str| Accepted {
            row,
            phone: phone.into(),
            attributes: "{}".into(),
        };
        let (keep, dups) = dedup_batch(vec![row(2, "111111"), row(3, "222222"), row(4, "111111")]);
        assert_eq!(keep.len(), 2);
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].row, 4);
        assert_eq!(dups[0].reason.to_string(), "duplicate of row 2");
    }

    #[test]
    fn summary_accounts_for_every_row() {
        let mut s = Summary {
            rows: 5,
            imported: 1,
            ..Summary::default()
        };
        s.reject(&Reason::DoNotCall);
        s.reject(&Reason::AlreadyInCampaign);
        s.reject(&Reason::DuplicateInFile { first_row: None });
        assert!(!s.is_consistent());
        s.reject(&Reason::Invalid(PhoneError::Empty));
        assert!(s.is_consistent());
        assert_eq!(s.rejected(), 4);
    }

    proptest! {
        /// Any header row (outside input): a layout or an error, never a
        /// panic; attribute names are distinct and never the phone column.
        #[test]
        fn any_header_gives_a_layout_or_an_error(
            headers in proptest::collection::vec("\\PC{0,12}|phone|Teléfono|name", 0..8),
            wanted in proptest::option::of("\\PC{0,8}|tel"),
        ) {
            let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
            if let Ok(l) = Layout::from_header(&refs, wanted.as_deref()) {
                prop_assert!(l.phone_index < refs.len());
                let names: std::collections::HashSet<&str> =
                    l.attributes.iter().map(|(_, n)| n.as_str()).collect();
                prop_assert_eq!(names.len(), l.attributes.len());
                prop_assert_eq!(l.attributes.len() + 1, refs.len());
                prop_assert!(l.attributes.iter().all(|(i, _)| *i != l.phone_index));
            }
        }

        /// Any first bytes: one of the known delimiters.
        #[test]
        fn any_first_line_sniffs_a_known_delimiter(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert!([b',', b';', b'\t', b'|'].contains(&sniff_delimiter(&bytes)));
        }
    }
}
