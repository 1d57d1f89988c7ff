//! `oml backup`: write an archive of this installation, and list, verify
//! and prune the archives of the backup folder. The work is done by the
//! oml-backup crate; this file maps flags to it and prints the outcome.

use crate::cli::GlobalArgs;
use crate::output::outln;
use anyhow::Result;
pub use bar::Bar;
use oml_backup::backup::{create, BackupOptions};
use oml_backup::placement::add_admin_files;
use oml_backup::writer::WriteOptions;
use oml_backup::{describe, Format, Layout};
use oml_store::{OpenMode, Store};
use std::path::PathBuf;
use std::process::ExitCode;

mod bar;
mod catalog_cmd;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<BackupCommand>,
    /// Include call recordings.
    #[arg(long)]
    with_recordings: bool,
    /// Archive format: zst (fast, default) or tgz.
    #[arg(long, default_value = "zst", value_parser = parse_format)]
    format: Format,
    /// Write the archive into this folder instead of the backup folder.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum BackupCommand {
    /// List the archives of the backup folder.
    List {
        /// Read every archive completely and check every checksum.
        #[arg(long)]
        verify: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read an archive completely: manifest, every checksum, safe entries.
    Verify {
        /// Archive name from `oml backup list`, or a path starting with ./ or /.
        name: String,
    },
    /// Delete all but the newest N archives.
    Prune {
        #[arg(long)]
        keep: usize,
        /// Show what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

/// Where this installation keeps what a backup holds (oml.toml's [paths]).
pub fn layout(g: &GlobalArgs) -> Result<Layout> {
    let cfg = oml_config::Config::load(&g.data_dir)?;
    let mut l = Layout::defaults(&g.data_dir);
    l.backup_dir = cfg.paths.backup_dir;
    l.recordings_dir = cfg.paths.recordings_dir;
    l.inventory = Some(
        cfg.paths
            .inventory
            .unwrap_or_else(|| PathBuf::from("/etc/oml/inventory")),
    );
    l.generated_root = cfg.paths.config_root;
    Ok(l)
}

/// Lists the generated files of this installation (relative to the root,
/// as the renderer lists them, with the administrator's own ones) into
/// `layout`; returns why they are not backed up when they cannot be.
async fn list_generated(g: &GlobalArgs, layout: &mut Layout) -> Vec<String> {
    let inventory = layout.inventory.clone().unwrap_or_default();
    if !inventory.exists() {
        let _ = outln!(
            "note: no inventory at {} (paths.inventory of oml.toml): no generated configuration to include",
            inventory.display()
        );
        return Vec::new();
    }
    let root = layout.generated_root.clone();
    let listed = async {
        let inventory = super::render::InventoryArg {
            inventory: Some(inventory),
        };
        let ctx = super::render::context(g, &inventory).await?;
        anyhow::Ok(oml_ops::render::plan(&ctx, &root)?)
    };
    match listed.await {
        Ok(plan) => {
            let mut files: Vec<PathBuf> = (plan.steps.iter())
                .filter_map(|s| s.path().strip_prefix(&root).ok().map(PathBuf::from))
                .collect();
            add_admin_files(&root, &mut files, oml_ops::plan::is_admin_owned);
            layout.generated_files = files;
            Vec::new()
        }
        Err(e) => vec![format!(
            "generated configuration files (cannot list them: {})",
            crate::cli::one_line(&e)
        )],
    }
}

fn options(with_recordings: bool, format: Format, output: Option<PathBuf>) -> BackupOptions {
    let write = WriteOptions::new(format);
    BackupOptions {
        with_recordings,
        write,
        output,
    }
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    let mut layout = layout(g)?;
    match a.command {
        None => {
            let notes = list_generated(g, &mut layout).await;
            let o = options(a.with_recordings, a.format, a.output);
            backup(g, &layout, o, notes, OpenMode::Existing).await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(BackupCommand::List { verify, json }) => catalog_cmd::list(&layout, verify, json),
        Some(BackupCommand::Verify { name }) => catalog_cmd::verify(&layout, &name),
        Some(BackupCommand::Prune { keep, dry_run }) => catalog_cmd::prune(&layout, keep, dry_run),
    }
}

/// A complete backup (recordings included) written into `dir`, as
/// `oml backup --with-recordings --output DIR` does, with the inventory
/// and the configuration root the caller uses: for `oml uninstall`.
pub async fn final_backup(
    g: &GlobalArgs,
    dir: PathBuf,
    inventory: PathBuf,
    root: PathBuf,
) -> Result<PathBuf> {
    let mut layout = layout(g)?;
    layout.inventory = Some(inventory);
    layout.generated_root = root;
    let notes = list_generated(g, &mut layout).await;
    let o = options(true, Format::Zst, Some(dir));
    backup(g, &layout, o, notes, OpenMode::Existing).await
}

/// The backup `oml deploy --update` takes before it changes anything: the
/// database exactly as it is (not yet migrated), settings, inventory and
/// the generated files (listed without the database), into the backup
/// folder. Recordings are not touched by an update, so not copied.
pub async fn pre_upgrade_backup(
    g: &GlobalArgs,
    inventory: PathBuf,
    root: PathBuf,
) -> Result<PathBuf> {
    let mut layout = layout(g)?;
    layout.inventory = Some(inventory);
    let mut files = Vec::new();
    for t in oml_ops::render::TARGETS {
        let rel = PathBuf::from(t.path);
        if root.join(&rel).is_file() {
            files.push(rel);
        }
    }
    add_admin_files(&root, &mut files, oml_ops::plan::is_admin_owned);
    layout.generated_files = files;
    layout.generated_root = root;
    let o = options(false, Format::Zst, None);
    backup(g, &layout, o, Vec::new(), OpenMode::AsIs).await
}

async fn backup(
    g: &GlobalArgs,
    layout: &Layout,
    options: BackupOptions,
    notes: Vec<String>,
    mode: OpenMode,
) -> Result<PathBuf> {
    let store = Store::open(&g.location(), mode).await?;
    let bar = Bar::new();
    let outcome = create(&store, layout, &options, &bar).await?;
    store.close().await;
    let (err, out) = describe::backup_written(&outcome, &notes, &layout.backup_dir);
    for line in err {
        eprintln!("{line}");
    }
    for line in out {
        outln!("{line}")?;
    }
    Ok(outcome.path)
}
