//! `oml users` for agents (issue 19): the SIP extension and campaigns given
//! to `users add --role agent` and changed by `users agent`, and the user
//! list that shows them.

use crate::output::{self, outln};
use anyhow::Result;
use clap::Args;
use oml_store::{format_ms, AgentSetup, Store, User};
use serde::Serialize;

/// An agent's phone and campaigns.
#[derive(Args, Debug, Default)]
pub struct AgentArgs {
    /// The agent's SIP extension, 2 to 15 digits (default when adding:
    /// 1000 + the user's id).
    #[arg(long)]
    pub extension: Option<String>,
    /// The campaigns the agent works, comma-separated (`--campaigns ""`
    /// for none).
    #[arg(long, value_delimiter = ',')]
    pub campaigns: Option<Vec<String>>,
}

impl AgentArgs {
    pub fn setup(self) -> AgentSetup {
        AgentSetup {
            extension: self.extension,
            campaigns: self.campaigns,
        }
    }
}

/// `oml users agent NAME ...`: changes what was given.
pub async fn set(store: &Store, actor: &str, now: i64, name: &str, args: AgentArgs) -> Result<()> {
    if args.extension.is_none() && args.campaigns.is_none() {
        anyhow::bail!("nothing to change: give --extension and/or --campaigns");
    }
    let setup = args.setup();
    store.set_agent(name, &setup).await?;
    let detail = setup.describe();
    store
        .audit(now, actor, "agent_set", name, None, &detail)
        .await?;
    let user = store.user_by_name(name).await?;
    let ext = user.as_ref().and_then(|u| u.extension.clone());
    let campaigns = match user {
        Some(u) => store.agent_campaigns().await?.remove(&u.id),
        None => None,
    };
    outln!(
        "Agent `{name}`: extension {}, campaigns {}.",
        ext.unwrap_or_default(),
        campaign_list(&campaigns.unwrap_or_default())
    )?;
    Ok(())
}

fn campaign_list(c: &[String]) -> String {
    if c.is_empty() {
        "none".into()
    } else {
        c.join(",")
    }
}

#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    user: &'a User,
    campaigns: &'a [String],
}

/// `oml users list [--json]`.
pub async fn list(store: &Store, json: bool) -> Result<()> {
    let users = store.users().await?;
    let mut campaigns = store.agent_campaigns().await?;
    let none: Vec<String> = vec![];
    if json {
        let rows: Vec<Row> = users
            .iter()
            .map(|u| Row {
                user: u,
                campaigns: campaigns.get(&u.id).unwrap_or(&none),
            })
            .collect();
        return output::json(&rows);
    }
    outln!(
        "{:<24} {:<11} {:<8} {:<11} {:<10} {:<24} CAMPAIGNS",
        "USERNAME",
        "ROLE",
        "ACTIVE",
        "MUST-CHANGE",
        "EXTENSION",
        "CREATED"
    )?;
    for u in users {
        let c = campaigns.remove(&u.id).unwrap_or_default();
        outln!(
            "{:<24} {:<11} {:<8} {:<11} {:<10} {:<24} {}",
            u.username,
            u.role,
            if u.active { "yes" } else { "no" },
            if u.must_change_password { "yes" } else { "no" },
            u.extension.as_deref().unwrap_or("-"),
            format_ms(u.created_at),
            if c.is_empty() {
                "-".into()
            } else {
                c.join(",")
            }
        )?;
    }
    Ok(())
}
