//! Carrying out an uninstall plan: stop oml's service, drop its database,
//! remove and edit files, then make Asterisk and nginx forget oml's files.
//! Services are touched only on the host itself (`live`); under another
//! root the commands are reported, not run.

use super::Action;
use crate::host::Runner;
use crate::{Context, Error, Result, Say};
use std::path::Path;

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
                oml_ops::fsutil::write_atomic(path, new.as_bytes(), None)?;
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

/// Stops, drops, removes and reloads, in that order. Stopping or dropping
/// failing stops everything before a file is removed; a reload failing is
/// a warning (the files are gone already).
pub async fn execute(
    plan: &[Action],
    root: &Path,
    live: bool,
    postgres: Option<&oml_backup::pg::PgUrl>,
    runner: &dyn Runner,
    say: Say<'_>,
) -> Result<()> {
    let cmd = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for action in plan {
        if let Action::Stop { unit } = action {
            let c = cmd(&["systemctl", "disable", "--now", unit]);
            if live {
                runner.run(&c).map_err(|e| {
                    e.context(format!("cannot stop {unit}; nothing was removed (stop it by hand and run oml uninstall again)"))
                })?;
                say(&format!("stopped   {unit}"));
            } else {
                say(&format!(
                    "not run   {} (the files are under {})",
                    c.join(" "),
                    root.display()
                ));
            }
        }
    }
    for action in plan {
        if let (Action::DropDatabase { name }, Some(pg)) = (action, postgres) {
            pg.drop_db(name).await.with_context(|| {
                format!(
                    "dropping database {name} (is `oml serve` or another client still connected?)"
                )
            })?;
            say(&format!("dropped   PostgreSQL database {name}"));
        }
    }
    let done = apply_files(plan).map_err(|e| Error::new(format!("removing files: {e}")))?;
    for line in &done {
        say(&format!("done: {line}"));
    }
    let touched = |dir: &str| {
        plan.iter().any(|a| match a {
            Action::RemoveFile { path } | Action::Edit { path, .. } => {
                path.starts_with(root.join(dir))
            }
            _ => false,
        })
    };
    let mut reloads: Vec<Vec<String>> = Vec::new();
    if touched("etc/nginx") {
        reloads.push(cmd(&["nginx", "-t"]));
        reloads.push(cmd(&["systemctl", "reload", "nginx"]));
    }
    if touched("etc/asterisk") {
        reloads.push(cmd(&["systemctl", "reload", "asterisk"]));
    }
    for c in &reloads {
        if live {
            if let Err(e) = runner.run(c) {
                say(&format!("warning: {e}"));
            }
        } else {
            say(&format!("not run   {}", c.join(" ")));
        }
    }
    Ok(())
}
