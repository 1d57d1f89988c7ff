//! Is a data folder on a network file system? Several engines may share a
//! SQLite database only on one host: SQLite's locks are not reliable over
//! NFS or SMB, and the lease times come from each host's own clock. The
//! folder's file system is read from the kernel's mount table
//! (`/proc/self/mountinfo`): the mount with the longest mount point that
//! holds the folder.

use std::path::Path;

/// File system types whose files other hosts may write at the same time.
const NETWORK: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb",
    "smb2",
    "smb3",
    "smbfs",
    "9p",
    "afs",
    "ceph",
    "coda",
    "glusterfs",
    "gfs2",
    "ocfs2",
    "lustre",
    "ncpfs",
    "davfs",
    "fuse.sshfs",
    "fuse.glusterfs",
    "fuse.s3fs",
    "fuse.rclone",
    "fuse.davfs2",
    "fuse.ceph",
    "beegfs",
    "gpfs",
    "orangefs",
];

/// The network file system type holding `dir` (`Some("nfs4")`), `None` on
/// a local one or when the mount table cannot be read.
pub(crate) fn network_fs(dir: &Path) -> Option<String> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let dir = std::fs::canonicalize(dir).ok()?;
    fs_type_of(&table, &dir).filter(|t| is_network(t))
}

pub(crate) fn is_network(fs_type: &str) -> bool {
    NETWORK.contains(&fs_type)
}

/// The file system type of the mount holding `dir`, read from a mount
/// table in the `/proc/self/mountinfo` format.
pub(crate) fn fs_type_of(table: &str, dir: &Path) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for line in table.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(mount), Some(fs_type)) = (fields.get(4), fields.get(sep + 1)) else {
            continue;
        };
        let mount = unescape(mount);
        if dir.starts_with(&mount) {
            let depth = Path::new(&mount).components().count();
            if best.as_ref().is_none_or(|(d, _)| depth >= *d) {
                best = Some((depth, fs_type.to_string()));
            }
        }
    }
    best.map(|(_, t)| t)
}

/// Mount points escape space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /srv/oml rw,relatime shared:20 - nfs4 fs1:/export/oml rw,vers=4.2
41 22 0:36 / /srv/oml\\040data rw shared:21 - cifs //fs2/oml rw
42 40 0:37 / /srv/oml/local rw shared:22 - tmpfs tmpfs rw";

    #[test]
    fn the_deepest_mount_holding_the_folder_decides() {
        let t = |p: &str| fs_type_of(TABLE, Path::new(p));
        assert_eq!(t("/var/lib/oml").as_deref(), Some("ext4"));
        assert_eq!(t("/srv/oml").as_deref(), Some("nfs4"));
        assert_eq!(t("/srv/oml/db").as_deref(), Some("nfs4"));
        assert_eq!(t("/srv/oml/local/db").as_deref(), Some("tmpfs"));
        assert_eq!(t("/srv/oml data/x").as_deref(), Some("cifs"));
        // A name that only starts like a mount point is not under it.
        assert_eq!(t("/srv/omlx").as_deref(), Some("ext4"));
        assert!(is_network("nfs4") && is_network("cifs") && is_network("fuse.sshfs"));
        assert!(!is_network("ext4") && !is_network("tmpfs") && !is_network("overlay"));
    }

    #[test]
    fn a_temporary_folder_is_local() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(network_fs(dir.path()), None);
    }
}
