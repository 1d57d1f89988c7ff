//! A plan of file changes: built first (pure), printed by `--dry-run` as a
//! unified diff, executed by [`Plan::apply`], which writes only the files
//! that change, each atomically, and never a file the administrator owns.

use std::path::{Path, PathBuf};

/// One thing the plan does to one file.
#[derive(Clone, PartialEq, Eq)]
pub enum Step {
    /// Create the file (`old` is `None`) or replace its content.
    Write {
        path: PathBuf,
        old: Option<String>,
        new: String,
        mode: u32,
        /// Values masked in diffs and logs (passwords the file carries).
        secrets: Vec<String>,
    },
    /// The file already has exactly this content.
    Unchanged { path: PathBuf },
    /// The administrator's own file (`*_custom.conf`, `*_override.conf`):
    /// never written.
    KeepAdminFile { path: PathBuf },
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self)
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Write {
                path,
                old: None,
                mode,
                ..
            } => write!(f, "create    {} (mode {mode:o})", path.display()),
            Step::Write { path, .. } => write!(f, "update    {}", path.display()),
            Step::Unchanged { path } => write!(f, "unchanged {}", path.display()),
            Step::KeepAdminFile { path } => {
                write!(f, "keep      {} (administrator's file)", path.display())
            }
        }
    }
}

impl Step {
    pub fn path(&self) -> &Path {
        match self {
            Step::Write { path, .. } | Step::Unchanged { path } | Step::KeepAdminFile { path } => {
                path
            }
        }
    }
}

/// The values in `old` that stand where `secrets` stand in `new`: for each
/// line of `new` carrying a secret, an `old` line with the same text before
/// and after it gives the old value (`secret = OLD` for `secret = NEW`).
fn old_secrets(old: &str, new: &str, secrets: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for sec in secrets.iter().filter(|s| !s.is_empty()) {
        for line in new.lines() {
            let Some(i) = line.find(sec.as_str()) else {
                continue;
            };
            let (pre, post) = (&line[..i], &line[i + sec.len()..]);
            for ol in old.lines() {
                if ol.len() > pre.len() + post.len() && ol.starts_with(pre) && ol.ends_with(post) {
                    out.push(ol[pre.len()..ol.len() - post.len()].to_string());
                }
            }
        }
    }
    out
}

/// Is this a file the administrator owns, which oml must never overwrite?
pub fn is_admin_owned(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".conf").unwrap_or(&name);
    stem.ends_with("_custom") || stem.ends_with("_override")
}

/// Errors applying a plan.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to write {path}: it is the administrator's file (*_custom.conf / *_override.conf)")]
    AdminOwned { path: String },
}

/// What [`Plan::apply`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub written: Vec<PathBuf>,
    pub unchanged: usize,
}

/// An ordered list of file steps.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// Adds a step for writing `new` to `path`, comparing with what `path`
    /// holds now (read from disk).
    pub fn file(&mut self, path: PathBuf, new: String, mode: u32, secrets: Vec<String>) {
        if is_admin_owned(&path) {
            self.steps.push(Step::KeepAdminFile { path });
            return;
        }
        let old = std::fs::read(&path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        if old.as_deref() == Some(new.as_str()) {
            self.steps.push(Step::Unchanged { path });
        } else {
            self.steps.push(Step::Write {
                path,
                old,
                new,
                mode,
                secrets,
            });
        }
    }

    /// The steps that write something.
    pub fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Write { .. }))
    }

    /// True when applying would write nothing.
    pub fn is_noop(&self) -> bool {
        self.changes().next().is_none()
    }

    /// The step for a path, if the plan has one.
    pub fn step(&self, path: &Path) -> Option<&Step> {
        self.steps.iter().find(|s| s.path() == path)
    }

    /// A unified diff of every change, passwords masked.
    pub fn diff(&self) -> String {
        let mut out = String::new();
        for s in &self.steps {
            if let Step::Write {
                path,
                old,
                new,
                secrets,
                ..
            } = s
            {
                let mask = |t: &str, hidden: &[String], with: &str| {
                    let mut hidden = hidden.to_vec();
                    hidden.sort_by_key(|s| std::cmp::Reverse(s.len()));
                    let mut t = t.to_string();
                    for sec in hidden.iter().filter(|s| !s.is_empty()) {
                        t = t.replace(sec.as_str(), with);
                    }
                    t
                };
                // The old file carries the old passwords, which the plan
                // does not know: find them where the new ones stand, and
                // mark them apart so that a changed password still shows
                // as a changed line.
                let old_raw = old.as_deref().unwrap_or("");
                let was = old_secrets(old_raw, new, secrets);
                let old_text = mask(&mask(old_raw, secrets, "********"), &was, "******** (old)");
                let new_text = mask(new, secrets, "********");
                let shown = path.display().to_string();
                let a = if old.is_some() {
                    format!("a{shown}")
                } else {
                    "/dev/null".into()
                };
                let diff = similar::TextDiff::from_lines(&old_text, &new_text);
                out.push_str(
                    &diff
                        .unified_diff()
                        .context_radius(3)
                        .header(&a, &format!("b{shown}"))
                        .to_string(),
                );
                if !new_text.ends_with('\n') {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
        out
    }

    /// One line per step.
    pub fn summary(&self) -> String {
        self.steps.iter().map(|s| format!("{s}\n")).collect()
    }

    /// Writes every changed file atomically, in order. Files the
    /// administrator owns are refused even if a step names one. If a write
    /// fails, the files already written are put back as they were (or
    /// removed when they did not exist), so the plan applies whole or not
    /// at all; the error names the file that failed.
    pub fn apply(&self) -> Result<ApplyReport, ApplyError> {
        let mut report = ApplyReport::default();
        let mut done: Vec<&Step> = Vec::new();
        for s in &self.steps {
            match s {
                Step::Write {
                    path, new, mode, ..
                } => {
                    let result = if is_admin_owned(path) {
                        Err(ApplyError::AdminOwned {
                            path: path.display().to_string(),
                        })
                    } else {
                        crate::fsutil::write_atomic(path, new.as_bytes(), Some(*mode)).map_err(
                            |source| ApplyError::Write {
                                path: path.display().to_string(),
                                source,
                            },
                        )
                    };
                    if let Err(e) = result {
                        roll_back(&done);
                        return Err(e);
                    }
                    done.push(s);
                    report.written.push(path.clone());
                }
                Step::Unchanged { .. } | Step::KeepAdminFile { .. } => report.unchanged += 1,
            }
        }
        Ok(report)
    }
}

/// Puts back what `done` replaced, newest first (best effort).
fn roll_back(done: &[&Step]) {
    for s in done.iter().rev() {
        if let Step::Write { path, old, .. } = s {
            let _ = match old {
                Some(text) => crate::fsutil::write_atomic(path, text.as_bytes(), None),
                None => std::fs::remove_file(path),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_files_are_recognised() {
        assert!(is_admin_owned(Path::new(
            "/etc/asterisk/oml_extensions_custom.conf"
        )));
        assert!(is_admin_owned(Path::new(
            "/etc/asterisk/oml_pjsip_override.conf"
        )));
        assert!(!is_admin_owned(Path::new(
            "/etc/asterisk/oml_pjsip_trunks.conf"
        )));
    }

    #[test]
    fn a_diff_masks_the_old_password_as_well_as_the_new() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("oml_manager.conf");
        std::fs::write(&f, "[omlami]\nsecret = old-pw-1\nread = all\n").unwrap();
        let env = tmp.path().join("oml.env");
        std::fs::write(&env, "URL=postgres://u:old;pw@db/oml\n").unwrap();
        let mut p = Plan::default();
        p.file(
            f,
            "[omlami]\nsecret = new-pw-2\nread = all\n".into(),
            0o640,
            vec!["new-pw-2".into()],
        );
        p.file(
            env,
            "URL=postgres://u:new'pw@db/oml\n".into(),
            0o600,
            vec!["new'pw".into()],
        );
        let d = p.diff();
        assert!(!d.contains("old-pw-1") && !d.contains("new-pw-2"), "{d}");
        assert!(!d.contains("old;pw") && !d.contains("new'pw"), "{d}");
        assert!(
            d.contains("-secret = ******** (old)\n") && d.contains("+secret = ********\n"),
            "{d}"
        );
        assert!(
            d.contains("-URL=postgres://u:******** (old)@db/oml")
                && d.contains("+URL=postgres://u:********@db/oml"),
            "{d}"
        );
    }

    #[test]
    fn plan_writes_only_changes_and_masks_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let same = dir.path().join("same.conf");
        std::fs::write(&same, "x\n").unwrap();
        let mut plan = Plan::default();
        plan.file(same.clone(), "x\n".into(), 0o644, vec![]);
        plan.file(
            dir.path().join("new.conf"),
            "secret=hunter2\n".into(),
            0o600,
            vec!["hunter2".into()],
        );
        plan.file(
            dir.path().join("mine_custom.conf"),
            "y\n".into(),
            0o644,
            vec![],
        );
        assert!(matches!(plan.steps[0], Step::Unchanged { .. }));
        assert!(matches!(plan.steps[1], Step::Write { old: None, .. }));
        assert!(matches!(plan.steps[2], Step::KeepAdminFile { .. }));
        let diff = plan.diff();
        assert!(diff.contains("+secret=********"), "{diff}");
        assert!(!diff.contains("hunter2"));
        let report = plan.apply().unwrap();
        assert_eq!(report.written, vec![dir.path().join("new.conf")]);
        assert!(!dir.path().join("mine_custom.conf").exists());
    }

    #[test]
    fn a_failed_write_puts_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("a.conf");
        std::fs::write(&existing, "old\n").unwrap();
        // `blocker` is a file, so nothing can be created below it.
        std::fs::write(dir.path().join("blocker"), "").unwrap();
        let mut plan = Plan::default();
        plan.file(existing.clone(), "new\n".into(), 0o644, vec![]);
        plan.file(dir.path().join("b.conf"), "fresh\n".into(), 0o644, vec![]);
        plan.file(
            dir.path().join("blocker/c.conf"),
            "x\n".into(),
            0o644,
            vec![],
        );
        let err = plan.apply().unwrap_err().to_string();
        assert!(err.contains("blocker/c.conf"), "{err}");
        assert_eq!(std::fs::read_to_string(&existing).unwrap(), "old\n");
        assert!(!dir.path().join("b.conf").exists());
    }
}
