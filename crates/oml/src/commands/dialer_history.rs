//! `oml dialer history`: how many days of per-minute campaign history the
//! engine keeps (the setting `history.keep_days`, 400 by default), shown
//! or changed with `--keep-days N`; audited when changed.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::cli::GlobalArgs;
use crate::output::outln;

#[derive(Args)]
pub struct HistoryArgs {
    /// Keep this many days of per-minute history (1 to 36500); older
    /// minutes are deleted by the engine once a day.
    #[arg(long)]
    keep_days: Option<String>,
}

pub async fn run(g: &GlobalArgs, a: HistoryArgs) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let days = match a.keep_days {
        Some(v) => {
            let days = store.set_history_keep_days(&v).await?;
            let actor = crate::actor::cli_actor();
            store
                .audit(
                    oml_store::now_ms(),
                    &actor,
                    "history.keep_days",
                    oml_store::history::KEEP_DAYS_KEY,
                    None,
                    &days.to_string(),
                )
                .await?;
            days
        }
        None => store.history_keep_days().await?,
    };
    outln!("per-minute campaign history: kept {days} days (older minutes are deleted daily)")?;
    Ok(ExitCode::SUCCESS)
}
