//! `oml campaign`: outbound campaigns from the shell. Configuration
//! (`create|edit|list|show|delete`, every field a flag with a default; the
//! flags are in campaign_args.rs) and contact-list upload (`import`, in
//! campaign_import.rs). The view `show` and `list` print is
//! `oml_dialer::campaign_view`. The running side (`start|pause|stop|stats`)
//! lives with the dialer engine.

use super::campaign_args::{CreateArgs, EditArgs};
use super::campaign_call_path as call_path;
use super::campaign_import::ImportArgs;
use super::dnc;
use crate::cli::{self, GlobalArgs};
use crate::output::{self, outln};
use anyhow::{bail, Result};
use clap::Subcommand;
use oml_dialer::campaign_view::{campaign_view, campaign_views, list_table};
use oml_dialer::dnc_file::NumberFile;
use oml_store::{Campaign, CampaignSpec, CampaignState, Store};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Create a campaign (stopped). Every option has a default.
    Create(CreateArgs),
    /// Change a campaign; only the options given change.
    Edit(EditArgs),
    /// List campaigns with their contact counts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show every setting of a campaign, its rules, lists and contacts.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Every contact of a campaign (or those in one --state): phone,
    /// state, attempts, next try, last outcome; read page by page.
    Contacts(super::campaign_contacts::ContactsArgs),
    /// Upload a CSV contact list into a campaign.
    Import(ImportArgs),
    /// A campaign's dispositions (the agents' wrap-up form) and wrap-up limit.
    #[command(subcommand)]
    Disposition(super::campaign_disposition::DispositionCommand),
    /// Let a campaign dial (when the dialer is started).
    Start { name: String },
    /// Pause a campaign: no new calls; calls in progress finish.
    Pause { name: String },
    /// Stop a campaign: no new calls; calls in progress finish.
    Stop { name: String },
    /// Contacts by state, attempts by outcome, abandon rate over the window.
    Stats {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a campaign with its contacts, call records and do-not-call list.
    Delete {
        name: String,
        /// Confirm deleting a campaign that has contacts.
        #[arg(long)]
        yes: bool,
    },
}

async fn add_dnc(store: &Store, c: &Campaign, file: Option<(PathBuf, NumberFile)>) -> Result<()> {
    if let Some((path, f)) = file {
        let added = store.dnc_add(Some(c.id), &f.numbers).await?;
        outln!(
            "{}: {added} number(s) added to the do-not-call list of `{}`, {} invalid row(s).",
            path.display(),
            c.name,
            f.rejected.len()
        )?;
        dnc::print_rejections(&f.rejected, 20)?;
    }
    Ok(())
}

/// Says which stored settings go beyond the campaign's rule set, if any.
fn warn_non_compliant(c: &Campaign) -> Result<()> {
    for b in c.breaches() {
        outln!(
            "Warning: NON-COMPLIANT (allowed by --non-compliant): {b}. `oml campaign show {}` and its report say so.",
            c.name
        )?;
    }
    Ok(())
}

pub async fn run(g: &GlobalArgs, cmd: CampaignCommand) -> Result<ExitCode> {
    match cmd {
        CampaignCommand::Create(a) => create(g, a).await,
        CampaignCommand::Edit(a) => edit(g, a).await,
        CampaignCommand::List { json } => list(g, json).await,
        CampaignCommand::Show { name, json } => show(g, &name, json).await,
        CampaignCommand::Import(a) => super::campaign_import::import(g, a).await,
        CampaignCommand::Contacts(a) => super::campaign_contacts::run(g, a).await,
        CampaignCommand::Disposition(c) => super::campaign_disposition::run(g, c).await,
        CampaignCommand::Delete { name, yes } => delete(g, &name, yes).await,
        CampaignCommand::Start { name } => {
            super::dialer_run::set_campaign_state(g, &name, CampaignState::Running).await
        }
        CampaignCommand::Pause { name } => {
            super::dialer_run::set_campaign_state(g, &name, CampaignState::Paused).await
        }
        CampaignCommand::Stop { name } => {
            super::dialer_run::set_campaign_state(g, &name, CampaignState::Stopped).await
        }
        CampaignCommand::Stats { name, json } => super::campaign_run::stats(g, &name, json).await,
    }
}

async fn create(g: &GlobalArgs, a: CreateArgs) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let trunk = match &a.fields.trunk {
        Some(t) => t.clone(),
        None => {
            let trunks = store.trunks().await?;
            match trunks.as_slice() {
                [only] => only.name.clone(),
                [] => bail!("no trunk to dial through: add one with `oml trunk add NAME` first"),
                _ => bail!(
                    "several trunks exist ({}): choose one with --trunk",
                    trunks
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let mut spec = CampaignSpec::new(&a.name, &trunk);
    spec.queue_name = a.name.clone();
    a.fields.apply(&mut spec)?;
    spec.validate()?;
    let sounds = oml_config::Config::load(&g.data_dir)?.paths.sounds_dir;
    let cp = call_path::wanted(&store, &a.fields.call_path, None, &sounds).await?;
    let fp_rate = a.fields.call_path.false_positive_rate()?;
    let dnc = a.fields.dnc_numbers(g)?;
    let c = store.create_campaign_with(&spec, cp.as_ref()).await?;
    if let Some(r) = fp_rate {
        store.set_amd_false_positive_rate(c.id, r).await?;
    }
    store
        .audit(
            oml_store::now_ms(),
            &crate::actor::cli_actor(),
            "campaign_create",
            &c.name,
            None,
            "",
        )
        .await?;
    let v = campaign_view(&store, &c, false).await?;
    outln!(
        "Campaign `{}` created ({}, trunk {}, answered calls to {}, {} {} {}), state stopped.",
        v.name,
        v.mode,
        v.trunk,
        v.delivery,
        v.window,
        v.days,
        v.time_zone
    )?;
    warn_non_compliant(&c)?;
    add_dnc(&store, &c, dnc).await?;
    outln!("Next: oml campaign import {} CONTACTS.csv", c.name)?;
    Ok(ExitCode::SUCCESS)
}

async fn edit(g: &GlobalArgs, a: EditArgs) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let old = cli::find_campaign(&store, &a.name).await?;
    let mut spec = store.campaign_spec(&old).await?;
    if let Some(n) = &a.rename {
        spec.name = n.clone();
    }
    a.fields.apply(&mut spec)?;
    spec.validate()?;
    let sounds = oml_config::Config::load(&g.data_dir)?.paths.sounds_dir;
    let cp = call_path::wanted(&store, &a.fields.call_path, Some(&old), &sounds).await?;
    let fp_rate = a.fields.call_path.false_positive_rate()?;
    let dnc = a.fields.dnc_numbers(g)?;
    let c = store
        .update_campaign_with(&a.name, &spec, cp.as_ref())
        .await?;
    if let Some(r) = fp_rate {
        store.set_amd_false_positive_rate(c.id, r).await?;
    }
    store
        .audit(
            oml_store::now_ms(),
            &crate::actor::cli_actor(),
            "campaign_edit",
            &c.name,
            None,
            "",
        )
        .await?;
    outln!("Campaign `{}` updated.", c.name)?;
    warn_non_compliant(&c)?;
    add_dnc(&store, &c, dnc).await?;
    Ok(ExitCode::SUCCESS)
}

async fn list(g: &GlobalArgs, json: bool) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let views = campaign_views(&store).await?;
    if json {
        output::json(&views)?;
    } else {
        output::text(&list_table(&views))?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(g: &GlobalArgs, name: &str, json: bool) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let c = cli::find_campaign(&store, name).await?;
    let v = campaign_view(&store, &c, true).await?;
    if json {
        output::json(&v)?;
    } else {
        output::text(&v.report())?;
        let cp = store.call_path(c.id).await?;
        output::text(&format!(
            "{}\n",
            call_path::lines(&c, cp.as_ref()).join("\n")
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn delete(g: &GlobalArgs, name: &str, yes: bool) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let c = cli::find_campaign(&store, name).await?;
    if matches!(c.state, CampaignState::Running | CampaignState::Paused) {
        bail!(
            "campaign `{name}` is {}: stop it first (oml campaign stop {name})",
            c.state
        );
    }
    let contacts: i64 = store
        .contact_counts(c.id)
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum();
    if contacts > 0 && !yes {
        bail!("campaign `{name}` has {contacts} contact(s) and their call records: add --yes to delete them with it");
    }
    store.delete_campaign(name).await?;
    store
        .audit(
            oml_store::now_ms(),
            &crate::actor::cli_actor(),
            "campaign_delete",
            name,
            None,
            &format!("{contacts} contacts"),
        )
        .await?;
    outln!("Campaign `{name}` deleted ({contacts} contact(s)).")?;
    Ok(ExitCode::SUCCESS)
}
