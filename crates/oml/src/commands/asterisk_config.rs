//! `oml asterisk add|list|edit|remove`: the Asterisk servers the dialer
//! drives over AMI, kept in the database (the seed's "Asterisk Server" form of
//! the old dialer). The AMI secret comes from `OML_AMI_SECRET` or a prompt,
//! never from a flag, and is never printed.

use crate::cli::{self, GlobalArgs};
use crate::output::{self, outln};
use anyhow::{Context, Result};
use clap::Args;
use oml_store::ServerSpec;
use secrecy::SecretString;
use std::process::ExitCode;

#[derive(Args)]
pub struct AddArgs {
    /// A short name for the server (letters, digits, . _ -).
    name: String,
    /// Host name or IP address of the Asterisk server.
    #[arg(long)]
    host: String,
    /// AMI port (manager.conf [general] port).
    #[arg(long, default_value_t = 5038)]
    port: u16,
    /// AMI user (a manager.conf section).
    #[arg(long)]
    user: String,
    /// Store the server disabled (the dialer ignores it until enabled).
    #[arg(long)]
    disabled: bool,
}

#[derive(Args)]
pub struct ListArgs {
    /// Print JSON (the secret is never included).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct EditArgs {
    /// The server to change. Only the options given change.
    name: String,
    /// New name.
    #[arg(long)]
    rename: Option<String>,
    #[arg(long)]
    host: Option<String>,
    #[arg(long)]
    port: Option<u16>,
    #[arg(long)]
    user: Option<String>,
    /// Replace the AMI secret (read from OML_AMI_SECRET or a prompt).
    #[arg(long)]
    new_secret: bool,
    #[arg(long, conflicts_with = "disable")]
    enable: bool,
    #[arg(long)]
    disable: bool,
}

#[derive(Args)]
pub struct RemoveArgs {
    /// The server to remove (refused while a trunk uses it).
    name: String,
}

fn read_secret(user: &str) -> Result<SecretString> {
    cli::secret_from_env_or_prompt(cli::AMI_SECRET_ENV, &format!("AMI secret for {user}: "))
}

pub async fn add(g: &GlobalArgs, a: AddArgs) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let spec = ServerSpec {
        name: a.name.clone(),
        host: a.host,
        ami_port: a.port,
        ami_user: a.user.clone(),
        ami_secret: SecretString::from(String::new()),
        enabled: !a.disabled,
    };
    // Refuse bad fields before asking for the secret.
    let mut probe = spec.clone();
    probe.ami_secret = SecretString::from("x".to_string());
    probe.validate()?;
    let spec = ServerSpec {
        ami_secret: read_secret(&a.user)?,
        ..spec
    };
    let s = store.create_server(&spec).await?;
    store
        .audit(
            oml_store::now_ms(),
            &crate::actor::cli_actor(),
            "asterisk_add",
            &s.name,
            None,
            &format!("{}:{} user {}", s.host, s.ami_port, s.ami_user),
        )
        .await?;
    outln!(
        "Asterisk server `{}` added ({}:{}, AMI user {}, {}).",
        s.name,
        s.host,
        s.ami_port,
        s.ami_user,
        if s.enabled { "enabled" } else { "disabled" }
    )?;
    outln!(
        "Check it with: OML_AMI_SECRET=... oml asterisk check --host {} --port {} --user {}",
        s.host,
        s.ami_port,
        s.ami_user
    )?;
    Ok(ExitCode::SUCCESS)
}

pub async fn list(g: &GlobalArgs, a: ListArgs) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let servers = store.servers().await?;
    if a.json {
        output::json(&servers)?;
        return Ok(ExitCode::SUCCESS);
    }
    if servers.is_empty() {
        outln!(
            "No Asterisk servers. Add one with: oml asterisk add NAME --host HOST --user AMIUSER"
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{:<16} {:<28} {:<6} {:<16} ENABLED",
        "NAME",
        "HOST",
        "PORT",
        "AMI USER"
    )?;
    for s in servers {
        outln!(
            "{:<16} {:<28} {:<6} {:<16} {}",
            s.name,
            s.host,
            s.ami_port,
            s.ami_user,
            if s.enabled { "yes" } else { "no" }
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn edit(g: &GlobalArgs, a: EditArgs) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let old = store.server_by_name(&a.name).await?.with_context(|| {
        format!(
            "Asterisk server `{}` not found (see `oml asterisk list`)",
            a.name
        )
    })?;
    let mut spec = ServerSpec {
        name: a.rename.clone().unwrap_or(old.name.clone()),
        host: a.host.clone().unwrap_or(old.host.clone()),
        ami_port: a.port.unwrap_or(old.ami_port),
        ami_user: a.user.clone().unwrap_or(old.ami_user.clone()),
        ami_secret: old.ami_secret.clone(),
        enabled: if a.enable {
            true
        } else if a.disable {
            false
        } else {
            old.enabled
        },
    };
    spec.validate()?;
    if a.new_secret {
        spec.ami_secret = read_secret(&spec.ami_user)?;
    }
    let s = store.update_server(&a.name, &spec).await?;
    let mut changed = Vec::new();
    if s.name != old.name {
        changed.push(format!("name {}", s.name));
    }
    if s.host != old.host {
        changed.push(format!("host {}", s.host));
    }
    if s.ami_port != old.ami_port {
        changed.push(format!("port {}", s.ami_port));
    }
    if s.ami_user != old.ami_user {
        changed.push(format!("user {}", s.ami_user));
    }
    if a.new_secret {
        changed.push("secret".into());
    }
    if s.enabled != old.enabled {
        changed.push(if s.enabled { "enabled" } else { "disabled" }.into());
    }
    let detail = if changed.is_empty() {
        "nothing".to_string()
    } else {
        changed.join(", ")
    };
    store
        .audit(
            oml_store::now_ms(),
            &crate::actor::cli_actor(),
            "asterisk_edit",
            &s.name,
            None,
            &detail,
        )
        .await?;
    outln!("Asterisk server `{}` changed: {detail}.", s.name)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn remove(g: &GlobalArgs, a: RemoveArgs) -> Result<ExitCode> {
    let store = g.open_store().await?;
    store.delete_server(&a.name).await?;
    store
        .audit(
            oml_store::now_ms(),
            &crate::actor::cli_actor(),
            "asterisk_remove",
            &a.name,
            None,
            "",
        )
        .await?;
    outln!("Asterisk server `{}` removed.", a.name)?;
    Ok(ExitCode::SUCCESS)
}
