//! `oml backup list|verify|prune`: the archives already in the backup
//! folder, apart from `backup.rs` (which writes new ones).

use super::Bar;
use crate::output::outln;
use anyhow::{bail, Result};
use oml_backup::{catalog, describe, Layout};
use std::process::ExitCode;

pub fn list(layout: &Layout, verify: bool, json: bool) -> Result<ExitCode> {
    let items = catalog::list(&layout.backup_dir, verify)?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&describe::list_json(&items))?
        )?;
    } else if items.is_empty() {
        outln!("no backups in {}", layout.backup_dir.display())?;
    } else {
        for line in describe::list_table(&items) {
            outln!("{line}")?;
        }
    }
    Ok(if describe::all_good(&items) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub fn verify(layout: &Layout, name: &str) -> Result<ExitCode> {
    let path = catalog::resolve(&layout.backup_dir, name)?;
    let bar = Bar::new();
    let m = oml_backup::reader::process(
        &path,
        &oml_backup::Limits::default(),
        &mut oml_backup::reader::VerifyOnly,
        &bar,
    )?;
    outln!("{}", describe::verified(&path, &m))?;
    Ok(ExitCode::SUCCESS)
}

pub fn prune(layout: &Layout, keep: usize, dry_run: bool) -> Result<ExitCode> {
    if keep == 0 && !dry_run {
        bail!("--keep 0 would delete every backup; use --keep 1 or more (or --dry-run to see the list)");
    }
    let pruned = catalog::prune(&layout.backup_dir, keep, dry_run)?;
    if pruned.archives.is_empty() {
        outln!(
            "nothing to prune: at most {keep} backups in {}",
            layout.backup_dir.display()
        )?;
    }
    let verb = if dry_run { "would delete" } else { "deleted" };
    for p in &pruned.archives {
        outln!("{verb} {}", p.display())?;
    }
    for p in &pruned.leftovers {
        outln!("{verb} {} (left by a backup that was killed)", p.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
