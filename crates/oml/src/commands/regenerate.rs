//! `oml regenerate-asterisk`: rewrites the generated Asterisk files from the
//! database, then on every enabled Asterisk server the AstDB families the
//! dialplan reads (DBDelTree then DBPut) and reloads; idempotent.

use super::render::{context, root, show_and_apply, InventoryArg};
use crate::cli::GlobalArgs;
use crate::output::outln;
use anyhow::Result;
use clap::Args as ClapArgs;
use oml_ops::regenerate;
use oml_ops::render;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Show the file diff and what would change in AstDB; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Folder the Asterisk files are written under (default as `oml render`).
    #[arg(long)]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub inventory: InventoryArg,
}

/// Copies the uploaded sounds into Asterisk's sounds folder under `root`
/// (`oml/NAME.wav|gsm`, only new or changed files) and removes the copies
/// of removed sounds; says what it did (or would do), when there are any.
fn show_sounds(g: &GlobalArgs, root: &std::path::Path, dry_run: bool) -> Result<()> {
    let dir = oml_config::Config::load(&g.data_dir)?.paths.sounds_dir;
    let done = oml_ops::sounds::install(&dir, root, dry_run)?;
    if done.copied.is_empty() && done.removed.is_empty() && done.unchanged == 0 {
        // No sound uploaded, none to remove: nothing to say.
        return Ok(());
    }
    let verb = if dry_run { "would copy" } else { "copied" };
    outln!("Sounds ({}):", done.folder.display())?;
    for f in &done.copied {
        outln!("  {verb} {f}")?;
    }
    for f in &done.removed {
        outln!(
            "  {} {f} (its sound was removed)",
            if dry_run { "would remove" } else { "removed" }
        )?;
    }
    let (copy, remove) = if dry_run {
        ("to copy", "to remove")
    } else {
        ("copied", "removed")
    };
    outln!(
        "  {} sound(s) unchanged, {} {copy}, {} {remove}",
        done.unchanged,
        done.copied.len(),
        done.removed.len()
    )?;
    outln!()?;
    Ok(())
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    let ctx = context(g, &a.inventory).await?;
    let root = root(g, &a.root)?;
    outln!("Asterisk files:")?;
    let plan = render::plan_asterisk(&ctx, &root)?;
    let files_changed = show_and_apply(&plan, &root, a.dry_run)?;
    outln!()?;
    show_sounds(g, &root, a.dry_run)?;
    let enabled = ctx.data.servers.iter().filter(|s| s.enabled).count();
    if enabled == 0 {
        outln!("AstDB: no enabled Asterisk server is configured; nothing to rewrite")?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "AstDB ({} entries per server):",
        regenerate::desired(&ctx).len()
    )?;
    let reports = regenerate::sync_all(&ctx, files_changed, a.dry_run).await;
    let mut failed = 0;
    for r in &reports {
        match &r.result {
            Ok(outcome) => {
                outln!("  {}: {outcome}", r.server)?;
                if let regenerate::SyncOutcome::WouldRewrite { diff, .. } = outcome {
                    for (mark, keys) in [
                        ("+", &diff.added),
                        ("~", &diff.changed),
                        ("-", &diff.removed),
                    ] {
                        for k in keys.iter().take(50) {
                            outln!("      {mark} {k}")?;
                        }
                        if keys.len() > 50 {
                            outln!("      {mark} ... and {} more", keys.len() - 50)?;
                        }
                    }
                }
            }
            Err(e) => {
                failed += 1;
                outln!("  {}: FAILED: {e}", r.server)?;
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "error: {failed} of {} server(s) failed; the others were regenerated",
            reports.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
