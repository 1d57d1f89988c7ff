//! What a killed backup or restore leaves behind: `.NAME.partial-PID`
//! archives and `.snapshot-PID/` folders in the backup folder, and
//! `.NAME.tmp-PID` files of atomic writes. Each carries the id of the
//! process that made it, so it is removed once that process is gone and
//! left alone while it still runs (another backup at work).

use crate::error::{BackupError, Result};
use std::path::{Path, PathBuf};

/// For folders that hold no `.tmp-PID` files of ours (the backup folder).
pub const NO_TMP: &str = "\0";

/// The process id a leftover's name carries, when the name is one of ours:
/// `.<name>.partial-<pid>`, `.snapshot-<pid>`, or `.<prefix>….tmp-<pid>`
/// where the name starts with `tmp_prefix`.
pub fn pid_in_name(name: &str, tmp_prefix: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    let digits = if let Some(p) = name.strip_prefix(".snapshot-") {
        p
    } else if let Some((_, p)) = name.rsplit_once(".partial-") {
        p
    } else if name.starts_with(tmp_prefix) {
        name.rsplit_once(".tmp-")?.1
    } else {
        return None;
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether a process with this id runs (one we may not signal counts as
/// running: its leftovers are not ours to judge).
pub fn is_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// The leftovers of dead processes in `dir` (names as in [`pid_in_name`]),
/// sorted. A missing folder holds none.
pub fn find(dir: &Path, tmp_prefix: &str) -> Result<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(BackupError::io("cannot read folder", dir, e)),
    };
    let mut found: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| pid_in_name(n, tmp_prefix))
                .is_some_and(|pid| pid != std::process::id() && !is_running(pid))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    Ok(found)
}

/// Removes what [`find`] finds; returns what it removed.
pub fn clean(dir: &Path, tmp_prefix: &str) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for path in find(dir, tmp_prefix)? {
        let gone = match path.symlink_metadata() {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        match gone {
            Ok(()) => removed.push(path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(BackupError::io("cannot remove the leftover", &path, err)),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_process() {
        let p = ".oml-restore-journal.json";
        assert_eq!(
            pid_in_name(".20260101-000000-oml-backup.tar.zst.partial-123", p),
            Some(123)
        );
        assert_eq!(pid_in_name(".snapshot-77", p), Some(77));
        assert_eq!(pid_in_name(".oml-restore-journal.json.tmp-9", p), Some(9));
        for not_ours in [
            "20260101-000000-oml-backup.tar.zst",
            ".snapshot-",
            ".snapshot-12x",
            "x.partial-12",
            ".other.tmp-12",
            ".a.partial-",
        ] {
            assert_eq!(pid_in_name(not_ours, p), None, "{not_ours}");
        }
    }

    #[test]
    fn only_dead_processes_leftovers_go() {
        let dir = tempfile::tempdir().unwrap();
        // A child that has ended (and been reaped): its id is free.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let mine = std::process::id();
        let stale = dir.path().join(format!(".a.tar.zst.partial-{dead}"));
        let snap = dir.path().join(format!(".snapshot-{dead}"));
        let live = dir.path().join(format!(".b.tar.zst.partial-{mine}"));
        std::fs::write(&stale, b"x").unwrap();
        std::fs::create_dir_all(snap.join("inner")).unwrap();
        std::fs::write(&live, b"x").unwrap();
        let removed = clean(dir.path(), ".none").unwrap();
        assert_eq!(removed, {
            let mut v = vec![stale.clone(), snap.clone()];
            v.sort();
            v
        });
        assert!(!stale.exists() && !snap.exists() && live.exists());
        assert!(clean(&dir.path().join("missing"), ".none")
            .unwrap()
            .is_empty());
    }
}
