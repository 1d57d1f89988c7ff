//! Which folders oml may delete whole: only those it can prove are its
//! own. A folder oml creates for itself gets a marker file naming the
//! folder; a folder without it (or with a marker naming another folder,
//! copied along) is not oml's. Well-known system folders are never oml's,
//! marker or not.

use std::path::{Component, Path, PathBuf};

/// The marker's file name, inside the folder it claims.
pub const MARKER: &str = ".oml-owned";

fn marker_text(dir: &Path) -> String {
    format!(
        "This folder was created by oml, which deletes it on `oml uninstall`.\n{}\n",
        dir.display()
    )
}

/// Creates `dir` (and its parents) if it does not exist, and marks it as
/// oml's. A folder that already exists is left as it is and not claimed:
/// oml did not make it. Returns whether it was created.
pub fn create_claimed(dir: &Path) -> std::io::Result<bool> {
    if dir.exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(dir)?;
    let dir = std::fs::canonicalize(dir)?;
    std::fs::write(dir.join(MARKER), marker_text(&dir))?;
    Ok(true)
}

/// Whether `dir` carries oml's marker naming this very folder.
pub fn is_claimed(dir: &Path) -> bool {
    let Ok(real) = std::fs::canonicalize(dir) else {
        return false;
    };
    std::fs::read_to_string(real.join(MARKER)).is_ok_and(|t| t == marker_text(&real))
}

/// `path` with `.` and `..` resolved without touching the disk.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Folders that are the system's, never deleted, nor any folder that
/// contains one of them.
const SYSTEM: &[&str] = &[
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/media",
    "/mnt",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/include",
    "/usr/local",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/local/lib",
    "/usr/share",
    "/usr/src",
    "/var",
    "/var/lib",
    "/var/log",
    "/var/spool",
    "/var/cache",
    "/var/backups",
    "/var/www",
    "/var/mail",
    "/var/tmp",
    "/var/run",
    "/etc/asterisk",
    "/etc/kamailio",
    "/etc/nginx",
    "/etc/systemd",
    "/etc/rtpengine",
    "/etc/oml",
    "/etc/ssh",
    "/etc/ssl",
    "/etc/pam.d",
    "/etc/sudoers.d",
    "/etc/default",
    "/etc/cron.d",
    "/etc/apt",
    "/etc/init.d",
];

/// Folders nothing of oml's ever lives in: nothing under them is deleted whole.
const NEVER_INSIDE: &[&str] = &[
    "/bin",
    "/boot",
    "/dev",
    "/lib",
    "/lib32",
    "/lib64",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/include",
    "/etc/ssh",
    "/etc/ssl",
    "/etc/pam.d",
    "/etc/sudoers.d",
    "/etc/systemd",
    "/etc/apt",
    "/root/.ssh",
];

/// Why `host_path` (a path as it is on the host, `/`-based) is a system
/// folder, if it is one.
pub fn system_folder(host_path: &Path) -> Option<&'static str> {
    let p = normalize(host_path);
    if let Some(s) = SYSTEM.iter().find(|s| Path::new(s).starts_with(&p)) {
        return Some(if Path::new(s) == p {
            "it is a system folder"
        } else {
            "it contains a system folder"
        });
    }
    NEVER_INSIDE
        .iter()
        .any(|s| p.starts_with(s))
        .then_some("it is inside a system folder")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_folders_are_never_oml_s() {
        for p in [
            "/usr/sbin/",
            "/etc/ssh/",
            "/etc/ssh/sshd_config.d",
            "/usr/sbin/../sbin",
            "/opt",
            "/",
            "/var/lib/",
            "/usr/local",
            "/opt/../etc",
            "/root/.ssh",
        ] {
            assert!(system_folder(Path::new(p)).is_some(), "{p}");
        }
        for p in [
            "/opt/omnileads",
            "/var/lib/oml",
            "/srv/oml-root/opt/omnileads",
        ] {
            assert_eq!(system_folder(Path::new(p)), None, "{p}");
        }
    }

    #[test]
    fn only_a_folder_oml_created_is_claimed() {
        let tmp = tempfile::tempdir().unwrap();
        let existing = tmp.path().join("existing");
        std::fs::create_dir(&existing).unwrap();
        assert!(!create_claimed(&existing).unwrap());
        assert!(!is_claimed(&existing));
        let new = tmp.path().join("opt/omnileads");
        assert!(create_claimed(&new).unwrap());
        assert!(is_claimed(&new));
        // A marker copied into another folder names the first: not a claim.
        std::fs::copy(new.join(MARKER), existing.join(MARKER)).unwrap();
        assert!(!is_claimed(&existing));
        assert!(!is_claimed(&tmp.path().join("missing")));
    }
}
