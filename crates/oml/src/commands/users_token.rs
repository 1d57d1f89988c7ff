//! `oml users token add|list|revoke`: API tokens for supervisors and
//! admins (shown once, stored as a hash, optionally expiring), apart from
//! `users.rs` so each file holds one family of commands.

use crate::output::{self, outln};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use oml_store::{format_ms, Role, Store};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make a token for a supervisor or admin; it is shown once.
    Add {
        /// The user the token acts as (its role applies at each call).
        name: String,
        /// What the token is for (e.g. crm), unique per user.
        label: String,
        /// Write the token to this new file (mode 0600) instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The token stops working after this many days (default: never).
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in: Option<u32>,
    },
    /// List tokens (never their secrets).
    List {
        /// Only this user's tokens.
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: calls with it are refused from now on.
    Revoke { name: String, label: String },
}

pub async fn run(store: &Store, actor: &str, now: i64, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Add {
            name,
            label,
            out,
            expires_in,
        } => {
            let user = store
                .user_by_name(&name)
                .await?
                .with_context(|| format!("user `{name}` not found (see `oml users list`)"))?;
            if user.role < Role::Supervisor {
                bail!("user `{name}` is an agent: API tokens are for supervisors and admins (`oml users list` shows roles)");
            }
            if let Some(path) = &out {
                if path.exists() {
                    bail!(
                        "{} already exists: give --out a new file name",
                        path.display()
                    );
                }
            }
            let secret = oml_web::session::random_token();
            store
                .create_api_token(
                    &name,
                    &label,
                    &oml_web::session::token_hash(&secret),
                    now,
                    expires_in.map(|d| now + i64::from(d) * 86_400_000),
                )
                .await?;
            store
                .audit(
                    now,
                    actor,
                    "api_token.add",
                    &name,
                    None,
                    &format!("label={label}"),
                )
                .await?;
            match out {
                Some(path) => {
                    write_private(&path, &format!("{secret}\n"))?;
                    outln!(
                        "API token `{label}` of `{name}` written to {} (mode 0600).",
                        path.display()
                    )?;
                }
                None => {
                    eprintln!("API token `{label}` of `{name}` (shown once; store it now):");
                    outln!("{secret}")?;
                }
            }
        }
        TokenCommand::List { name, json } => {
            let tokens = store.api_tokens(name.as_deref()).await?;
            if json {
                output::json(&tokens)?;
            } else if tokens.is_empty() {
                outln!("No API tokens.")?;
            } else {
                outln!(
                    "{:<24} {:<16} {:<24} {:<32} LAST USED",
                    "USERNAME",
                    "LABEL",
                    "CREATED",
                    "EXPIRES"
                )?;
                for t in tokens {
                    let expires = match t.expires_at {
                        None => "never".to_string(),
                        Some(e) if t.expired(now) => format!("{} (expired)", format_ms(e)),
                        Some(e) => format_ms(e),
                    };
                    outln!(
                        "{:<24} {:<16} {:<24} {:<32} {}",
                        t.username,
                        t.label,
                        format_ms(t.created_at),
                        expires,
                        t.last_used_at
                            .map(format_ms)
                            .unwrap_or_else(|| "never".into())
                    )?;
                }
            }
        }
        TokenCommand::Revoke { name, label } => {
            store.delete_api_token(&name, &label).await?;
            store
                .audit(
                    now,
                    actor,
                    "api_token.revoke",
                    &name,
                    None,
                    &format!("label={label}"),
                )
                .await?;
            outln!("API token `{label}` of `{name}` revoked.")?;
        }
    }
    Ok(())
}

/// Creates `path` readable by its owner only and writes `text`.
fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
