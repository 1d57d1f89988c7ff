//! `oml users`: console users and their lock-out state, from the shell
//! (the seed's "unblock a user" without opening the admin console), and
//! the API tokens integrators use.

use super::users_agent::AgentArgs;
use crate::cli::{self, GlobalArgs};
use crate::output::{self, outln};
use anyhow::{bail, Result};
use clap::Subcommand;
use oml_store::{format_ms, BlockKind, NewUser, Role};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UsersCommand {
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a user.
    Add {
        name: String,
        /// admin, supervisor or agent.
        #[arg(long)]
        role: String,
        /// File whose first line is the password.
        #[arg(long)]
        password_file: PathBuf,
        /// The user must choose a new password at first login.
        #[arg(long)]
        temporary: bool,
        #[command(flatten)]
        agent: AgentArgs,
    },
    /// Show the reasons agents choose from when they pause on the agent
    /// page, or replace them.
    PauseReasons {
        /// The new reasons, comma-separated (e.g. "Break, Lunch, Training").
        list: Option<String>,
    },
    /// How long agents spent previewing contacts (preview campaigns), in
    /// the form `oml dialer simulate --preview` takes.
    PreviewTime {
        /// Previews of the last DAYS days.
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Set an agent's SIP extension and/or the campaigns they work.
    Agent {
        name: String,
        #[command(flatten)]
        agent: AgentArgs,
    },
    /// Set a user's password.
    Passwd {
        name: String,
        /// File whose first line is the new password.
        #[arg(long)]
        password_file: PathBuf,
        /// The user must choose a new password at next login.
        #[arg(long)]
        temporary: bool,
    },
    /// Block a user from logging in.
    Block {
        name: String,
        /// How long, in seconds; 0 blocks until an administrator unblocks.
        #[arg(long, default_value_t = 0)]
        seconds: u64,
    },
    /// Lift the block on a username, or on a client IP with --ip.
    Unblock {
        /// The username to unblock.
        #[arg(required_unless_present = "ip", conflicts_with = "ip")]
        name: Option<String>,
        /// Unblock this client IP address (or IPv6 network, written
        /// ADDR/64 as `oml users blocked` shows it) instead of a username.
        #[arg(long, value_parser = parse_ip_subject)]
        ip: Option<String>,
    },
    /// List blocked usernames and IPs.
    Blocked {
        #[arg(long)]
        json: bool,
    },
    /// API tokens: bearer tokens a CRM uses to drive campaigns over HTTP.
    #[command(subcommand)]
    Token(super::users_token::TokenCommand),
}

/// `--ip`: an address, or an IPv6 `/64` network, in the form blocks are
/// stored under (the console's own parser, so both agree).
fn parse_ip_subject(s: &str) -> Result<String, String> {
    oml_web::net::parse_block_subject(s).ok_or_else(|| {
        format!("{s:?} is not an IP address or an IPv6 network written ADDR/64 (e.g. 2001:db8:1:2::/64)")
    })
}

pub async fn run(g: &GlobalArgs, cmd: UsersCommand) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let actor = crate::actor::cli_actor();
    let now = oml_store::now_ms();
    match cmd {
        UsersCommand::List { json } => super::users_agent::list(&store, json).await?,
        UsersCommand::Add {
            name,
            role,
            password_file,
            temporary,
            agent,
        } => {
            let role: Role = role.parse()?;
            let password = cli::read_secret_file(&password_file)?;
            let setup = agent.setup();
            let user = store
                .create_user_with(
                    &NewUser {
                        username: &name,
                        password: &password,
                        role,
                        must_change_password: temporary,
                    },
                    &setup,
                )
                .await?;
            let detail = format!("role={role} {}", setup.describe());
            store
                .audit(now, &actor, "user_add", &name, None, detail.trim_end())
                .await?;
            match user.extension {
                Some(x) => outln!("User `{name}` added with role {role}, extension {x}.")?,
                None => outln!("User `{name}` added with role {role}.")?,
            }
        }
        UsersCommand::PauseReasons { list } => {
            super::users_pause_reasons::run(&store, &actor, now, list).await?
        }
        UsersCommand::PreviewTime { days } => {
            super::users_preview_time::run(&store, now, days).await?
        }
        UsersCommand::Agent { name, agent } => {
            super::users_agent::set(&store, &actor, now, &name, agent).await?
        }
        UsersCommand::Passwd {
            name,
            password_file,
            temporary,
        } => {
            let password = cli::read_secret_file(&password_file)?;
            store.set_password(&name, &password, temporary).await?;
            store
                .audit(now, &actor, "password_set", &name, None, "")
                .await?;
            outln!("Password of `{name}` changed.")?;
        }
        UsersCommand::Block { name, seconds } => {
            if store.user_by_name(&name).await?.is_none() {
                bail!("user `{name}` not found (see `oml users list`)");
            }
            let until = (seconds > 0).then(|| now + (seconds as i64) * 1000);
            store
                .create_block(
                    BlockKind::User,
                    &name,
                    now,
                    until,
                    0,
                    "blocked by an administrator",
                )
                .await?;
            store.audit(now, &actor, "block", &name, None, "").await?;
            match until {
                Some(t) => outln!("User `{name}` blocked until {}.", format_ms(t))?,
                None => outln!("User `{name}` blocked until an administrator unblocks it.")?,
            }
        }
        UsersCommand::Unblock { name, ip } => {
            let (kind, subject) = match (name, ip) {
                (_, Some(ip)) => (BlockKind::Ip, ip),
                (Some(n), None) => (BlockKind::User, n),
                (None, None) => bail!("give a username or --ip ADDR"),
            };
            let lifted = store.unblock(kind, &subject, &actor, now).await?;
            store
                .audit(now, &actor, "unblock", &subject, None, "")
                .await?;
            if lifted == 0 {
                outln!(
                    "{} `{subject}` was not blocked; its failure count is reset.",
                    kind_word(kind)
                )?;
            } else {
                outln!("{} `{subject}` unblocked.", kind_word(kind))?;
            }
        }
        UsersCommand::Blocked { json } => {
            let blocks = store.active_blocks(now).await?;
            if json {
                output::json(&blocks)?;
            } else if blocks.is_empty() {
                outln!("Nothing is blocked.")?;
            } else {
                outln!(
                    "{:<6} {:<24} {:<24} {:<24} {:>8}  REASON",
                    "KIND",
                    "SUBJECT",
                    "SINCE",
                    "UNTIL",
                    "FAILURES"
                )?;
                for b in blocks {
                    outln!(
                        "{:<6} {:<24} {:<24} {:<24} {:>8}  {}",
                        b.kind.as_str(),
                        b.subject,
                        format_ms(b.since_at),
                        b.until_at
                            .map(format_ms)
                            .unwrap_or_else(|| "until unblocked".into()),
                        b.failures,
                        b.reason
                    )?;
                }
            }
        }
        UsersCommand::Token(cmd) => super::users_token::run(&store, &actor, now, cmd).await?,
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn kind_word(kind: BlockKind) -> &'static str {
    match kind {
        BlockKind::User => "User",
        BlockKind::Ip => "IP",
    }
}

#[cfg(test)]
mod tests {
    use super::parse_ip_subject;

    #[test]
    fn ip_subjects_take_the_form_blocks_are_stored_under() {
        assert_eq!(parse_ip_subject("192.0.2.7").unwrap(), "192.0.2.7");
        assert_eq!(
            parse_ip_subject("2001:DB8:1:2:0:0:0:0/64").unwrap(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            parse_ip_subject("2001:db8:1:2:aaaa::1/64").unwrap(),
            "2001:db8:1:2::/64"
        );
        let e = parse_ip_subject("10.0.0.0/8").unwrap_err();
        assert!(e.contains("ADDR/64"), "{e}");
        assert!(parse_ip_subject("maria").is_err());
    }
}
