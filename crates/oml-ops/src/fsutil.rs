//! Writing files so that a reader never sees half of one: write a temporary
//! file beside the target, flush it to disk, give it the right mode and
//! owner, then rename it over the target (atomic on one file system).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Replaces `path` with `bytes` atomically. The mode is `mode` when given,
/// else the existing file's mode, else 0644. Owner and group are kept from
/// the existing file, or taken from the folder for a new file (so a file
/// created in `/etc/asterisk` belongs to whoever owns that folder). Missing
/// parent folders are created.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let existing = fs::metadata(path).ok();
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "path has no file name")
    })?;
    let tmp = dir.join(format!(
        ".{}.oml-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        // Restrict first, so secrets are never readable through the temp file.
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        let (uid, gid) = match &existing {
            Some(m) => (m.uid(), m.gid()),
            None => {
                let d = fs::metadata(dir)?;
                (d.uid(), d.gid())
            }
        };
        // Changing owner needs privileges; without them the file stays ours.
        let _ = std::os::unix::fs::chown(&tmp, Some(uid), Some(gid));
        let final_mode = mode
            .or(existing.as_ref().map(|m| m.mode() & 0o7777))
            .unwrap_or(0o644);
        f.set_permissions(fs::Permissions::from_mode(final_mode))?;
        drop(f);
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_creates_folders_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/c.conf");
        write_atomic(&p, b"one", None).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"one");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o644);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"two", None).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
        write_atomic(&p, b"three", Some(0o600)).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        assert_eq!(
            fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
