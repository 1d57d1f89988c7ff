//! `oml deploy --change-passwords`: apply the passwords the inventory now
//! gives, all or nothing. oml-deploy's `passwords` gathers what changes,
//! builds the plan (each step with its inverse) and applies it, putting
//! back every step done when one fails; this file checks the current AMI
//! secrets, prints the plan and its undo list, asks, and restarts oml when
//! `oml.env` changed.

use crate::cli::GlobalArgs;
use crate::commands::render as render_cmd;
use crate::output::outln;
use anyhow::{Context, Result};
use oml_deploy::host::{self, System};
use oml_deploy::passwords;
use oml_ops::network::{self, HostFacts, Service};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub async fn run(g: &GlobalArgs, o: &super::deploy_args::Args) -> Result<ExitCode> {
    let ctx = render_cmd::context(g, &o.inventory).await?;
    let (_, inv) = o.inventory.load(g)?;
    let facts = HostFacts::collect().context("reading this machine's addresses")?;
    let root = render_cmd::root(g, &o.root)?;
    let store = g.open_store().await?;
    let url = g.database_url.clone().map(SecretString::from);
    let found = passwords::gather(&ctx, &inv, &root, &store, url.as_ref(), &facts).await;
    store.close().await;
    let plan = passwords::assemble(found?);
    for line in plan.summary() {
        outln!("{line}")?;
    }
    for n in &plan.notes {
        outln!("note: {n}")?;
    }
    if plan.is_noop() {
        outln!("nothing to change: every password in the inventory is already in use")?;
        return Ok(ExitCode::SUCCESS);
    }
    // Check the current credentials before anything changes.
    for s in &plan.check_first {
        let c = host::ami_login(s, &s.ami_secret)
            .await
            .context("the AMI secret oml has now is refused; nothing was changed")?;
        c.logoff().await.ok();
    }
    if o.dry_run {
        outln!("if a step fails, the steps done are put back, newest first:")?;
        for line in plan.undo_list() {
            outln!("  undo    {line}")?;
        }
        outln!()?;
        if let Some(files) = plan.files() {
            crate::output::text(&files.diff())?;
        }
        outln!("dry run: nothing changed")?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::cli::confirm(
        o.yes,
        "change passwords",
        "Apply these passwords? Type yes: ",
        "yes",
    )?;
    passwords::apply(&plan, g.location(), &crate::output::progress).await?;
    let changed: Vec<PathBuf> = plan
        .files()
        .map(|p| p.changes().map(|s| s.path().to_path_buf()).collect())
        .unwrap_or_default();
    if network::services_for(&changed, &root, &ctx.oml.data_dir).contains(&Service::Oml) {
        if root == Path::new("/") && !o.no_restart {
            let say = crate::output::progress;
            if let Err(e) = host::restart(&Service::Oml.commands(false), &System, &say) {
                outln!(
                    "warning: the passwords are applied everywhere, but oml did not restart ({e}): it runs with the old oml.env until it restarts; fix it, then run: systemctl restart oml"
                )?;
            }
        } else {
            outln!("not run   systemctl restart oml (oml reads oml.env when it starts)")?;
        }
    }
    outln!("passwords applied")?;
    Ok(ExitCode::SUCCESS)
}
