//! Importing a contact list into a campaign: CSV in, contacts stored in one
//! transaction, every rejected row handed to the caller with its row number
//! and reason. `oml campaign import` (a file, a progress bar, a report file)
//! and the console's upload page (the rejections shown on the page) both
//! run this; the row rules themselves are the pure ones of [`crate::import`].
//!
//! Any error rolls the whole file back: nothing is imported.

use std::io::BufRead;

use oml_store::{Conflict, ImportTotals, NewContact, Store, StoreError};

use crate::import::{
    check_row, dedup_batch, sniff_delimiter, Accepted, Layout, LayoutError, Normalizer, Reason,
    Rejection, Summary,
};

/// Rows checked against the database at a time.
const BATCH_ROWS: usize = 5_000;

/// How to read the file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The column with the phone number (header name); default: detected.
    pub phone_column: Option<String>,
    /// Field delimiter; default: sniffed from the header line.
    pub delimiter: Option<u8>,
    /// Country code put in front of national numbers.
    pub default_country_code: Option<String>,
    /// The list's name, stored with the contacts (usually the file name).
    pub list_name: String,
}

/// What the caller does with rejected rows and progress.
pub trait ImportSink {
    /// One rejected row, in row order within each batch.
    fn rejected(&mut self, r: &Rejection) -> std::io::Result<()>;
    /// After each batch: bytes read so far and contacts imported so far.
    fn progress(&mut self, _bytes: u64, _imported: u64) {}
}

/// Keeps the first `max` rejections (the page shows them).
#[derive(Debug, Default)]
pub struct FirstRejections {
    pub max: usize,
    pub rows: Vec<Rejection>,
}

impl ImportSink for FirstRejections {
    fn rejected(&mut self, r: &Rejection) -> std::io::Result<()> {
        if self.rows.len() < self.max {
            self.rows.push(r.clone());
        }
        Ok(())
    }
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub summary: Summary,
    /// The header of the column read as the phone.
    pub phone_column: String,
}

/// Why nothing was imported. Shown after the file's name: [`ImportError::Empty`]
/// and [`ImportError::Malformed`] read as "FILE is ...", the others as
/// "FILE: ..." (see [`ImportError::about`]).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("is empty: a header row and contacts are needed")]
    Empty,
    #[error("{0}")]
    Layout(#[from] LayoutError),
    #[error("is not a well-formed CSV file{at}: {what}")]
    Malformed { at: String, what: String },
    #[error("cannot write the rejected rows: {0}")]
    Sink(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {rows} rows read but {imported} imported + {rejected} rejected")]
    Inconsistent {
        rows: u64,
        imported: u64,
        rejected: u64,
    },
}

impl ImportError {
    /// The error about file `name`, ending with "nothing was imported".
    pub fn about(&self, name: &str) -> String {
        match self {
            ImportError::Empty | ImportError::Malformed { .. } => {
                format!("{name} {self}; nothing was imported")
            }
            _ => format!("{name}: {self}; nothing was imported"),
        }
    }
}

impl From<csv::Error> for ImportError {
    fn from(e: csv::Error) -> Self {
        let at = e
            .position()
            .map(|p| format!(" at line {}", p.line()))
            .unwrap_or_default();
        let what = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!(
                "a row has {len} fields but the header has {expected_len}: check the quoting of values that contain the delimiter"
            ),
            csv::ErrorKind::Utf8 { .. } => {
                "text is not UTF-8: save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)".into()
            }
            csv::ErrorKind::Io(io) => format!("read error: {io}"),
            _ => e.to_string(),
        };
        ImportError::Malformed { at, what }
    }
}

/// Imports `input` (CSV with a header row) into campaign `campaign_id`.
pub async fn import_contacts<R: BufRead>(
    store: &Store,
    campaign_id: i64,
    mut input: R,
    opts: &ImportOptions,
    sink: &mut (dyn ImportSink + Send),
) -> Result<ImportOutcome, ImportError> {
    let normalizer =
        Normalizer::new(opts.default_country_code.as_deref()).map_err(LayoutError::from)?;
    let delimiter = match opts.delimiter {
        Some(d) => d,
        None => sniff_delimiter(input.fill_buf().map_err(|e| ImportError::Malformed {
            at: String::new(),
            what: format!("read error: {e}"),
        })?),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(delimiter)
        .from_reader(input);
    let headers = rdr.headers()?.clone();
    if headers.is_empty() {
        return Err(ImportError::Empty);
    }
    let header_fields: Vec<&str> = headers.iter().collect();
    let layout = Layout::from_header(&header_fields, opts.phone_column.as_deref())?;

    let mut imp = store
        .begin_contact_import(campaign_id, &opts.list_name)
        .await?;
    let mut summary = Summary::default();
    let mut batch: Vec<Accepted> = Vec::with_capacity(BATCH_ROWS);
    let mut rejected: Vec<Rejection> = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut more = true;
    while more {
        more = rdr.read_record(&mut record)?;
        if more {
            summary.rows += 1;
            let row = record.position().map_or(summary.rows + 1, |p| p.line());
            let fields: Vec<&str> = record.iter().collect();
            match check_row(&layout, &normalizer, row, &fields) {
                Ok(acc) => batch.push(acc),
                Err(rej) => rejected.push(rej),
            }
        }
        if batch.len() >= BATCH_ROWS || (!more && (!batch.is_empty() || !rejected.is_empty())) {
            let (keep, dups) = dedup_batch(std::mem::take(&mut batch));
            rejected.extend(dups);
            let phones: Vec<&str> = keep.iter().map(|r| r.phone.as_str()).collect();
            let dnc = imp.dnc_among(&phones).await?;
            let mut to_insert = Vec::with_capacity(keep.len());
            let mut rows_of = Vec::with_capacity(keep.len());
            for r in &keep {
                if dnc.contains(&r.phone) {
                    rejected.push(Rejection {
                        row: r.row,
                        phone: r.phone.clone(),
                        reason: Reason::DoNotCall,
                    });
                } else {
                    to_insert.push(NewContact {
                        phone: &r.phone,
                        attributes: &r.attributes,
                    });
                    rows_of.push(r);
                }
            }
            let conflicts = imp.insert(&to_insert).await?;
            summary.imported += (to_insert.len() - conflicts.len()) as u64;
            for (i, conflict) in conflicts {
                let r = rows_of[i];
                rejected.push(Rejection {
                    row: r.row,
                    phone: r.phone.clone(),
                    reason: match conflict {
                        Conflict::SameImport => Reason::DuplicateInFile { first_row: None },
                        Conflict::AlreadyInCampaign => Reason::AlreadyInCampaign,
                    },
                });
            }
            rejected.sort_by_key(|r| r.row);
            for r in rejected.drain(..) {
                summary.reject(&r.reason);
                sink.rejected(&r).map_err(ImportError::Sink)?;
            }
            sink.progress(rdr.position().byte(), summary.imported);
        }
    }
    if !summary.is_consistent() {
        // Dropping `imp` rolls the whole file back.
        return Err(ImportError::Inconsistent {
            rows: summary.rows,
            imported: summary.imported,
            rejected: summary.rejected(),
        });
    }
    imp.commit(ImportTotals {
        rows_total: summary.rows as i64,
        rows_imported: summary.imported as i64,
        rows_rejected: summary.rejected() as i64,
    })
    .await?;
    Ok(ImportOutcome {
        summary,
        phone_column: layout.phone_header.clone(),
    })
}
