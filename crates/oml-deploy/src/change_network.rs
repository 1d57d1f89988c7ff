//! `oml deploy --change-network`: the host's address or name changed and
//! the inventory gives the new ones. The plan re-renders every
//! host-dependent file and names the services that read the changed ones;
//! applying writes the files and restarts those services, and if a restart
//! fails, puts the files back and restarts the services on them, so the
//! host is left as it was, not half moved.

use crate::host::{self, Runner};
use crate::{Error, Result, Say};
use oml_ops::network::{HostFacts, Service};
use oml_ops::plan::{ApplyReport, Plan, Step};
use oml_ops::render::RenderContext;
use std::path::{Path, PathBuf};

/// What `--change-network` will do.
pub struct NetworkPlan {
    pub files: Plan,
    pub changed: Vec<PathBuf>,
    pub services: Vec<Service>,
    /// The commands that make those services read their new files.
    pub commands: Vec<Vec<String>>,
    /// The install folder (`install_prefix`), when it does not exist yet:
    /// created and marked as oml's.
    pub create_install_folder: Option<PathBuf>,
}

impl NetworkPlan {
    pub fn is_noop(&self) -> bool {
        self.files.is_noop() && self.create_install_folder.is_none()
    }
}

/// The commands, in order, that make `services` read the `changed` files
/// (with `daemon-reload` first when oml's unit file changed).
pub fn commands(services: &[Service], changed: &[PathBuf]) -> Vec<Vec<String>> {
    let unit_changed = changed
        .iter()
        .any(|p| p.ends_with("etc/systemd/system/oml.service"));
    services
        .iter()
        .flat_map(|s| s.commands(*s == Service::Oml && unit_changed))
        .collect()
}

/// The install folder under `root`.
pub fn install_folder(ctx: &RenderContext, root: &Path) -> PathBuf {
    let prefix = crate::ownership::normalize(&Path::new("/").join(&ctx.inventory.install_prefix));
    root.join(prefix.strip_prefix("/").unwrap_or(&prefix))
}

/// Plans the change under `root` (nothing is written).
pub fn plan(ctx: &RenderContext, root: &Path) -> Result<NetworkPlan> {
    let files = oml_ops::render::plan(ctx, root)?;
    let changed: Vec<PathBuf> = files.changes().map(|s| s.path().to_path_buf()).collect();
    let services = oml_ops::network::services_for(&changed, root, &ctx.oml.data_dir);
    let folder = install_folder(ctx, root);
    Ok(NetworkPlan {
        commands: commands(&services, &changed),
        files,
        changed,
        services,
        create_install_folder: (!folder.exists()).then_some(folder),
    })
}

/// Writes back what `plan` replaced (removing what it created); returns
/// what could not be put back.
pub fn put_back(plan: &Plan) -> Vec<String> {
    let mut errors = Vec::new();
    for step in &plan.steps {
        if let Step::Write {
            path, old, mode, ..
        } = step
        {
            let r = match old {
                Some(text) => oml_ops::fsutil::write_atomic(path, text.as_bytes(), Some(*mode)),
                None => std::fs::remove_file(path),
            };
            if let Err(e) = r {
                errors.push(format!("{} ({e})", path.display()));
            }
        }
    }
    errors
}

/// Writes the files; when `restart` is set, restarts the services. A
/// failing restart puts the files back, restarts the services on them and
/// returns an error saying what state the host is in. Returns what was
/// written.
pub fn apply(
    np: &NetworkPlan,
    restart: bool,
    runner: &dyn Runner,
    say: Say<'_>,
) -> Result<ApplyReport> {
    if let Some(dir) = &np.create_install_folder {
        crate::ownership::create_claimed(dir).map_err(|e| {
            Error(format!(
                "creating the install folder {}: {e}",
                dir.display()
            ))
        })?;
    }
    let report = np.files.apply()?;
    if !restart {
        return Ok(report);
    }
    let Err(failed) = host::restart(&np.commands, runner, say) else {
        return Ok(report);
    };
    say("rolling back: the files are put back as they were");
    let errors = put_back(&np.files);
    if !errors.is_empty() {
        return Err(Error(format!(
            "{failed}\nThe new files are in place but a service did not restart; putting the old files back failed too ({}): fix the service and run the command again",
            errors.join("; ")
        )));
    }
    let state = match host::restart(&np.commands, runner, say) {
        Ok(()) => "the old files were put back and the services restarted on them: the host is as it was before the change".to_string(),
        Err(again) => format!(
            "the old files were put back, but restarting on them failed too ({again}): some services are stopped; fix that service, then run: {}",
            np.commands.iter().map(|c| c.join(" ")).collect::<Vec<_>>().join("; ")
        ),
    };
    Err(Error(format!(
        "a service did not restart on the new files: {failed}\nRolled back: {state}"
    )))
}

/// Asterisk servers oml reaches at an address that is not this host's:
/// one of them may be the old address.
pub fn stale_servers(ctx: &RenderContext, facts: &HostFacts) -> Vec<String> {
    let cfg = &ctx.inventory;
    ctx.data
        .servers
        .iter()
        .filter(|s| !host::is_this_host(s.host.trim(), cfg, facts))
        .map(|s| {
            format!(
                "note: Asterisk server `{}` is reached at {}; if that was this host's old address, run `oml asterisk edit {} --host {}`",
                s.name, s.host.trim(), s.name, cfg.ip
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct FailFirst<'a>(&'a Cell<bool>, &'static str);
    impl Runner for FailFirst<'_> {
        fn run(&self, c: &[String]) -> Result<()> {
            if c.join(" ").contains(self.1) && self.0.replace(false) {
                return Err(Error(format!("`{}` failed: cannot bind", c.join(" "))));
            }
            Ok(())
        }
    }

    fn network_plan(root: &Path) -> NetworkPlan {
        let kam = root.join("etc/kamailio/kamailio.cfg");
        std::fs::create_dir_all(kam.parent().unwrap()).unwrap();
        std::fs::write(&kam, "listen=udp:10.0.0.1:5060\n").unwrap();
        let mut files = Plan::default();
        files.file(
            kam.clone(),
            "listen=udp:10.0.0.2:5060\n".into(),
            0o644,
            vec![],
        );
        files.file(
            root.join("etc/kamailio/new.cfg"),
            "x\n".into(),
            0o644,
            vec![],
        );
        let changed = vec![kam];
        let services = oml_ops::network::services_for(&changed, root, Path::new("/var/lib/oml"));
        NetworkPlan {
            commands: commands(&services, &changed),
            files,
            changed,
            services,
            create_install_folder: None,
        }
    }

    #[test]
    fn a_failed_restart_puts_the_old_files_back_and_restarts_on_them() {
        let tmp = tempfile::tempdir().unwrap();
        let np = network_plan(tmp.path());
        let quiet = |_: &str| {};
        let fail = Cell::new(true);
        let e = apply(&np, true, &FailFirst(&fail, "kamailio"), &quiet)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot bind"), "{e}");
        assert!(e.contains("the host is as it was before the change"), "{e}");
        let kam = std::fs::read_to_string(tmp.path().join("etc/kamailio/kamailio.cfg")).unwrap();
        assert_eq!(kam, "listen=udp:10.0.0.1:5060\n", "old file back");
        assert!(
            !tmp.path().join("etc/kamailio/new.cfg").exists(),
            "created file removed"
        );
    }

    #[test]
    fn restarts_that_work_leave_the_new_files() {
        let tmp = tempfile::tempdir().unwrap();
        let np = network_plan(tmp.path());
        let fail = Cell::new(false);
        let report = apply(&np, true, &FailFirst(&fail, "kamailio"), &|_| {}).unwrap();
        assert_eq!(report.written.len(), 2);
        let kam = std::fs::read_to_string(tmp.path().join("etc/kamailio/kamailio.cfg")).unwrap();
        assert!(kam.contains("10.0.0.2"));
        assert_eq!(np.commands, [vec!["systemctl", "restart", "kamailio"]]);
    }
}
