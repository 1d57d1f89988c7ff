//! `oml restore NAME`: put a backup back, safely. Verifies the archive and
//! its compatibility before anything changes, shows the plan, asks for
//! confirmation, then lets oml-backup stage, verify and swap. Also hosts the
//! start-up hook that finishes or undoes a restore interrupted by a crash.

use crate::cli::GlobalArgs;
use anyhow::{Context, Result};
use oml_backup::restore::{inspect, recover, restore, RestoreTarget};
use oml_backup::{catalog, Limits};
use oml_store::{Backend, Location};
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Archive name from `oml backup list`, or a path starting with ./ or /.
    name: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    /// Verify the archive and show what would change; change nothing.
    #[arg(long)]
    dry_run: bool,
}

pub(crate) fn target(g: &GlobalArgs) -> Result<RestoreTarget> {
    let layout = super::backup::layout(g)?;
    Ok(match g.location() {
        Location::DataDir(_) => RestoreTarget {
            layout,
            backend: Backend::Sqlite,
            pg_url: None,
        },
        Location::Postgres(url) => RestoreTarget {
            layout,
            backend: Backend::Postgres,
            pg_url: Some(url),
        },
    })
}

/// Finishes or undoes a restore that a crash interrupted; run before every
/// command so the installation is never used half-restored.
pub async fn recover_interrupted(g: &GlobalArgs) -> Result<()> {
    // A journal lives inside the data folder: none can exist without it, and
    // a missing or unusable folder is for the command itself to report.
    if !g.data_dir.is_dir() {
        return Ok(());
    }
    let pg = match g.location() {
        Location::Postgres(url) => Some(url),
        Location::DataDir(_) => None,
    };
    if let Some(what) = recover(&g.data_dir, pg.as_ref()).await? {
        eprintln!("note: {what}");
    }
    Ok(())
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    // A dry run changes nothing, so it may look while oml runs.
    let _alone = if a.dry_run {
        None
    } else {
        Some(crate::running::hold_exclusive(&g.data_dir, "restore")?)
    };
    let target = target(g)?;
    let path = catalog::resolve(&target.layout.backup_dir, &a.name)?;
    let insp = inspect(&path, &target)?;
    let m = &insp.manifest;
    if let Some(change) = &insp.host_change {
        println!("host:       {change}; host-dependent files will be re-rendered for this host");
    }
    println!("archive:    {}", path.display());
    println!(
        "made:       {} on {} ({}) by oml {}",
        m.created_at, m.hostname, m.ip, m.oml_version
    );
    println!(
        "contents:   {} ({} files, {})",
        m.components.join(", "),
        m.files.len(),
        super::backup::human(m.total_size())
    );
    let (have, can) = insp.schema;
    if have < can {
        println!("schema:     {have}, migrated forward to {can} after the restore");
    } else {
        println!("schema:     {have}");
    }
    println!("replaces:");
    for r in &insp.replaces {
        println!("  {r}");
    }
    if !m.has_component("recordings") {
        println!("recordings: not in this archive; the current recordings are kept as they are");
    }
    if a.dry_run {
        let bar = super::backup::Bar::new();
        oml_backup::reader::process(
            &path,
            &Limits::default(),
            &mut oml_backup::reader::VerifyOnly,
            &bar,
        )?;
        println!("dry run: the archive verifies completely; nothing was changed");
        return Ok(ExitCode::SUCCESS);
    }
    crate::cli::confirm(
        a.yes,
        "restore",
        "Replace the items above with the archive's? Type yes: ",
        "yes",
    )?;
    let bar = super::backup::Bar::new();
    let report = restore(&path, &target, &bar).await?;
    println!(
        "restored {} (schema version {} now)",
        path.display(),
        report.schema_after
    );
    let mut ok = true;
    match rerender(g, report.generated.as_deref()).await {
        Ok(true) => {}
        Ok(false) => ok = false,
        Err(e) => {
            ok = false;
            eprintln!(
                "warning: the data is restored, but the host-dependent files were not re-rendered: {}",
                crate::cli::one_line(&e)
            );
            if let Some(dir) = &report.generated {
                eprintln!(
                    "the archive's generated files are in {}; fix the cause, then run `oml render` and `oml regenerate-asterisk`",
                    dir.display()
                );
            }
        }
    }
    if ok {
        if let Some(dir) = &report.generated {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Re-renders the host-dependent files for this host from the restored
/// inventory and database; puts back the administrator's own files from the
/// archive; runs regenerate-asterisk when Asterisk servers are configured.
/// `Ok(false)`: regenerate-asterisk failed (reported).
async fn rerender(g: &GlobalArgs, archived: Option<&std::path::Path>) -> Result<bool> {
    let inventory = super::render::InventoryArg { inventory: None };
    let path = inventory.path(g)?;
    if !path.exists() {
        println!(
            "render: no inventory at {} (paths.inventory of oml.toml): no host-dependent files to re-render",
            path.display()
        );
        return Ok(true);
    }
    let ctx = super::render::context(g, &inventory).await?;
    let root = super::render::root(g, &None)?;
    let plan = oml_ops::render::plan(&ctx, &root)?;
    if let Some(dir) = archived {
        restore_admin_files(dir, dir, &root)?;
    }
    println!("render (for this host):");
    super::render::show_and_apply(&plan, &root, false)?;
    if ctx.data.servers.iter().any(|s| s.enabled) {
        println!("regenerate-asterisk:");
        let args = super::regenerate::Args {
            dry_run: false,
            root: None,
            inventory,
        };
        let code = super::regenerate::run(g, args).await?;
        return Ok(code == ExitCode::SUCCESS);
    }
    println!(
        "regenerate-asterisk: no enabled Asterisk server is configured; nothing to regenerate"
    );
    Ok(true)
}

/// Puts back the administrator's own files (`*_custom.conf`,
/// `*_override.conf`) found among the archive's generated files, where they
/// are missing or differ; managed files are re-rendered instead.
fn restore_admin_files(base: &Path, dir: &Path, root: &Path) -> Result<()> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            restore_admin_files(base, &p, root)?;
            continue;
        }
        let Ok(rel) = p.strip_prefix(base) else {
            continue;
        };
        if !oml_ops::plan::is_admin_owned(rel) {
            continue;
        }
        let live = root.join(rel);
        if std::fs::read(&p).ok() == std::fs::read(&live).ok() {
            continue;
        }
        if let Some(parent) = live.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let tmp = live.with_extension("oml-restore-tmp");
        std::fs::copy(&p, &tmp)
            .and_then(|_| std::fs::rename(&tmp, &live))
            .with_context(|| format!("restoring {}", live.display()))?;
        println!(
            "restored  {} (administrator's file, from the archive)",
            live.display()
        );
    }
    Ok(())
}
