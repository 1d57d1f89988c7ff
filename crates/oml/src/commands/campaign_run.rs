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
    /// With Ofcom's estimate of AMD false positives when it applies.
    abandon_rate: f64,
    /// Ofcom's estimate (uk rule set with AMD on), else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    amd_false_positives: Option<oml_store::amd_false_positives::FalsePositives>,
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
    let now = now_ms();
    let s = store.stats_of(&c, now).await?;
    let fp = store.false_positives_of(&c, now).await?;
    let out = StatsOut {
        campaign: c.name.clone(),
        state: c.state.to_string(),
        abandon_window: c.abandon_window.to_string(),
        rule_set: c.abandon_window.rule_set().name,
        non_compliant: c.non_compliant,
        breaches: c.breaches(),
        max_abandon_rate: c.max_abandon_rate,
        abandon_rate: fp.map_or(s.abandon.rate(), |f| f.rate_with(&s.abandon)),
        amd_false_positives: fp,
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
    match &out.amd_false_positives {
        None => outln!(
            "abandon rate over the {} window: {:.2} % ({} of {} answered; limit {:.1} %)",
            out.abandon_window,
            out.abandon_rate * 100.0,
            s.abandon.abandoned,
            s.abandon.live_answered,
            out.max_abandon_rate * 100.0
        )?,
        Some(f) => {
            outln!(
                "estimated AMD false positives: {:.1} ({:.1} % of {} machine answers; Ofcom counts them abandoned)",
                f.estimated,
                f.rate * 100.0,
                f.machines
            )?;
            outln!(
                "abandon rate over the {} window: {:.2} % ({} + {:.1} estimated of {} + {:.1} answered; limit {:.1} %)",
                out.abandon_window,
                out.abandon_rate * 100.0,
                s.abandon.abandoned,
                f.estimated,
                s.abandon.live_answered,
                f.estimated,
                out.max_abandon_rate * 100.0
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
