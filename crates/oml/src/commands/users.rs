//! `oml users`: console users and their lock-out state, from the shell
//! (the seed's "unblock a user" without opening the admin console), and
//! the API tokens integrators use.

use crate::cli::{self, GlobalArgs};
use crate::output::{self, outln};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use oml_store::{format_ms, BlockKind, NewUser, Role, Store};
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
        /// Unblock this client IP address instead of a username.
        #[arg(long)]
        ip: Option<std::net::IpAddr>,
    },
    /// List blocked usernames and IPs.
    Blocked {
        #[arg(long)]
        json: bool,
    },
    /// API tokens: bearer tokens a CRM uses to drive campaigns over HTTP.
    #[command(subcommand)]
    Token(TokenCommand),
}

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

pub async fn run(g: &GlobalArgs, cmd: UsersCommand) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let actor = crate::actor::cli_actor();
    let now = oml_store::now_ms();
    match cmd {
        UsersCommand::List { json } => {
            let users = store.users().await?;
            if json {
                output::json(&users)?;
            } else {
                outln!(
                    "{:<24} {:<11} {:<8} {:<10} CREATED",
                    "USERNAME",
                    "ROLE",
                    "ACTIVE",
                    "MUST-CHANGE"
                )?;
                for u in users {
                    outln!(
                        "{:<24} {:<11} {:<8} {:<10} {}",
                        u.username,
                        u.role,
                        if u.active { "yes" } else { "no" },
                        if u.must_change_password { "yes" } else { "no" },
                        format_ms(u.created_at)
                    )?;
                }
            }
        }
        UsersCommand::Add {
            name,
            role,
            password_file,
            temporary,
        } => {
            let role: Role = role.parse()?;
            let password = cli::read_secret_file(&password_file)?;
            store
                .create_user(&NewUser {
                    username: &name,
                    password: &password,
                    role,
                    must_change_password: temporary,
                })
                .await?;
            store
                .audit(
                    now,
                    &actor,
                    "user_add",
                    &name,
                    None,
                    &format!("role={role}"),
                )
                .await?;
            outln!("User `{name}` added with role {role}.")?;
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
                (_, Some(ip)) => (BlockKind::Ip, ip.to_string()),
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
        UsersCommand::Token(cmd) => token(&store, &actor, now, cmd).await?,
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn token(store: &Store, actor: &str, now: i64, cmd: TokenCommand) -> Result<()> {
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

fn kind_word(kind: BlockKind) -> &'static str {
    match kind {
        BlockKind::User => "User",
        BlockKind::Ip => "IP",
    }
}
