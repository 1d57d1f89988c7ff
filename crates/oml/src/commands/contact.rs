//! `oml contact show PHONE|ID [--json]`: the contact(s) a phone number or
//! contact id names (a phone may be in several campaigns) and every attempt
//! to call each, with its times, outcome, hangup cause, server, node and
//! the agent who took it, and the recordings of recorded calls.
//! The phone is read as the import reads it (`[dialer] default_country`),
//! so a national form finds the stored international number.

use crate::cli::GlobalArgs;
use crate::output;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use oml_store::contact_history::{AttemptRecord, ContactHistory, ContactKey};
use oml_store::format_ms;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ContactCommand {
    /// Show the contacts with this phone number (in every campaign) or this
    /// contact id, and every attempt to call them: placed, answered,
    /// connected and ended times, outcome, hangup cause, server, node and
    /// the agent who took the call.
    Show {
        /// A phone number as you would type it (national forms are read
        /// under the default country), or a contact id.
        key: String,
        /// A JSON array of the contacts, each with its `history`.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(g: &GlobalArgs, cmd: ContactCommand) -> Result<ExitCode> {
    match cmd {
        ContactCommand::Show { key, json } => show(g, &key, json).await,
    }
}

async fn show(g: &GlobalArgs, text: &str, json: bool) -> Result<ExitCode> {
    let normalizer = super::dnc::normalizer(g, None)?;
    let key = ContactKey::parse(text, &normalizer)
        .with_context(|| format!("`{text}` is neither a contact id nor a phone number"))?;
    let store = g.open_store().await?;
    let found = store.contact_histories(&key).await?;
    if found.is_empty() {
        bail!("{}", not_found(&key));
    }
    if json {
        output::json(&found)?;
    } else {
        let blocks: Vec<String> = found.iter().map(report).collect();
        output::text(&blocks.join("\n"))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// What was looked for, when nothing was found.
fn not_found(key: &ContactKey) -> String {
    let what = match (key.id, &key.phone) {
        (Some(id), Some(p)) => format!("no contact has the id {id} or the phone {p}"),
        (Some(id), None) => format!("no contact has the id {id}"),
        (None, Some(p)) => format!("no contact has the phone {p}"),
        (None, None) => "nothing to look for".to_string(),
    };
    format!("{what} (see `oml campaign contacts NAME` for a campaign's contacts)")
}

/// `+12.3 s` after `from`, or `-`.
fn after(from: i64, at: Option<i64>) -> String {
    at.map_or_else(
        || "-".to_string(),
        |t| format!("+{:.1} s", (t - from) as f64 / 1000.0),
    )
}

fn attempt_line(a: &AttemptRecord) -> String {
    format!(
        "  {:>3}  {:<23}  {:>9}  {:>9}  {:>9}  {:<12} {:>5}  {:<12} {:<12} {}",
        a.attempt_no,
        format_ms(a.placed_at),
        after(a.placed_at, a.answered_at),
        after(a.placed_at, a.connected_at),
        after(a.placed_at, a.ended_at),
        a.outcome.as_deref().unwrap_or("in flight"),
        a.hangup_cause
            .map_or_else(|| "-".to_string(), |c| c.to_string()),
        a.server.as_deref().unwrap_or("-"),
        if a.node.is_empty() { "-" } else { &a.node },
        a.agent.as_deref().unwrap_or("-"),
    )
    .trim_end()
    .to_string()
}

/// One contact and its attempts, as text.
pub fn report(h: &ContactHistory) -> String {
    let c = &h.contact;
    let mut out = format!(
        "Contact {} of campaign `{}` (list {})\n",
        c.id, c.campaign, c.list
    );
    out.push_str(&format!("  phone:        {}\n", c.phone));
    let next = c
        .next_attempt_at
        .map(|t| {
            let when = super::campaign_contacts::next_try(t, oml_store::now_ms());
            format!(", next try {when}")
        })
        .unwrap_or_default();
    out.push_str(&format!("  state:        {}{next}\n", c.state));
    out.push_str(&format!("  attempts:     {}\n", c.attempts));
    out.push_str(&format!(
        "  last outcome: {}\n",
        c.last_outcome.as_deref().unwrap_or("-")
    ));
    if c.attributes != "{}" {
        out.push_str(&format!("  attributes:   {}\n", c.attributes));
    }
    if h.history.is_empty() {
        out.push_str("  Never dialed.\n");
        return out;
    }
    out.push_str(&format!(
        "  {:>3}  {:<23}  {:>9}  {:>9}  {:>9}  {:<12} {:>5}  {:<12} {:<12} {}\n",
        "#",
        "PLACED",
        "ANSWERED",
        "CONNECTED",
        "ENDED",
        "OUTCOME",
        "CAUSE",
        "SERVER",
        "NODE",
        "AGENT"
    ));
    for a in &h.history {
        out.push_str(&attempt_line(a));
        out.push('\n');
    }
    // Recorded calls: the file in the recordings folder (docs/recordings.md).
    for a in &h.history {
        if let Some(file) = &a.recording {
            let deleted = a.recording_deleted_at.map_or(String::new(), |at| {
                format!(
                    " (deleted by retention on {})",
                    oml_store::retention::recordings_day(at)
                )
            });
            out.push_str(&format!(
                "  recording of attempt {}: {file}{deleted}\n",
                a.attempt_no
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use oml_store::contact_history::ContactRecord;

    #[test]
    fn a_contact_reads_with_its_attempts_under_their_heading() {
        let h = ContactHistory {
            contact: ContactRecord {
                id: 7,
                campaign: "sales".into(),
                phone: "+541140000001".into(),
                state: "pending".into(),
                attempts: 1,
                next_attempt_at: Some(4_000_000_000_000),
                last_outcome: Some("busy".into()),
                attributes: r#"{"name":"Ana"}"#.into(),
                list: "march.csv".into(),
            },
            history: vec![AttemptRecord {
                id: 1,
                attempt_no: 1,
                placed_at: 1_795_999_000_000,
                answered_at: None,
                connected_at: None,
                ended_at: Some(1_795_999_004_500),
                outcome: Some("connected".into()),
                hangup_cause: Some(16),
                server: Some("pbx1".into()),
                node: "node-a".into(),
                channel_id: "oml-1-7-1".into(),
                agent: Some("Ana Pérez".into()),
                recording: Some("dialer-1-20261207-541140000001-1795999000.1.wav".into()),
                recording_deleted_at: None,
            }],
        };
        let text = report(&h);
        assert!(text.starts_with("Contact 7 of campaign `sales` (list march.csv)"));
        assert!(text.contains("next try 2096-"), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[lines.len() - 1],
            "  recording of attempt 1: dialer-1-20261207-541140000001-1795999000.1.wav"
        );
        let (head, line) = (lines[lines.len() - 3], lines[lines.len() - 2]);
        assert_eq!(
            head.find("ENDED").map(|i| i + 5),
            line.find("+4.5 s").map(|i| i + 6)
        );
        assert_eq!(
            head.find("CAUSE").map(|i| i + 5),
            line.find("16").map(|i| i + 2)
        );
        assert_eq!(head.find("NODE"), line.find("node-a"));
        assert_eq!(head.find("AGENT"), line.find("Ana Pérez"));
        let never = ContactHistory {
            history: vec![],
            ..h
        };
        assert!(report(&never).ends_with("Never dialed.\n"));
    }

    #[test]
    fn not_found_says_what_was_looked_for() {
        let k = ContactKey {
            id: Some(42),
            phone: None,
        };
        assert!(not_found(&k).starts_with("no contact has the id 42 ("));
    }
}
