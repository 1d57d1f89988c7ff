//! `oml render`: writes every host-dependent configuration file (Asterisk,
//! Kamailio, rtpengine, nginx, the systemd unit, oml.toml) from the
//! inventory and the database into `--root` (default `/`), only the files
//! that change; `--dry-run` prints the unified diff instead.

use crate::cli::GlobalArgs;
use crate::output::{self, outln};
use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use oml_ops::inventory::Inventory;
use oml_ops::plan::Plan;
use oml_ops::render::{self, OmlSettings, RenderContext};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Folder the files are written under (`/` on the host itself).
    /// Default: paths.config_root of oml.toml, else `/`.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Print the plan and a unified diff (passwords masked); write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub inventory: InventoryArg,
}

/// Where the inventory is.
#[derive(ClapArgs, Debug, Clone)]
pub struct InventoryArg {
    /// The OMniLeads inventory file. Default: paths.inventory of oml.toml,
    /// else /etc/oml/inventory.
    #[arg(long, env = "OML_INVENTORY")]
    pub inventory: Option<PathBuf>,
}

impl InventoryArg {
    /// The inventory path: flag/env, else oml.toml, else /etc/oml/inventory.
    pub fn path(&self, g: &GlobalArgs) -> Result<PathBuf> {
        if let Some(p) = &self.inventory {
            return Ok(p.clone());
        }
        let cfg = oml_config::Config::load(&g.data_dir)?;
        Ok(cfg
            .paths
            .inventory
            .unwrap_or_else(|| PathBuf::from("/etc/oml/inventory")))
    }

    /// Loads and validates the inventory; errors name the line and variable.
    pub fn load(&self, g: &GlobalArgs) -> Result<(PathBuf, Inventory)> {
        let path = self.path(g)?;
        let inv =
            Inventory::load(&path).with_context(|| format!("inventory {}", path.display()))?;
        Ok((path, inv))
    }
}

/// The root folder: the flag, else oml.toml's paths.config_root, else `/`.
pub fn root(g: &GlobalArgs, flag: &Option<PathBuf>) -> Result<PathBuf> {
    if let Some(r) = flag {
        return Ok(r.clone());
    }
    Ok(oml_config::Config::load(&g.data_dir)?.paths.config_root)
}

/// Everything rendering needs: the validated inventory and the database.
pub async fn context(g: &GlobalArgs, inventory: &InventoryArg) -> Result<RenderContext> {
    let (path, inv) = inventory.load(g)?;
    let config = inv
        .config()
        .with_context(|| format!("inventory {}", path.display()))?;
    let store = g.open_store().await?;
    let data = render::load(&store)
        .await
        .context("reading servers, trunks, campaigns and agents")?;
    store.close().await;
    let data_dir = std::path::absolute(&g.data_dir).unwrap_or_else(|_| g.data_dir.clone());
    let recordings_dir = oml_config::Config::load(&g.data_dir)?.paths.recordings_dir;
    let oml = OmlSettings {
        recordings_dir: std::path::absolute(&recordings_dir).unwrap_or(recordings_dir),
        data_dir,
        binary: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/usr/local/bin/oml")),
        postgres_from_inventory: g.database_url.is_some(),
        inventory_path: Some(std::path::absolute(&path).unwrap_or(path)),
        ..OmlSettings::default()
    };
    Ok(RenderContext {
        inventory: config,
        data,
        oml,
    })
}

/// Prints a plan; applies it unless `dry_run`. Returns whether files changed.
pub fn show_and_apply(plan: &Plan, root: &Path, dry_run: bool) -> Result<bool> {
    for s in &plan.steps {
        outln!("{s}")?;
    }
    let changes = plan.changes().count();
    if dry_run {
        if changes > 0 {
            outln!()?;
            output::text(&plan.diff())?;
        }
        outln!(
            "dry run: {changes} file(s) would change under {}; nothing written",
            root.display()
        )?;
        return Ok(changes > 0);
    }
    let report = plan.apply()?;
    outln!(
        "{} file(s) written, {} unchanged, under {}",
        report.written.len(),
        report.unchanged,
        root.display()
    )?;
    Ok(changes > 0)
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    let ctx = context(g, &a.inventory).await?;
    let root = root(g, &a.root)?;
    let plan = render::plan(&ctx, &root)?;
    show_and_apply(&plan, &root, a.dry_run)?;
    Ok(ExitCode::SUCCESS)
}
