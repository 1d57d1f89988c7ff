//! `oml deploy`: the deploy tasks of the original guide that oml does.
//! `--change-network`: the host's address or name changed and the inventory
//! now gives the new ones. Checks that the inventory really is this machine
//! (before anything is written), re-renders every host-dependent file,
//! restarts the services that read the changed files, and reports what
//! changed. `--change-passwords`: see [`super::passwords`]. `--dry-run`
//! prints the plan and the diff. `--update`: see [`super::update`].

use crate::cli::GlobalArgs;
use crate::commands::render::{self as render_cmd, InventoryArg};
use anyhow::{bail, Context, Result};
use clap::{ArgGroup, Args as ClapArgs};
use oml_ops::network::{self, HostFacts, Service};
use oml_ops::render;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
#[command(group(ArgGroup::new("task").required(true).args(["change_network", "change_passwords", "update"])))]
pub struct Args {
    /// Re-address the installation to the host name and IP the inventory
    /// now gives: check they are this machine's, re-render every
    /// host-dependent file, restart what reads them.
    #[arg(long)]
    pub change_network: bool,
    /// Apply the passwords the inventory now gives (PostgreSQL role, AMI
    /// user, console admin and dialer users) to their services and files,
    /// all or nothing.
    #[arg(long)]
    pub change_passwords: bool,
    /// Bring this installation to this oml's version: pre-flight, backup,
    /// migrations, re-render, restarts; rolled back if a step fails.
    #[arg(long)]
    pub update: bool,
    /// With --update: run it on another host over SSH (user@host[:port]).
    #[arg(long, value_name = "USER@HOST[:PORT]", requires = "update")]
    pub host: Option<String>,
    /// Print the plan and the diff (passwords masked); change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Write the files but restart nothing (the commands are printed).
    #[arg(long)]
    pub no_restart: bool,
    /// Folder the files are written under. Services are restarted only when
    /// it is `/` (the host itself). Default: paths.config_root of oml.toml, else `/`.
    #[arg(long)]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub inventory: InventoryArg,
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    if a.update {
        return super::update::run(
            g,
            super::update::Options {
                dry_run: a.dry_run,
                yes: a.yes,
                no_restart: a.no_restart,
                root: &a.root,
                inventory: &a.inventory,
                host: &a.host,
            },
        )
        .await;
    }
    if a.change_passwords {
        return super::passwords::run(
            g,
            super::passwords::Options {
                dry_run: a.dry_run,
                yes: a.yes,
                no_restart: a.no_restart,
                root: &a.root,
                inventory: &a.inventory,
            },
        )
        .await;
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
    println!(
        "host {} at {} (SIP/RTP advertised {}, web name {})",
        cfg.fqdn.as_deref().unwrap_or(&facts.hostname),
        cfg.ip,
        cfg.advertised_ip(),
        cfg.domain()
    );

    let root = render_cmd::root(g, &a.root)?;
    let plan = render::plan(&ctx, &root)?;
    let changed: Vec<PathBuf> = plan.changes().map(|s| s.path().to_path_buf()).collect();
    let services = network::services_for(&changed, &root, &ctx.oml.data_dir);
    let unit_changed = changed
        .iter()
        .any(|p| p.ends_with("etc/systemd/system/oml.service"));
    for s in &plan.steps {
        println!("{s}");
    }
    let restart_here = root == Path::new("/") && !a.no_restart;
    if plan.is_noop() {
        println!("nothing to change: every file already matches the inventory");
        warn_about_servers(&ctx, &facts);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "services to restart: {}",
        if services.is_empty() {
            "none".to_string()
        } else {
            services
                .iter()
                .map(|s| s.unit())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if services.contains(&Service::Asterisk) && restart_here {
        println!("restarting asterisk ends every call in progress: pause the campaigns first (`oml dialer stop`)");
    }
    if a.dry_run {
        println!();
        print!("{}", plan.diff());
        println!(
            "dry run: {} file(s) would change under {}; nothing written, nothing restarted",
            changed.len(),
            root.display()
        );
        warn_about_servers(&ctx, &facts);
        return Ok(ExitCode::SUCCESS);
    }
    crate::cli::confirm(
        a.yes,
        "change the network configuration",
        "Write these files and restart these services? Type yes: ",
        "yes",
    )?;
    let report = plan.apply()?;
    println!(
        "{} file(s) written, {} unchanged, under {}",
        report.written.len(),
        report.unchanged,
        root.display()
    );
    let commands: Vec<Vec<String>> = services
        .iter()
        .flat_map(|s| s.commands(*s == Service::Oml && unit_changed))
        .collect();
    if restart_here {
        restart(&commands)?;
        println!(
            "network change applied: {} file(s) rewritten, restarted {}",
            report.written.len(),
            services
                .iter()
                .map(|s| s.unit())
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else if !commands.is_empty() {
        let why = if a.no_restart {
            "--no-restart".to_string()
        } else {
            format!("the files were written under {}", root.display())
        };
        println!("nothing restarted ({why}); to apply the files, run:");
        for c in &commands {
            println!("  {}", c.join(" "));
        }
    }
    warn_about_servers(&ctx, &facts);
    Ok(ExitCode::SUCCESS)
}

/// Runs the restart commands in order; stops at the first failure and says
/// which service failed, with its output, and what is left to run.
pub(crate) fn restart(commands: &[Vec<String>]) -> Result<()> {
    for (i, c) in commands.iter().enumerate() {
        println!("running   {}", c.join(" "));
        let out = std::process::Command::new(&c[0])
            .args(&c[1..])
            .output()
            .with_context(|| format!("cannot run `{}`", c.join(" ")))?;
        if !out.status.success() {
            let rest: Vec<String> = commands[i + 1..].iter().map(|c| c.join(" ")).collect();
            bail!(
                "`{}` failed ({}): {}{}\nThe new files are in place; fix the service and run the command again{}",
                c.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim(),
                String::from_utf8_lossy(&out.stdout).trim(),
                if rest.is_empty() {
                    String::new()
                } else {
                    format!(", then: {}", rest.join("; "))
                }
            );
        }
    }
    Ok(())
}

/// The dialer reaches each Asterisk server at the address stored for it: one
/// that is neither this host's new address nor loopback may be the old one.
fn warn_about_servers(ctx: &render::RenderContext, facts: &HostFacts) {
    let cfg = &ctx.inventory;
    for s in &ctx.data.servers {
        let host = s.host.trim();
        let local = super::passwords::is_this_host(host, cfg, facts);
        if !local {
            println!(
                "note: Asterisk server `{}` is reached at {host}; if that was this host's old address, run `oml asterisk edit {} --host {}`",
                s.name, s.name, cfg.ip
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn restarts_stop_at_the_first_failure_and_say_what_is_left() {
        assert!(restart(&[cmd(&["true"]), cmd(&["true"])]).is_ok());
        let e = restart(&[
            cmd(&["true"]),
            cmd(&["sh", "-c", "echo 'job for kamailio failed' >&2; exit 3"]),
            cmd(&["systemctl", "reload", "nginx"]),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("job for kamailio failed"), "{e}");
        assert!(e.contains("exit status: 3"), "{e}");
        assert!(e.contains("then: systemctl reload nginx"), "{e}");
        let e = restart(&[cmd(&["/nonexistent/systemctl", "restart", "oml"])])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot run `/nonexistent/systemctl restart oml`"),
            "{e}"
        );
    }
}
