//! The backup folder: which archives it holds (`oml backup list`), name
//! resolution for `oml restore NAME`, and pruning (`oml backup prune`).

use crate::error::{BackupError, Result};
use crate::manifest::{check_bare_name, is_archive_name, prune_plan, Limits, Manifest};
use crate::progress::NoProgress;
use crate::reader::{process, read_manifest, VerifyOnly};
use std::path::{Path, PathBuf};

/// One archive of the backup folder.
#[derive(Debug)]
pub struct Listed {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    /// The manifest, or why it could not be read.
    pub manifest: std::result::Result<Manifest, String>,
    /// Full verification result when asked for.
    pub verified: Option<std::result::Result<(), String>>,
}

/// Archive names in `dir`, oldest first (names start with the UTC time).
pub fn archive_names(dir: &Path) -> Result<Vec<String>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(BackupError::io("cannot read the backup folder", dir, e)),
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| is_archive_name(n))
        .collect();
    names.sort();
    Ok(names)
}

/// Lists the archives; `verify` reads each one completely.
pub fn list(dir: &Path, verify: bool) -> Result<Vec<Listed>> {
    let limits = Limits::default();
    let mut out = Vec::new();
    for name in archive_names(dir)? {
        let path = dir.join(&name);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let manifest = read_manifest(&path, &limits)
            .map(|(m, _)| m)
            .map_err(|e| e.to_string());
        let verified = verify.then(|| {
            process(&path, &limits, &mut VerifyOnly, &NoProgress)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        out.push(Listed {
            name,
            path,
            size,
            manifest,
            verified,
        });
    }
    Ok(out)
}

/// `NAME` of `oml restore NAME` / `oml backup verify NAME`: a bare name is
/// looked up in the backup folder and may not contain `/` or `..`; an
/// argument starting with `/` or `./` is a path used as given.
pub fn resolve(backup_dir: &Path, arg: &str) -> Result<PathBuf> {
    let is_path = arg.starts_with('/') || arg.starts_with("./");
    let path = if is_path {
        PathBuf::from(arg)
    } else {
        check_bare_name(arg).map_err(BackupError::BadName)?;
        backup_dir.join(arg)
    };
    if !path.is_file() {
        return Err(BackupError::BadName(format!(
            "no backup {} (see `oml backup list`)",
            path.display()
        )));
    }
    Ok(path)
}

/// What `prune` deleted (or would delete).
#[derive(Debug, Default)]
pub struct Pruned {
    /// Archives beyond the newest N, oldest first.
    pub archives: Vec<PathBuf>,
    /// Leftovers of killed backups (`.NAME.partial-PID`, `.snapshot-PID/`).
    pub leftovers: Vec<PathBuf>,
}

/// The archives `prune --keep N` deletes (oldest first) and the leftovers
/// of killed backups; removes them unless `dry_run`.
pub fn prune(dir: &Path, keep: usize, dry_run: bool) -> Result<Pruned> {
    let archives: Vec<PathBuf> = prune_plan(&archive_names(dir)?, keep)
        .into_iter()
        .map(|n| dir.join(n))
        .collect();
    if dry_run {
        let leftovers = crate::leftovers::find(dir, crate::leftovers::NO_TMP)?;
        return Ok(Pruned {
            archives,
            leftovers,
        });
    }
    for p in &archives {
        std::fs::remove_file(p).map_err(|e| BackupError::io("cannot delete", p, e))?;
    }
    let leftovers = crate::leftovers::clean(dir, crate::leftovers::NO_TMP)?;
    if dir.exists() {
        crate::writer::sync_dir(dir)?;
    }
    Ok(Pruned {
        archives,
        leftovers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_in_the_backup_folder() {
        let dir = tempfile::tempdir().unwrap();
        let name = "20260101-000000-oml-backup.tar.zst";
        std::fs::write(dir.path().join(name), b"x").unwrap();
        assert_eq!(resolve(dir.path(), name).unwrap(), dir.path().join(name));
        for bad in ["../etc/passwd", "a/b", "..", "x/../y"] {
            let e = resolve(dir.path(), bad).unwrap_err().to_string();
            assert!(e.contains("contains '/' or '..'"), "{bad}: {e}");
        }
        let abs = dir.path().join(name);
        assert!(resolve(Path::new("/nonexistent"), abs.to_str().unwrap()).is_ok());
        assert!(resolve(dir.path(), "missing.tgz")
            .unwrap_err()
            .to_string()
            .contains("no backup"));
    }
}
