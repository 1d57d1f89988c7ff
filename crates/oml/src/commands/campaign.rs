//! `oml campaign`: outbound campaigns from the shell. Configuration
//! (`create|edit|list|show|delete`, every field a flag with a default) and
//! contact-list upload (`import`: streamed, one transaction, every rejected
//! row reported with its row number and reason). The running side
//! (`start|pause|stop|stats`) lives with the dialer engine.

use super::dnc;
use crate::cli::{self, GlobalArgs};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use oml_dialer::contact_import::{import_contacts, ImportOptions, ImportSink};
use oml_dialer::import::{Normalizer, Rejection, Summary};
use oml_store::{
    format_days, format_minute, format_ms, parse_days, parse_rate, parse_window, AbandonWindow,
    Campaign, CampaignMode, CampaignSpec, CampaignState, DncScope, RescheduleRule, RetryOutcome,
    Store,
};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
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
    /// Upload a CSV contact list into a campaign.
    Import(ImportArgs),
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

/// Every campaign setting. On `create` an absent option takes the default
/// given in its help; on `edit` it keeps the current value.
#[derive(Args, Default)]
pub struct Fields {
    /// Dialing mode: preview, progressive or predictive [create: predictive].
    #[arg(long)]
    mode: Option<CampaignMode>,
    /// Trunk to dial through [create: the only trunk, when there is one].
    #[arg(long)]
    trunk: Option<String>,
    /// Connect answered calls to this dialplan context and extension,
    /// written CONTEXT,EXTEN [create: a queue named after the campaign].
    #[arg(long, value_name = "CONTEXT,EXTEN", conflicts_with = "queue")]
    deliver_to: Option<String>,
    /// Connect answered calls to this Asterisk queue.
    #[arg(long, value_name = "NAME")]
    queue: Option<String>,
    /// Highest abandon rate allowed, as 3% or 0.03 [create: 3%].
    #[arg(long, value_name = "RATE")]
    max_abandon_rate: Option<String>,
    /// Period the abandon rate is held over: us (30 days) or uk (24 h)
    /// [create: us].
    #[arg(long)]
    abandon_window: Option<AbandonWindow>,
    /// An answered call with no agent within this many seconds counts as
    /// abandoned [create: 2].
    #[arg(long, value_name = "SECONDS")]
    abandon_seconds: Option<i64>,
    /// Seconds to let a number ring [create: 25].
    #[arg(long, value_name = "SECONDS")]
    ring_timeout: Option<i64>,
    /// Caller ID shown to the called person [create: the trunk's].
    #[arg(long)]
    caller_id: Option<String>,
    /// IANA time zone of the calling window [create: UTC].
    #[arg(long, value_name = "ZONE")]
    time_zone: Option<String>,
    /// Calling hours, local to --time-zone [create: 09:00-21:00].
    #[arg(long, value_name = "HH:MM-HH:MM")]
    window: Option<String>,
    /// Calling days: mon-fri, sat,sun, all, ... [create: mon-fri].
    #[arg(long)]
    days: Option<String>,
    /// Higher runs first when campaigns share agents or trunks [create: 10].
    #[arg(long)]
    priority: Option<i64>,
    /// Reschedule rule OUTCOME:MAX_ATTEMPTS:RETRY_AFTER_S[:fixed|multiplied]
    /// for busy, no_answer, congestion, failed or abandoned; repeat for
    /// several outcomes. Replaces that outcome's rule only
    /// [create: busy:3:300 no_answer:3:1800 congestion:3:600 failed:2:1800 abandoned:2:3600].
    #[arg(long = "retry", value_name = "RULE")]
    retry: Vec<String>,
    /// Never retry this outcome (removes its rule); repeatable.
    #[arg(long = "no-retry", value_name = "OUTCOME")]
    no_retry: Vec<RetryOutcome>,
    /// Add the numbers of this file to the campaign's do-not-call list
    /// (CSV with a phone column, or one number per line).
    #[arg(long, value_name = "FILE")]
    dnc_file: Option<PathBuf>,
    /// Country code for numbers of --dnc-file without + (as for imports).
    #[arg(long, value_name = "CODE", requires = "dnc_file")]
    dnc_country_code: Option<String>,
}

#[derive(Args)]
pub struct CreateArgs {
    /// Campaign name (letters, digits, . _ -).
    name: String,
    #[command(flatten)]
    fields: Fields,
}

#[derive(Args)]
pub struct EditArgs {
    name: String,
    /// New name.
    #[arg(long)]
    rename: Option<String>,
    #[command(flatten)]
    fields: Fields,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The campaign to add contacts to.
    campaign: String,
    /// CSV file with a header row.
    file: PathBuf,
    /// The column holding the phone number (default: detected from names
    /// such as phone, telefono, number, mobile, celular).
    #[arg(long, value_name = "NAME")]
    phone_column: Option<String>,
    /// Make numbers without + international: 00 becomes +, otherwise one
    /// leading 0 is dropped and +CODE added (e.g. 54).
    #[arg(long, value_name = "CODE")]
    default_country_code: Option<String>,
    /// Field delimiter (default: detected from the header: , ; TAB or |).
    #[arg(long, value_parser = parse_delimiter)]
    delimiter: Option<u8>,
    /// Where to write every rejected row [default: FILE.rejected.csv next
    /// to the input].
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "tab" | "TAB" => Ok(b'\t'),
        s if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err("give one character, or `tab`".into()),
    }
}

impl Fields {
    /// Applies the options given onto `spec`.
    fn apply(&self, spec: &mut CampaignSpec) -> Result<()> {
        if let Some(m) = self.mode {
            spec.mode = m;
        }
        if let Some(t) = &self.trunk {
            spec.trunk = t.clone();
        }
        if let Some(d) = &self.deliver_to {
            let (ctx, exten) = d.split_once(',').with_context(|| {
                format!("--deliver-to `{d}`: write CONTEXT,EXTEN, e.g. from-oml-agents,s")
            })?;
            spec.delivery_context = ctx.trim().to_string();
            spec.delivery_exten = exten.trim().to_string();
            spec.queue_name.clear();
        }
        if let Some(q) = &self.queue {
            if q.trim().is_empty() {
                bail!("--queue is empty: give the Asterisk queue name");
            }
            spec.queue_name = q.trim().to_string();
        }
        if let Some(r) = &self.max_abandon_rate {
            spec.max_abandon_rate =
                parse_rate(r).with_context(|| format!("--max-abandon-rate `{r}`"))?;
        }
        if let Some(w) = self.abandon_window {
            spec.abandon_window = w;
        }
        if let Some(s) = self.abandon_seconds {
            spec.abandon_seconds = s;
        }
        if let Some(s) = self.ring_timeout {
            spec.ring_timeout_s = s;
        }
        if let Some(c) = &self.caller_id {
            spec.caller_id = c.clone();
        }
        if let Some(z) = &self.time_zone {
            spec.time_zone = z.trim().to_string();
        }
        if let Some(w) = &self.window {
            (spec.window_start_minute, spec.window_end_minute) =
                parse_window(w).with_context(|| format!("--window `{w}`"))?;
        }
        if let Some(d) = &self.days {
            spec.days_mask = parse_days(d).with_context(|| format!("--days `{d}`"))?;
        }
        if let Some(p) = self.priority {
            spec.priority = p;
        }
        let mut given = std::collections::HashSet::new();
        for text in &self.retry {
            let rule = RescheduleRule::parse(text).with_context(|| format!("--retry `{text}`"))?;
            if !given.insert(rule.outcome) {
                bail!("--retry: outcome `{}` is given twice", rule.outcome);
            }
            spec.rules.retain(|r| r.outcome != rule.outcome);
            spec.rules.push(rule);
        }
        for o in &self.no_retry {
            if given.contains(o) {
                bail!("outcome `{o}` is both in --retry and --no-retry");
            }
            spec.rules.retain(|r| r.outcome != *o);
        }
        spec.rules.sort_by_key(|r| r.outcome.as_str());
        Ok(())
    }

    /// Reads --dnc-file before anything is stored, so a bad file changes
    /// nothing.
    fn dnc_numbers(&self) -> Result<Option<(PathBuf, dnc::NumberFile)>> {
        match &self.dnc_file {
            None => Ok(None),
            Some(path) => {
                let norm = Normalizer::new(self.dnc_country_code.as_deref())?;
                Ok(Some((path.clone(), dnc::read_numbers(path, None, &norm)?)))
            }
        }
    }
}

async fn add_dnc(
    store: &Store,
    c: &Campaign,
    file: Option<(PathBuf, dnc::NumberFile)>,
) -> Result<()> {
    if let Some((path, f)) = file {
        let added = store.dnc_add(Some(c.id), &f.numbers).await?;
        println!(
            "{}: {added} number(s) added to the do-not-call list of `{}`, {} invalid row(s).",
            path.display(),
            c.name,
            f.rejected.len()
        );
        dnc::print_rejections(&f.rejected, 20);
    }
    Ok(())
}

/// The stored campaign as a spec, to edit.
async fn spec_of(store: &Store, c: &Campaign) -> Result<CampaignSpec> {
    Ok(store.campaign_spec(c).await?)
}

/// Everything `show` prints, and `--json` gives.
#[derive(Serialize)]
struct CampaignView {
    name: String,
    mode: CampaignMode,
    state: CampaignState,
    trunk: String,
    delivery: Delivery,
    max_abandon_rate: f64,
    abandon_window: AbandonWindow,
    abandon_seconds: i64,
    ring_timeout_s: i64,
    caller_id: String,
    time_zone: String,
    window: String,
    days: String,
    priority: i64,
    reschedule_rules: Vec<String>,
    contacts: ContactCounts,
    lists: Vec<oml_store::ContactList>,
    do_not_call_numbers: usize,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Delivery {
    Queue { name: String },
    Dialplan { context: String, exten: String },
}

impl std::fmt::Display for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Delivery::Queue { name } => write!(f, "queue {name}"),
            Delivery::Dialplan { context, exten } => write!(f, "{context},{exten}"),
        }
    }
}

#[derive(Serialize, Default)]
struct ContactCounts {
    total: i64,
    by_state: std::collections::BTreeMap<String, i64>,
}

fn rule_text(r: &RescheduleRule) -> String {
    format!(
        "{}:{}:{}:{}",
        r.outcome, r.max_attempts, r.retry_after_s, r.backoff
    )
}

async fn view(store: &Store, c: &Campaign, detailed: bool) -> Result<CampaignView> {
    let spec = spec_of(store, c).await?;
    let mut counts = ContactCounts::default();
    for (state, n) in store.contact_counts(c.id).await? {
        counts.total += n;
        counts.by_state.insert(state, n);
    }
    let (lists, dnc) = if detailed {
        (
            store.contact_lists(c.id).await?,
            store.dnc_list(Some(DncScope::Campaign(c.id))).await?.len(),
        )
    } else {
        (Vec::new(), 0)
    };
    Ok(CampaignView {
        name: c.name.clone(),
        mode: c.mode,
        state: c.state,
        trunk: spec.trunk,
        delivery: if c.queue_name.is_empty() {
            Delivery::Dialplan {
                context: c.delivery_context.clone(),
                exten: c.delivery_exten.clone(),
            }
        } else {
            Delivery::Queue {
                name: c.queue_name.clone(),
            }
        },
        max_abandon_rate: c.max_abandon_rate,
        abandon_window: c.abandon_window,
        abandon_seconds: c.abandon_seconds,
        ring_timeout_s: c.ring_timeout_s,
        caller_id: c.caller_id.clone(),
        time_zone: c.time_zone.clone(),
        window: format!(
            "{}-{}",
            format_minute(c.window_start_minute),
            format_minute(c.window_end_minute)
        ),
        days: format_days(c.days_mask),
        priority: c.priority,
        reschedule_rules: spec.rules.iter().map(rule_text).collect(),
        contacts: counts,
        lists,
        do_not_call_numbers: dnc,
        created_at: format_ms(c.created_at),
        updated_at: format_ms(c.updated_at),
    })
}

fn print_view(v: &CampaignView) {
    let pct = format!("{:.2}", v.max_abandon_rate * 100.0)
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string();
    println!("Campaign {}", v.name);
    println!("  mode              {}", v.mode);
    println!("  state             {}", v.state);
    println!("  trunk             {}", v.trunk);
    println!("  answered calls to {}", v.delivery);
    println!(
        "  max abandon rate  {pct}% over the {} window ({}), abandoned after {} s without an agent",
        v.abandon_window,
        if v.abandon_window == AbandonWindow::Us {
            "30 days"
        } else {
            "24 hours"
        },
        v.abandon_seconds
    );
    println!("  ring timeout      {} s", v.ring_timeout_s);
    println!(
        "  caller ID         {}",
        if v.caller_id.is_empty() {
            "(the trunk's)"
        } else {
            &v.caller_id
        }
    );
    println!(
        "  calling window    {} {} ({})",
        v.window, v.days, v.time_zone
    );
    println!("  priority          {}", v.priority);
    println!(
        "  retries           {}",
        if v.reschedule_rules.is_empty() {
            "none".to_string()
        } else {
            v.reschedule_rules.join(" ")
        }
    );
    let states: Vec<String> = v
        .contacts
        .by_state
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    println!(
        "  contacts          {}{}",
        v.contacts.total,
        if states.is_empty() {
            String::new()
        } else {
            format!(" ({})", states.join(", "))
        }
    );
    for l in &v.lists {
        println!(
            "    list {:<24} {} rows, {} imported, {} rejected, {}",
            l.name,
            l.rows_total,
            l.rows_imported,
            l.rows_rejected,
            format_ms(l.imported_at)
        );
    }
    println!(
        "  do-not-call       {} number(s) of its own (+ the global list)",
        v.do_not_call_numbers
    );
    println!("  created           {}", v.created_at);
    println!("  updated           {}", v.updated_at);
}

async fn find(store: &Store, name: &str) -> Result<Campaign> {
    store
        .campaign_by_name(name)
        .await?
        .with_context(|| format!("campaign `{name}` not found (see `oml campaign list`)"))
}

pub async fn run(g: &GlobalArgs, cmd: CampaignCommand) -> Result<ExitCode> {
    match cmd {
        CampaignCommand::Create(a) => create(g, a).await,
        CampaignCommand::Edit(a) => edit(g, a).await,
        CampaignCommand::List { json } => list(g, json).await,
        CampaignCommand::Show { name, json } => show(g, &name, json).await,
        CampaignCommand::Import(a) => import(g, a).await,
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
    let dnc = a.fields.dnc_numbers()?;
    let c = store.create_campaign(&spec).await?;
    store
        .audit(
            oml_store::now_ms(),
            &cli::cli_actor(),
            "campaign_create",
            &c.name,
            None,
            "",
        )
        .await?;
    let v = view(&store, &c, false).await?;
    println!(
        "Campaign `{}` created ({}, trunk {}, answered calls to {}, {} {} {}), state stopped.",
        v.name, v.mode, v.trunk, v.delivery, v.window, v.days, v.time_zone
    );
    add_dnc(&store, &c, dnc).await?;
    println!("Next: oml campaign import {} CONTACTS.csv", c.name);
    Ok(ExitCode::SUCCESS)
}

async fn edit(g: &GlobalArgs, a: EditArgs) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let old = find(&store, &a.name).await?;
    let mut spec = spec_of(&store, &old).await?;
    if let Some(n) = &a.rename {
        spec.name = n.clone();
    }
    a.fields.apply(&mut spec)?;
    spec.validate()?;
    let dnc = a.fields.dnc_numbers()?;
    let c = store.update_campaign(&a.name, &spec).await?;
    store
        .audit(
            oml_store::now_ms(),
            &cli::cli_actor(),
            "campaign_edit",
            &c.name,
            None,
            "",
        )
        .await?;
    println!("Campaign `{}` updated.", c.name);
    add_dnc(&store, &c, dnc).await?;
    Ok(ExitCode::SUCCESS)
}

async fn list(g: &GlobalArgs, json: bool) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let mut views = Vec::new();
    for c in store.campaigns().await? {
        views.push(view(&store, &c, false).await?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&views)?);
    } else if views.is_empty() {
        println!("No campaigns. Create one with: oml campaign create NAME --trunk TRUNK");
    } else {
        println!(
            "{:<20} {:<12} {:<9} {:<14} {:>8} {:>10} {:>10}",
            "NAME", "MODE", "STATE", "TRUNK", "PRIORITY", "CONTACTS", "PENDING"
        );
        for v in views {
            println!(
                "{:<20} {:<12} {:<9} {:<14} {:>8} {:>10} {:>10}",
                v.name,
                v.mode,
                v.state,
                v.trunk,
                v.priority,
                v.contacts.total,
                v.contacts.by_state.get("pending").copied().unwrap_or(0)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(g: &GlobalArgs, name: &str, json: bool) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let c = find(&store, name).await?;
    let v = view(&store, &c, true).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_view(&v);
    }
    Ok(ExitCode::SUCCESS)
}

async fn delete(g: &GlobalArgs, name: &str, yes: bool) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let c = find(&store, name).await?;
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
            &cli::cli_actor(),
            "campaign_delete",
            name,
            None,
            &format!("{contacts} contacts"),
        )
        .await?;
    println!("Campaign `{name}` deleted ({contacts} contact(s)).");
    Ok(ExitCode::SUCCESS)
}

// ------------------------------------------------------------------ import

/// Rejections printed on the terminal; the report file has them all.
const PRINTED_REJECTIONS: usize = 20;

/// The default report path: `FILE.rejected.csv` next to the input.
fn default_report(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".rejected.csv");
    file.with_file_name(name)
}

/// The report file, written under a temporary name and renamed into place
/// only when the import commits. Created at the first rejection.
struct Report {
    path: PathBuf,
    partial: PathBuf,
    writer: Option<csv::Writer<std::fs::File>>,
}

impl Report {
    fn new(path: PathBuf) -> Report {
        let mut partial = path.clone().into_os_string();
        partial.push(".partial");
        Report {
            path,
            partial: partial.into(),
            writer: None,
        }
    }

    fn write(&mut self, r: &Rejection) -> Result<()> {
        if self.writer.is_none() {
            let mut w = csv::Writer::from_path(&self.partial)
                .with_context(|| format!("cannot write the report {}", self.partial.display()))?;
            w.write_record(["row", "phone", "reason", "detail"])?;
            self.writer = Some(w);
        }
        let w = self.writer.as_mut().expect("just created");
        w.write_record([
            r.row.to_string().as_str(),
            r.phone.as_str(),
            r.reason.kind(),
            r.reason.to_string().as_str(),
        ])?;
        Ok(())
    }

    /// Moves the report into place; `None` when nothing was rejected (an
    /// old report of the same name is removed so it cannot mislead).
    fn finish(mut self) -> Result<Option<PathBuf>> {
        match self.writer.take() {
            Some(mut w) => {
                w.flush()?;
                drop(w);
                std::fs::rename(&self.partial, &self.path)
                    .with_context(|| format!("cannot write the report {}", self.path.display()))?;
                Ok(Some(self.path.clone()))
            }
            None => {
                let _ = std::fs::remove_file(&self.path);
                Ok(None)
            }
        }
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// Where `oml campaign import` puts rejected rows: the report file, the
/// first few for the terminal, and the progress bar.
struct CliSink {
    report: Report,
    shown: Vec<Rejection>,
    pb: ProgressBar,
}

impl ImportSink for CliSink {
    fn rejected(&mut self, r: &Rejection) -> std::io::Result<()> {
        self.report.write(r).map_err(std::io::Error::other)?;
        if self.shown.len() < PRINTED_REJECTIONS {
            self.shown.push(r.clone());
        }
        Ok(())
    }
    fn progress(&mut self, bytes: u64, imported: u64) {
        self.pb.set_position(bytes);
        self.pb.set_message(format!("{imported} imported"));
    }
}

/// What one import did, for the summary and `--json`.
#[derive(Serialize)]
struct ImportOutcome {
    campaign: String,
    file: String,
    phone_column: String,
    #[serde(flatten)]
    summary: Summary,
    report: Option<String>,
    seconds: f64,
}

fn progress_bar(size: u64) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let pb = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] [{bar:40}] {bytes}/{total_bytes} ({eta}) {msg}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        pb
    } else {
        ProgressBar::hidden()
    }
}

async fn import(g: &GlobalArgs, a: ImportArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let store = g.open_store().await?;
    let campaign = find(&store, &a.campaign).await?;
    let file = std::fs::File::open(&a.file)
        .with_context(|| format!("cannot open {}; nothing was imported", a.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let input = std::io::BufReader::with_capacity(256 * 1024, file);
    let opts = ImportOptions {
        phone_column: a.phone_column.clone(),
        delimiter: a.delimiter,
        default_country_code: a.default_country_code.clone(),
        list_name: a
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| a.file.display().to_string()),
    };
    let mut sink = CliSink {
        report: Report::new(a.report.clone().unwrap_or_else(|| default_report(&a.file))),
        shown: Vec::new(),
        pb: progress_bar(size),
    };
    let done = import_contacts(&store, campaign.id, input, &opts, &mut sink)
        .await
        .map_err(|e| anyhow::anyhow!(e.about(&a.file.display().to_string())))?;
    let CliSink { report, shown, pb } = sink;
    pb.finish_and_clear();
    let summary = done.summary;
    let report_path = report.finish()?;
    store
        .audit(
            oml_store::now_ms(),
            &cli::cli_actor(),
            "contacts_import",
            &campaign.name,
            None,
            &format!(
                "{}: {} rows, {} imported, {} rejected",
                a.file.display(),
                summary.rows,
                summary.imported,
                summary.rejected()
            ),
        )
        .await?;
    let outcome = ImportOutcome {
        campaign: campaign.name.clone(),
        file: a.file.display().to_string(),
        phone_column: done.phone_column,
        summary,
        report: report_path.as_ref().map(|p| p.display().to_string()),
        seconds: started.elapsed().as_secs_f64(),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
        return Ok(ExitCode::SUCCESS);
    }
    let s = &outcome.summary;
    if !shown.is_empty() {
        println!("Rejected rows (row numbers count the header as row 1):");
        dnc::print_rejections(&shown, PRINTED_REJECTIONS);
        if s.rejected() as usize > shown.len() {
            println!("  ... and {} more", s.rejected() as usize - shown.len());
        }
    }
    println!(
        "Imported {} into campaign `{}` (phone column `{}`) in {:.1} s:",
        a.file.display(),
        campaign.name,
        outcome.phone_column,
        outcome.seconds
    );
    println!("{s}");
    if let Some(p) = &outcome.report {
        println!("Every rejected row is in {p}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_windows_and_delimiters() {
        assert!((parse_rate("3%").unwrap() - 0.03).abs() < 1e-12);
        assert!((parse_rate("0.05").unwrap() - 0.05).abs() < 1e-12);
        assert!(parse_rate("3").unwrap_err().to_string().contains("3%"));
        assert!(parse_rate("150%").is_err());
        assert!(parse_rate("x").is_err());
        assert_eq!(parse_window("09:00-21:30").unwrap(), (540, 1290));
        assert!(parse_window("09:00").is_err());
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert!(parse_delimiter(";;").is_err());
    }

    #[test]
    fn fields_change_only_what_is_given() {
        let mut spec = CampaignSpec::new("s", "t");
        let before = spec.clone();
        Fields::default().apply(&mut spec).unwrap();
        assert_eq!(format!("{before:?}"), format!("{spec:?}"));
        let f = Fields {
            retry: vec!["busy:5:60:multiplied".into()],
            no_retry: vec![RetryOutcome::Abandoned],
            deliver_to: Some("agents,s".into()),
            ..Fields::default()
        };
        f.apply(&mut spec).unwrap();
        assert_eq!(spec.rules.len(), 4);
        let busy = spec
            .rules
            .iter()
            .find(|r| r.outcome == RetryOutcome::Busy)
            .unwrap();
        assert_eq!(busy.max_attempts, 5);
        assert!(!spec
            .rules
            .iter()
            .any(|r| r.outcome == RetryOutcome::Abandoned));
        assert_eq!(
            (spec.delivery_context.as_str(), spec.delivery_exten.as_str()),
            ("agents", "s")
        );
        assert_eq!(spec.ring_timeout_s, before.ring_timeout_s);
    }

    #[test]
    fn report_path_sits_next_to_the_input() {
        assert_eq!(
            default_report(Path::new("/tmp/x/list.csv")),
            PathBuf::from("/tmp/x/list.csv.rejected.csv")
        );
    }
}
