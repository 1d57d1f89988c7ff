//! `oml dnc add|remove|list|import`: the do-not-call list, global or per
//! campaign. Numbers are normalised exactly as a contact import normalises
//! them (same rules, same default country: `[dialer] default_country` in
//! oml.toml unless `--default-country-code` says otherwise), so a blocked
//! number matches the contact it blocks; number files are read by
//! `oml_dialer::dnc_file`.

use crate::cli::{self, GlobalArgs};
use crate::output::{self, outln, StdoutError};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use oml_dialer::dnc_file::read_numbers;
use oml_dialer::import::{Normalizer, Rejection};
use oml_store::{format_ms, DncScope, Store};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum DncCommand {
    /// Put numbers on the do-not-call list.
    Add {
        #[arg(required = true)]
        phones: Vec<String>,
        /// Only for this campaign (default: every campaign).
        #[arg(long)]
        campaign: Option<String>,
        /// The country of numbers written without + (`54`, `+54`, `AR`);
        /// default: `[dialer] default_country` of oml.toml. Such numbers
        /// are also blocked under every other country code.
        #[arg(long, alias = "default-country")]
        default_country_code: Option<String>,
    },
    /// Take numbers off the do-not-call list.
    Remove {
        #[arg(required = true)]
        phones: Vec<String>,
        /// From this campaign's list (default: the global list).
        #[arg(long)]
        campaign: Option<String>,
        #[arg(long, alias = "default-country")]
        default_country_code: Option<String>,
    },
    /// Show the do-not-call list (global and every campaign's by default).
    List {
        /// Only this campaign's own list.
        #[arg(long, conflicts_with = "global")]
        campaign: Option<String>,
        /// Only the global list.
        #[arg(long)]
        global: bool,
        #[arg(long)]
        json: bool,
    },
    /// Add every number of a file: a CSV with a header (phone column named
    /// or detected, like `oml campaign import`) or one number per line.
    Import {
        file: PathBuf,
        #[arg(long)]
        campaign: Option<String>,
        /// The column holding the numbers (default: detected).
        #[arg(long)]
        phone_column: Option<String>,
        #[arg(long, alias = "default-country")]
        default_country_code: Option<String>,
    },
}

/// Prints the first rejected rows (up to `max`) and how many more.
pub fn print_rejections(rejected: &[Rejection], max: usize) -> Result<(), StdoutError> {
    for r in rejected.iter().take(max) {
        outln!("  row {}: `{}`: {}", r.row, r.phone, r.reason)?;
    }
    if rejected.len() > max {
        outln!("  ... and {} more", rejected.len() - max)?;
    }
    Ok(())
}

/// The normaliser for numbers: the flag's country, else the installation's
/// (`[dialer] default_country` in oml.toml), else none.
pub fn normalizer(g: &GlobalArgs, flag: Option<&str>) -> Result<Normalizer> {
    let configured;
    let country = match flag {
        Some(c) => Some(c),
        None => {
            configured = oml_config::Config::load(&g.data_dir)?
                .dialer
                .default_country;
            configured.as_deref()
        }
    };
    Ok(Normalizer::new(country)?)
}

async fn scope(store: &Store, campaign: Option<&str>) -> Result<DncScope> {
    Ok(match campaign {
        None => DncScope::Global,
        Some(name) => DncScope::Campaign(cli::find_campaign(store, name).await?.id),
    })
}

fn describe(scope: DncScope, campaign: Option<&str>) -> String {
    match (scope, campaign) {
        (DncScope::Campaign(_), Some(name)) => format!("the do-not-call list of campaign `{name}`"),
        _ => "the global do-not-call list".into(),
    }
}

/// Adds the numbers of `path` to a do-not-call list and says what happened.
pub async fn import_file(
    store: &Store,
    scope: DncScope,
    label: &str,
    path: &Path,
    phone_column: Option<&str>,
    normalizer: &Normalizer,
) -> Result<()> {
    let f = read_numbers(path, phone_column, normalizer)?;
    let added = store.dnc_add(scope.campaign_id(), &f.numbers).await?;
    outln!(
        "{}: {} rows, {} numbers added to {label}, {} already there, {} invalid.",
        path.display(),
        f.rows,
        added,
        f.rows - added - f.rejected.len() as u64,
        f.rejected.len()
    )?;
    print_rejections(&f.rejected, 20)?;
    store
        .audit(
            oml_store::now_ms(),
            &crate::actor::cli_actor(),
            "dnc_import",
            label,
            None,
            &format!("{}: {added} added", path.display()),
        )
        .await?;
    Ok(())
}

pub async fn run(g: &GlobalArgs, cmd: DncCommand) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let actor = crate::actor::cli_actor();
    match cmd {
        DncCommand::Add {
            phones,
            campaign,
            default_country_code,
        } => {
            let norm = normalizer(g, default_country_code.as_deref())?;
            let sc = scope(&store, campaign.as_deref()).await?;
            let numbers = phones
                .iter()
                .map(|p| norm.phone(p).with_context(|| format!("`{p}`")))
                .collect::<Result<Vec<_>>>()?;
            let added = store.dnc_add(sc.campaign_id(), &numbers).await?;
            let label = describe(sc, campaign.as_deref());
            store
                .audit(
                    oml_store::now_ms(),
                    &actor,
                    "dnc_add",
                    &label,
                    None,
                    &numbers
                        .iter()
                        .map(|n| n.number.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                )
                .await?;
            outln!(
                "{added} number(s) added to {label} ({} already there).",
                numbers.len() as u64 - added
            )?;
        }
        DncCommand::Remove {
            phones,
            campaign,
            default_country_code,
        } => {
            let norm = normalizer(g, default_country_code.as_deref())?;
            let sc = scope(&store, campaign.as_deref()).await?;
            let label = describe(sc, campaign.as_deref());
            let mut missing = Vec::new();
            for p in &phones {
                let n = norm.normalize(p).with_context(|| format!("`{p}`"))?;
                if store.dnc_remove(sc.campaign_id(), &n).await? {
                    store
                        .audit(oml_store::now_ms(), &actor, "dnc_remove", &label, None, &n)
                        .await?;
                    outln!("{n} removed from {label}.")?;
                } else {
                    missing.push(n);
                }
            }
            if !missing.is_empty() {
                bail!("not on {label}: {}", missing.join(", "));
            }
        }
        DncCommand::List {
            campaign,
            global,
            json,
        } => {
            let filter = if global {
                Some(DncScope::Global)
            } else if campaign.is_some() {
                Some(scope(&store, campaign.as_deref()).await?)
            } else {
                None
            };
            let entries = store.dnc_list(filter).await?;
            if json {
                output::json(&entries)?;
            } else if entries.is_empty() {
                outln!("The do-not-call list is empty.")?;
            } else {
                outln!(
                    "{:<18} {:<14} {:<20} ADDED",
                    "PHONE",
                    "ANY COUNTRY",
                    "CAMPAIGN"
                )?;
                for e in entries {
                    outln!(
                        "{:<18} {:<14} {:<20} {}",
                        e.phone,
                        e.national.as_deref().unwrap_or("-"),
                        e.campaign.as_deref().unwrap_or("(all)"),
                        format_ms(e.added_at)
                    )?;
                }
            }
        }
        DncCommand::Import {
            file,
            campaign,
            phone_column,
            default_country_code,
        } => {
            let norm = normalizer(g, default_country_code.as_deref())?;
            let sc = scope(&store, campaign.as_deref()).await?;
            let label = describe(sc, campaign.as_deref());
            import_file(&store, sc, &label, &file, phone_column.as_deref(), &norm).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
