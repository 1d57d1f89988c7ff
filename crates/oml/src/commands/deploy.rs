//! `oml deploy`: the deploy tasks of the original guide that oml does.
//! `--change-network`: the host's address or name changed and the inventory
//! now gives the new ones; checks that the inventory really is this machine
//! (before anything is written), then oml-deploy's `change_network` plans,
//! writes and restarts (putting the files back if a restart fails).
//! `--change-passwords`: see [`super::passwords`]. `--update`: see
//! [`super::update`]. This file parses, asks and prints.

pub use super::deploy_args::Args;
use crate::cli::GlobalArgs;
use crate::commands::render as render_cmd;
use crate::output::outln;
use anyhow::{Context, Result};
use oml_deploy::change_network;
use oml_deploy::host::System;
use oml_ops::network::{self, HostFacts, Service};
use std::path::Path;
use std::process::ExitCode;

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    if a.update {
        return super::update::run(g, &a).await;
    }
    if a.change_passwords {
        return super::passwords::run(g, &a).await;
    }
    let ctx = render_cmd::context(g, &a.inventory).await?;
    let (inv_path, inv) = a.inventory.load(g)?;
    let facts = HostFacts::collect().context("reading this machine's addresses")?;
    network::check_host(&inv, &ctx.inventory, &facts).with_context(|| {
        format!(
            "inventory {}: it does not describe this machine; nothing was changed",
            inv_path.display()
        )
    })?;
    let cfg = &ctx.inventory;
    outln!(
        "host {} at {} (SIP/RTP advertised {}, web name {})",
        cfg.fqdn.as_deref().unwrap_or(&facts.hostname),
        cfg.ip,
        cfg.advertised_ip(),
        cfg.domain()
    )?;
    let notes = change_network::stale_servers(&ctx, &facts);
    let root = render_cmd::root(g, &a.root)?;
    let np = change_network::plan(&ctx, &root)?;
    if let Some(dir) = &np.create_install_folder {
        outln!(
            "create    {}/ (install folder, marked as oml's)",
            dir.display()
        )?;
    }
    for s in &np.files.steps {
        outln!("{s}")?;
    }
    let restart_here = root == Path::new("/") && !a.no_restart;
    if np.is_noop() {
        outln!("nothing to change: every file already matches the inventory")?;
        notes.iter().try_for_each(|n| outln!("{n}"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let units: Vec<&str> = np.services.iter().map(|s| s.unit()).collect();
    outln!(
        "services to restart: {}",
        if units.is_empty() {
            "none".to_string()
        } else {
            units.join(", ")
        }
    )?;
    if np.services.contains(&Service::Asterisk) && restart_here {
        outln!("restarting asterisk ends every call in progress: pause the campaigns first (`oml dialer stop`)")?;
    }
    if a.dry_run {
        outln!()?;
        crate::output::text(&np.files.diff())?;
        outln!(
            "dry run: {} file(s) would change under {}; nothing written, nothing restarted",
            np.changed.len(),
            root.display()
        )?;
        notes.iter().try_for_each(|n| outln!("{n}"))?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::cli::confirm(
        a.yes,
        "change the network configuration",
        "Write these files and restart these services? Type yes: ",
        "yes",
    )?;
    let report = change_network::apply(&np, restart_here, &System, &crate::output::progress)?;
    outln!(
        "{} file(s) written, {} unchanged, under {}",
        report.written.len(),
        report.unchanged,
        root.display()
    )?;
    if restart_here {
        outln!(
            "network change applied: {} file(s) rewritten, restarted {}",
            report.written.len(),
            units.join(", ")
        )?;
    } else if !np.commands.is_empty() {
        let why = if a.no_restart {
            "--no-restart".to_string()
        } else {
            format!("the files were written under {}", root.display())
        };
        outln!("nothing restarted ({why}); to apply the files, run:")?;
        for c in &np.commands {
            outln!("  {}", c.join(" "))?;
        }
    }
    notes.iter().try_for_each(|n| outln!("{n}"))?;
    Ok(ExitCode::SUCCESS)
}
