//! `oml backup`: write an archive of this installation, and list, verify
//! and prune the archives of the backup folder. The work is done by the
//! oml-backup crate; this file maps flags to it and prints the outcome.

use crate::cli::GlobalArgs;
use anyhow::{bail, Result};
use oml_backup::backup::{create, BackupOptions};
use oml_backup::writer::WriteOptions;
use oml_backup::{catalog, Format, Layout, Progress};
use oml_store::{OpenMode, Store};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

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

/// The generated files of this installation, relative to the root, as the
/// renderer lists them (managed files and the administrator's own ones).
async fn generated_files(
    g: &GlobalArgs,
    inventory: Option<PathBuf>,
    root: &std::path::Path,
) -> Result<Vec<PathBuf>> {
    let inventory = super::render::InventoryArg { inventory };
    let ctx = super::render::context(g, &inventory).await?;
    let plan = oml_ops::render::plan(&ctx, root)?;
    let mut files: Vec<PathBuf> = plan
        .steps
        .iter()
        .filter_map(|s| s.path().strip_prefix(root).ok().map(|p| p.to_path_buf()))
        .collect();
    add_admin_files(root, &mut files);
    Ok(files)
}

/// Adds the administrator's own files beside the generated ones
/// (`*_custom.conf`, `*_override.conf`): never rendered, so only a backup
/// keeps them. Paths are relative to `root`.
fn add_admin_files(root: &std::path::Path, files: &mut Vec<PathBuf>) {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|f| f.parent().map(|p| p.to_path_buf()))
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let Ok(rd) = std::fs::read_dir(root.join(&dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let rel = dir.join(e.file_name());
            if oml_ops::plan::is_admin_owned(&rel)
                && e.file_type().map(|t| t.is_file()).unwrap_or(false)
                && !files.contains(&rel)
            {
                files.push(rel);
            }
        }
    }
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    let mut layout = layout(g)?;
    match a.command {
        None => {
            let mut notes = Vec::new();
            let inventory = layout.inventory.clone().unwrap_or_default();
            if !inventory.exists() {
                println!(
                    "note: no inventory at {} (paths.inventory of oml.toml): no generated configuration to include",
                    inventory.display()
                );
            } else {
                match generated_files(g, None, &layout.generated_root.clone()).await {
                    Ok(files) => layout.generated_files = files,
                    Err(e) => notes.push(format!(
                        "generated configuration files (cannot list them: {})",
                        crate::cli::one_line(&e)
                    )),
                }
            }
            backup(
                g,
                &layout,
                a.with_recordings,
                a.format,
                a.output,
                notes,
                OpenMode::Existing,
            )
            .await
            .map(|_| ExitCode::SUCCESS)
        }
        Some(BackupCommand::List { verify, json }) => list(&layout, verify, json),
        Some(BackupCommand::Verify { name }) => verify(&layout, &name),
        Some(BackupCommand::Prune { keep, dry_run }) => prune(&layout, keep, dry_run),
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
    layout.inventory = Some(inventory.clone());
    layout.generated_root = root;
    let mut notes = Vec::new();
    if inventory.exists() {
        match generated_files(g, Some(inventory), &layout.generated_root.clone()).await {
            Ok(files) => layout.generated_files = files,
            Err(e) => notes.push(format!(
                "generated configuration files (cannot list them: {})",
                crate::cli::one_line(&e)
            )),
        }
    }
    backup(
        g,
        &layout,
        true,
        Format::Zst,
        Some(dir),
        notes,
        OpenMode::Existing,
    )
    .await
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
    add_admin_files(&root, &mut files);
    layout.generated_files = files;
    layout.generated_root = root;
    backup(
        g,
        &layout,
        false,
        Format::Zst,
        None,
        Vec::new(),
        OpenMode::AsIs,
    )
    .await
}

async fn backup(
    g: &GlobalArgs,
    layout: &Layout,
    with_recordings: bool,
    format: Format,
    output: Option<PathBuf>,
    notes: Vec<String>,
    mode: OpenMode,
) -> Result<PathBuf> {
    let store = Store::open(&g.location(), mode).await?;
    let options = BackupOptions {
        with_recordings,
        write: WriteOptions::new(format),
        output,
    };
    let bar = Bar::new();
    let outcome = create(&store, layout, &options, &bar).await?;
    store.close().await;
    for p in &outcome.removed_leftovers {
        eprintln!(
            "note: removed {} (left by a backup that was killed)",
            p.display()
        );
    }
    for s in notes.iter().chain(&outcome.skipped) {
        eprintln!("warning: not backed up: {s}");
    }
    let size = std::fs::metadata(&outcome.path)
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "backup written: {} ({}, {} files, {} of data)",
        outcome.path.display(),
        human(size),
        outcome.manifest.files.len(),
        human(outcome.manifest.total_size())
    );
    println!("components: {}", outcome.manifest.components.join(", "));
    let in_default = options_output_is_default(layout, &outcome.path);
    if in_default {
        println!("restore it with: oml restore {}", outcome.name);
    } else {
        println!("restore it with: oml restore {}", outcome.path.display());
    }
    Ok(outcome.path)
}

fn options_output_is_default(layout: &Layout, path: &std::path::Path) -> bool {
    path.parent() == Some(layout.backup_dir.as_path())
}

fn list(layout: &Layout, verify: bool, json: bool) -> Result<ExitCode> {
    let items = catalog::list(&layout.backup_dir, verify)?;
    let mut bad = false;
    if json {
        let v: Vec<_> = items
            .iter()
            .map(|i| {
                let m = i.manifest.as_ref().ok();
                serde_json::json!({
                    "name": i.name,
                    "size": i.size,
                    "created_at": m.map(|m| m.created_at.clone()),
                    "oml_version": m.map(|m| m.oml_version.clone()),
                    "schema_version": m.map(|m| m.schema_version),
                    "hostname": m.map(|m| m.hostname.clone()),
                    "components": m.map(|m| m.components.clone()),
                    "manifest_error": i.manifest.as_ref().err(),
                    "verified": i.verified.as_ref().map(|r| r.is_ok()),
                    "verify_error": i.verified.as_ref().and_then(|r| r.as_ref().err()),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if items.is_empty() {
        println!("no backups in {}", layout.backup_dir.display());
    } else {
        println!(
            "{:<36} {:<20} {:>10} {:<8} {:<16} VERIFIES",
            "NAME", "CREATED (UTC)", "SIZE", "VERSION", "HOST"
        );
        for i in &items {
            let (created, version, host) = match &i.manifest {
                Ok(m) => (
                    m.created_at
                        .replace('T', " ")
                        .trim_end_matches('Z')
                        .to_string(),
                    m.oml_version.clone(),
                    m.hostname.clone(),
                ),
                Err(_) => ("?".into(), "?".into(), "?".into()),
            };
            let verifies = match (&i.manifest, &i.verified) {
                (Err(e), _) => {
                    bad = true;
                    format!("NO: {e}")
                }
                (Ok(_), None) => "manifest ok (full check: --verify)".into(),
                (Ok(_), Some(Ok(()))) => "yes".into(),
                (Ok(_), Some(Err(e))) => {
                    bad = true;
                    format!("NO: {e}")
                }
            };
            println!(
                "{:<36} {:<20} {:>10} {:<8} {:<16} {}",
                i.name,
                created,
                human(i.size),
                version,
                host,
                verifies
            );
        }
    }
    Ok(if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn verify(layout: &Layout, name: &str) -> Result<ExitCode> {
    let path = catalog::resolve(&layout.backup_dir, name)?;
    let bar = Bar::new();
    let m = oml_backup::reader::process(
        &path,
        &oml_backup::Limits::default(),
        &mut oml_backup::reader::VerifyOnly,
        &bar,
    )?;
    println!(
        "{}: OK — {} files, {} checked against the manifest (oml {}, schema {}, {} database, made on {} at {})",
        path.display(),
        m.files.len(),
        human(m.total_size()),
        m.oml_version,
        m.schema_version,
        m.database_backend,
        m.hostname,
        m.created_at
    );
    Ok(ExitCode::SUCCESS)
}

fn prune(layout: &Layout, keep: usize, dry_run: bool) -> Result<ExitCode> {
    if keep == 0 && !dry_run {
        bail!("--keep 0 would delete every backup; use --keep 1 or more (or --dry-run to see the list)");
    }
    let pruned = catalog::prune(&layout.backup_dir, keep, dry_run)?;
    if pruned.archives.is_empty() {
        println!(
            "nothing to prune: at most {keep} backups in {}",
            layout.backup_dir.display()
        );
    }
    let verb = if dry_run { "would delete" } else { "deleted" };
    for p in &pruned.archives {
        println!("{verb} {}", p.display());
    }
    for p in &pruned.leftovers {
        println!("{verb} {} (left by a backup that was killed)", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `1.5 GiB`-style sizes.
pub fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A progress bar on stderr when it is a terminal; silent otherwise.
pub struct Bar(std::sync::Mutex<Option<indicatif::ProgressBar>>, bool);

impl Bar {
    pub fn new() -> Self {
        Bar(std::sync::Mutex::new(None), std::io::stderr().is_terminal())
    }
}

impl Progress for Bar {
    fn start(&self, phase: &str, total: u64) {
        if !self.1 {
            return;
        }
        let pb = indicatif::ProgressBar::new(total);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>10} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb.set_message(phase.to_string());
        if let Ok(mut g) = self.0.lock() {
            *g = Some(pb);
        }
    }
    fn advance(&self, n: u64) {
        if let Ok(g) = self.0.lock() {
            if let Some(pb) = g.as_ref() {
                pb.inc(n);
            }
        }
    }
    fn finish(&self) {
        if let Ok(mut g) = self.0.lock() {
            if let Some(pb) = g.take() {
                pb.finish_and_clear();
            }
        }
    }
}
