//! `oml inventory show | check | set`: read, validate and edit the OMniLeads
//! inventory in place (comments, order and formatting kept).

use super::render::InventoryArg;
use crate::cli::{read_secret_file, secret_from_env_or_prompt, GlobalArgs};
use crate::output::outln;
use anyhow::{bail, Context, Result};
use clap::{Args as ClapArgs, Subcommand};
use oml_ops::inventory::{Edit, SshTarget};
use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum InventoryCommand {
    /// Print the validated settings (passwords shown as set / not set).
    Show(Common),
    /// Validate; list every problem with its line and variable.
    Check(Common),
    /// Set a variable in place (uncomments an offered `#KEY=...` line, or
    /// adds it to [everyone:vars]). Passwords are read from --value-file,
    /// OML_INVENTORY_VALUE or a prompt, never from the command line.
    Set(SetArgs),
}

#[derive(ClapArgs, Debug)]
pub struct Common {
    #[command(flatten)]
    pub inventory: InventoryArg,
}

#[derive(ClapArgs, Debug)]
pub struct SetArgs {
    /// Variable name, e.g. TZ or postgres_password; `host` sets the host's IP.
    pub key: String,
    /// The value (not for passwords: use --value-file or the prompt).
    pub value: Option<String>,
    /// Read the value from the first line of this file.
    #[arg(long)]
    pub value_file: Option<PathBuf>,
    #[command(flatten)]
    pub inventory: InventoryArg,
}

/// A line on standard error; a closed standard error is not worth a panic.
fn errln(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("pass") || k.contains("secret")
}

pub async fn run(g: &GlobalArgs, c: InventoryCommand) -> Result<ExitCode> {
    match c {
        InventoryCommand::Show(a) => {
            let (path, inv) = a.inventory.load(g)?;
            let cfg = inv
                .config()
                .with_context(|| format!("inventory {}", path.display()))?;
            outln!("inventory        {}", path.display())?;
            outln!("layout           all-in-one ({})", cfg.era)?;
            outln!("host             {} ({})", cfg.inventory_hostname, cfg.ip)?;
            outln!("domain           {}", cfg.domain())?;
            outln!(
                "connection       {}",
                match &cfg.connection {
                    SshTarget::Local => "local".to_string(),
                    SshTarget::Ssh { user, port } => format!("ssh {user}@{}:{port}", cfg.ip),
                }
            )?;
            outln!("install_prefix   {}", cfg.install_prefix.display())?;
            outln!(
                "postgres         {}@{}:{}/{} (password set)",
                cfg.postgres.user,
                cfg.postgres.host,
                cfg.postgres.port,
                cfg.postgres.database
            )?;
            outln!("ami_user         {} (password set)", cfg.ami_user)?;
            outln!("admin_pass       set")?;
            outln!("TZ               {}", cfg.time_zone.name())?;
            outln!("LOGIN_FAILURE_LIMIT {}", cfg.login_failure_limit)?;
            outln!("SCA              {} s", cfg.session_cookie_age_s)?;
            outln!("recording format {}", cfg.recording_format)?;
            Ok(ExitCode::SUCCESS)
        }
        InventoryCommand::Check(a) => {
            let (path, inv) = a.inventory.load(g)?;
            match inv.config() {
                Ok(cfg) => {
                    outln!(
                        "{}: OK (all-in-one host {} at {})",
                        path.display(),
                        cfg.inventory_hostname,
                        cfg.ip
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    errln(&format!("{}: {e}", path.display()));
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        InventoryCommand::Set(a) => {
            let (path, mut inv) = a.inventory.load(g)?;
            let value = match (&a.value, &a.value_file) {
                (Some(_), Some(_)) => bail!("give the value either on the command line or with --value-file, not both"),
                (Some(_), None) if is_secret(&a.key) => bail!(
                    "`{}` is a password: give it with --value-file FILE, the OML_INVENTORY_VALUE variable or at the prompt, not on the command line",
                    a.key
                ),
                (Some(v), None) => v.clone(),
                (None, Some(f)) => read_secret_file(f)?.expose_secret().to_string(),
                (None, None) => secret_from_env_or_prompt("OML_INVENTORY_VALUE", &format!("{}: ", a.key))?
                    .expose_secret()
                    .to_string(),
            };
            let edit = if a.key == "host" {
                Edit::HostAddress(
                    value
                        .parse()
                        .with_context(|| format!("`{value}` is not an IP address"))?,
                )
            } else {
                Edit::set(&a.key, &value)
            };
            // Validated as `check` validates; refused means nothing written.
            let report = inv.edit_checked(&edit).map_err(|e| {
                anyhow::anyhow!(
                    "{}: {a_key} was not set, nothing was written: {e}",
                    path.display(),
                    a_key = a.key
                )
            })?;
            // Problems that were there before (passwords are often set one
            // at a time) are reported, not blocking.
            if let Err(e) = inv.config() {
                errln(&format!(
                    "note: the inventory still has problems (run `oml inventory check`):\n{e}"
                ));
            }
            inv.save()
                .with_context(|| format!("writing {}", path.display()))?;
            outln!(
                "{}: line {}: {} {}",
                path.display(),
                report.line,
                a.key,
                report.action
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
