//! `oml trunk add|list|edit|remove`: the ways out to the telephone network
//! the dialer originates through (the seed's trunk with dial string
//! `Local/${num}@from-oml/n`). A dial string without `${num}` is refused here,
//! not discovered at dial time.

use crate::cli::GlobalArgs;
use crate::output::{self, outln};
use anyhow::{Context, Result};
use clap::Subcommand;
use oml_store::{Store, Trunk, TrunkSpec, DEFAULT_DIAL_STRING};
use serde::Serialize;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum TrunkCommand {
    /// Add a trunk.
    Add {
        /// A short name (letters, digits, . _ -).
        name: String,
        /// Channel template; ${num} is replaced by the number to call.
        #[arg(long, default_value = DEFAULT_DIAL_STRING)]
        dial_string: String,
        /// Most calls at once through this trunk.
        #[arg(long, default_value_t = 30)]
        max_channels: i64,
        /// The Asterisk server (see `oml asterisk list`); default: any
        /// enabled server.
        #[arg(long)]
        server: Option<String>,
        /// Caller ID for calls through this trunk, unless the campaign sets one.
        #[arg(long, default_value = "")]
        caller_id: String,
    },
    /// List trunks.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change a trunk; only the options given change.
    Edit {
        name: String,
        #[arg(long)]
        rename: Option<String>,
        #[arg(long)]
        dial_string: Option<String>,
        #[arg(long)]
        max_channels: Option<i64>,
        /// Move the trunk to this server.
        #[arg(long, conflicts_with = "any_server")]
        server: Option<String>,
        /// Let the trunk use any enabled server.
        #[arg(long)]
        any_server: bool,
        #[arg(long)]
        caller_id: Option<String>,
    },
    /// Remove a trunk (refused while a campaign uses it).
    Remove { name: String },
}

/// A trunk as listed: with its server's name rather than its id.
#[derive(Serialize)]
struct TrunkView {
    name: String,
    dial_string: String,
    max_channels: i64,
    server: Option<String>,
    caller_id: String,
}

async fn view(store: &Store, t: Trunk) -> Result<TrunkView> {
    let server = match t.server_id {
        Some(id) => store.server_by_id(id).await?.map(|s| s.name),
        None => None,
    };
    Ok(TrunkView {
        name: t.name,
        dial_string: t.dial_string,
        max_channels: t.max_channels,
        server,
        caller_id: t.caller_id,
    })
}

pub async fn run(g: &GlobalArgs, cmd: TrunkCommand) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let actor = crate::actor::cli_actor();
    match cmd {
        TrunkCommand::Add {
            name,
            dial_string,
            max_channels,
            server,
            caller_id,
        } => {
            let t = store
                .create_trunk(&TrunkSpec {
                    name,
                    dial_string,
                    max_channels,
                    server,
                    caller_id,
                })
                .await?;
            store
                .audit(
                    oml_store::now_ms(),
                    &actor,
                    "trunk_add",
                    &t.name,
                    None,
                    &t.dial_string,
                )
                .await?;
            let v = view(&store, t).await?;
            outln!(
                "Trunk `{}` added: {} (at most {} channels, server {}).",
                v.name,
                v.dial_string,
                v.max_channels,
                v.server.as_deref().unwrap_or("any")
            )?;
        }
        TrunkCommand::List { json } => {
            let mut views = Vec::new();
            for t in store.trunks().await? {
                views.push(view(&store, t).await?);
            }
            if json {
                output::json(&views)?;
            } else if views.is_empty() {
                outln!("No trunks. Add one with: oml trunk add NAME [--dial-string '{DEFAULT_DIAL_STRING}']")?;
            } else {
                outln!(
                    "{:<16} {:<36} {:>8} {:<16} CALLER ID",
                    "NAME",
                    "DIAL STRING",
                    "CHANNELS",
                    "SERVER"
                )?;
                for v in views {
                    outln!(
                        "{:<16} {:<36} {:>8} {:<16} {}",
                        v.name,
                        v.dial_string,
                        v.max_channels,
                        v.server.as_deref().unwrap_or("any"),
                        v.caller_id
                    )?;
                }
            }
        }
        TrunkCommand::Edit {
            name,
            rename,
            dial_string,
            max_channels,
            server,
            any_server,
            caller_id,
        } => {
            let old = store
                .trunk_by_name(&name)
                .await?
                .with_context(|| format!("trunk `{name}` not found (see `oml trunk list`)"))?;
            let old = view(&store, old).await?;
            let spec = TrunkSpec {
                name: rename.unwrap_or(old.name.clone()),
                dial_string: dial_string.unwrap_or(old.dial_string.clone()),
                max_channels: max_channels.unwrap_or(old.max_channels),
                server: if any_server {
                    None
                } else {
                    server.or(old.server.clone())
                },
                caller_id: caller_id.unwrap_or(old.caller_id.clone()),
            };
            let t = store.update_trunk(&name, &spec).await?;
            store
                .audit(
                    oml_store::now_ms(),
                    &actor,
                    "trunk_edit",
                    &t.name,
                    None,
                    &t.dial_string,
                )
                .await?;
            let v = view(&store, t).await?;
            outln!(
                "Trunk `{}` now: {} (at most {} channels, server {}).",
                v.name,
                v.dial_string,
                v.max_channels,
                v.server.as_deref().unwrap_or("any")
            )?;
        }
        TrunkCommand::Remove { name } => {
            store.delete_trunk(&name).await?;
            store
                .audit(oml_store::now_ms(), &actor, "trunk_remove", &name, None, "")
                .await?;
            outln!("Trunk `{name}` removed.")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
