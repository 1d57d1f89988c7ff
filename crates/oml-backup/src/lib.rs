//! Backups of an oml installation that can be trusted, and restores that
//! never damage the running one.
//!
//! One job, so it is its own crate (DESIGN.md had it inside oml-ops; it needs
//! only the store, and a separate crate keeps backup work out of the
//! rendering and deploy code's way):
//!
//! - [`backup::create`]: consistent online database snapshot (SQLite
//!   `VACUUM INTO`, PostgreSQL `pg_dump --format=custom`), configuration,
//!   inventory, generated files and optionally recordings, streamed into one
//!   `.tar.zst` (or `.tgz`) whose first entry is a manifest with every
//!   file's size and SHA-256; written to a temporary name, fsynced, renamed.
//! - [`reader`]: verification with safe-extraction rules; nothing from an
//!   archive is trusted before it is checked.
//! - [`restore`]: staged extraction, migration forward, atomic swap with a
//!   journal so an interrupted restore is rolled back at the next start.
//! - [`catalog`]: list and prune the backup folder.

pub mod backup;
pub mod catalog;
pub mod describe;
pub mod error;
pub mod host_config;
pub mod leftovers;
pub mod manifest;
pub mod ownership;
pub mod pg;
pub mod placement;
pub mod progress;
pub mod reader;
pub mod restore;
pub mod stream;
pub mod writer;

pub use describe::human;
pub use error::{BackupError, Result};
pub use manifest::{Format, Limits, Manifest};
pub use progress::{NoProgress, Progress};

use std::path::PathBuf;

/// Where the parts of an installation live.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The data folder (`--data-dir`): holds `oml.db` with SQLite.
    pub data_dir: PathBuf,
    /// Where archives are written and looked up by name.
    pub backup_dir: PathBuf,
    /// oml's configuration file (`<data-dir>/oml.toml`).
    pub config_file: PathBuf,
    /// The OMniLeads-format inventory, when there is one.
    pub inventory: Option<PathBuf>,
    /// The root generated service configuration is rendered under (`/` on
    /// a real host).
    pub generated_root: PathBuf,
    /// The generated files to back up, relative to `generated_root` (the
    /// binary asks the renderer which they are).
    pub generated_files: Vec<PathBuf>,
    /// Call recordings.
    pub recordings_dir: PathBuf,
}

impl Layout {
    /// The default places, all inside the data folder.
    pub fn defaults(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Layout {
            backup_dir: data_dir.join("backup"),
            config_file: data_dir.join("oml.toml"),
            inventory: Some(data_dir.join("inventory")),
            generated_root: PathBuf::from("/"),
            generated_files: Vec::new(),
            recordings_dir: data_dir.join("recordings"),
            data_dir,
        }
    }
}

/// This host's name.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates
    // when the name fits, and we stop at the first NUL either way.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The address this host uses for its default route (no packet is sent).
pub fn primary_ip() -> String {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            s.connect("192.0.2.1:9")?;
            s.local_addr()
        })
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| "127.0.0.1".into())
}

/// Environment variable naming a point where the process stops, so tests
/// can kill it (`kill -9`) at exactly that point. Unset in normal use.
pub const PAUSE_VAR: &str = "OML_TEST_PAUSE_AT";

/// Test hook: when [`PAUSE_VAR`] names this point, say so on stderr and
/// sleep (the test then kills the process).
pub fn pause_point(name: &str) {
    if std::env::var(PAUSE_VAR).ok().as_deref() == Some(name) {
        eprintln!("PAUSED AT {name}");
        std::thread::sleep(std::time::Duration::from_secs(600));
    }
}

/// Free bytes on the filesystem holding `path`.
pub fn free_space(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid NUL-terminated path and st a valid out-pointer.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

/// Flushes the filesystem holding `path` to disk (one call instead of an
/// fsync per restored file).
pub fn syncfs(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let f = std::fs::File::open(path)?;
    // SAFETY: the descriptor is valid for the lifetime of `f`.
    let rc = unsafe { libc::syncfs(f.as_raw_fd()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
