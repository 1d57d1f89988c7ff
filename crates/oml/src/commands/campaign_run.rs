//! `oml campaign stats NAME`: a campaign's figures — contacts by state,
//! attempts by outcome, calls in flight and the abandon rate over its
//! regulatory window. (`start|pause|stop` are in dialer_run.rs, next to the
//! dialer's play button.)

use crate::output::{self, outln};
use std::process::ExitCode;

use anyhow::{Context, Result};
use oml_store::now_ms;
use serde::Serialize;

use crate::cli::GlobalArgs;

#[derive(Serialize)]
struct StatsOut {
    campaign: String,
    state: String,
    abandon_window: String,
    rule_set: &'static str,
    non_compliant: bool,
    breaches: Vec<oml_store::compliance::Breach>,
    max_abandon_rate: f64,
    abandon_rate: f64,
    #[serde(flatten)]
    stats: oml_store::dialing::CampaignStats,
}

/// `oml campaign stats NAME [--json]`.
pub async fn stats(g: &GlobalArgs, name: &str, json: bool) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let c = store
        .campaign_by_name(name)
        .await?
        .with_context(|| format!("campaign `{name}` not found (see `oml campaign list`)"))?;
    let s = store.stats_of(&c, now_ms()).await?;
    let out = StatsOut {
        campaign: c.name.clone(),
        state: c.state.to_string(),
        abandon_window: c.abandon_window.to_string(),
        rule_set: c.abandon_window.rule_set().name,
        non_compliant: c.non_compliant,
        breaches: c.breaches(),
        max_abandon_rate: c.max_abandon_rate,
        abandon_rate: s.abandon.rate(),
        stats: s,
    };
    if json {
        output::json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let s = &out.stats;
    outln!("campaign {} ({})", out.campaign, out.state)?;
    let rules = c.abandon_window.rule_set();
    outln!(
        "rule set: {} ({}), window {} ({})",
        rules.name,
        rules.source,
        out.abandon_window,
        rules.period
    )?;
    for b in &out.breaches {
        outln!("NON-COMPLIANT (allowed explicitly): {b}")?;
    }
    outln!(
        "contacts: {} total, {} left ({} due now)",
        s.contacts_total,
        s.contacts_left,
        s.due_now
    )?;
    for (state, n) in &s.contacts {
        outln!("  {state:<10} {n:>8}")?;
    }
    outln!(
        "attempts: {} total, {} in flight",
        s.attempts_total,
        s.in_flight
    )?;
    for (outcome, n) in &s.outcomes {
        outln!("  {outcome:<10} {n:>8}")?;
    }
    outln!(
        "abandon rate over the {} window: {:.2} % ({} of {} answered; limit {:.1} %)",
        out.abandon_window,
        out.abandon_rate * 100.0,
        s.abandon.abandoned,
        s.abandon.live_answered,
        out.max_abandon_rate * 100.0
    )?;
    Ok(ExitCode::SUCCESS)
}
