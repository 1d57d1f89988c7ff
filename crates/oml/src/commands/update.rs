//! `oml deploy --update`: bring an installation to the version of this
//! binary. Pre-flight first (the inventory is readable and describes this
//! machine, every password in it opens its service, the installed version
//! has a tested upgrade path to this one): any failure stops before anything
//! changes and names the variable to fix. Then a pre-upgrade backup, the
//! schema migrations, the configuration re-rendered, the services
//! restarted; if a step fails, the pre-upgrade backup is restored.
//! `--host user@host[:port]` runs the same command on that host through the
//! system's OpenSSH.

use crate::cli::GlobalArgs;
use crate::commands::render::{self as render_cmd, InventoryArg};
use anyhow::{anyhow, bail, Context, Result};
use oml_ops::network::{self, HostFacts, Service};
use oml_store::{OpenMode, Store};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The setting that records which oml version the installation is at.
pub const INSTALLED_VERSION_KEY: &str = "oml.installed_version";

/// Installations made before the version was recorded were made by 0.1.0.
const UNRECORDED_VERSION: &str = "0.1.0";

/// Versions an update may start from (`MAJOR.MINOR`, any patch or
/// pre-release older than this binary). Each entry is a tested path.
pub const UPGRADES_FROM: &[&str] = &["0.1"];

/// What the installed version means for an update.
#[derive(Debug, PartialEq, Eq)]
pub enum UpgradePath {
    /// Already at this version.
    Same,
    /// A tested upgrade.
    Upgrade,
}

/// Checks the upgrade path from `installed` to `current`; the error says
/// what to do instead.
pub fn upgrade_path(installed: &str, current: &str) -> Result<UpgradePath, String> {
    let parse = |v: &str, what: &str| {
        semver::Version::parse(v.trim())
            .map_err(|e| format!("{what} version `{v}` is not a version ({e})"))
    };
    let from = parse(installed, "the installed")?;
    let to = parse(current, "this oml's")?;
    if from == to {
        return Ok(UpgradePath::Same);
    }
    if from > to {
        return Err(format!(
            "the installation is at oml {from}, newer than this oml {to}: install oml {from} or newer (downgrades are not supported; restore a backup made by {to} instead)"
        ));
    }
    let series = format!("{}.{}", from.major, from.minor);
    if UPGRADES_FROM.contains(&series.as_str()) {
        Ok(UpgradePath::Upgrade)
    } else {
        Err(format!(
            "there is no tested upgrade path from oml {from} to {to} (supported from: {}): upgrade through an intermediate version",
            supported_text()
        ))
    }
}

/// The supported starting points, for messages and `oml version`.
pub fn supported_text() -> String {
    UPGRADES_FROM
        .iter()
        .map(|s| format!("{s}.x"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `--update` takes besides the inventory.
pub struct Options<'a> {
    pub dry_run: bool,
    pub yes: bool,
    pub no_restart: bool,
    pub root: &'a Option<PathBuf>,
    pub inventory: &'a InventoryArg,
    pub host: &'a Option<String>,
}

/// `user@host[:port]` → the `ssh` arguments that reach it.
pub fn ssh_target(spec: &str) -> Result<Vec<String>> {
    let (user_host, port) = match spec.rsplit_once(':') {
        Some((h, p)) => (
            h,
            Some(p.parse::<u16>().map_err(|_| {
                anyhow!("--host {spec}: `{p}` is not a port (use user@host or user@host:port)")
            })?),
        ),
        None => (spec, None),
    };
    let Some((user, host)) = user_host.split_once('@') else {
        bail!("--host {spec}: give the user too, as user@host[:port]");
    };
    if user.is_empty() || host.is_empty() || host.contains(char::is_whitespace) {
        bail!("--host {spec}: give it as user@host[:port]");
    }
    let mut args = Vec::new();
    if let Some(p) = port {
        args.push("-p".to_string());
        args.push(p.to_string());
    }
    args.push(format!("{user}@{host}"));
    Ok(args)
}

/// Runs the update on another host through `ssh`; its output is ours.
fn run_remote(spec: &str, o: &Options<'_>) -> Result<ExitCode> {
    let mut args = ssh_target(spec)?;
    args.extend(["oml", "deploy", "--update"].map(String::from));
    if o.dry_run {
        args.push("--dry-run".into());
    }
    if o.yes {
        args.push("--yes".into());
    }
    if o.no_restart {
        args.push("--no-restart".into());
    }
    println!("running on {spec}: ssh {}", args.join(" "));
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

fn line_of(inv: &oml_ops::Inventory, var: &str) -> String {
    inv.var(var)
        .map(|v| format!("line {}: ", v.line))
        .unwrap_or_default()
}

pub async fn run(g: &GlobalArgs, o: Options<'_>) -> Result<ExitCode> {
    if let Some(spec) = o.host {
        return run_remote(spec, &o);
    }
    let root = render_cmd::root(g, o.root)?;
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
    let installed = store
        .setting(INSTALLED_VERSION_KEY)
        .await?
        .unwrap_or_else(|| UNRECORDED_VERSION.to_string());
    let schema_before = store.schema_version().await?.unwrap_or(0);
    let path =
        upgrade_path(&installed, current).map_err(|e| anyhow!("{e}; nothing was changed"))?;
    let mut problems: Vec<String> = Vec::new();
    if let Some(admin) = store.user_by_name("admin").await? {
        if !oml_store::verify_password_hash(&cfg.admin_password, &admin.password_hash) {
            problems.push(format!(
                "{}`admin_pass` does not open the console user admin: write the password in use (or change it with `oml users passwd admin` first)",
                line_of(&inv, "admin_pass")
            ));
        }
    }
    for s in store.servers().await? {
        if s.ami_user != cfg.ami_user || !super::passwords::is_this_host(&s.host, &cfg, &facts) {
            continue;
        }
        match super::passwords::ami_login(&s, &cfg.ami_password).await {
            Ok(client) => {
                client.logoff().await.ok();
            }
            Err(e) => problems.push(format!(
                "{}`ami_password` is refused for AMI user {}: {e}",
                line_of(&inv, "ami_password"),
                s.ami_user
            )),
        }
    }
    if let Some(url) = &g.database_url {
        let url = SecretString::from(url.clone());
        let (role, _) = super::passwords::url_role(&url)?;
        let with_inventory = super::passwords::with_password(&url, &cfg.postgres.password)?;
        if role != cfg.postgres.user {
            problems.push(format!(
                "{}`postgres_user` is {} but oml connects to PostgreSQL as {role}",
                line_of(&inv, "postgres_user"),
                cfg.postgres.user
            ));
        } else if super::passwords::pg_opens(&with_inventory).await.is_err() {
            problems.push(format!(
                "{}`postgres_password` does not open PostgreSQL as `{}`: write the password in use",
                line_of(&inv, "postgres_password"),
                cfg.postgres.user
            ));
        }
    }
    store.close().await;
    if !problems.is_empty() {
        bail!(
            "pre-flight failed; nothing was changed:\n  - {}",
            problems.join("\n  - ")
        );
    }
    println!("pre-flight: inventory, host, passwords: ok");
    if path == UpgradePath::Same {
        println!("oml {current} is already installed here: nothing to update");
        return Ok(ExitCode::SUCCESS);
    }
    let pending = oml_store::latest_schema_version() - schema_before;
    println!(
        "update:     oml {installed} → {current} (tested path from {})",
        supported_text()
    );
    println!("then:       pre-upgrade backup; {pending} schema migration(s) ({schema_before} → {}); configuration re-rendered under {}; services restarted{}",
        oml_store::latest_schema_version(),
        root.display(),
        if live { "" } else { " (not here: the root is not /)" });
    if o.dry_run {
        println!("dry run: nothing changed");
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

    let steps = async {
        let store = Store::open(&g.location(), OpenMode::Existing)
            .await
            .context("schema migrations")?;
        let schema = store.schema_version().await?.unwrap_or(0);
        println!("done      schema {schema_before} → {schema}");
        store
            .set_setting(INSTALLED_VERSION_KEY, current)
            .await
            .context("recording the installed version")?;
        store.close().await;
        let ctx = render_cmd::context(g, o.inventory).await?;
        let plan = oml_ops::render::plan(&ctx, &root)?;
        let changed: Vec<PathBuf> = plan.changes().map(|s| s.path().to_path_buf()).collect();
        plan.apply().context("writing the configuration files")?;
        println!(
            "done      {} configuration file(s) re-rendered",
            changed.len()
        );
        let mut services = network::services_for(&changed, &root, &ctx.oml.data_dir);
        if !services.contains(&Service::Oml) {
            services.insert(0, Service::Oml);
        }
        Ok::<_, anyhow::Error>((services, changed))
    }
    .await;
    let (services, changed) = match steps {
        Ok(x) => x,
        Err(e) => {
            // Put back exactly what the backup took: the inventory and the
            // generated files from where this update read and wrote them.
            let mut target = super::restore::target(g)?;
            target.layout.inventory = Some(inv_abs.clone());
            target.layout.generated_root = root.clone();
            let back =
                oml_backup::restore::restore(&backup, &target, &oml_backup::NoProgress).await;
            return Err(match back {
                Ok(_) => e.context(format!(
                    "the update failed and was rolled back to the state before it (from {})",
                    backup.display()
                )),
                Err(b) => e.context(format!(
                    "the update failed, and rolling back failed too ({b}): restore {} by hand with `oml restore`",
                    backup.display()
                )),
            });
        }
    };
    let unit_changed = changed
        .iter()
        .any(|p| p.ends_with("etc/systemd/system/oml.service"));
    let commands: Vec<Vec<String>> = services
        .iter()
        .flat_map(|s| s.commands(*s == Service::Oml && unit_changed))
        .collect();
    if live && !o.no_restart {
        if let Err(e) = super::deploy::restart(&commands) {
            println!("warning: {}", crate::cli::one_line(&e));
        }
    } else {
        println!("not restarted here; run:");
        for c in &commands {
            println!("  {}", c.join(" "));
        }
    }
    println!(
        "oml is at {current}; the pre-upgrade backup is {}",
        backup.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_paths() {
        assert_eq!(upgrade_path("0.1.0", "0.1.0"), Ok(UpgradePath::Same));
        assert_eq!(
            upgrade_path("0.1.0-rc.1", "0.1.0"),
            Ok(UpgradePath::Upgrade)
        );
        assert_eq!(upgrade_path("0.1.3", "0.2.0"), Ok(UpgradePath::Upgrade));
        let e = upgrade_path("0.0.9", "0.1.0").unwrap_err();
        assert!(
            e.contains("no tested upgrade path") && e.contains("0.1.x"),
            "{e}"
        );
        let e = upgrade_path("9.9.9", "0.1.0").unwrap_err();
        assert!(e.contains("newer than this oml"), "{e}");
        assert!(upgrade_path("banana", "0.1.0")
            .unwrap_err()
            .contains("not a version"));
    }

    #[test]
    fn ssh_targets() {
        assert_eq!(ssh_target("root@pbx").unwrap(), ["root@pbx"]);
        assert_eq!(
            ssh_target("admin@10.0.0.5:2222").unwrap(),
            ["-p", "2222", "admin@10.0.0.5"]
        );
        assert!(ssh_target("pbx")
            .unwrap_err()
            .to_string()
            .contains("user@host"));
        assert!(ssh_target("a@b:http")
            .unwrap_err()
            .to_string()
            .contains("not a port"));
    }
}
