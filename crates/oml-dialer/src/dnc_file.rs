//! Reading a file of numbers for the do-not-call list: a CSV with a header
//! (the phone column named or detected, as a contact import detects it) or
//! one number per line. Numbers are normalised exactly as a contact import
//! normalises them, so a blocked number matches the contact it blocks.
//! `oml dnc import` and `oml campaign create|edit --dnc-file` read through
//! here before anything is stored, so a bad file changes nothing.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::contact_import::ImportError;
use crate::import::{sniff_delimiter, Layout, LayoutError, Normalizer, Reason, Rejection};
use oml_store::phone::Phone;

/// The numbers of a file, normalised and deduplicated, with the rows that
/// could not be read as numbers.
#[derive(Debug, Clone, Default)]
pub struct NumberFile {
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// With their national number when written without a country code.
    pub numbers: Vec<Phone>,
    pub rejected: Vec<Rejection>,
}

/// Why a number file could not be read; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum NumberFileError {
    #[error("cannot open {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is empty", path.display())]
    Empty { path: PathBuf },
    /// Not well-formed CSV: the message names the file and the line.
    #[error("{0}")]
    Malformed(String),
    /// No phone column: the header names none (or not the one asked for).
    #[error("{}", path.display())]
    Header {
        path: PathBuf,
        #[source]
        source: LayoutError,
    },
}

/// A CSV error as a message that names the file and the line.
fn malformed(path: &Path) -> impl Fn(csv::Error) -> NumberFileError + '_ {
    move |e| NumberFileError::Malformed(ImportError::from(e).about(&path.display().to_string()))
}

/// Reads a number file: CSV with a header, or one number per line (no
/// header). Rows that are not numbers are returned as rejections; a file
/// that cannot be read or is not well-formed CSV is an error.
pub fn read_numbers(
    path: &Path,
    phone_column: Option<&str>,
    normalizer: &Normalizer,
) -> Result<NumberFile, NumberFileError> {
    let file = std::fs::File::open(path).map_err(|source| NumberFileError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut input = std::io::BufReader::new(file);
    let delimiter = sniff_delimiter(input.fill_buf().map_err(|source| NumberFileError::Read {
        path: path.to_path_buf(),
        source,
    })?);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    if !rdr.read_record(&mut record).map_err(malformed(path))? {
        return Err(NumberFileError::Empty {
            path: path.to_path_buf(),
        });
    }
    let first: Vec<&str> = record.iter().collect();
    // A header names the phone column; a first line that is itself a
    // number means there is no header.
    let (phone_index, first_is_data) = match Layout::from_header(&first, phone_column) {
        Ok(l) => (l.phone_index, false),
        Err(e) => {
            if phone_column.is_none() && first.len() == 1 && normalizer.normalize(first[0]).is_ok()
            {
                (0, true)
            } else {
                return Err(NumberFileError::Header {
                    path: path.to_path_buf(),
                    source: e,
                });
            }
        }
    };
    let mut out = NumberFile::default();
    let mut seen = HashSet::new();
    let mut take = |record: &csv::StringRecord, out: &mut NumberFile| {
        let row = record.position().map_or(0, |p| p.line());
        let raw = record.get(phone_index).unwrap_or("");
        out.rows += 1;
        match normalizer.phone(raw) {
            Ok(p) => {
                if seen.insert(p.number.clone()) {
                    out.numbers.push(p);
                }
            }
            Err(e) => out.rejected.push(Rejection {
                row,
                phone: raw.trim().to_string(),
                reason: Reason::Invalid(e),
            }),
        }
    };
    if first_is_data {
        take(&record, &mut out);
    }
    while rdr.read_record(&mut record).map_err(malformed(path))? {
        take(&record, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, column: Option<&str>) -> Result<NumberFile, NumberFileError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dnc.csv");
        std::fs::write(&path, text).unwrap();
        read_numbers(&path, column, &Normalizer::new(Some("54")).unwrap())
    }

    #[test]
    fn one_number_per_line_or_a_csv_with_a_phone_column() {
        let f = read("+5491100000001\n011 4000-0001\n+5491100000001\nabc\n", None).unwrap();
        assert_eq!(f.rows, 4, "the first line is data, not a header");
        assert_eq!(f.numbers.len(), 2, "duplicates kept once: {:?}", f.numbers);
        assert_eq!(f.rejected.len(), 1);
        assert_eq!(
            (f.rejected[0].row, f.rejected[0].phone.as_str()),
            (4, "abc")
        );

        let f = read("name;telefono\nana;+5491100000001\nbob;x\n", None).unwrap();
        assert_eq!((f.rows, f.numbers.len(), f.rejected.len()), (2, 1, 1));
        assert_eq!(f.rejected[0].row, 3, "row numbers count the header");
    }

    #[test]
    fn unreadable_files_are_refused_naming_the_file() {
        let e = read("", None).unwrap_err().to_string();
        assert!(e.ends_with("dnc.csv is empty"), "{e}");
        let e = read("name,city\nana,x\n", None).unwrap_err();
        assert!(matches!(e, NumberFileError::Header { .. }), "{e}");
        let e = read("phone,name\n+5491100000001\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a well-formed CSV file at line 2"), "{e}");
        let e = read_numbers(
            Path::new("/nonexistent/x.csv"),
            None,
            &Normalizer::new(None).unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "cannot open /nonexistent/x.csv");
    }
}
