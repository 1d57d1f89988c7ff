//! `oml deploy --change-network`: the host's address or name changed, the
//! inventory says the new ones. This module holds the pure parts: checking
//! that the inventory's address and name really are this machine's (so a
//! typo never re-addresses every service to an address nobody answers on),
//! and which services must restart for which rendered files. Gathering the
//! machine's facts and running `systemctl` are thin I/O at the edges.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::inventory::{Inventory, InventoryError, Problem};
use crate::InventoryConfig;

/// What this machine is: its host name and the addresses of its interfaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    pub hostname: String,
    pub addresses: Vec<IpAddr>,
}

impl HostFacts {
    /// Reads the host name and every interface address of this machine.
    pub fn collect() -> std::io::Result<HostFacts> {
        let mut addresses: Vec<IpAddr> = if_addrs::get_if_addrs()?
            .into_iter()
            .map(|i| i.ip())
            .collect();
        addresses.sort();
        addresses.dedup();
        Ok(HostFacts {
            hostname: hostname(),
            addresses,
        })
    }
}

/// This machine's host name (`gethostname`), or "" when it cannot be read.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Checks that the inventory describes this machine: its address
/// (`ansible_host`, or the 2020 host name) is on one of the interfaces, and
/// a DNS host name given on the host line (2019 layout) is this machine's
/// name (short or fully qualified). Every problem names the variable and
/// its line.
pub fn check_host(
    inv: &Inventory,
    cfg: &InventoryConfig,
    facts: &HostFacts,
) -> Result<(), InventoryError> {
    let aio = inv.aio_host()?;
    let mut problems = Vec::new();
    if !facts.addresses.contains(&cfg.ip) {
        let var = if aio.host.var("ansible_host").is_some() {
            "ansible_host"
        } else {
            "inventory_hostname"
        };
        let have: Vec<String> = facts
            .addresses
            .iter()
            .filter(|a| !a.is_loopback())
            .map(|a| a.to_string())
            .collect();
        problems.push(Problem {
            line: Some(aio.line),
            variable: Some(var.to_string()),
            message: format!(
                "{} is not an address of this machine (its addresses: {}): give the new address \
                 to the machine first (or fix the inventory); oml runs on the host it configures",
                cfg.ip,
                if have.is_empty() {
                    "none but loopback".to_string()
                } else {
                    have.join(", ")
                }
            ),
        });
    }
    if let Some(name) = &cfg.fqdn {
        if name.parse::<IpAddr>().is_err() && !same_host_name(name, &facts.hostname) {
            problems.push(Problem {
                line: Some(aio.line),
                variable: Some("inventory_hostname".to_string()),
                message: format!(
                    "`{name}` is not this machine's name (`{}`): rename the machine first \
                     (`hostnamectl set-hostname {name}`) or fix the host line",
                    facts.hostname
                ),
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(InventoryError::Invalid(problems))
    }
}

/// `a` and `b` name the same host: equal ignoring case, or one is the
/// other's first label (`pbx` and `pbx.example.com`).
fn same_host_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    let short = |s: &str| s.split('.').next().unwrap_or("").to_string();
    a == b || (!b.is_empty() && (short(&a) == b || short(&b) == a))
}

/// A service that reads rendered files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    /// oml's own unit (`oml serve`): oml.env, oml.toml, the unit file.
    Oml,
    Asterisk,
    Kamailio,
    Rtpengine,
    Nginx,
}

impl Service {
    /// The systemd unit.
    pub fn unit(self) -> &'static str {
        match self {
            Service::Oml => "oml",
            Service::Asterisk => "asterisk",
            Service::Kamailio => "kamailio",
            Service::Rtpengine => "rtpengine",
            Service::Nginx => "nginx",
        }
    }

    /// The commands that make the service read its new files, in order.
    /// nginx checks its configuration before it reloads; oml's unit file
    /// needs `daemon-reload` when it changed.
    pub fn commands(self, unit_file_changed: bool) -> Vec<Vec<String>> {
        let v = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match self {
            Service::Nginx => vec![v(&["nginx", "-t"]), v(&["systemctl", "reload", "nginx"])],
            Service::Oml if unit_file_changed => vec![
                v(&["systemctl", "daemon-reload"]),
                v(&["systemctl", "restart", "oml"]),
            ],
            s => vec![v(&["systemctl", "restart", s.unit()])],
        }
    }
}

/// Which services must restart for these changed files (rendered under
/// `root`), in a fixed order (oml, Asterisk, Kamailio, rtpengine, nginx: the
/// web console last, so it never proxies to an oml that is restarting).
pub fn services_for(changed: &[PathBuf], root: &Path, data_dir: &Path) -> Vec<Service> {
    let mut out: Vec<Service> = changed
        .iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(root).unwrap_or(p);
            // oml.toml lives in the data folder, itself rendered under the root.
            if rel.starts_with(data_dir.strip_prefix("/").unwrap_or(data_dir)) {
                return Some(Service::Oml);
            }
            let first_two: Vec<String> = rel
                .components()
                .take(3)
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            match first_two.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                ["etc", "asterisk", ..] => Some(Service::Asterisk),
                ["etc", "kamailio", ..] => Some(Service::Kamailio),
                ["etc", "rtpengine", ..] => Some(Service::Rtpengine),
                ["etc", "nginx", ..] => Some(Service::Nginx),
                ["etc", "oml", ..] | ["etc", "systemd", ..] => Some(Service::Oml),
                _ => None,
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVENTORY_2019: &str = "\
[omnileads-aio]
pbx.example.com ansible_connection=local ansible_user=root ansible_host=10.0.0.5

[everyone:children]
omnileads-aio

[everyone:vars]
postgres_password=pg-secret
ami_password=ami-secret
admin_pass=admin-secret
";

    fn load(text: &str) -> (Inventory, InventoryConfig) {
        let inv = Inventory::parse(text).unwrap();
        let cfg = inv.config().unwrap();
        (inv, cfg)
    }

    fn facts(name: &str, ips: &[&str]) -> HostFacts {
        HostFacts {
            hostname: name.into(),
            addresses: ips.iter().map(|s| s.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn the_inventory_must_describe_this_machine() {
        let (inv, cfg) = load(INVENTORY_2019);
        assert!(check_host(&inv, &cfg, &facts("pbx", &["127.0.0.1", "10.0.0.5"])).is_ok());
        assert!(check_host(&inv, &cfg, &facts("pbx.example.com", &["10.0.0.5"])).is_ok());
        // The address is not on any interface: named, with the line and what the machine has.
        let e = check_host(&inv, &cfg, &facts("pbx", &["127.0.0.1", "10.0.0.9"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("`ansible_host`") && e.contains("10.0.0.9"),
            "{e}"
        );
        // The name is another machine's.
        let e = check_host(&inv, &cfg, &facts("other", &["10.0.0.5"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`inventory_hostname`") && e.contains("hostnamectl"),
            "{e}"
        );
    }

    #[test]
    fn host_names_match_short_or_qualified() {
        assert!(same_host_name("pbx.example.com", "pbx"));
        assert!(same_host_name("PBX", "pbx.example.com"));
        assert!(!same_host_name("pbx2.example.com", "pbx"));
        assert!(!same_host_name("pbx", ""));
    }

    #[test]
    fn changed_files_map_to_the_services_that_read_them() {
        let root = Path::new("/");
        let data = Path::new("/var/lib/oml");
        let changed: Vec<PathBuf> = [
            "/etc/nginx/conf.d/oml.conf",
            "/etc/kamailio/kamailio.cfg",
            "/etc/asterisk/oml_manager.conf",
            "/etc/asterisk/oml_queues.conf",
            "/var/lib/oml/oml.toml",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(
            services_for(&changed, root, data),
            [
                Service::Oml,
                Service::Asterisk,
                Service::Kamailio,
                Service::Nginx
            ]
        );
        // Under another root, paths are read relative to it.
        let staged: Vec<PathBuf> = [
            "/srv/root/etc/rtpengine/rtpengine.conf",
            "/srv/root/var/lib/oml/oml.toml",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(
            services_for(&staged, Path::new("/srv/root"), data),
            [Service::Oml, Service::Rtpengine]
        );
        assert!(services_for(&[], root, data).is_empty());
    }

    #[test]
    fn nginx_is_checked_before_it_reloads() {
        assert_eq!(
            Service::Nginx.commands(false),
            [vec!["nginx", "-t"], vec!["systemctl", "reload", "nginx"]]
        );
        assert_eq!(
            Service::Oml.commands(true)[0],
            ["systemctl", "daemon-reload"]
        );
        assert_eq!(
            Service::Kamailio.commands(false),
            [vec!["systemctl", "restart", "kamailio"]]
        );
    }
}
