//! `oml deploy --update`: bring an installation to the version of this
//! oml. Pre-flight first (the inventory describes this machine, every
//! password in it opens its service, the installed version has a tested
//! upgrade path to this one): a failure stops before anything changes and
//! names the variable to fix. Then (the binary takes the pre-upgrade
//! backup) the schema migrations, the configuration re-rendered, the
//! services restarted; a failing step or restart is rolled back from the
//! pre-upgrade backup. `--host` runs the same command on another host.

use crate::host::{self, RestartFailed, Runner};
use crate::{bail, Context, Error, Result, Say};
use oml_ops::network::{self, HostFacts, Service};
use oml_store::{Location, OpenMode, Store};
use secrecy::SecretString;
use std::future::Future;
use std::path::{Path, PathBuf};

/// The setting that records which oml version the installation is at.
pub const INSTALLED_VERSION_KEY: &str = "oml.installed_version";

/// Installations made before the version was recorded were made by 0.1.0.
pub const UNRECORDED_VERSION: &str = "0.1.0";

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

/// `user@host[:port]` → the `ssh` arguments that reach it.
pub fn ssh_target(spec: &str) -> Result<Vec<String>> {
    let (user_host, port) = match spec.rsplit_once(':') {
        Some((h, p)) => (
            h,
            Some(p.parse::<u16>().map_err(|_| {
                Error(format!(
                    "--host {spec}: `{p}` is not a port (use user@host or user@host:port)"
                ))
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

/// The options of a local update that a remote one passes on, or refuses.
#[derive(Debug, Default, Clone)]
pub struct RemoteOptions {
    pub dry_run: bool,
    pub yes: bool,
    pub no_restart: bool,
    /// Set when `--inventory` (or `OML_INVENTORY`) was given: a path on
    /// this machine, which the other host does not have.
    pub inventory: Option<PathBuf>,
    /// Set when `--root` was given.
    pub root: Option<PathBuf>,
}

/// The `ssh` arguments that run the update on `spec`. Options that name
/// files here cannot be passed on: refused, naming what to do instead.
pub fn remote_command(spec: &str, o: &RemoteOptions) -> Result<Vec<String>> {
    let mut refused = Vec::new();
    if let Some(p) = &o.inventory {
        refused.push(format!(
            "--inventory {} (or OML_INVENTORY) names a file on this machine",
            p.display()
        ));
    }
    if let Some(p) = &o.root {
        refused.push(format!(
            "--root {} names a folder on this machine",
            p.display()
        ));
    }
    if !refused.is_empty() {
        bail!(
            "--host {spec} cannot pass on {}: the update on {spec} reads its own inventory and root (paths.inventory and paths.config_root of its oml.toml); drop these options or run oml on that host; nothing was changed",
            refused.join(", and ")
        );
    }
    let mut args = ssh_target(spec)?;
    args.extend(["oml", "deploy", "--update"].map(String::from));
    for (on, flag) in [
        (o.dry_run, "--dry-run"),
        (o.yes, "--yes"),
        (o.no_restart, "--no-restart"),
    ] {
        if on {
            args.push(flag.into());
        }
    }
    Ok(args)
}

/// The installation as the update finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub version: String,
    pub schema: i64,
}

/// Reads the installed version and schema (the store is not migrated).
pub async fn installed(store: &Store) -> Result<Installed> {
    Ok(Installed {
        version: store
            .setting(INSTALLED_VERSION_KEY)
            .await?
            .unwrap_or_else(|| UNRECORDED_VERSION.to_string()),
        schema: store.schema_version().await?.unwrap_or(0),
    })
}

fn line_of(inv: &oml_ops::Inventory, var: &str) -> String {
    inv.var(var)
        .map(|v| format!("line {}: ", v.line))
        .unwrap_or_default()
}

/// Checks that every password of the inventory opens its service; returns
/// each problem, naming the line and variable (never the password).
pub async fn preflight(
    inv: &oml_ops::Inventory,
    cfg: &oml_ops::InventoryConfig,
    facts: &HostFacts,
    store: &Store,
    database_url: Option<&SecretString>,
) -> Result<Vec<String>> {
    let mut problems: Vec<String> = Vec::new();
    if let Some(admin) = store.user_by_name("admin").await? {
        if !oml_store::verify_password_hash(&cfg.admin_password, &admin.password_hash) {
            problems.push(format!(
                "{}`admin_pass` does not open the console user admin: write the password in use (or change it with `oml users passwd admin` first)",
                line_of(inv, "admin_pass")
            ));
        }
    }
    for s in store.servers().await? {
        if s.ami_user != cfg.ami_user || !host::is_this_host(&s.host, cfg, facts) {
            continue;
        }
        match host::ami_login(&s, &cfg.ami_password).await {
            Ok(client) => {
                client.logoff().await.ok();
            }
            Err(e) => problems.push(format!(
                "{}`ami_password` is refused for AMI user {}: {e}",
                line_of(inv, "ami_password"),
                s.ami_user
            )),
        }
    }
    if let Some(url) = database_url {
        let (role, _) = host::url_role(url)?;
        let with_inventory = host::with_password(url, &cfg.postgres.password)?;
        if role != cfg.postgres.user {
            problems.push(format!(
                "{}`postgres_user` is {} but oml connects to PostgreSQL as {role}",
                line_of(inv, "postgres_user"),
                cfg.postgres.user
            ));
        } else if host::pg_opens(&with_inventory).await.is_err() {
            problems.push(format!(
                "{}`postgres_password` does not open PostgreSQL as `{}`: write the password in use",
                line_of(inv, "postgres_password"),
                cfg.postgres.user
            ));
        }
    }
    Ok(problems)
}

/// Applies the schema migrations and records `current` as the installed
/// version; returns the schema version now.
pub async fn migrate(location: &Location, current: &str) -> Result<i64> {
    let store = Store::open(location, OpenMode::Existing)
        .await
        .context("schema migrations")?;
    let schema = store.schema_version().await?.unwrap_or(0);
    store
        .set_setting(INSTALLED_VERSION_KEY, current)
        .await
        .context("recording the installed version")?;
    store.close().await;
    Ok(schema)
}

/// The configuration re-rendered under `root`: how many files changed and
/// the commands that make the services read them (oml's always: its
/// binary is new).
pub fn render(
    ctx: &oml_ops::render::RenderContext,
    root: &Path,
) -> Result<(usize, Vec<Vec<String>>)> {
    let plan = oml_ops::render::plan(ctx, root)?;
    let changed: Vec<PathBuf> = plan.changes().map(|s| s.path().to_path_buf()).collect();
    plan.apply().context("writing the configuration files")?;
    let mut services = network::services_for(&changed, root, &ctx.oml.data_dir);
    if !services.contains(&Service::Oml) {
        services.insert(0, Service::Oml);
    }
    Ok((
        changed.len(),
        crate::change_network::commands(&services, &changed),
    ))
}

/// Puts back what the pre-upgrade backup took.
pub async fn roll_back(backup: &Path, target: &oml_backup::restore::RestoreTarget) -> Result<()> {
    oml_backup::restore::restore(backup, target, &oml_backup::NoProgress).await?;
    Ok(())
}

/// The failed update, once rolled back (or not).
pub fn rolled_back_error(e: Error, backup: &Path, back: Result<()>) -> Error {
    match back {
        Ok(()) => e.context(format!(
            "the update failed and was rolled back to the state before it (from {})",
            backup.display()
        )),
        Err(b) => e.context(format!(
            "the update failed, and rolling back failed too ({b}): restore {} by hand with `oml restore`",
            backup.display()
        )),
    }
}

/// Restarts the services on the new files. If one fails, the host is in
/// neither state (some services on the new files, some not): the update is
/// rolled back with `roll_back` (the pre-upgrade backup) and the services
/// restarted on the old files, and the error says where the host stands.
pub async fn restart_or_roll_back<F, Fut>(
    commands: &[Vec<String>],
    runner: &dyn Runner,
    say: Say<'_>,
    backup: &Path,
    roll_back: F,
) -> Result<()>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let Err(failed) = host::restart(commands, runner, say) else {
        return Ok(());
    };
    let RestartFailed { why, .. } = failed;
    say("rolling back: the update is put back from the pre-upgrade backup");
    let back = roll_back().await;
    let services = match (&back, host::restart(commands, runner, say)) {
        (Err(_), _) => String::new(),
        (Ok(()), Ok(())) => {
            " The services were restarted on the configuration from before the update.".into()
        }
        (Ok(()), Err(again)) => format!(
            " Restarting them on the configuration from before the update failed too ({again}): the host runs with some services stopped; fix that service, then run: {}",
            commands.iter().map(|c| c.join(" ")).collect::<Vec<_>>().join("; ")
        ),
    };
    let e = rolled_back_error(
        Error(format!("a service did not restart: {why}")),
        backup,
        back,
    );
    Err(Error(format!("{e}.{services}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

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

    #[test]
    fn a_remote_update_passes_on_its_flags_and_refuses_local_paths() {
        let o = RemoteOptions {
            yes: true,
            no_restart: true,
            ..Default::default()
        };
        assert_eq!(
            remote_command("a@pbx", &o).unwrap().join(" "),
            "a@pbx oml deploy --update --yes --no-restart"
        );
        let o = RemoteOptions {
            inventory: Some("/etc/oml/inventory".into()),
            root: Some("/srv/root".into()),
            ..Default::default()
        };
        let e = remote_command("a@pbx", &o).unwrap_err().to_string();
        assert!(
            e.contains("cannot pass on --inventory /etc/oml/inventory")
                && e.contains("--root /srv/root")
                && e.contains("nothing was changed"),
            "{e}"
        );
    }

    /// Fails every command that contains `fail`; records what ran.
    struct Fake {
        fail: &'static str,
        ran: RefCell<Vec<String>>,
    }
    impl Runner for Fake {
        fn run(&self, c: &[String]) -> Result<()> {
            let line = c.join(" ");
            self.ran.borrow_mut().push(line.clone());
            if line.contains(self.fail) {
                return Err(Error(format!(
                    "`{line}` failed (exit status: 1): job failed"
                )));
            }
            Ok(())
        }
    }

    fn cmds(lines: &[&str]) -> Vec<Vec<String>> {
        lines
            .iter()
            .map(|l| l.split(' ').map(String::from).collect())
            .collect()
    }

    #[tokio::test]
    async fn a_failed_restart_rolls_the_update_back_and_says_where_the_host_is() {
        let commands = cmds(&["systemctl restart oml", "systemctl restart kamailio"]);
        let quiet = |_: &str| {};
        let rolled = RefCell::new(0);
        // All restart: nothing rolled back.
        let ok = Fake {
            fail: "nothing",
            ran: RefCell::new(vec![]),
        };
        restart_or_roll_back(&commands, &ok, &quiet, Path::new("/b.tar.zst"), || async {
            *rolled.borrow_mut() += 1;
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(*rolled.borrow(), 0);
        // Kamailio refuses the new files: rolled back, restarted on the old ones.
        let once = std::cell::Cell::new(true);
        struct FailOnce<'a>(&'a std::cell::Cell<bool>);
        impl Runner for FailOnce<'_> {
            fn run(&self, c: &[String]) -> Result<()> {
                if c.join(" ").contains("kamailio") && self.0.replace(false) {
                    return Err(Error(
                        "`systemctl restart kamailio` failed: bad listen".into(),
                    ));
                }
                Ok(())
            }
        }
        let e = restart_or_roll_back(
            &commands,
            &FailOnce(&once),
            &quiet,
            Path::new("/b.tar.zst"),
            || async {
                *rolled.borrow_mut() += 1;
                Ok(())
            },
        )
        .await
        .unwrap_err()
        .to_string();
        assert_eq!(*rolled.borrow(), 1);
        assert!(
            e.contains("bad listen")
                && e.contains("rolled back to the state before it (from /b.tar.zst)"),
            "{e}"
        );
        assert!(
            e.contains("restarted on the configuration from before the update"),
            "{e}"
        );
        // It fails again on the old files: the error says so and what to run.
        let bad = Fake {
            fail: "kamailio",
            ran: RefCell::new(vec![]),
        };
        let e = restart_or_roll_back(&commands, &bad, &quiet, Path::new("/b.tar.zst"), || async {
            Ok(())
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("failed too") && e.contains("some services stopped"),
            "{e}"
        );
        assert_eq!(
            bad.ran.borrow().len(),
            4,
            "restarted twice: {:?}",
            bad.ran.borrow()
        );
        // The roll-back fails: restore by hand.
        let e = restart_or_roll_back(&commands, &bad, &quiet, Path::new("/b.tar.zst"), || async {
            Err(Error("disk full".into()))
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("rolling back failed too (disk full)") && e.contains("oml restore"),
            "{e}"
        );
    }
}
