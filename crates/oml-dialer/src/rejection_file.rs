//! The CSV file of rows a contact import rejected (`row,phone,reason,detail`),
//! for the administrator to fix and upload again. It is written under a
//! temporary name and renamed into place only when the import commits, so a
//! failed import never leaves a report that describes rows nobody imported.

use std::path::{Path, PathBuf};

use crate::import::Rejection;

/// The report file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the report {}", path.display())]
pub struct RejectionFileError {
    pub path: PathBuf,
    #[source]
    pub source: csv::Error,
}

/// The error for a failed write of `path`.
fn failed(path: &Path) -> impl Fn(csv::Error) -> RejectionFileError + '_ {
    move |source| RejectionFileError {
        path: path.to_path_buf(),
        source,
    }
}

/// A rejection report being written. Created at the first rejection;
/// dropping it unfinished removes the partial file.
pub struct RejectionFile {
    path: PathBuf,
    partial: PathBuf,
    writer: Option<csv::Writer<std::fs::File>>,
}

impl RejectionFile {
    /// The default report path: `FILE.rejected.csv` next to the input.
    pub fn default_path(input: &Path) -> PathBuf {
        let mut name = input.file_name().unwrap_or_default().to_os_string();
        name.push(".rejected.csv");
        input.with_file_name(name)
    }

    /// A report to be written at `path` (nothing is created yet).
    pub fn new(path: PathBuf) -> RejectionFile {
        let mut partial = path.clone().into_os_string();
        partial.push(".partial");
        RejectionFile {
            path,
            partial: partial.into(),
            writer: None,
        }
    }

    /// Adds one rejected row.
    pub fn write(&mut self, r: &Rejection) -> Result<(), RejectionFileError> {
        if self.writer.is_none() {
            let mut w = csv::Writer::from_path(&self.partial).map_err(failed(&self.partial))?;
            w.write_record(["row", "phone", "reason", "detail"])
                .map_err(failed(&self.partial))?;
            self.writer = Some(w);
        }
        let w = self.writer.as_mut().expect("just created");
        w.write_record([
            r.row.to_string().as_str(),
            r.phone.as_str(),
            r.reason.kind(),
            r.reason.to_string().as_str(),
        ])
        .map_err(failed(&self.partial))
    }

    /// Moves the report into place; `None` when nothing was rejected (an
    /// old report of the same name is removed so it cannot mislead).
    pub fn finish(mut self) -> Result<Option<PathBuf>, RejectionFileError> {
        match self.writer.take() {
            Some(mut w) => {
                w.flush()
                    .map_err(csv::Error::from)
                    .map_err(failed(&self.partial))?;
                drop(w);
                std::fs::rename(&self.partial, &self.path)
                    .map_err(csv::Error::from)
                    .map_err(failed(&self.path))?;
                Ok(Some(self.path.clone()))
            }
            None => {
                let _ = std::fs::remove_file(&self.path);
                Ok(None)
            }
        }
    }
}

impl Drop for RejectionFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{Normalizer, Reason};

    fn rejection(row: u64) -> Rejection {
        let e = Normalizer::new(None).unwrap().normalize("abc").unwrap_err();
        Rejection {
            row,
            phone: "abc".into(),
            reason: Reason::Invalid(e),
        }
    }

    #[test]
    fn report_path_sits_next_to_the_input() {
        assert_eq!(
            RejectionFile::default_path(Path::new("/tmp/x/list.csv")),
            PathBuf::from("/tmp/x/list.csv.rejected.csv")
        );
    }

    #[test]
    fn the_report_appears_only_when_finished_and_only_with_rejections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.csv.rejected.csv");
        std::fs::write(&path, "old report").unwrap();
        // Nothing rejected: the old report goes, none is written.
        assert_eq!(RejectionFile::new(path.clone()).finish().unwrap(), None);
        assert!(!path.exists());

        let mut f = RejectionFile::new(path.clone());
        f.write(&rejection(3)).unwrap();
        f.write(&rejection(7)).unwrap();
        assert!(!path.exists(), "not in place before the import commits");
        assert_eq!(f.finish().unwrap(), Some(path.clone()));
        let text = std::fs::read_to_string(&path).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows[0], "row,phone,reason,detail");
        assert!(rows[1].starts_with("3,abc,"), "{text}");
        assert!(rows[2].starts_with("7,abc,"), "{text}");

        // Abandoned (the import failed): no partial file is left behind.
        let other = dir.path().join("m.csv.rejected.csv");
        let mut f = RejectionFile::new(other.clone());
        f.write(&rejection(2)).unwrap();
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
