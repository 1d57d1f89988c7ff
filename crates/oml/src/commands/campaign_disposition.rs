//! `oml campaign disposition add|list|remove|wrapup`: a campaign's
//! dispositions (what agents say of each call in the wrap-up form, and what
//! that does to the contact) and its wrap-up time limit. The rules are
//! oml_store::dispositions'; this file parses, asks the store and prints.

use crate::cli::{self, GlobalArgs};
use crate::output::{self, outln};
use anyhow::Result;
use clap::Subcommand;
use oml_store::dispositions::{Disposition, DncTarget};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum DispositionCommand {
    /// Add a disposition to a campaign.
    Add {
        /// The campaign.
        campaign: String,
        /// The disposition's name, as agents see it (e.g. "sale").
        name: String,
        /// The contact is done: never called again.
        #[arg(long = "final")]
        is_final: bool,
        /// The agent gives a date and time to call the contact back.
        #[arg(long)]
        callback: bool,
        /// Add the number to the campaign's or the global do-not-call list.
        #[arg(long, value_name = "campaign|global")]
        dnc: Option<String>,
        /// Neither final nor a callback: try the contact again this many
        /// seconds later.
        #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
        retry_after: i64,
    },
    /// List a campaign's dispositions and its wrap-up limit.
    List {
        campaign: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a disposition (calls that were given it keep its name).
    Remove { campaign: String, name: String },
    /// Show or set how long agents may stay in wrap-up after a call.
    Wrapup {
        campaign: String,
        /// The new limit in seconds (1-3600).
        seconds: Option<i64>,
    },
}

/// What a disposition does, in words: `final`, `callback`, `dnc campaign`,
/// `retry after 3600 s`.
pub fn effect_words(d: &Disposition) -> String {
    let mut words = Vec::new();
    if d.is_final {
        words.push("final".to_string());
    }
    if d.callback {
        words.push("callback".to_string());
    }
    if d.dnc != DncTarget::No {
        words.push(format!("dnc {}", d.dnc.as_str()));
    }
    if words.is_empty() {
        words.push(format!("retry after {} s", d.retry_after_s));
    }
    words.join(", ")
}

pub async fn run(g: &GlobalArgs, cmd: DispositionCommand) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let actor = crate::actor::cli_actor();
    let now = oml_store::now_ms();
    match cmd {
        DispositionCommand::Add {
            campaign,
            name,
            is_final,
            callback,
            dnc,
            retry_after,
        } => {
            let d = Disposition {
                name,
                is_final,
                callback,
                dnc: dnc.as_deref().unwrap_or("no").parse()?,
                retry_after_s: retry_after,
            };
            d.validate()?;
            let c = cli::find_campaign(&store, &campaign).await?;
            store.add_disposition(c.id, &d).await?;
            let detail = format!("{}: {}", d.name, effect_words(&d));
            store
                .audit(now, &actor, "disposition_add", &c.name, None, &detail)
                .await?;
            outln!(
                "Disposition `{}` added to `{}` ({}).",
                d.name,
                c.name,
                effect_words(&d)
            )?;
        }
        DispositionCommand::List { campaign, json } => {
            let c = cli::find_campaign(&store, &campaign).await?;
            let list = store.dispositions(c.id).await?;
            let wrapup = store.wrapup_limit_s(c.id).await?;
            if json {
                let v = serde_json::json!({ "campaign": c.name, "wrapup_s": wrapup, "dispositions": list });
                output::json(&v)?;
            } else {
                outln!("{:<24} EFFECT", "DISPOSITION")?;
                for d in &list {
                    outln!("{:<24} {}", d.name, effect_words(d))?;
                }
                outln!("{} disposition(s); wrap-up limit {wrapup} s.", list.len())?;
            }
        }
        DispositionCommand::Remove { campaign, name } => {
            let c = cli::find_campaign(&store, &campaign).await?;
            if !store.remove_disposition(c.id, &name).await? {
                anyhow::bail!(
                    "campaign `{}` has no disposition `{name}` (see `oml campaign disposition list {}`)",
                    c.name,
                    c.name
                );
            }
            store
                .audit(now, &actor, "disposition_remove", &c.name, None, &name)
                .await?;
            outln!("Disposition `{name}` removed from `{}`.", c.name)?;
        }
        DispositionCommand::Wrapup { campaign, seconds } => {
            let c = cli::find_campaign(&store, &campaign).await?;
            if let Some(s) = seconds {
                store.set_wrapup_limit_s(c.id, s).await?;
                let detail = format!("wrap-up {s} s");
                store
                    .audit(now, &actor, "wrapup_set", &c.name, None, &detail)
                    .await?;
            }
            let limit = store.wrapup_limit_s(c.id).await?;
            outln!("Wrap-up limit of `{}`: {limit} s.", c.name)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
