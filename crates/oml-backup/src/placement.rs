//! Where files from an archive may be written on this host. The archive
//! names none of these places: the data folder, the inventory, the
//! recordings folder and the configuration root are this host's settings,
//! and the administrator's own files (`*_custom.conf`, `*_override.conf`)
//! go back only into the folders oml renders into. Pure rules first, then
//! the one function that writes.

use crate::error::{BackupError, Result};
use std::path::{Component, Path, PathBuf};

/// This host's rendered configuration, as the renderer knows it.
#[derive(Debug, Clone)]
pub struct HostFiles {
    /// The files oml renders, relative to the configuration root.
    pub rendered: Vec<PathBuf>,
    /// Whether the re-render after a restore writes `rendered` (it does
    /// only where an inventory says what to render): the plan lists them
    /// as written outside the data folder only then.
    pub re_render: bool,
    /// Whether a file name is one the administrator owns (oml-ops' rule).
    pub is_admin_owned: fn(&Path) -> bool,
}

impl Default for HostFiles {
    fn default() -> Self {
        HostFiles {
            rendered: Vec::new(),
            re_render: false,
            is_admin_owned: |_| false,
        }
    }
}

impl HostFiles {
    /// The folders oml renders into, relative to the configuration root.
    pub fn folders(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .rendered
            .iter()
            .filter_map(|f| f.parent().map(Path::to_path_buf))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// One of the archive's `generated/` files, and what becomes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// An administrator's file put back at this path, relative to the root.
    AdminFile(PathBuf),
    /// A managed file: re-rendered for this host, the archive's copy unused.
    Rendered,
    /// Not written anywhere, with the reason (shown in the plan).
    Ignored(String),
}

/// Decides where `rel` (a path under the archive's `generated/`) may go.
pub fn place(rel: &str, host: &HostFiles) -> Placement {
    let path = Path::new(rel);
    let plain = !rel.is_empty()
        && !rel.chars().any(char::is_control)
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Placement::Ignored("not a plain relative path".into());
    }
    if host.rendered.iter().any(|r| r == path) {
        return Placement::Rendered;
    }
    if !(host.is_admin_owned)(path) {
        return Placement::Ignored("neither rendered by oml nor an administrator's file".into());
    }
    let folder = path.parent().unwrap_or(Path::new(""));
    if !host.folders().iter().any(|f| f == folder) {
        return Placement::Ignored(format!(
            "{} is not a folder oml renders into",
            if folder.as_os_str().is_empty() {
                "the root".to_string()
            } else {
                folder.display().to_string()
            }
        ));
    }
    Placement::AdminFile(path.to_path_buf())
}

/// Whether `path` lies inside `folder` (both made absolute, not resolved).
pub fn is_inside(path: &Path, folder: &Path) -> bool {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    abs(path).starts_with(abs(folder))
}

/// Puts back the administrator's files kept in `archived` (the archive's
/// verified `generated/` folder) under `root`, where they are missing or
/// differ, as [`place`] allows; a replaced file keeps its owner and mode.
/// Returns the files written.
pub fn put_back_admin_files(
    archived: &Path,
    root: &Path,
    host: &HostFiles,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for rel in files_under(archived)? {
        let Some(name) = rel.to_str() else { continue };
        let Placement::AdminFile(rel) = place(name, host) else {
            continue;
        };
        let (from, live) = (archived.join(&rel), root.join(&rel));
        let bytes = std::fs::read(&from).map_err(|e| BackupError::io("cannot read", &from, e))?;
        if std::fs::read(&live).ok().as_deref() == Some(&bytes[..]) {
            continue;
        }
        let before = live.symlink_metadata().ok();
        if let Some(parent) = live.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| BackupError::io("cannot create", parent, e))?;
        }
        crate::writer::write_atomic(&live, &bytes, 0o644)?;
        match before {
            Some(m) if m.is_file() => crate::ownership::apply(&live, &m)?,
            _ => crate::ownership::adopt_folder_owner(&live)?,
        }
        written.push(live);
    }
    Ok(written)
}

/// Adds the administrator's own files found beside `files` (paths relative
/// to `root`): never rendered, so only a backup keeps them.
pub fn add_admin_files(root: &Path, files: &mut Vec<PathBuf>, is_admin_owned: fn(&Path) -> bool) {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let Ok(rd) = std::fs::read_dir(root.join(&dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let rel = dir.join(e.file_name());
            if is_admin_owned(&rel)
                && e.file_type().is_ok_and(|t| t.is_file())
                && !files.contains(&rel)
            {
                files.push(rel);
            }
        }
    }
}

/// Regular files under `dir`, relative to it, sorted (symbolic links and
/// other kinds are not followed).
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let here = dir.join(&rel);
        let rd = match std::fs::read_dir(&here) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(BackupError::io("cannot read folder", &here, e)),
        };
        for e in rd.flatten() {
            let Ok(t) = e.file_type() else { continue };
            let r = rel.join(e.file_name());
            if t.is_dir() {
                todo.push(r);
            } else if t.is_file() {
                out.push(r);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostFiles {
        HostFiles {
            rendered: vec![
                PathBuf::from("etc/asterisk/oml_queues.conf"),
                PathBuf::from("etc/systemd/system/oml.service"),
            ],
            re_render: true,
            is_admin_owned: |p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.ends_with("_custom.conf") || n.ends_with("_override.conf")
            },
        }
    }

    #[test]
    fn admin_files_go_only_into_rendered_folders() {
        let h = host();
        assert_eq!(
            place("etc/asterisk/oml_extensions_custom.conf", &h),
            Placement::AdminFile("etc/asterisk/oml_extensions_custom.conf".into())
        );
        assert_eq!(
            place("etc/asterisk/oml_queues.conf", &h),
            Placement::Rendered
        );
        for bad in [
            "etc/systemd/system/ssh.service.d/evil_override.conf",
            "etc/evil_override.conf",
            "evil_override.conf",
            "etc/asterisk/../ssh/x_override.conf",
            "/etc/asterisk/x_override.conf",
            "etc/asterisk/x_override.conf\nnote: forged",
            "etc/asterisk/sip.conf",
            "",
        ] {
            assert!(
                matches!(place(bad, &h), Placement::Ignored(_)),
                "{bad:?}: {:?}",
                place(bad, &h)
            );
        }
    }

    #[test]
    fn inside_compares_whole_components() {
        assert!(is_inside(Path::new("/d/data/x"), Path::new("/d/data")));
        assert!(!is_inside(Path::new("/d/data2/x"), Path::new("/d/data")));
        assert!(!is_inside(Path::new("/etc/oml/inventory"), Path::new("/d")));
    }
}
