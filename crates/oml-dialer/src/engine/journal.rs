//! The engine's local journal: what the database could not take (call
//! outcomes, progress, hopper releases) is appended here, fsynced, before
//! the writer moves on, so an outage of the database — and a crash during
//! it — loses nothing the engine saw. One file per node in the data folder
//! (`<data>/dialer-journal/<node>.jsonl`, one JSON entry a line, 0600),
//! locked while an engine uses it, bounded in size: a full journal refuses
//! more (the writer then keeps them in memory and the engine stops
//! dialing), it never drops what it holds. Emptied once the database has
//! taken every entry; read back at the next start otherwise.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use oml_store::dialing::DialingWrite;
use serde::{Deserialize, Serialize};

/// The journal's size bound, in bytes (about 200,000 call outcomes).
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The journal's folder inside the data folder.
pub const FOLDER: &str = "dialer-journal";

/// One thing the database did not take, in the order it was decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Entry {
    /// A call's progress or end (never a `Begin`: an attempt the database
    /// did not record is not dialed).
    Write(DialingWrite),
    /// These hopper contacts of this node go back to `pending`.
    Release(Vec<i64>),
}

/// Why the journal did not take entries.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("the dialer journal {path} is full ({bytes} bytes, bound {max}): the engine stops dialing until the database takes its entries")]
    Full { path: PathBuf, bytes: u64, max: u64 },
    #[error("the dialer journal {path} is used by another engine named {node:?}; run one engine per node name")]
    Locked { path: PathBuf, node: String },
    #[error("the dialer journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the dialer journal {path}, line {line}, is not a journal entry ({message}); move the file aside to start, and store its entries by hand")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// An open, locked journal file.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    bytes: u64,
    max: u64,
}

/// The journal file of `node` in `folder`: the node name with every
/// character but letters, digits, `.`, `-` and `_` written as `%XX`.
pub fn file_name(node: &str) -> String {
    let mut out = String::new();
    for b in node.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') || (b == b'.' && !out.is_empty()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{out}.jsonl")
}

/// The entries of a journal's text, in order. A last line without its
/// newline is a write cut by a crash before it was acknowledged (its
/// entries were never reported kept): it is left out.
pub fn decode(text: &str) -> Result<Vec<Entry>, (usize, String)> {
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| (i + 1, e.to_string())))
        .collect()
}

/// The text of entries, one line each.
pub fn encode(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        // Plain data: serializing cannot fail.
        out.push_str(&serde_json::to_string(e).unwrap_or_default());
        out.push('\n');
    }
    out
}

impl Journal {
    /// Opens (creating) `node`'s journal in `folder` and locks it.
    pub fn open(folder: &Path, node: &str, max: u64) -> Result<Journal, JournalError> {
        let path = folder.join(file_name(node));
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(folder).map_err(io)?;
        let mut opts = OpenOptions::new();
        opts.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = opts.open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::Locked {
                    path,
                    node: node.into(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let bytes = file.metadata().map_err(io)?.len();
        Ok(Journal {
            path,
            file,
            bytes,
            max,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its size in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Every complete entry, in order.
    pub fn read(&mut self) -> Result<Vec<Entry>, JournalError> {
        let mut text = String::new();
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.read_to_string(&mut text))
            .map_err(|source| JournalError::Io {
                path: self.path.clone(),
                source,
            })?;
        decode(&text).map_err(|(line, message)| JournalError::Corrupt {
            path: self.path.clone(),
            line,
            message,
        })
    }

    /// Appends entries and syncs them to disk: all of them, or none (a
    /// full journal or a failed write leaves it as it was).
    pub fn append(&mut self, entries: &[Entry]) -> Result<(), JournalError> {
        let text = encode(entries);
        let after = self.bytes + text.len() as u64;
        if after > self.max {
            return Err(JournalError::Full {
                path: self.path.clone(),
                bytes: self.bytes,
                max: self.max,
            });
        }
        let written = self
            .file
            .write_all(text.as_bytes())
            .and_then(|_| self.file.sync_data());
        match written {
            Ok(()) => {
                self.bytes = after;
                Ok(())
            }
            Err(source) => {
                // A part may have reached the file: cut it off again.
                let _ = self.file.set_len(self.bytes);
                Err(JournalError::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        }
    }

    /// Empties the journal (the database took every entry).
    pub fn clear(&mut self) -> Result<(), JournalError> {
        self.file
            .set_len(0)
            .and_then(|_| self.file.sync_data())
            .map_err(|source| JournalError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.bytes = 0;
        Ok(())
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
