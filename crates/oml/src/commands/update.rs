//! `oml deploy --update`: bring an installation to the version of this
//! binary. oml-deploy's `update` holds the logic (upgrade paths,
//! pre-flight, migrations, render, restart or roll-back, the ssh command);
//! this file runs the steps in order, takes the pre-upgrade backup with
//! its progress bar, asks and prints.

use crate::cli::GlobalArgs;
use crate::commands::render as render_cmd;
use crate::output::outln;
use anyhow::{anyhow, bail, Context, Result};
use oml_deploy::host::System;
use oml_deploy::update::{self, RemoteOptions, UpgradePath};
use oml_ops::network::{self, HostFacts};
use oml_store::{OpenMode, Store};
use secrecy::SecretString;
use std::path::Path;
use std::process::ExitCode;

pub use oml_deploy::update::{supported_text, INSTALLED_VERSION_KEY, UPGRADES_FROM};

/// Runs the update on another host through `ssh`; its output is ours.
fn run_remote(spec: &str, o: &super::deploy_args::Args) -> Result<ExitCode> {
    let args = update::remote_command(
        spec,
        &RemoteOptions {
            dry_run: o.dry_run,
            yes: o.yes,
            no_restart: o.no_restart,
            inventory: o.inventory.inventory.clone(),
            root: o.root.clone(),
        },
    )?;
    outln!("running on {spec}: ssh {}", args.join(" "))?;
    let status = std::process::Command::new("ssh")
        .args(&args)
        .status()
        .context("cannot run ssh (install the OpenSSH client)")?;
    if status.success() {
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("the update on {spec} failed ({status}); its output is above")
    }
}

pub async fn run(g: &GlobalArgs, o: &super::deploy_args::Args) -> Result<ExitCode> {
    if let Some(spec) = &o.host {
        return run_remote(spec, o);
    }
    let root = render_cmd::root(g, &o.root)?;
    let live = root == Path::new("/");
    let current = env!("CARGO_PKG_VERSION");

    // Pre-flight: nothing changes until all of it passes.
    let (inv_path, inv) = o.inventory.load(g)?;
    let cfg = inv
        .config()
        .with_context(|| format!("inventory {}", inv_path.display()))?;
    let facts = HostFacts::collect().context("reading this machine's addresses")?;
    network::check_host(&inv, &cfg, &facts).with_context(|| {
        format!(
            "inventory {}: it does not describe this machine; nothing was changed",
            inv_path.display()
        )
    })?;
    let store = Store::open(&g.location(), OpenMode::AsIs).await?;
    let installed = update::installed(&store).await?;
    let path = update::upgrade_path(&installed.version, current)
        .map_err(|e| anyhow!("{e}; nothing was changed"))?;
    let url = g.database_url.clone().map(SecretString::from);
    let problems = update::preflight(&inv, &cfg, &facts, &store, url.as_ref()).await;
    store.close().await;
    let problems = problems?;
    if !problems.is_empty() {
        bail!(
            "pre-flight failed; nothing was changed:\n  - {}",
            problems.join("\n  - ")
        );
    }
    outln!("pre-flight: inventory, host, passwords: ok")?;
    if path == UpgradePath::Same {
        outln!("oml {current} is already installed here: nothing to update")?;
        return Ok(ExitCode::SUCCESS);
    }
    let latest = oml_store::latest_schema_version();
    outln!(
        "update:     oml {} → {current} (tested path from {})",
        installed.version,
        supported_text()
    )?;
    outln!("then:       pre-upgrade backup; {} schema migration(s) ({} → {latest}); configuration re-rendered under {}; services restarted{}",
        latest - installed.schema,
        installed.schema,
        root.display(),
        if live { "" } else { " (not here: the root is not /)" })?;
    if o.dry_run {
        outln!("dry run: nothing changed")?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::cli::confirm(o.yes, "update", "Update? Type yes: ", "yes")?;
    if live && !o.no_restart {
        // The new binary replaces the running one: stop it while we work
        // (with --no-restart the operator stops and starts it; the lock
        // below refuses while it runs).
        let _ = std::process::Command::new("systemctl")
            .args(["stop", "oml"])
            .status();
    }
    let _alone = crate::running::hold_exclusive(&g.data_dir, "update")?;
    let inv_abs = std::path::absolute(&inv_path)?;
    let backup = super::backup::pre_upgrade_backup(g, inv_abs.clone(), root.clone())
        .await
        .context("the pre-upgrade backup failed; nothing was changed")?;
    // Rolling back puts back exactly what the backup took: the inventory
    // and the generated files from where this update read and wrote them.
    let mut target = super::restore::target(g)?;
    target.layout.inventory = Some(inv_abs);
    target.layout.generated_root = root.clone();

    let steps = async {
        let schema = update::migrate(&g.location(), current).await?;
        outln!("done      schema {} → {schema}", installed.schema)?;
        let ctx = render_cmd::context(g, &o.inventory).await?;
        let (changed, commands) = update::render(&ctx, &root)?;
        outln!("done      {changed} configuration file(s) re-rendered")?;
        Ok::<_, anyhow::Error>(commands)
    }
    .await;
    let commands = match steps {
        Ok(c) => c,
        Err(e) => {
            let back = update::roll_back(&backup, &target).await;
            let e = oml_deploy::Error::new(format!("{e:#}"));
            return Err(update::rolled_back_error(e, &backup, back).into());
        }
    };
    if live && !o.no_restart {
        let say = crate::output::progress;
        update::restart_or_roll_back(&commands, &System, &say, &backup, || {
            update::roll_back(&backup, &target)
        })
        .await?;
    } else {
        outln!("not restarted here; run:")?;
        for c in &commands {
            outln!("  {}", c.join(" "))?;
        }
    }
    outln!(
        "oml is at {current}; the pre-upgrade backup is {}",
        backup.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
