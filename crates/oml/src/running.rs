//! Which oml processes are using a data folder, through a lock file in it
//! (`.oml-running.lock`): long-running commands (`oml serve`, `oml dialer
//! run`, `oml demo`) hold a shared lock while they run; commands that
//! replace or delete the installation (`oml restore`, `oml uninstall`) take
//! it exclusively, so they refuse while anything runs and nothing can start
//! while they work. The kernel drops the lock when a process dies, even by
//! `kill -9`, so a crash never leaves a stale lock behind.

use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// The lock file's name inside the data folder.
pub const LOCK_FILE: &str = ".oml-running.lock";

/// Held while the lock is; dropping it releases the lock.
#[derive(Debug)]
pub struct RunningLock {
    _file: Option<File>,
}

fn open(data_dir: &Path) -> Result<File> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
    let path = data_dir.join(LOCK_FILE);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// Tries to lock, and again for a second while the lock is held: a holder
/// that is just ending (a service stopping, or a lock briefly shared with a
/// child process between fork and exec) lets go within moments.
fn retrying(try_lock: impl Fn() -> Result<(), TryLockError>) -> Result<(), TryLockError> {
    let mut result = try_lock();
    for _ in 0..20 {
        if !matches!(result, Err(TryLockError::WouldBlock)) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        result = try_lock();
    }
    result
}

/// For a long-running command: say "I am running on this data folder".
/// Refuses while a restore or an uninstall holds the folder.
pub fn hold_shared(data_dir: &Path, what: &str) -> Result<RunningLock> {
    let file = open(data_dir)?;
    match retrying(|| file.try_lock_shared()) {
        Ok(()) => Ok(RunningLock { _file: Some(file) }),
        Err(TryLockError::WouldBlock) => bail!(
            "cannot start {what}: a restore or an uninstall is working on {}; wait for it to finish",
            data_dir.display()
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", data_dir.join(LOCK_FILE).display()))
        }
    }
}

/// For a command that replaces or deletes the installation: take the data
/// folder for itself, or say what to stop. A data folder that does not
/// exist yet has nothing running on it.
pub fn hold_exclusive(data_dir: &Path, what: &str) -> Result<RunningLock> {
    if !data_dir.exists() {
        return Ok(RunningLock { _file: None });
    }
    let file = open(data_dir)?;
    match retrying(|| file.try_lock()) {
        Ok(()) => Ok(RunningLock { _file: Some(file) }),
        Err(TryLockError::WouldBlock) => bail!(
            "cannot {what}: oml is running on {} (`oml serve`, `oml dialer run` or `oml demo`): \
             stop it first (`systemctl stop oml`, or Ctrl-C where it runs); nothing was changed",
            data_dir.display()
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", data_dir.join(LOCK_FILE).display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_commands_share_and_exclusive_ones_wait_for_none() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        // Nothing there yet: free.
        drop(hold_exclusive(&dir, "restore").unwrap());
        let serve = hold_shared(&dir, "oml serve").unwrap();
        let dialer = hold_shared(&dir, "oml dialer run").unwrap();
        let e = hold_exclusive(&dir, "restore").unwrap_err().to_string();
        assert!(
            e.contains("stop it first") && e.contains("nothing was changed"),
            "{e}"
        );
        drop(serve);
        assert!(
            hold_exclusive(&dir, "restore").is_err(),
            "the dialer still runs"
        );
        drop(dialer);
        let restore = hold_exclusive(&dir, "restore").unwrap();
        let e = hold_shared(&dir, "oml serve").unwrap_err().to_string();
        assert!(e.contains("a restore or an uninstall is working"), "{e}");
        drop(restore);
        hold_shared(&dir, "oml serve").unwrap();
    }
}
