//! `oml recordings keep|prune`: how long call recordings are kept, and the
//! retention run an operator starts by hand (`oml serve` runs the same one
//! daily). `prune` lists what it would delete (the recordings of calls
//! placed more than `recordings.keep_days` days ago), then asks, or takes
//! `--yes`; `--dry-run` only lists. Each run that deletes is audited
//! (`recordings_prune`: files, bytes, oldest kept).

use crate::cli::GlobalArgs;
use crate::output::outln;
use anyhow::Result;
use clap::Subcommand;
use oml_store::retention::{recordings_day, PrunePlan};
use oml_store::Store;
use std::path::Path;
use std::process::ExitCode;

/// Files listed one per line before the prompt; the count covers them all.
const LISTED: usize = 20;

#[derive(Subcommand)]
pub enum RecordingsCommand {
    /// Show or set how many days recordings are kept: 1 to 36500, or
    /// `forever` (also 0). Without a value, prints the setting.
    Keep {
        /// Days, `forever` or 0.
        days: Option<String>,
    },
    /// Delete the recordings older than the kept days from
    /// `paths.recordings_dir`; their attempts keep the file name and are
    /// marked deleted. Shows the plan first and asks (or takes --yes).
    Prune {
        /// Only show what would be deleted.
        #[arg(long)]
        dry_run: bool,
        /// Delete without asking.
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(g: &GlobalArgs, cmd: RecordingsCommand) -> Result<ExitCode> {
    let store = g.open_store().await?;
    match cmd {
        RecordingsCommand::Keep { days } => keep(&store, days.as_deref()).await,
        RecordingsCommand::Prune { dry_run, yes } => {
            let config = oml_config::Config::load(&g.data_dir)?;
            prune(&store, &config.paths.recordings_dir, dry_run, yes).await
        }
    }
}

async fn keep(store: &Store, days: Option<&str>) -> Result<ExitCode> {
    let kept = match days {
        Some(d) => {
            let kept = store.set_recordings_keep_days(d).await?;
            store
                .audit(
                    oml_store::now_ms(),
                    &crate::actor::cli_actor(),
                    "recordings_keep",
                    oml_store::recordings::KEEP_DAYS_KEY,
                    None,
                    &kept.map_or("forever".to_string(), |d| d.to_string()),
                )
                .await?;
            kept
        }
        None => store.recordings_keep_days().await?,
    };
    match kept {
        Some(d) => {
            outln!("recordings are kept {d} day(s); older ones are deleted daily by `oml serve`")?
        }
        None => outln!("recordings are kept for ever (recordings.keep_days is not set)")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The plan as the operator reads it.
pub fn describe(plan: &PrunePlan, dir: &Path) -> String {
    let mut out = String::new();
    let Some(days) = plan.keep_days else {
        out.push_str("recordings are kept for ever (set a limit with `oml recordings keep DAYS`): nothing to delete\n");
        return out;
    };
    out.push_str(&format!(
        "recordings folder {}; kept {days} day(s): calls placed before {}\n",
        dir.display(),
        plan.cutoff_ms.map(oml_store::format_ms).unwrap_or_default()
    ));
    for i in plan.items.iter().take(LISTED) {
        let size = i
            .bytes
            .map_or("already gone".to_string(), |b| format!("{b} bytes"));
        out.push_str(&format!(
            "  {}  {}  ({size})\n",
            recordings_day(i.placed_at),
            i.file
        ));
    }
    if plan.items.len() > LISTED {
        out.push_str(&format!("  ... and {} more\n", plan.items.len() - LISTED));
    }
    out.push_str(&format!(
        "{} recording(s): {} file(s), {} bytes; {} already missing; oldest kept {}\n",
        plan.items.len(),
        plan.files,
        plan.bytes,
        plan.missing,
        plan.oldest_kept_ms.map_or("none".into(), recordings_day)
    ));
    out
}

async fn prune(store: &Store, dir: &Path, dry_run: bool, yes: bool) -> Result<ExitCode> {
    let now = oml_store::now_ms();
    let plan = store.plan_recordings_prune(dir, now).await?;
    crate::output::text(&describe(&plan, dir))?;
    if plan.items.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if dry_run {
        outln!("dry run: nothing deleted")?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::cli::confirm(
        yes,
        "delete recordings",
        &format!("Delete these {} recording(s)? Type yes: ", plan.items.len()),
        "yes",
    )?;
    let done = retention_run(store, dir, &crate::actor::cli_actor()).await?;
    outln!(
        "deleted {} file(s), {} bytes ({} already missing); oldest kept {}",
        done.files,
        done.bytes,
        done.missing,
        done.oldest_kept_ms.map_or("none".into(), recordings_day)
    )?;
    Ok(ExitCode::SUCCESS)
}

/// How often `oml serve` runs retention.
pub const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(86_400);

/// The daily retention run of `oml serve`: a first run a minute after the
/// start (a restart does not skip a day), then every [`RETENTION_EVERY`].
/// It runs in the console's process because that is where
/// `paths.recordings_dir` is read (downloads, backups); dialer engines on
/// other hosts may not have the folder, and several would race.
pub fn spawn_daily(store: Store, dir: std::path::PathBuf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        let mut tick = tokio::time::interval(RETENTION_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = retention_run(&store, &dir, "system").await {
                tracing::warn!(error = %e, "recording retention failed; tried again tomorrow");
            }
        }
    })
}

/// One retention run: deletes, audits (when a limit is set) and logs.
pub async fn retention_run(store: &Store, dir: &Path, actor: &str) -> Result<PrunePlan> {
    let now = oml_store::now_ms();
    let done = store.prune_recordings(dir, now, true).await?;
    if done.keep_days.is_some() {
        store
            .audit(
                now,
                actor,
                "recordings_prune",
                &dir.display().to_string(),
                None,
                &done.summary(),
            )
            .await?;
        if actor == "system" {
            tracing::info!(
                files = done.files,
                bytes = done.bytes,
                missing = done.missing,
                "recording retention ran"
            );
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_retention_run_is_audited_once_a_limit_is_set() {
        let ts = oml_store::testing::sqlite().await;
        let store = &ts.store;
        let dir = tempfile::tempdir().unwrap();
        let runs = |s: &Store| {
            let s = s.clone();
            async move {
                s.audit_entries(&oml_store::AuditFilter {
                    limit: 10,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.action == "recordings_prune")
                .collect::<Vec<_>>()
            }
        };
        let done = retention_run(store, dir.path(), "system").await.unwrap();
        assert_eq!(done.keep_days, None);
        assert!(
            runs(store).await.is_empty(),
            "kept for ever: nothing to audit"
        );
        store.set_recordings_keep_days("30").await.unwrap();
        retention_run(store, dir.path(), "system").await.unwrap();
        let rows = runs(store).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].actor, "system");
        assert!(
            rows[0]
                .detail
                .starts_with("0 file(s), 0 bytes, 0 already missing; keep_days 30"),
            "{}",
            rows[0].detail
        );
        let text = describe(&done, dir.path());
        assert!(text.contains("kept for ever"), "{text}");
    }
}
