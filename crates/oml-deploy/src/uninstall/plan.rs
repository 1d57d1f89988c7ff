//! `oml uninstall`: what removing oml from a host stops, deletes, edits,
//! drops and keeps, planned from the installation's facts before anything
//! happens (pure but for reading the files it plans to edit), so that the
//! administrator sees the exact list and `--dry-run` is the same plan.
//!
//! Removed: oml's own service, the files oml renders under its own names
//! (`oml_*.conf`, nginx's `oml.conf`, the systemd unit, `oml.env`), the
//! `#include` lines that pull those into Asterisk's main files, the data
//! folder (database, settings, backups, recordings), the install folder when
//! oml created it, and oml's PostgreSQL database. Kept: system packages, the
//! administrator's `*_custom.conf` / `*_override.conf`, the inventory, and
//! package files oml rewrote in place (`kamailio.cfg`, `rtpengine.conf`),
//! which have no original to put back.
//!
//! A folder is deleted whole only when oml can prove it is its own (the data
//! folder holds only oml's entries; any other folder carries oml's marker,
//! see [`crate::ownership`]), never when it is or holds a system folder, and,
//! for folders named by the inventory, only inside the configuration root.

use std::path::{Path, PathBuf};

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
    /// `install_prefix` of the inventory, as a path on the host (under
    /// `root` when the root is not `/`).
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

/// `path` as the host sees it: relative to `root` when inside it.
fn host_path(path: &Path, root: &Path) -> PathBuf {
    match path.strip_prefix(root) {
        Ok(rel) => Path::new("/").join(rel),
        Err(_) => path.to_path_buf(),
    }
}

/// A folder may be deleted only if it is not a system folder (nor holds
/// one, as seen on the host), is not the root and does not contain it.
/// `path` is the real path (links resolved), `root` too.
fn check_deletable(path: &Path, root: &Path) -> Result<(), UninstallError> {
    let unsafe_ = |why: &str| UninstallError::Unsafe {
        path: path.display().to_string(),
        why: why.to_string(),
    };
    if !path.is_absolute() {
        return Err(unsafe_("not an absolute path"));
    }
    let on_host = host_path(path, root);
    for p in [path, on_host.as_path()] {
        if let Some(why) = crate::ownership::system_folder(p) {
            return Err(unsafe_(why));
        }
    }
    if path == root || root.starts_with(path) {
        return Err(unsafe_("it contains the configuration root"));
    }
    Ok(())
}

/// The real path of an existing folder (links resolved), else the path
/// with `.` and `..` resolved.
fn real(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| crate::ownership::normalize(path))
}

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
        if oml_ops::plan::is_admin_owned(rel) {
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
            .filter(|p| p.is_file() && oml_ops::plan::is_admin_owned(p))
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
                    && !oml_ops::plan::is_admin_owned(p)
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
    let root = real(&inp.root);
    let mut folders: Vec<(PathBuf, String)> = Vec::new();
    if inp.data_dir.exists() {
        check_data_dir(&inp.data_dir)?;
        folders.push((
            inp.data_dir.clone(),
            "data folder: database, settings, backups and recordings kept there".into(),
        ));
    }
    let mut others: Vec<(PathBuf, &str)> = [
        (&inp.backup_dir, "backup archives"),
        (&inp.recordings_dir, "call recordings"),
    ]
    .into_iter()
    .filter(|(p, _)| !p.starts_with(&inp.data_dir))
    .map(|(p, w)| (p.clone(), w))
    .collect();
    if let Some(prefix) = &inp.install_prefix {
        // A host path from the inventory: under the root, never outside it.
        let under_root = root.join(
            crate::ownership::normalize(&Path::new("/").join(prefix))
                .strip_prefix("/")
                .unwrap_or(prefix),
        );
        if !under_root.starts_with(&inp.data_dir) {
            others.push((under_root, "install folder (install_prefix)"));
        }
    }
    for (p, what) in others {
        if !p.exists() {
            continue;
        }
        let r = real(&p);
        if !r.starts_with(&root) && root != Path::new("/") && what.starts_with("install") {
            return Err(UninstallError::Unsafe {
                path: p.display().to_string(),
                why: format!("it leads outside the configuration root {}", root.display()),
            });
        }
        check_deletable(&r, &root)?;
        if crate::ownership::is_claimed(&p) {
            folders.push((p, what.into()));
        } else {
            out.push(Action::Keep {
                path: p,
                why: format!(
                    "{what}: oml did not create it (no {} marker), so it is not oml's to delete; delete it by hand if it is",
                    crate::ownership::MARKER
                ),
            });
        }
    }
    for (p, what) in folders {
        check_deletable(&real(&p), &root)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uninstall::apply_files;

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
        let prefix = root.join("opt/omnileads");
        assert!(crate::ownership::create_claimed(&prefix).unwrap());
        write(&prefix.join("media/x"), "x");
        let inputs = Inputs {
            root: root.clone(),
            backup_dir: data.join("backup"),
            recordings_dir: data.join("recordings"),
            data_dir: data,
            install_prefix: Some(PathBuf::from("/opt/omnileads/")),
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
        assert!(!inp.root.join("opt/omnileads").exists());
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
        // <root>/opt holds the install folder: a system folder on the host.
        assert!(matches!(plan(&inp), Err(UninstallError::Unsafe { .. })));
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
        std::fs::create_dir_all(inp.root.join("usr/local")).unwrap();
        assert!(matches!(plan(&inp), Err(UninstallError::Unsafe { .. })));
    }

    fn deletes(plan: &[Action]) -> Vec<PathBuf> {
        plan.iter()
            .filter_map(|a| match a {
                Action::RemoveDir { path, .. } => Some(path.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn system_folders_named_by_the_inventory_are_refused_on_the_host() {
        for prefix in ["/usr/sbin/", "/etc/ssh/", "/usr/sbin/../bin", "/etc"] {
            let (_tmp, mut inp) = installation();
            inp.root = PathBuf::from("/");
            inp.install_prefix = Some(PathBuf::from(prefix));
            if !Path::new(prefix).exists() {
                continue;
            }
            let e = plan(&inp).unwrap_err().to_string();
            assert!(e.contains("system folder"), "{prefix}: {e}");
        }
    }

    #[test]
    fn with_a_root_nothing_outside_it_is_deleted() {
        let (tmp, mut inp) = installation();
        // A folder outside the root, even one oml created, is not the
        // install folder of a root: the inventory's path is read under it.
        let outside = tmp.path().join("outside");
        assert!(crate::ownership::create_claimed(&outside).unwrap());
        inp.install_prefix = Some(outside.clone());
        let p = plan(&inp).unwrap();
        assert!(
            !deletes(&p).iter().any(|d| d.starts_with(&outside)),
            "{p:#?}"
        );
        apply_files(&p).unwrap();
        assert!(outside.exists(), "outside the root: kept");
        // `..` cannot climb out of the root either.
        let (tmp, mut inp) = installation();
        let outside = tmp.path().join("outside");
        assert!(crate::ownership::create_claimed(&outside).unwrap());
        inp.install_prefix = Some(PathBuf::from("/../../outside"));
        let p = plan(&inp).unwrap();
        assert!(
            !deletes(&p).iter().any(|d| d.starts_with(&outside)),
            "{p:#?}"
        );
        // Nor a link inside the root that points out of it.
        let (tmp, mut inp) = installation();
        let outside = tmp.path().join("outside");
        assert!(crate::ownership::create_claimed(&outside).unwrap());
        std::os::unix::fs::symlink(&outside, inp.root.join("opt/elsewhere")).unwrap();
        inp.install_prefix = Some(PathBuf::from("/opt/elsewhere"));
        let e = plan(&inp).unwrap_err().to_string();
        assert!(e.contains("outside the configuration root"), "{e}");
    }

    #[test]
    fn an_install_folder_oml_did_not_create_is_kept() {
        let (_tmp, inp) = installation();
        let prefix = inp.root.join("opt/omnileads");
        std::fs::remove_file(prefix.join(crate::ownership::MARKER)).unwrap();
        let p = plan(&inp).unwrap();
        assert!(!deletes(&p).contains(&prefix), "{p:#?}");
        assert!(p.iter().any(|a| matches!(a,
            Action::Keep { path, why } if path == &prefix && why.contains("oml did not create it"))));
        apply_files(&p).unwrap();
        assert!(prefix.join("media/x").exists());
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
