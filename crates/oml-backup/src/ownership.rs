//! Restored files keep the owner and mode of what they replace, or take
//! the owner of the data folder (or of their own folder) when they are new:
//! a restore run as root must not leave the service user (`User=oml`)
//! unable to open its own database. And a restore run as another user than
//! the data folder's owner is refused unless told to fix ownership.

use crate::error::{BackupError, Result};
use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// The effective user id of this process.
pub fn current_uid() -> u32 {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

/// Refuses a restore run by another user than the data folder's owner,
/// unless `fix_ownership` (then the restored files are given the owners
/// of what they replace). A missing data folder has no owner to keep.
pub fn check_user(data_dir: &Path, fix_ownership: bool) -> Result<()> {
    let Ok(m) = data_dir.metadata() else {
        return Ok(());
    };
    let me = current_uid();
    if m.uid() == me || fix_ownership {
        return Ok(());
    }
    Err(BackupError::Other(format!(
        "the data folder {} belongs to uid {}, and this restore runs as uid {me}: run it as that user \
         (e.g. `sudo -u {} oml restore …`), or add --fix-ownership to give every restored file the \
         owner and mode of the file it replaces (or of the data folder); nothing was changed",
        data_dir.display(),
        m.uid(),
        user_name(m.uid()).unwrap_or_else(|| format!("#{}", m.uid())),
    )))
}

/// The login name of `uid`, when the system knows one.
fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0u8; 4096];
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; the result borrows `buf`,
    // read before `buf` goes out of scope.
    let rc =
        unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return None;
    }
    // SAFETY: pw_name points into `buf`, NUL-terminated by getpwuid_r.
    let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

/// Gives `path` the owner and permission bits of `like` (the metadata of
/// what it replaces). Changing the owner needs root; as the owner itself
/// the owner is already right and only the mode is set.
pub fn apply(path: &Path, like: &Metadata) -> Result<()> {
    set(path, like.uid(), like.gid(), Some(like.mode() & 0o7777))
}

/// Gives a new file the owner of the folder it is in (mode unchanged).
pub fn adopt_folder_owner(path: &Path) -> Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let m = folder
        .metadata()
        .map_err(|e| BackupError::io("cannot read", folder, e))?;
    set(path, m.uid(), m.gid(), None)
}

fn set(path: &Path, uid: u32, gid: u32, mode: Option<u32>) -> Result<()> {
    let m = path
        .symlink_metadata()
        .map_err(|e| BackupError::io("cannot read", path, e))?;
    if (m.uid(), m.gid()) != (uid, gid) && current_uid() == 0 {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))
            .map_err(|e| BackupError::io("cannot change the owner of", path, e))?;
    }
    if let Some(mode) = mode {
        if m.mode() & 0o7777 != mode && !m.file_type().is_symlink() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| BackupError::io("cannot change the mode of", path, e))?;
        }
    }
    Ok(())
}

/// Gives the staged `new` (a file or a folder tree) the owners of `live`,
/// the path it is about to replace: each entry takes the owner and mode of
/// its live counterpart; an entry without one takes the owner of its
/// folder's decision (the data folder's owner at the top) and keeps its
/// mode.
pub fn match_live(new: &Path, live: &Path, data_dir: &Path) -> Result<()> {
    let top = live.symlink_metadata().ok();
    let fallback = data_dir
        .metadata()
        .map_err(|e| BackupError::io("cannot read", data_dir, e))?;
    walk(new, live, top.as_ref(), (fallback.uid(), fallback.gid()))
}

fn walk(new: &Path, live: &Path, like: Option<&Metadata>, parent: (u32, u32)) -> Result<()> {
    let owner = match like {
        Some(m) if m.file_type().is_dir() == new.is_dir() => {
            apply(new, m)?;
            (m.uid(), m.gid())
        }
        _ => {
            set(new, parent.0, parent.1, None)?;
            parent
        }
    };
    let m = new
        .symlink_metadata()
        .map_err(|e| BackupError::io("cannot read", new, e))?;
    if m.is_dir() {
        let rd = std::fs::read_dir(new).map_err(|e| BackupError::io("cannot read", new, e))?;
        for e in rd.flatten() {
            let l = live.join(e.file_name());
            let lm = l.symlink_metadata().ok();
            walk(&e.path(), &l, lm.as_ref(), owner)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_new_one_its_folders_owner() {
        let dir = tempfile::tempdir().unwrap();
        let (live, new) = (dir.path().join("live"), dir.path().join("new"));
        std::fs::create_dir_all(live.join("a")).unwrap();
        std::fs::create_dir_all(new.join("a")).unwrap();
        std::fs::write(live.join("a/old.wav"), b"1").unwrap();
        std::fs::set_permissions(live.join("a/old.wav"), PermissionsExt::from_mode(0o640)).unwrap();
        std::fs::write(new.join("a/old.wav"), b"2").unwrap();
        std::fs::set_permissions(new.join("a/old.wav"), PermissionsExt::from_mode(0o600)).unwrap();
        std::fs::write(new.join("a/fresh.wav"), b"3").unwrap();
        std::fs::set_permissions(new.join("a/fresh.wav"), PermissionsExt::from_mode(0o600))
            .unwrap();
        match_live(&new, &live, dir.path()).unwrap();
        let mode = |p: &str| new.join(p).metadata().unwrap().mode() & 0o7777;
        assert_eq!(mode("a/old.wav"), 0o640);
        assert_eq!(mode("a/fresh.wav"), 0o600);
    }
}
