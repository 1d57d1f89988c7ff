//! `oml uninstall`: what removing oml from a host stops, deletes, edits,
//! drops and keeps, planned from the installation's facts before anything
//! happens (pure but for reading the files it plans to edit), so that the
//! administrator sees the exact list and `--dry-run` is the same plan.
//!
//! Removed: oml's own service, the files oml renders under its own names
//! (`oml_*.conf`, nginx's `oml.conf`, the systemd unit, `oml.env`), the
//! `#include` lines that pull those into Asterisk's main files, the data
//! folder (database, settings, backups, recordings), the install folder,
//! and oml's PostgreSQL database. Kept: system packages, the administrator's
//! `*_custom.conf` / `*_override.conf`, the inventory, and package files oml
//! rewrote in place (`kamailio.cfg`, `rtpengine.conf`), which have no
//! original to put back.

use std::path::{Component, Path, PathBuf};

/// What the plan is built from (absolute paths).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Root the configuration was rendered under (`/` on the host).
    pub root: PathBuf,
    /// The data folder (`--data-dir`).
    pub data_dir: PathBuf,
    /// Backups and recordings (inside the data folder unless moved).
    pub backup_dir: PathBuf,
    pub recordings_dir: PathBuf,
    /// `install_prefix` of the inventory, when it exists on disk.
    pub install_prefix: Option<PathBuf>,
    /// The inventory file.
    pub inventory: Option<PathBuf>,
    /// oml's database when it is on PostgreSQL (a SQLite one is a file in the data folder).
    pub postgres_database: Option<String>,
    /// Every file the renderer manages (under `root`).
    pub rendered: Vec<PathBuf>,
    /// The folder the final backup goes to: it must survive.
    pub keep_dir: Option<PathBuf>,
}

/// One thing the uninstall does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Stop and disable a systemd unit.
    Stop { unit: String },
    /// Delete a file.
    RemoveFile { path: PathBuf },
    /// Delete a folder and everything in it.
    RemoveDir { path: PathBuf, what: String },
    /// Rewrite a file without the listed lines.
    Edit {
        path: PathBuf,
        new: String,
        removed: Vec<String>,
    },
    /// DROP DATABASE.
    DropDatabase { name: String },
    /// Left in place, and why.
    Keep { path: PathBuf, why: String },
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Stop { unit } => write!(f, "stop      {unit} (systemctl disable --now {unit})"),
            Action::RemoveFile { path } => write!(f, "delete    {}", path.display()),
            Action::RemoveDir { path, what } => {
                let shown: PathBuf = path.components().collect();
                write!(f, "delete    {}/ ({what})", shown.display())
            }
            Action::Edit { path, removed, .. } => write!(
                f,
                "edit      {} (remove {})",
                path.display(),
                removed
                    .iter()
                    .map(|l| format!("`{}`", l.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Action::DropDatabase { name } => write!(f, "drop      PostgreSQL database {name}"),
            Action::Keep { path, why } => write!(f, "keep      {} ({why})", path.display()),
        }
    }
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UninstallError {
    #[error("refusing to delete {path}: {why}")]
    Unsafe { path: String, why: String },
    #[error("the final backup would go to {keep}, inside {path}, which is deleted: choose a --backup-to folder outside it")]
    BackupInside { keep: String, path: String },
}

/// Files oml renders under names of its own: deleted. Anything else it
/// renders is a package's file rewritten in place: kept.
fn is_oml_named(rel: &Path) -> bool {
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.starts_with("oml_") || name == "oml.conf" || name == "oml.service" || name == "oml.env"
}

/// An Asterisk `#include` / `#tryinclude` of one of oml's files.
fn is_oml_include(line: &str) -> bool {
    let t = line.trim_start();
    let rest = t
        .strip_prefix("#tryinclude")
        .or_else(|| t.strip_prefix("#include"));
    match rest {
        Some(r) => {
            let target = r.trim().trim_matches('"');
            let name = target.rsplit('/').next().unwrap_or(target);
            name.starts_with("oml_") && !name.ends_with("_custom.conf")
        }
        None => false,
    }
}

/// A folder may be deleted only if it is deep enough not to be a system
/// folder (`/`, `/opt`, `/var/lib` ...) and is not the root itself.
fn check_deletable(path: &Path, root: &Path) -> Result<(), UninstallError> {
    let depth = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    let unsafe_ = |why: &str| UninstallError::Unsafe {
        path: path.display().to_string(),
        why: why.to_string(),
    };
    if !path.is_absolute() {
        return Err(unsafe_("not an absolute path"));
    }
    let system = SYSTEM_FOLDERS.iter().any(|s| path == Path::new(s));
    if depth < 2 || system || path == root || root.starts_with(path) {
        return Err(unsafe_(
            "it is a system folder or contains the configuration root",
        ));
    }
    Ok(())
}

/// Folders never deleted whole, whatever the configuration says.
const SYSTEM_FOLDERS: &[&str] = &[
    "/usr/local",
    "/usr/share",
    "/usr/lib",
    "/usr/bin",
    "/var/lib",
    "/var/log",
    "/var/spool",
    "/var/cache",
    "/var/backups",
    "/var/www",
    "/etc/asterisk",
    "/etc/kamailio",
    "/etc/nginx",
    "/etc/systemd",
];

/// Entries oml itself keeps in its data folder.
fn is_oml_data_entry(name: &str) -> bool {
    matches!(name, "backup" | "recordings") || name.starts_with("oml.") || name.starts_with(".oml")
}

/// The data folder may go only if everything in it is oml's: a
/// misconfigured `--data-dir /var/lib` must never wipe the host.
fn check_data_dir(dir: &Path) -> Result<(), UninstallError> {
    let foreign: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| UninstallError::Unsafe {
            path: dir.display().to_string(),
            why: format!("cannot list it ({e})"),
        })?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !is_oml_data_entry(n))
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(UninstallError::Unsafe {
            path: dir.display().to_string(),
            why: format!(
                "it holds things oml did not put there ({}), so it does not look like oml's data folder",
                foreign.join(", ")
            ),
        })
    }
}

/// The plan, in the order it is carried out. Only what exists is listed.
pub fn plan(inp: &Inputs) -> Result<Vec<Action>, UninstallError> {
    let mut out = Vec::new();
    let unit = inp.root.join("etc/systemd/system/oml.service");
    if unit.exists() {
        out.push(Action::Stop { unit: "oml".into() });
    }
    // Rendered files, then the administrator's files beside them.
    let mut dirs: Vec<PathBuf> = Vec::new();
    for path in &inp.rendered {
        if let Some(d) = path.parent() {
            if !dirs.iter().any(|x| x == d) {
                dirs.push(d.to_path_buf());
            }
        }
        if !path.exists() || path.starts_with(&inp.data_dir) {
            continue;
        }
        let rel = path.strip_prefix(&inp.root).unwrap_or(path);
        if crate::plan::is_admin_owned(rel) {
            continue;
        }
        if is_oml_named(rel) {
            out.push(Action::RemoveFile { path: path.clone() });
        } else {
            out.push(Action::Keep {
                path: path.clone(),
                why: "a package's own file that oml rewrote; there is no original to put back"
                    .into(),
            });
        }
    }
    for d in &dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        let mut own: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && crate::plan::is_admin_owned(p))
            .collect();
        own.sort();
        for p in own {
            out.push(Action::Keep {
                path: p,
                why: "your own file".into(),
            });
        }
    }
    // Asterisk's main files: drop the lines that include oml's files.
    let ast = inp.root.join("etc/asterisk");
    if let Ok(rd) = std::fs::read_dir(&ast) {
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && !is_oml_named(p)
                    && !crate::plan::is_admin_owned(p)
                    && p.extension().is_some_and(|x| x == "conf")
            })
            .collect();
        files.sort();
        for p in files {
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let removed: Vec<String> = text
                .lines()
                .filter(|l| is_oml_include(l))
                .map(str::to_string)
                .collect();
            if removed.is_empty() {
                continue;
            }
            let mut new: String = text
                .split_inclusive('\n')
                .filter(|l| !is_oml_include(l))
                .collect();
            if text.ends_with('\n') && !new.ends_with('\n') && !new.is_empty() {
                new.push('\n');
            }
            out.push(Action::Edit {
                path: p,
                new,
                removed,
            });
        }
    }
    if let Some(db) = &inp.postgres_database {
        out.push(Action::DropDatabase { name: db.clone() });
    }
    // Folders.
    let mut folders: Vec<(PathBuf, String)> = Vec::new();
    if inp.data_dir.exists() {
        check_data_dir(&inp.data_dir)?;
        folders.push((
            inp.data_dir.clone(),
            "data folder: database, settings, backups and recordings kept there".into(),
        ));
    }
    for (p, what) in [
        (&inp.backup_dir, "backup archives"),
        (&inp.recordings_dir, "call recordings"),
    ] {
        if p.exists() && !p.starts_with(&inp.data_dir) {
            folders.push((p.clone(), what.into()));
        }
    }
    if let Some(prefix) = &inp.install_prefix {
        if prefix.exists() && !prefix.starts_with(&inp.data_dir) {
            folders.push((prefix.clone(), "install folder (install_prefix)".into()));
        }
    }
    for (p, what) in folders {
        check_deletable(&p, &inp.root)?;
        if let Some(keep) = &inp.keep_dir {
            if keep.starts_with(&p) {
                return Err(UninstallError::BackupInside {
                    keep: keep.display().to_string(),
                    path: p.display().to_string(),
                });
            }
        }
        if let Some(inv) = &inp.inventory {
            if inv.starts_with(&p) {
                out.push(Action::Keep {
                    path: inv.clone(),
                    why: format!(
                        "the inventory; it is inside {} and goes with it unless you copy it first",
                        p.display()
                    ),
                });
            }
        }
        out.push(Action::RemoveDir { path: p, what });
    }
    if let Some(inv) = &inp.inventory {
        if inv.exists()
            && !out
                .iter()
                .any(|a| matches!(a, Action::Keep { path, .. } if path == inv))
        {
            out.push(Action::Keep {
                path: inv.clone(),
                why: "the inventory, your description of the host".into(),
            });
        }
    }
    Ok(out)
}

/// Carries out the file-system actions (everything but `Stop` and
/// `DropDatabase`, which need a service manager and a database). Returns
/// what it did, one line per action.
pub fn apply_files(actions: &[Action]) -> std::io::Result<Vec<String>> {
    let mut done = Vec::new();
    for a in actions {
        match a {
            Action::RemoveFile { path } => {
                std::fs::remove_file(path)?;
                done.push(a.to_string());
            }
            Action::Edit { path, new, .. } => {
                crate::fsutil::write_atomic(path, new.as_bytes(), None)?;
                done.push(a.to_string());
            }
            Action::RemoveDir { path, .. } => {
                if path.exists() {
                    std::fs::remove_dir_all(path)?;
                }
                done.push(a.to_string());
            }
            _ => {}
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, text: &str) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// A rendered installation under a temporary root.
    fn installation() -> (tempfile::TempDir, Inputs) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let data = tmp.path().join("var/lib/oml");
        write(&data.join("oml.toml"), "");
        write(&data.join("recordings/2026/a.wav"), "audio");
        let rendered: Vec<PathBuf> = [
            "etc/asterisk/oml_manager.conf",
            "etc/asterisk/oml_queues.conf",
            "etc/kamailio/kamailio.cfg",
            "etc/nginx/conf.d/oml.conf",
            "etc/systemd/system/oml.service",
            "etc/oml/oml.env",
        ]
        .iter()
        .map(|r| root.join(r))
        .collect();
        for p in &rendered {
            write(p, "generated\n");
        }
        write(&root.join("etc/asterisk/oml_manager_custom.conf"), "mine\n");
        write(
            &root.join("etc/asterisk/manager.conf"),
            "[general]\nenabled = yes\n#include oml_manager.conf\n#include \"my_users.conf\"\n",
        );
        write(
            &root.join("etc/asterisk/queues.conf"),
            "#include \"oml_queues.conf\"\n",
        );
        write(&root.join("etc/oml/inventory"), "[omnileads-aio]\n");
        let prefix = tmp.path().join("opt/omnileads");
        write(&prefix.join("media/x"), "x");
        let inputs = Inputs {
            root: root.clone(),
            backup_dir: data.join("backup"),
            recordings_dir: data.join("recordings"),
            data_dir: data,
            install_prefix: Some(prefix),
            inventory: Some(root.join("etc/oml/inventory")),
            postgres_database: None,
            rendered,
            keep_dir: Some(tmp.path().join("final")),
        };
        (tmp, inputs)
    }

    #[test]
    fn the_plan_lists_exactly_what_goes_and_what_stays() {
        let (_tmp, inp) = installation();
        let plan = plan(&inp).unwrap();
        let text: Vec<String> = plan.iter().map(|a| a.to_string()).collect();
        let has = |s: &str| text.iter().any(|l| l.contains(s));
        assert!(
            matches!(&plan[0], Action::Stop { unit } if unit == "oml"),
            "{text:#?}"
        );
        assert!(has("delete    ") && has("oml_manager.conf"), "{text:#?}");
        assert!(has("nginx/conf.d/oml.conf") && has("oml.env"), "{text:#?}");
        assert!(
            text.iter()
                .any(|l| l.starts_with("keep") && l.contains("kamailio.cfg")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|l| l.starts_with("keep") && l.contains("oml_manager_custom.conf")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|l| l.starts_with("keep") && l.contains("inventory")),
            "{text:#?}"
        );
        assert!(has("data folder") && has("install folder"), "{text:#?}");
        // The include lines go, the administrator's other lines stay.
        let edit = plan
            .iter()
            .find_map(|a| match a {
                Action::Edit { path, new, removed } if path.ends_with("manager.conf") => {
                    Some((new.clone(), removed.clone()))
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(edit.1, ["#include oml_manager.conf"]);
        assert_eq!(
            edit.0,
            "[general]\nenabled = yes\n#include \"my_users.conf\"\n"
        );
    }

    #[test]
    fn applying_removes_and_edits_and_keeps() {
        let (tmp, inp) = installation();
        let plan = plan(&inp).unwrap();
        apply_files(&plan).unwrap();
        assert!(!inp.data_dir.exists());
        assert!(!inp.install_prefix.as_ref().unwrap().exists());
        assert!(!inp.root.join("etc/asterisk/oml_manager.conf").exists());
        assert!(inp
            .root
            .join("etc/asterisk/oml_manager_custom.conf")
            .exists());
        assert!(inp.root.join("etc/kamailio/kamailio.cfg").exists());
        assert!(inp.root.join("etc/oml/inventory").exists());
        assert_eq!(
            std::fs::read_to_string(inp.root.join("etc/asterisk/queues.conf")).unwrap(),
            ""
        );
        drop(tmp);
    }

    #[test]
    fn unsafe_targets_are_refused_before_anything_happens() {
        let (_tmp, mut inp) = installation();
        inp.install_prefix = Some(PathBuf::from("/opt"));
        // /opt exists on every Debian host: too shallow to delete.
        if Path::new("/opt").exists() {
            assert!(matches!(plan(&inp), Err(UninstallError::Unsafe { .. })));
        }
        let (_tmp, mut inp) = installation();
        inp.keep_dir = Some(inp.data_dir.join("backup"));
        assert!(matches!(
            plan(&inp),
            Err(UninstallError::BackupInside { .. })
        ));
        let (_tmp, inp) = installation();
        write(&inp.data_dir.join("someone-elses.txt"), "x");
        let e = plan(&inp).unwrap_err().to_string();
        assert!(
            e.contains("does not look like oml's data folder") && e.contains("someone-elses.txt"),
            "{e}"
        );
        let (_tmp, mut inp) = installation();
        inp.install_prefix = Some(PathBuf::from("/usr/local"));
        if Path::new("/usr/local").exists() {
            assert!(matches!(plan(&inp), Err(UninstallError::Unsafe { .. })));
        }
    }

    #[test]
    fn include_lines_are_recognised() {
        assert!(is_oml_include("#include oml_queues.conf"));
        assert!(is_oml_include("  #include \"oml_extensions.conf\""));
        assert!(is_oml_include("#tryinclude /etc/asterisk/oml_moh.conf"));
        assert!(!is_oml_include("#include my_oml.conf"));
        assert!(!is_oml_include("#tryinclude oml_queues_custom.conf"));
        assert!(!is_oml_include("; #include oml_queues.conf"));
    }
}
