//! Reading an archive without trusting it: the manifest must come first and
//! be consistent, every entry must be a regular file or folder with a safe
//! path listed in the manifest, sizes must match before any byte is
//! written, every checksum must match, and the stream must end cleanly.
//! Anything else refuses the whole archive, naming the entry.

use crate::error::{BackupError, Result};
use crate::manifest::{check_archive_path, Format, Limits, Manifest, MANIFEST_NAME};
use crate::progress::Progress;
use crate::stream::{decoder, HashingWriter};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Where verified content goes.
pub trait Destination {
    /// Called once the manifest is read and valid, before any file content:
    /// the place to refuse (schema too new, not enough disk space...).
    fn accept_manifest(&mut self, manifest: &Manifest) -> Result<()>;
    /// The file to create for an archive path, or `None` to only verify it.
    fn file_for(&mut self, archive_path: &str) -> Result<Option<PathBuf>>;
    /// The folder to create for an archive folder entry, or `None`.
    fn dir_for(&mut self, archive_path: &str) -> Result<Option<PathBuf>>;
}

/// Verification only: nothing is written anywhere.
pub struct VerifyOnly;

impl Destination for VerifyOnly {
    fn accept_manifest(&mut self, _m: &Manifest) -> Result<()> {
        Ok(())
    }
    fn file_for(&mut self, _p: &str) -> Result<Option<PathBuf>> {
        Ok(None)
    }
    fn dir_for(&mut self, _p: &str) -> Result<Option<PathBuf>> {
        Ok(None)
    }
}

fn open_archive(path: &Path) -> Result<(Box<dyn Read>, Format)> {
    let f = File::open(path).map_err(|e| BackupError::io("cannot open", path, e))?;
    decoder(BufReader::with_capacity(1 << 20, f))
        .map_err(|e| BackupError::refused(path.display(), e.to_string()))
}

/// Reads only the manifest (the first entry): cheap, for `list` and for
/// compatibility checks before a restore.
pub fn read_manifest(path: &Path, limits: &Limits) -> Result<(Manifest, Format)> {
    let (dec, format) = open_archive(path)?;
    let mut archive = tar::Archive::new(dec);
    let refused = |r: String| BackupError::refused(path.display(), r);
    let mut entries = archive
        .entries()
        .map_err(|e| refused(format!("unreadable: {e}")))?;
    let entry = entries
        .next()
        .ok_or_else(|| refused("the archive is empty".into()))?
        .map_err(|e| refused(format!("damaged or truncated: {e}")))?;
    let manifest = parse_manifest(entry, limits).map_err(refused)?;
    Ok((manifest, format))
}

fn parse_manifest<R: Read>(
    mut entry: tar::Entry<'_, R>,
    limits: &Limits,
) -> Result<Manifest, String> {
    let path = entry_path(&entry)?;
    if path != MANIFEST_NAME || entry.header().entry_type() != tar::EntryType::Regular {
        return Err(format!(
            "the first entry is {path:?}, not {MANIFEST_NAME}: not an oml backup, or damaged"
        ));
    }
    let size = entry
        .header()
        .size()
        .map_err(|e| format!("manifest header: {e}"))?;
    if size > limits.max_manifest_bytes {
        return Err(format!(
            "the manifest is {size} bytes, more than the limit of {}",
            limits.max_manifest_bytes
        ));
    }
    let mut buf = Vec::with_capacity(size as usize);
    (&mut entry)
        .take(limits.max_manifest_bytes)
        .read_to_end(&mut buf)
        .map_err(|e| format!("damaged or truncated in the manifest: {e}"))?;
    let manifest: Manifest =
        serde_json::from_slice(&buf).map_err(|e| format!("the manifest is not valid: {e}"))?;
    manifest.validate(limits)?;
    Ok(manifest)
}

fn entry_path<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String, String> {
    let bytes = entry.path_bytes();
    std::str::from_utf8(&bytes)
        .map(|s| s.to_string())
        .map_err(|_| {
            format!(
                "an entry path is not UTF-8: {:?}",
                String::from_utf8_lossy(&bytes)
            )
        })
}

fn kind_name(t: tar::EntryType) -> &'static str {
    use tar::EntryType as T;
    match t {
        T::Symlink => "a symbolic link",
        T::Link => "a hard link",
        T::Char => "a character device",
        T::Block => "a block device",
        T::Fifo => "a FIFO",
        T::GNUSparse => "a sparse file",
        T::Continuous => "a contiguous file",
        T::XGlobalHeader => "a global PAX header",
        _ => "of an unsupported type",
    }
}

/// Reads the whole archive, checks everything, and writes each file where
/// `dest` says (or nowhere). Returns the manifest once all is verified.
pub fn process(
    path: &Path,
    limits: &Limits,
    dest: &mut dyn Destination,
    progress: &dyn Progress,
) -> Result<Manifest> {
    let (dec, _format) = open_archive(path)?;
    let refused = |r: String| BackupError::refused(path.display(), r);
    let mut archive = tar::Archive::new(dec);
    let mut manifest: Option<Manifest> = None;
    let mut index: HashMap<String, (usize, bool)> = HashMap::new();
    let mut count: u64 = 0;
    {
        let entries = archive
            .entries()
            .map_err(|e| refused(format!("unreadable: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| refused(format!("damaged or truncated: {e}")))?;
            count += 1;
            if count > limits.max_entries.saturating_add(1) {
                return Err(refused(format!("more than {} entries", limits.max_entries)));
            }
            let Some(m) = manifest.as_ref() else {
                let m = parse_manifest(entry, limits).map_err(refused)?;
                dest.accept_manifest(&m)?;
                progress.start("verify", m.total_size());
                index = m
                    .files
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.path.clone(), (i, false)))
                    .collect();
                manifest = Some(m);
                continue;
            };
            let name = entry_path(&entry).map_err(refused)?;
            check_archive_path(&name, limits).map_err(refused)?;
            let kind = entry.header().entry_type();
            match kind {
                tar::EntryType::Directory => {
                    if let Some(dir) = dest.dir_for(&name)? {
                        std::fs::create_dir_all(&dir)
                            .map_err(|e| BackupError::io("cannot create", &dir, e))?;
                    }
                    continue;
                }
                tar::EntryType::Regular => {}
                other => {
                    return Err(refused(format!(
                        "entry {name:?} is {}: only regular files and folders are allowed",
                        kind_name(other)
                    )))
                }
            }
            let Some(slot) = index.get_mut(&name) else {
                return Err(refused(format!(
                    "entry {name:?} is not listed in the manifest"
                )));
            };
            if slot.1 {
                return Err(refused(format!("entry {name:?} appears twice")));
            }
            slot.1 = true;
            let expected = &m.files[slot.0];
            let size = entry
                .header()
                .size()
                .map_err(|e| refused(format!("entry {name:?} has a bad size field: {e}")))?;
            if size != expected.size {
                return Err(refused(format!(
                    "entry {name:?} is {size} bytes but the manifest says {}",
                    expected.size
                )));
            }
            let target = dest.file_for(&name)?;
            let (sha, n) = match &target {
                Some(file) => copy_to_file(&mut entry, file, progress),
                None => {
                    let mut w = HashingWriter::new(io::sink());
                    copy_progress(&mut entry, &mut w, progress).map(|_| {
                        let (_, sha, n) = w.finish();
                        (sha, n)
                    })
                }
            }
            .map_err(|e| match e {
                CopyError::Read(e) => refused(format!("damaged or truncated in {name:?}: {e}")),
                CopyError::Write(e) => {
                    BackupError::io("cannot write", target.clone().unwrap_or_default(), e)
                }
            })?;
            if n != expected.size {
                return Err(refused(format!(
                    "entry {name:?} ends after {n} of {} bytes (truncated)",
                    expected.size
                )));
            }
            if sha != expected.sha256 {
                return Err(refused(format!(
                    "checksum mismatch for {name:?}: the manifest says {}, the content is {sha}",
                    expected.sha256
                )));
            }
        }
    }
    let Some(m) = manifest else {
        return Err(refused("the archive is empty".into()));
    };
    if let Some((missing, _)) = index.iter().find(|(_, (_, seen))| !seen) {
        return Err(refused(format!(
            "{missing:?} is listed in the manifest but missing from the archive (truncated?)"
        )));
    }
    // The rest of the stream (tar padding, frame checksums) must decode.
    let mut rest = archive.into_inner();
    let trailing = io::copy(&mut (&mut rest).take(1 << 20), &mut io::sink())
        .map_err(|e| refused(format!("damaged or truncated at the end: {e}")))?;
    let mut probe = [0u8; 1];
    if trailing >= 1 << 20
        || rest
            .read(&mut probe)
            .map_err(|e| refused(format!("damaged or truncated at the end: {e}")))?
            > 0
    {
        return Err(refused(
            "unexpected data after the end of the archive".into(),
        ));
    }
    progress.finish();
    Ok(m)
}

/// Which side of a copy failed: the archive (refuse it) or the disk.
enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

fn copy_progress(
    r: &mut dyn Read,
    w: &mut dyn Write,
    progress: &dyn Progress,
) -> Result<u64, CopyError> {
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        w.write_all(&buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
        progress.advance(n as u64);
    }
}

fn copy_to_file(
    r: &mut dyn Read,
    file: &Path,
    progress: &dyn Progress,
) -> Result<(String, u64), CopyError> {
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(CopyError::Write)?;
    }
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .map_err(CopyError::Write)?;
    let mut w = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, f));
    copy_progress(r, &mut w, progress)?;
    let (bw, sha, n) = w.finish();
    bw.into_inner()
        .map_err(|e| CopyError::Write(e.into_error()))?;
    Ok((sha, n))
}
