//! `oml backup`: gathers what an installation needs (database snapshot,
//! configuration, inventory, generated files, optionally recordings) and
//! writes one verified-by-construction archive.

use crate::error::{BackupError, Result};
use crate::manifest::{
    archive_name, check_archive_path, Format, Limits, Manifest, MANIFEST_FORMAT,
};
use crate::pg::PgUrl;
use crate::progress::Progress;
use crate::writer::{hash_sources, write_hashed, Source, WriteOptions};
use crate::Layout;
use oml_store::{Backend, Location, Store};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    pub with_recordings: bool,
    pub write: WriteOptions,
    /// Folder to write into instead of the layout's backup folder.
    pub output: Option<PathBuf>,
}

/// What was written.
#[derive(Debug)]
pub struct BackupOutcome {
    pub path: PathBuf,
    pub name: String,
    pub manifest: Manifest,
    /// Files found but not backed up (symbolic links, sockets, names that
    /// are not UTF-8, files that vanished while the backup read them), with
    /// the reason: reported, never dropped silently.
    pub skipped: Vec<String>,
    /// Leftovers of earlier backups that were killed, removed first.
    pub removed_leftovers: Vec<PathBuf>,
}

/// Takes a backup of the installation `store` belongs to.
pub async fn create(
    store: &Store,
    layout: &Layout,
    options: &BackupOptions,
    progress: &(dyn Progress + Send),
) -> Result<BackupOutcome> {
    let dir = options
        .output
        .clone()
        .unwrap_or_else(|| layout.backup_dir.clone());
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| BackupError::io("cannot create the backup folder", &dir, e))?;
    let removed_leftovers = crate::leftovers::clean(&dir, crate::leftovers::NO_TMP)?;
    let now = chrono::Utc::now();
    let name = archive_name(now, options.write.format);
    let snap_dir = dir.join(format!(".snapshot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&snap_dir);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&snap_dir)
        .map_err(|e| BackupError::io("cannot create", &snap_dir, e))?;
    let result = async {
        let schema_version = store.schema_version().await?.unwrap_or(0);
        let mut components = vec!["database".to_string()];
        let mut sources = Vec::new();
        let mut skipped = Vec::new();
        if layout.config_file.is_file() {
            components.push("config".into());
            sources.push(Source {
                archive_path: "config/oml.toml".into(),
                fs_path: layout.config_file.clone(),
            });
        }
        if let Some(inv) = layout.inventory.as_ref().filter(|p| p.is_file()) {
            components.push("inventory".into());
            sources.push(Source {
                archive_path: "inventory/inventory".into(),
                fs_path: inv.clone(),
            });
        }
        let mut generated = Vec::new();
        for rel in &layout.generated_files {
            let abs = layout.generated_root.join(rel);
            match rel.to_str() {
                Some(r) if abs.is_file() && !rel.is_absolute() => generated.push(Source {
                    archive_path: format!("generated/{}", r.trim_start_matches('/')),
                    fs_path: abs,
                }),
                _ if !abs.exists() => {}
                _ => skipped.push(format!("{} (not a regular file)", abs.display())),
            }
        }
        if !generated.is_empty() {
            components.push("generated".into());
            sources.extend(generated);
        }
        if options.with_recordings {
            components.push("recordings".into());
            if layout.recordings_dir.is_dir() {
                walk(
                    &layout.recordings_dir,
                    "recordings",
                    &mut sources,
                    &mut skipped,
                )?;
            } else {
                skipped.push(format!(
                    "{} (recordings folder does not exist)",
                    layout.recordings_dir.display()
                ));
            }
        }
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            oml_version: env!("CARGO_PKG_VERSION").to_string(),
            schema_version,
            database_backend: store.backend().to_string(),
            created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            created_at_ms: now.timestamp_millis(),
            hostname: crate::hostname(),
            ip: crate::primary_ip(),
            components,
            files: Vec::new(),
        };
        // The database snapshot (pg_dump can take a while) runs while the
        // other files are checksummed.
        let (db_source, hashed) =
            snapshot_while_hashing(store, &snap_dir, &sources, progress).await;
        let db_source = db_source?;
        let hashed = hashed?;
        let mut all = hash_sources(std::slice::from_ref(&db_source), &crate::NoProgress)?.files;
        if all.is_empty() {
            return Err(BackupError::Snapshot(format!(
                "the snapshot {} vanished before it was read",
                db_source.fs_path.display()
            )));
        }
        all.extend(hashed.files);
        let write = options.write;
        let written = blocking(|| write_hashed(&dir, &name, manifest, all, write, progress))?;
        for p in hashed.vanished.iter().chain(&written.vanished) {
            skipped.push(format!(
                "{} (vanished while the backup read it)",
                p.display()
            ));
        }
        Ok(BackupOutcome {
            path: written.path,
            name: name.clone(),
            manifest: written.manifest,
            skipped,
            removed_leftovers: removed_leftovers.clone(),
        })
    }
    .await;
    let _ = std::fs::remove_dir_all(&snap_dir);
    result
}

/// Takes the snapshot and, at the same time on another thread, hashes
/// `sources` (on a multi-threaded runtime; one after the other otherwise).
async fn snapshot_while_hashing(
    store: &Store,
    dir: &Path,
    sources: &[Source],
    progress: &(dyn Progress + Send),
) -> (Result<Source>, Result<crate::writer::Hashed>) {
    let multi = matches!(
        tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()),
        Ok(tokio::runtime::RuntimeFlavor::MultiThread)
    );
    if !multi {
        let db = snapshot(store, dir).await;
        return (db, hash_sources(sources, progress));
    }
    let handle = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            let hashing = s.spawn(|| hash_sources(sources, progress));
            let db = handle.block_on(snapshot(store, dir));
            let hashed = hashing
                .join()
                .unwrap_or_else(|_| Err(BackupError::Other("checksum thread panicked".into())));
            (db, hashed)
        })
    })
}

/// The consistent online snapshot of the database, as a file in `dir`.
async fn snapshot(store: &Store, dir: &Path) -> Result<Source> {
    match store.backend() {
        Backend::Sqlite => {
            let pool = store
                .sqlite_pool()
                .ok_or_else(|| BackupError::Snapshot("no SQLite pool".into()))?;
            let file = dir.join("oml.db");
            let target = file
                .to_str()
                .ok_or_else(|| BackupError::Snapshot("the backup folder path is not UTF-8".into()))?
                .replace('\'', "''");
            sqlx::query(&format!("VACUUM INTO '{target}'"))
                .execute(pool)
                .await
                .map_err(|e| BackupError::Snapshot(format!("VACUUM INTO failed: {e}")))?;
            Ok(Source {
                archive_path: "database/oml.db".into(),
                fs_path: file,
            })
        }
        Backend::Postgres => {
            let Location::Postgres(url) = store.location() else {
                return Err(BackupError::Snapshot("no PostgreSQL URL".into()));
            };
            let file = dir.join("oml.pgdump");
            PgUrl::parse(url)?.dump(&file).await?;
            Ok(Source {
                archive_path: "database/oml.pgdump".into(),
                fs_path: file,
            })
        }
    }
}

/// Every regular file under `root`, as `prefix/relative/path`, sorted.
fn walk(root: &Path, prefix: &str, out: &mut Vec<Source>, skipped: &mut Vec<String>) -> Result<()> {
    let limits = Limits::default();
    let mut stack = vec![(root.to_path_buf(), prefix.to_string())];
    while let Some((dir, rel)) = stack.pop() {
        let vanished = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        let mut entries: Vec<_> = match std::fs::read_dir(&dir).and_then(|rd| rd.collect()) {
            Ok(v) => v,
            Err(e) if vanished(&e) => {
                skipped.push(format!(
                    "{} (vanished while the backup read it)",
                    dir.display()
                ));
                continue;
            }
            Err(e) => return Err(BackupError::io("cannot read folder", &dir, e)),
        };
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for e in entries {
            let path = e.path();
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                skipped.push(format!("{} (name is not UTF-8)", path.display()));
                continue;
            };
            let archive_path = format!("{rel}/{name}");
            let ft = match e.file_type() {
                Ok(t) => t,
                Err(err) if vanished(&err) => continue,
                Err(err) => return Err(BackupError::io("cannot inspect", &path, err)),
            };
            if ft.is_dir() {
                subdirs.push((path, archive_path));
            } else if ft.is_file() {
                if let Err(why) = check_archive_path(&archive_path, &limits) {
                    skipped.push(format!("{} ({why})", path.display()));
                    continue;
                }
                out.push(Source {
                    archive_path,
                    fs_path: path,
                });
            } else {
                skipped.push(format!(
                    "{} (not a regular file: links and special files are not backed up)",
                    path.display()
                ));
            }
        }
        subdirs.reverse();
        stack.extend(subdirs);
    }
    Ok(())
}

/// The default write options for a format.
pub fn default_write(format: Format) -> WriteOptions {
    WriteOptions::new(format)
}

/// Runs long blocking file work without starving other tasks when the
/// runtime has worker threads to spare (and plainly otherwise).
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}
