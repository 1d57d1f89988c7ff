//! `oml asterisk`: the Asterisk servers oml talks to. `check` proves that
//! one is reachable over AMI with a user that may originate calls and read
//! their events, and says what to fix when not. (The server list commands
//! join this group later.)

use crate::cli::{self, GlobalArgs};
use crate::output::{self, outln};
use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use oml_ami::check::{run_check, CheckConfig, CheckReport, Permission};
use oml_ami::AuthKind;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Subcommand)]
pub enum AsteriskCommand {
    /// Check an AMI connection: reachability, login, version, round trip,
    /// permission to originate and to read events. The secret comes from
    /// OML_AMI_SECRET or a prompt. Exit 0 all well, 2 cannot connect,
    /// 3 login refused, 4 a permission is missing or cannot be verified.
    Check(CheckArgs),
    /// Add an Asterisk server for the dialer (secret from OML_AMI_SECRET or a prompt).
    Add(super::asterisk_config::AddArgs),
    /// List the Asterisk servers (never their secrets).
    List(super::asterisk_config::ListArgs),
    /// Change a server; only the options given change.
    Edit(super::asterisk_config::EditArgs),
    /// Remove a server (refused while a trunk uses it).
    Remove(super::asterisk_config::RemoveArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Auth {
    /// MD5 challenge: the secret never crosses the network.
    Md5,
    /// Plain `Login` with the secret in clear.
    Plain,
}

#[derive(Args)]
pub struct CheckArgs {
    /// Host name or IP address of the Asterisk server.
    #[arg(long)]
    host: String,
    /// AMI port (manager.conf [general] port).
    #[arg(long, default_value_t = 5038)]
    port: u16,
    /// AMI user (a manager.conf section).
    #[arg(long)]
    user: String,
    /// Login kind.
    #[arg(long, value_enum, default_value_t = Auth::Md5)]
    auth: Auth,
    /// Seconds to wait for the connection and for each answer.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(g: &GlobalArgs, cmd: AsteriskCommand) -> Result<ExitCode> {
    match cmd {
        AsteriskCommand::Check(a) => check(a).await,
        AsteriskCommand::Add(a) => super::asterisk_config::add(g, a).await,
        AsteriskCommand::List(a) => super::asterisk_config::list(g, a).await,
        AsteriskCommand::Edit(a) => super::asterisk_config::edit(g, a).await,
        AsteriskCommand::Remove(a) => super::asterisk_config::remove(g, a).await,
    }
}

/// `host:port`, with brackets around a bare IPv6 address.
fn addr(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

async fn check(a: CheckArgs) -> Result<ExitCode> {
    if a.host.trim().is_empty() {
        bail!("--host is empty: give the Asterisk server's name or IP address");
    }
    if a.timeout == 0 {
        bail!("--timeout must be at least 1 second");
    }
    let secret = cli::secret_from_env_or_prompt(
        cli::AMI_SECRET_ENV,
        &format!("AMI secret for {}: ", a.user),
    )?;
    let mut cfg = CheckConfig::new(addr(a.host.trim(), a.port), a.user.clone(), secret);
    cfg.auth = match a.auth {
        Auth::Md5 => AuthKind::Md5,
        Auth::Plain => AuthKind::Plain,
    };
    cfg.timeout = Duration::from_secs(a.timeout);
    let report = run_check(&cfg).await;
    if a.json {
        output::json(&to_json(&report))?;
    } else {
        outln!("{report}")?;
    }
    Ok(ExitCode::from(report.exit_code()))
}

fn perm_json(p: &Permission) -> serde_json::Value {
    match p {
        Permission::Granted => serde_json::json!({ "granted": true }),
        Permission::Missing(fix) => serde_json::json!({ "granted": false, "fix": fix }),
        Permission::Unknown(fix) => serde_json::json!({ "granted": null, "fix": fix }),
    }
}

fn to_json(r: &CheckReport) -> serde_json::Value {
    serde_json::json!({
        "addr": r.addr,
        "user": r.username,
        "ok": r.is_ok(),
        "exit_code": r.exit_code(),
        "version": r.version,
        "round_trip_ms": r.round_trip.map(|rt| serde_json::json!({
            "min": rt.min.as_secs_f64() * 1000.0,
            "median": rt.median.as_secs_f64() * 1000.0,
            "max": rt.max.as_secs_f64() * 1000.0,
            "samples": rt.samples,
        })),
        "originate": perm_json(&r.originate),
        "events": perm_json(&r.events),
        "problems": r.problems(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addr_brackets_ipv6() {
        assert_eq!(addr("10.0.0.1", 5038), "10.0.0.1:5038");
        assert_eq!(addr("pbx.example", 15038), "pbx.example:15038");
        assert_eq!(addr("::1", 5038), "[::1]:5038");
        assert_eq!(addr("[::1]", 5038), "[::1]:5038");
    }
}
