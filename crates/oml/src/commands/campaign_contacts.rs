//! `oml campaign contacts NAME [--state S] [--json]`: every contact of a
//! campaign with its state, phone, attempts, next try and last outcome.
//! Read and printed one page at a time ([`PAGE`] contacts), so a campaign
//! of a million contacts is never held in memory; `--json` streams one
//! JSON array, an object per line.

use crate::cli::{self, GlobalArgs};
use crate::output::{self, outln};
use anyhow::Result;
use clap::Args;
use oml_store::contact_history::{parse_state, ContactSummary};
use std::process::ExitCode;

/// Contacts read and printed per database query.
pub const PAGE: i64 = 1000;

#[derive(Args)]
pub struct ContactsArgs {
    /// The campaign.
    pub name: String,
    /// Only contacts in this state: pending, reserved (an agent is
    /// previewing it), hopper, dialing, done, exhausted or dnc.
    #[arg(long)]
    pub state: Option<String>,
    /// One JSON array of objects (id, phone, state, attempts,
    /// next_attempt_at in Unix ms, last_outcome).
    #[arg(long)]
    pub json: bool,
}

/// The table's heading, aligned with [`row`].
pub fn heading() -> String {
    format!(
        "{:<10} {:<18} {:<10} {:>8}  {:<23}  {}",
        "ID", "PHONE", "STATE", "ATTEMPTS", "NEXT TRY", "LAST OUTCOME"
    )
}

/// When a contact is due: `due now` once its time has come (a contact
/// never tried is due from the start), else the time.
pub fn next_try(at: i64, now: i64) -> String {
    if at <= now {
        "due now".to_string()
    } else {
        oml_store::format_ms(at)
    }
}

/// One contact as a table line, its next try judged at `now`.
pub fn row(c: &ContactSummary, now: i64) -> String {
    format!(
        "{:<10} {:<18} {:<10} {:>8}  {:<23}  {}",
        c.id,
        c.phone,
        c.state,
        c.attempts,
        c.next_attempt_at
            .map_or_else(|| "-".to_string(), |t| next_try(t, now)),
        c.last_outcome.as_deref().unwrap_or("-")
    )
}

/// The closing line: how many, of which state.
pub fn total(n: u64, campaign: &str, state: Option<&str>) -> String {
    match state {
        Some(s) => format!("{n} contact(s) of `{campaign}` in state {s}."),
        None => format!("{n} contact(s) of `{campaign}`."),
    }
}

pub async fn run(g: &GlobalArgs, a: ContactsArgs) -> Result<ExitCode> {
    // A bad state is refused before the database is opened.
    let state = a.state.as_deref().map(parse_state).transpose()?;
    let store = g.open_store().await?;
    let c = cli::find_campaign(&store, &a.name).await?;
    let mut after = 0;
    let mut n: u64 = 0;
    if a.json {
        output::text("[")?;
    } else {
        outln!("{}", heading())?;
    }
    loop {
        let page = store.campaign_contacts(c.id, state, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let mut chunk = String::with_capacity(page.len() * 100);
        for contact in &page {
            if a.json {
                chunk.push_str(if n == 0 { "\n" } else { ",\n" });
                chunk.push_str(&serde_json::to_string(contact)?);
            } else {
                chunk.push_str(&row(contact, oml_store::now_ms()));
                chunk.push('\n');
            }
            n += 1;
        }
        output::text(&chunk)?;
    }
    if a.json {
        output::text("\n]\n")?;
    } else {
        outln!("{}", total(n, &c.name, state))?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up_under_the_heading() {
        let c = ContactSummary {
            id: 12,
            phone: "+541140000001".into(),
            state: "pending".into(),
            attempts: 2,
            next_attempt_at: Some(1_796_000_000_000),
            last_outcome: Some("busy".into()),
        };
        let (h, r) = (heading(), row(&c, 0));
        assert_eq!(h.find("STATE"), r.find("pending"));
        assert_eq!(h.find("LAST OUTCOME"), r.find("busy"));
        assert!(r.contains("UTC"), "{r}");
        assert!(row(&c, 1_796_000_000_000).contains("due now"));
        let done = ContactSummary {
            next_attempt_at: None,
            last_outcome: None,
            state: "done".into(),
            ..c
        };
        let words: Vec<String> = row(&done, 0).split_whitespace().map(String::from).collect();
        assert_eq!(words, ["12", "+541140000001", "done", "2", "-", "-"]);
        assert_eq!(
            total(3, "sales", Some("done")),
            "3 contact(s) of `sales` in state done."
        );
    }
}
