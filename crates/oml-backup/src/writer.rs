//! Writing an archive: checksum every source file first (the manifest comes
//! first in the archive), then stream them into tar through the frame sink,
//! hashing again on the way to catch a file that changed in between. The
//! archive is written under a hidden temporary name, fsynced, and only then
//! given its final name, so a crash never leaves a file that looks finished.

use crate::error::{BackupError, Result};
use crate::manifest::{is_precompressed, FileEntry, Format, Manifest, MANIFEST_NAME};
use crate::progress::Progress;
use crate::stream::{hash_stream, FrameSink, HashingReader, Mode};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// One file to put in the archive.
#[derive(Debug, Clone)]
pub struct Source {
    /// `component/relative/path` inside the archive.
    pub archive_path: String,
    pub fs_path: PathBuf,
}

/// Compression settings.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    pub format: Format,
    /// zstd level (1..=19) or gzip level (1..=9).
    pub level: i32,
    /// zstd worker threads (1 = single-threaded; gzip is always single).
    pub threads: u32,
}

impl WriteOptions {
    pub fn new(format: Format) -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1);
        WriteOptions {
            format,
            level: match format {
                Format::Zst => 3,
                Format::Tgz => 6,
            },
            threads: cores.clamp(1, 8),
        }
    }
}

/// Sources with their SHA-256 and size, and the files that vanished
/// between being listed and being read (a recording converted after its
/// call): skipped and reported, never a reason to abort the backup.
#[derive(Debug, Default)]
pub struct Hashed {
    pub files: Vec<(Source, FileEntry)>,
    pub vanished: Vec<PathBuf>,
}

/// SHA-256 and size of each source (the first pass: the manifest, which
/// comes first in the archive, needs them).
pub fn hash_sources(sources: &[Source], progress: &dyn Progress) -> Result<Hashed> {
    let total: u64 = sources
        .iter()
        .map(|s| std::fs::metadata(&s.fs_path).map(|m| m.len()).unwrap_or(0))
        .sum();
    progress.start("checksums", total);
    let mut out = Hashed::default();
    for s in sources {
        let f = match File::open(&s.fs_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                out.vanished.push(s.fs_path.clone());
                continue;
            }
            Err(e) => return Err(BackupError::io("cannot open", &s.fs_path, e)),
        };
        let (sha256, size) = hash_stream(ProgressReader { inner: f, progress })
            .map_err(|e| BackupError::io("cannot read", &s.fs_path, e))?;
        let entry = FileEntry {
            path: s.archive_path.clone(),
            size,
            sha256,
        };
        out.files.push((s.clone(), entry));
    }
    progress.finish();
    Ok(out)
}

/// Writes `dir/name` from `sources`, `manifest` getting its `files` filled
/// in. On any error the temporary file is removed.
pub fn write_archive(
    dir: &Path,
    name: &str,
    manifest: Manifest,
    sources: Vec<Source>,
    options: WriteOptions,
    progress: &dyn Progress,
) -> Result<Written> {
    let hashed = hash_sources(&sources, progress)?;
    let mut written = write_hashed(dir, name, manifest, hashed.files, options, progress)?;
    written.vanished.extend(hashed.vanished);
    Ok(written)
}

/// A finished archive.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// Files that vanished before they could be read, so are not in it.
    pub vanished: Vec<PathBuf>,
}

/// How many times a file vanishing during the write restarts it.
const WRITE_ATTEMPTS: usize = 4;

/// [`write_archive`] for sources already hashed by [`hash_sources`]. The
/// manifest comes first, so a file that vanishes after it was hashed
/// restarts the write without it (a few times at most).
pub fn write_hashed(
    dir: &Path,
    name: &str,
    mut manifest: Manifest,
    hashed: Vec<(Source, FileEntry)>,
    options: WriteOptions,
    progress: &dyn Progress,
) -> Result<Written> {
    let final_path = dir.join(name);
    if final_path.exists() {
        return Err(BackupError::Other(format!(
            "{} already exists: wait a second and run the backup again",
            final_path.display()
        )));
    }
    // Compressible files first, media last, each group in its own frames.
    let (mut order, media): (Vec<_>, Vec<_>) = hashed
        .into_iter()
        .partition(|(s, _)| !is_precompressed(&s.archive_path));
    let mut first_media = order.len();
    order.extend(media);
    let (mut order, files): (Vec<Source>, Vec<FileEntry>) = order.into_iter().unzip();
    manifest.files = files;

    let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let mut vanished = Vec::new();
    for attempt in 1..=WRITE_ATTEMPTS {
        let result = write_tmp(&tmp, &manifest, &order, first_media, options, progress);
        let result = match result {
            Ok(()) => publish(&tmp, &final_path, dir).map_err(WriteFail::Failed),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                return Ok(Written {
                    path: final_path,
                    manifest,
                    vanished,
                })
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                match e {
                    WriteFail::Vanished(i) if attempt < WRITE_ATTEMPTS => {
                        vanished.push(order.remove(i).fs_path);
                        manifest.files.remove(i);
                        if i < first_media {
                            first_media -= 1;
                        }
                    }
                    WriteFail::Vanished(i) => {
                        return Err(BackupError::Other(format!(
                            "{} files vanished while the archive was written (the last: {}): run the backup again when the installation is quieter",
                            WRITE_ATTEMPTS,
                            order[i].fs_path.display()
                        )))
                    }
                    WriteFail::Failed(e) => return Err(e),
                }
            }
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// Why writing the temporary archive stopped.
enum WriteFail {
    /// The source at this index no longer exists.
    Vanished(usize),
    Failed(BackupError),
}

impl From<BackupError> for WriteFail {
    fn from(e: BackupError) -> Self {
        WriteFail::Failed(e)
    }
}

fn write_tmp(
    tmp: &Path,
    manifest: &Manifest,
    order: &[Source],
    first_media: usize,
    options: WriteOptions,
    progress: &dyn Progress,
) -> std::result::Result<(), WriteFail> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(|e| BackupError::io("cannot create", tmp, e))?;
    let out = BufWriter::with_capacity(1 << 20, file);
    let sink = FrameSink::new(out, options.format, options.level, options.threads);
    let mut tar = tar::Builder::new(sink);
    tar.mode(tar::HeaderMode::Deterministic);
    let io_err = |e| BackupError::io("cannot write", tmp, e);

    let json =
        serde_json::to_vec_pretty(manifest).map_err(|e| BackupError::Other(e.to_string()))?;
    let mut h = header(json.len() as u64, 0o600, manifest.created_at_ms / 1000);
    tar.append_data(&mut h, MANIFEST_NAME, &json[..])
        .map_err(io_err)?;

    progress.start("archive", manifest.total_size());
    for (i, (s, entry)) in order.iter().zip(&manifest.files).enumerate() {
        if i == first_media {
            tar.get_mut().set_mode(Mode::Stored).map_err(io_err)?;
        }
        let f = match File::open(&s.fs_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(WriteFail::Vanished(i))
            }
            Err(e) => return Err(BackupError::io("cannot open", &s.fs_path, e).into()),
        };
        let mtime = f
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        // The outer BufReader makes the copy into tar go in 1 MiB chunks.
        let mut reader = BufReader::with_capacity(
            1 << 20,
            HashingReader::new(ProgressReader {
                inner: f.take(entry.size),
                progress,
            }),
        );
        let mut h = header(entry.size, 0o600, mtime);
        let appended = tar.append_data(&mut h, &entry.path, &mut reader);
        let (sha, n) = reader.into_inner().finish();
        if n != entry.size || sha != entry.sha256 {
            return Err(BackupError::ChangedDuringBackup {
                path: s.fs_path.display().to_string(),
            }
            .into());
        }
        appended.map_err(io_err)?;
        if i == 0 {
            crate::pause_point("backup-write");
        }
    }
    progress.finish();
    let sink = tar.into_inner().map_err(io_err)?;
    let out = sink.finish().map_err(io_err)?;
    let file = out.into_inner().map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(io_err)?;
    Ok(())
}

/// Gives the finished temporary file its final name without ever replacing
/// an existing archive (link + unlink), then makes the name durable.
fn publish(tmp: &Path, final_path: &Path, dir: &Path) -> Result<()> {
    std::fs::hard_link(tmp, final_path)
        .map_err(|e| BackupError::io("cannot name the archive", final_path, e))?;
    std::fs::remove_file(tmp).map_err(|e| BackupError::io("cannot remove", tmp, e))?;
    sync_dir(dir)
}

/// fsync of a folder, so renames and new names in it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| BackupError::io("cannot sync folder", dir, e))
}

fn header(size: u64, mode: u32, mtime: i64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(mtime.max(0) as u64);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Reports bytes to the progress bar as they are read.
pub struct ProgressReader<'a, R> {
    pub inner: R,
    pub progress: &'a dyn Progress,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Writes `bytes` to `path` via a temporary sibling, fsync and rename.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let res = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(BackupError::io("cannot write", path, e));
    }
    sync_dir(dir)
}
