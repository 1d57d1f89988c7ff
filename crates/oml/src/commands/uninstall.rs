//! `oml uninstall`: removes oml from this host. oml-deploy's `uninstall`
//! plans (only what oml can prove is its own) and carries it out; this
//! file prints the plan, writes a final backup when asked (`--backup-to
//! DIR`; `--no-backup` to skip it: one of the two is required) and asks
//! the operator to type the host's name (or takes `--yes`). System packages
//! stay installed. `--dry-run` prints the plan and changes nothing.

use crate::cli::GlobalArgs;
use crate::commands::render::{self as render_cmd, InventoryArg};
use crate::output::outln;
use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use oml_deploy::host::System;
use oml_deploy::uninstall::{self, Inputs};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Print what would be stopped, deleted, edited, dropped and kept; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for the host's name (automation).
    #[arg(long)]
    pub yes: bool,
    /// Write a final backup (recordings included) into DIR first. DIR must
    /// be outside everything the uninstall deletes.
    #[arg(long, value_name = "DIR", conflicts_with = "no_backup")]
    pub backup_to: Option<PathBuf>,
    /// Uninstall without a final backup.
    #[arg(long)]
    pub no_backup: bool,
    /// Folder the configuration was rendered under (`/` on the host itself;
    /// services are stopped and reloaded only then). Nothing outside it
    /// that the inventory names is deleted. Default: paths.config_root of
    /// oml.toml, else `/`.
    #[arg(long)]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub inventory: InventoryArg,
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    // A dry run changes nothing, so it may look while oml runs.
    let _alone = if a.dry_run {
        None
    } else {
        Some(crate::running::hold_exclusive(&g.data_dir, "uninstall")?)
    };
    let layout = super::backup::layout(g)?;
    let root = absolute(&render_cmd::root(g, &a.root)?);
    let inventory_path = a.inventory.path(g)?;
    let install_prefix = match a.inventory.load(g).and_then(|(_, inv)| Ok(inv.config()?)) {
        Ok(cfg) => Some(cfg.install_prefix),
        Err(e) => {
            outln!(
                "note: the inventory cannot be read ({}): the install folder (install_prefix) is not in the plan",
                crate::cli::one_line(&e)
            )?;
            None
        }
    };
    let postgres = match &g.database_url {
        Some(url) => Some(
            oml_backup::pg::PgUrl::parse(&SecretString::from(url.clone()))
                .context("the database URL")?,
        ),
        None => None,
    };
    let keep_dir = a.backup_to.as_deref().map(absolute);
    let inputs = Inputs {
        root: root.clone(),
        data_dir: absolute(&layout.data_dir),
        backup_dir: absolute(&layout.backup_dir),
        recordings_dir: absolute(&layout.recordings_dir),
        install_prefix,
        inventory: Some(absolute(&inventory_path)),
        postgres_database: postgres.as_ref().map(|p| p.database.clone()),
        rendered: oml_ops::render::TARGETS
            .iter()
            .map(|t| root.join(t.path))
            .collect(),
        keep_dir: keep_dir.clone(),
    };
    let plan = uninstall::plan(&inputs)?;
    let host = oml_backup::hostname();
    outln!("uninstalling oml from {host}:")?;
    for action in &plan {
        outln!("{action}")?;
    }
    outln!(
        "keep      system packages (asterisk, kamailio, rtpengine, nginx, postgresql): not removed"
    )?;
    match (&keep_dir, a.no_backup) {
        (Some(d), _) => outln!(
            "first, a final backup (recordings included) is written to {}",
            d.display()
        )?,
        (None, true) => outln!("no final backup (--no-backup)")?,
        (None, false) => {
            outln!("no final backup chosen: give --backup-to DIR (recommended) or --no-backup")?
        }
    }
    if a.dry_run {
        outln!("dry run: nothing stopped, deleted, edited or dropped")?;
        return Ok(ExitCode::SUCCESS);
    }
    if keep_dir.is_none() && !a.no_backup {
        bail!("choose --backup-to DIR (a final backup first) or --no-backup; nothing was changed");
    }
    crate::cli::confirm(
        a.yes,
        "uninstall",
        &format!("This cannot be undone. Type this host's name ({host}) to uninstall: "),
        &host,
    )?;
    if let Some(dir) = keep_dir {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the backup folder {}", dir.display()))?;
        super::backup::final_backup(g, dir, absolute(&inventory_path), root.clone())
            .await
            .context("the final backup failed; nothing was removed")?;
    }
    let live = root == Path::new("/");
    let say = crate::output::progress;
    uninstall::execute(&plan, &root, live, postgres.as_ref(), &System, &say).await?;
    outln!("oml is uninstalled from {host}; system packages are still installed")?;
    Ok(ExitCode::SUCCESS)
}
