//! `oml restore NAME`: put a backup back, safely. Verifies the archive and
//! its compatibility before anything changes, shows the plan (with every
//! file it writes outside the data folder), asks for confirmation, then
//! lets oml-backup stage, verify and swap, and re-renders for this host.
//! Also hosts the start-up hook that finishes a restore (or its re-render)
//! that a crash interrupted.

use crate::cli::GlobalArgs;
use crate::output::outln;
use anyhow::Result;
use oml_backup::placement::{put_back_admin_files, HostFiles};
use oml_backup::restore::{inspect, pending_renders, recover, restore, RestoreTarget};
use oml_backup::{catalog, ownership, Layout, Limits};
use oml_store::{Backend, Location};
use std::path::{Path, PathBuf};
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
    /// Run although this user does not own the data folder (e.g. as root
    /// for a data folder of the `oml` user); every restored file gets the
    /// owner and mode of the file it replaces, or of the data folder.
    #[arg(long)]
    fix_ownership: bool,
}

/// What oml renders on this host: where the archive's administrator files
/// may go back, and what the re-render after a restore writes.
fn host_files() -> HostFiles {
    HostFiles {
        rendered: oml_ops::render::TARGETS
            .iter()
            .map(|t| PathBuf::from(t.path))
            .collect(),
        re_render: false,
        is_admin_owned: oml_ops::plan::is_admin_owned,
    }
}

/// This installation as a restore target. Ownership is fixed (restored
/// files take the owners of what they replace): `oml deploy --update` rolls
/// back its own change with it; `oml restore` sets it from its flag.
pub(crate) fn target(g: &GlobalArgs) -> Result<RestoreTarget> {
    let layout = super::backup::layout(g)?;
    let (backend, url) = match g.location() {
        Location::DataDir(_) => (Backend::Sqlite, None),
        Location::Postgres(url) => (Backend::Postgres, Some(url)),
    };
    // The re-render after the restore writes the rendered files only where
    // an inventory says what to render.
    let inventory = super::render::InventoryArg {
        inventory: layout.inventory.clone(),
    };
    let re_render = inventory.path(g)?.exists();
    let mut t = RestoreTarget::new(layout, backend, url);
    t.host = HostFiles {
        re_render,
        ..host_files()
    };
    t.fix_ownership = true;
    Ok(t)
}

/// Finishes or undoes a restore that a crash interrupted, and finishes the
/// re-render after one; run before every command so the installation is
/// never used half-restored.
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
    for dir in pending_renders(&g.data_dir) {
        eprintln!(
            "note: the re-render after a restore was interrupted ({} is left); finishing it now",
            dir.display()
        );
        let layout = super::backup::layout(g)?;
        match render_for_host(g, &layout, Some(&dir), false).await {
            Ok(false) => eprintln!("note: the interrupted re-render is finished"),
            Ok(true) => eprintln!("note: the interrupted re-render is finished; run `oml regenerate-asterisk` to load it into Asterisk"),
            Err(e) => eprintln!(
                "warning: the interrupted re-render failed: {}; the administrator's files are back, fix the cause, then run `oml render` and `oml regenerate-asterisk`",
                crate::cli::one_line(&e)
            ),
        }
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    // A dry run changes nothing, so it may look while oml runs.
    if !a.dry_run {
        ownership::check_user(&g.data_dir, a.fix_ownership)?;
    }
    let _alone = if a.dry_run {
        None
    } else {
        let lock = crate::running::hold_exclusive(&g.data_dir, "restore")?;
        ownership::adopt_folder_owner(&g.data_dir.join(crate::running::LOCK_FILE))?;
        Some(lock)
    };
    let mut target = target(g)?;
    target.fix_ownership = a.fix_ownership;
    let path = catalog::resolve(&target.layout.backup_dir, &a.name)?;
    let insp = inspect(&path, &target)?;
    for line in insp.describe(&path, &target.layout.data_dir) {
        outln!("{line}")?;
    }
    if a.dry_run {
        let bar = super::backup::Bar::new();
        let mut verify = oml_backup::reader::VerifyOnly;
        oml_backup::reader::process(&path, &Limits::default(), &mut verify, &bar)?;
        outln!("dry run: the archive verifies completely; nothing was changed")?;
        return Ok(ExitCode::SUCCESS);
    }
    let prompt = if insp.outside.is_empty() {
        "Replace the items above with the archive's? Type yes: "
    } else {
        "Replace the items above and write the files outside the data folder listed above? Type yes: "
    };
    crate::cli::confirm(a.yes, "restore", prompt, "yes")?;
    let bar = super::backup::Bar::new();
    let report = restore(&path, &target, &bar).await?;
    outln!(
        "restored {} (schema version {} now)",
        path.display(),
        report.schema_after
    )?;
    if let Some(aside) = &report.config_aside {
        eprintln!(
            "note: {} is a link (the package's conffile): kept as it is; the archive's oml.toml is in {} to compare",
            target.layout.config_file.display(),
            aside.display()
        );
    }
    let ok = match rerender(g, &target.layout, report.generated.as_deref()).await {
        Ok(ok) => ok,
        Err(e) => {
            eprintln!(
                "warning: the data is restored, but the host-dependent files were not re-rendered: {}",
                crate::cli::one_line(&e)
            );
            eprintln!("fix the cause, then run `oml render` and `oml regenerate-asterisk`");
            false
        }
    };
    if let Some(dir) = &report.generated {
        std::fs::remove_dir_all(dir)?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The re-render after a restore, then regenerate-asterisk when Asterisk
/// servers are configured. `Ok(false)`: regenerate-asterisk failed.
async fn rerender(g: &GlobalArgs, layout: &Layout, archived: Option<&Path>) -> Result<bool> {
    if !render_for_host(g, layout, archived, true).await? {
        outln!(
            "regenerate-asterisk: no enabled Asterisk server is configured; nothing to regenerate"
        )?;
        return Ok(true);
    }
    outln!("regenerate-asterisk:")?;
    let args = super::regenerate::Args {
        dry_run: false,
        root: Some(layout.generated_root.clone()),
        inventory: super::render::InventoryArg {
            inventory: layout.inventory.clone(),
        },
    };
    Ok(super::regenerate::run(g, args).await? == ExitCode::SUCCESS)
}

/// Re-renders the host-dependent files for this host (its own inventory
/// and configuration root, whatever the archive's oml.toml said) from the
/// restored database, after putting back the administrator's own files
/// kept in `archived`. `loud`: the steps on stdout (else a summary on
/// stderr, for the start-up hook). Returns whether Asterisk servers are
/// enabled (then regenerate-asterisk is due).
async fn render_for_host(
    g: &GlobalArgs,
    layout: &Layout,
    archived: Option<&Path>,
    loud: bool,
) -> Result<bool> {
    let root = &layout.generated_root;
    if let Some(dir) = archived {
        for f in put_back_admin_files(dir, root, &host_files())? {
            let line = format!(
                "restored  {} (administrator's file, from the archive)",
                f.display()
            );
            if loud {
                outln!("{line}")?;
            } else {
                eprintln!("note: {line}");
            }
        }
    }
    oml_backup::pause_point("restore-render");
    let inventory = super::render::InventoryArg {
        inventory: layout.inventory.clone(),
    };
    let path = inventory.path(g)?;
    if !path.exists() {
        outln!(
            "render: no inventory at {} (paths.inventory of oml.toml): no host-dependent files to re-render",
            path.display()
        )?;
        return Ok(false);
    }
    let ctx = super::render::context(g, &inventory).await?;
    let plan = oml_ops::render::plan(&ctx, root)?;
    // The render rewrites oml.toml (settings the inventory owns): it keeps
    // the owner and mode the restore gave it.
    let config_meta = layout.config_file.metadata().ok();
    if loud {
        outln!("render (for this host):")?;
        super::render::show_and_apply(&plan, root, false)?;
    } else {
        let report = plan.apply()?;
        eprintln!(
            "note: {} file(s) re-rendered under {}",
            report.written.len(),
            root.display()
        );
    }
    if let Some(m) = &config_meta {
        ownership::apply(&layout.config_file, m)?;
    }
    Ok(ctx.data.servers.iter().any(|s| s.enabled))
}
