//! The typed, validated view of an inventory: what the rest of oml reads.
//!
//! Every check names the variable and the line that defines it (or, for a
//! missing variable, the line where OMniLeads offers it commented out), and
//! all problems are reported at once so the administrator fixes the file in
//! one pass.

use super::{AioHost, Era, Inventory, InventoryError, Problem, PLACEHOLDER};
use secrecy::SecretString;
use std::net::IpAddr;
use std::path::PathBuf;

/// How oml reaches the host (the host line's connection settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshTarget {
    /// `ansible_connection=local`: oml runs on the host itself.
    Local,
    /// `ansible_ssh_port=N` (default 22) with `ansible_user`.
    Ssh { user: String, port: u16 },
}

/// `extern_ip`: the public address for SIP/RTP behind NAT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternIp {
    /// Not behind NAT (`none` or unset).
    None,
    /// Discovered at deploy time (`auto`).
    Auto,
    Ip(IpAddr),
}

/// PostgreSQL settings OMniLeads keeps in the inventory.
#[derive(Clone)]
pub struct PostgresConfig {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: SecretString,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &"***")
            .finish()
    }
}

/// The validated settings of an all-in-one host.
#[derive(Clone, Debug)]
pub struct InventoryConfig {
    pub era: Era,
    /// The host name as written on the host line (`inventory_hostname`).
    pub inventory_hostname: String,
    /// The host's DNS name when the inventory gives one (2019: the host
    /// name; any era: `external_hostname`).
    pub fqdn: Option<String>,
    /// The host's address (`ansible_host`, or the 2020 host name).
    pub ip: IpAddr,
    pub connection: SshTarget,
    pub install_prefix: PathBuf,
    pub postgres: PostgresConfig,
    pub ami_user: String,
    pub ami_password: SecretString,
    pub admin_password: SecretString,
    pub dialer_user: Option<String>,
    pub dialer_password: Option<SecretString>,
    /// `TZ`; UTC when the inventory leaves it commented out.
    pub time_zone: chrono_tz::Tz,
    pub login_failure_limit: u32,
    /// `SCA`: web session idle timeout, seconds.
    pub session_cookie_age_s: u64,
    /// `MONITORFORMAT` (2020) / `formato_conversion` (2019): mp3 or wav.
    pub recording_format: String,
    pub extern_ip: ExternIp,
    pub external_port: Option<u16>,
    pub trusted_cert: Option<String>,
    pub trusted_key: Option<String>,
}

impl InventoryConfig {
    /// The name clients use: `external_hostname`, else the FQDN, else the IP.
    pub fn domain(&self) -> String {
        self.fqdn.clone().unwrap_or_else(|| self.ip.to_string())
    }
    /// The address SIP/RTP announce: `extern_ip` when fixed, else the host IP.
    pub fn advertised_ip(&self) -> IpAddr {
        match self.extern_ip {
            ExternIp::Ip(ip) => ip,
            _ => self.ip,
        }
    }
}

struct Check<'a> {
    inv: &'a Inventory,
    problems: Vec<Problem>,
}

impl Check<'_> {
    fn problem(&mut self, line: Option<usize>, var: &str, msg: impl Into<String>) {
        self.problems.push(Problem {
            line,
            variable: Some(var.to_string()),
            message: msg.into(),
        });
    }

    /// The value, rejecting unevaluated Ansible templates.
    fn get(&mut self, key: &str) -> Option<(String, usize)> {
        let v = self.inv.var(key)?;
        if v.value.contains("{{") {
            self.problem(
                Some(v.line),
                key,
                "uses an Ansible template (`{{ ... }}`), which oml does not evaluate: write the value itself",
            );
            return None;
        }
        Some((v.value, v.line))
    }

    fn text(&mut self, key: &str, default: &str) -> String {
        match self.get(key) {
            Some((v, line)) if v.trim().is_empty() => {
                self.problem(
                    Some(line),
                    key,
                    format!("is empty: set it or comment it out to use `{default}`"),
                );
                default.into()
            }
            Some((v, _)) => v,
            None => default.into(),
        }
    }

    fn optional(&mut self, key: &str) -> Option<(String, usize)> {
        self.get(key).filter(|(v, _)| !v.trim().is_empty())
    }

    fn missing_hint(&self, key: &str) -> String {
        if let Some((line, group)) = self.inv.unseen_var_lines(key).first() {
            let host = self.inv.host_group().unwrap_or("prodenv-aio");
            return format!(
                "missing for the host: line {line} sets it under [{group}:vars], which does not apply to \
                 the hosts of [{host}] ([{group}:children] does not list `{host}`): add `{host}` under \
                 [{group}:children], or move the line under [{host}:vars]"
            );
        }
        match self.inv.commented_var_lines(key).first() {
            Some(l) => format!("commented out at line {l}: uncomment it and set a value"),
            None => format!(
                "missing: add `{key}=...` under {}",
                self.inv.vars_section_for_host()
            ),
        }
    }

    fn password(&mut self, key: &str) -> Option<SecretString> {
        match self.get(key) {
            Some((v, line)) if v.is_empty() => {
                self.problem(Some(line), key, "is empty: a password is required here");
                None
            }
            Some((v, _)) => Some(SecretString::from(v)),
            None => {
                let hint = self.missing_hint(key);
                let line = self.inv.commented_var_lines(key).first().copied();
                self.problem(line, key, format!("is required but {hint}"));
                None
            }
        }
    }

    fn port(&mut self, key: &str, value: &str, line: usize) -> Option<u16> {
        match value.trim().parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => {
                self.problem(
                    Some(line),
                    key,
                    format!("`{value}` is not a TCP port (1-65535)"),
                );
                None
            }
        }
    }
}

pub(super) fn build(inv: &Inventory) -> Result<InventoryConfig, InventoryError> {
    let aio: AioHost = inv.aio_host()?;
    let mut c = Check {
        inv,
        problems: Vec::new(),
    };
    let host_line = Some(aio.line);

    // Address: ansible_host, or the host name itself (2020 layout).
    let ip = match aio.host.var("ansible_host") {
        Some(v) if v.value == PLACEHOLDER => {
            c.problem(
                host_line,
                "ansible_host",
                "is still the placeholder X.X.X.X: write the host's IP address",
            );
            None
        }
        Some(v) => match v.value.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                c.problem(
                    host_line,
                    "ansible_host",
                    format!("`{}` is not an IP address", v.value),
                );
                None
            }
        },
        None => match aio.host.name.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) if aio.host.name == PLACEHOLDER => {
                c.problem(host_line, "ansible_host", "the host is still the placeholder X.X.X.X: write the host's IP address in its place");
                None
            }
            Err(_) => {
                c.problem(
                    host_line,
                    "ansible_host",
                    format!(
                        "the host `{}` has no IP address: OMniLeads uses the host name as the address \
                         (omni_ip = inventory_hostname), so write the IP in place of `{}` or add \
                         ansible_host=IP to the line",
                        aio.host.name, aio.host.name
                    ),
                );
                None
            }
        },
    };
    let fqdn_from_name = aio.host.name.parse::<IpAddr>().is_err()
        && aio.host.name != PLACEHOLDER
        && aio.host.name != "localhost"
        && aio.host.name != "hostname";

    let connection = match aio.host.var("ansible_connection").map(|v| v.value.as_str()) {
        Some("local") => SshTarget::Local,
        Some(other) if other != "ssh" => {
            c.problem(
                host_line,
                "ansible_connection",
                format!("`{other}` is not supported: use `local` or ansible_ssh_port=N"),
            );
            SshTarget::Local
        }
        _ => {
            let user = aio
                .host
                .var("ansible_user")
                .map(|v| v.value.clone())
                .unwrap_or_else(|| "root".into());
            let port = match aio
                .host
                .var("ansible_ssh_port")
                .or_else(|| aio.host.var("ansible_port"))
            {
                Some(v) => {
                    let value = v.value.clone();
                    c.port("ansible_ssh_port", &value, aio.line).unwrap_or(22)
                }
                None => 22,
            };
            SshTarget::Ssh { user, port }
        }
    };

    let install_prefix = PathBuf::from(c.text("install_prefix", "/opt/omnileads/"));
    if !install_prefix.is_absolute() {
        let line = inv.var("install_prefix").map(|v| v.line);
        c.problem(line, "install_prefix", "must be an absolute path");
    }

    let pg_host = c.text("postgres_host", "127.0.0.1");
    let pg_port = match c.optional("postgres_port") {
        Some((v, line)) => c.port("postgres_port", &v, line).unwrap_or(5432),
        None => 5432,
    };
    let pg_database = c.text("postgres_database", "omnileads");
    let pg_user = c.text("postgres_user", "omnileads");
    let pg_password = c.password("postgres_password");
    let ami_user = c.text("ami_user", "omnileadsami");
    if ami_user
        .contains(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.'))
    {
        let line = inv.var("ami_user").map(|v| v.line);
        c.problem(
            line,
            "ami_user",
            "may only hold letters, digits, `_`, `-` and `.` (it names a manager.conf section)",
        );
    }
    let ami_password = c.password("ami_password");
    if let (Some(p), Some(v)) = (&ami_password, inv.var("ami_password")) {
        if secrecy::ExposeSecret::expose_secret(p).contains([';', '\n']) {
            c.problem(
                Some(v.line),
                "ami_password",
                "cannot contain `;` (Asterisk reads it as a comment)",
            );
        }
    }
    let admin_password = c.password("admin_pass");
    let dialer_user = c.optional("dialer_user").map(|(v, _)| v);
    let dialer_password = c
        .optional("dialer_password")
        .map(|(v, _)| SecretString::from(v));

    let time_zone = match c.optional("TZ") {
        Some((v, line)) => match v.trim().parse::<chrono_tz::Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                c.problem(Some(line), "TZ", format!("`{v}` is not a time zone name (for example America/Argentina/Cordoba or UTC)"));
                chrono_tz::UTC
            }
        },
        None => chrono_tz::UTC,
    };
    let login_failure_limit = match c.optional("LOGIN_FAILURE_LIMIT") {
        Some((v, line)) => match v.trim().parse::<u32>() {
            Ok(n) if n > 0 => n,
            _ => {
                c.problem(
                    Some(line),
                    "LOGIN_FAILURE_LIMIT",
                    format!("`{v}` is not a positive integer"),
                );
                3
            }
        },
        None => 3,
    };
    let session_cookie_age_s = match c.optional("SCA") {
        Some((v, line)) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => {
                c.problem(
                    Some(line),
                    "SCA",
                    format!("`{v}` is not a positive number of seconds"),
                );
                3600
            }
        },
        None => 3600,
    };
    let recording_format = match c
        .optional("MONITORFORMAT")
        .or_else(|| c.optional("formato_conversion"))
    {
        Some((v, line)) => {
            let v = v.trim().to_ascii_lowercase();
            if v != "mp3" && v != "wav" {
                c.problem(
                    Some(line),
                    "MONITORFORMAT",
                    format!("`{v}` must be mp3 or wav"),
                );
            }
            v
        }
        None => "mp3".into(),
    };
    let extern_ip = match c.optional("extern_ip") {
        None => ExternIp::None,
        Some((v, line)) => match v.trim() {
            "none" => ExternIp::None,
            "auto" => ExternIp::Auto,
            other => match other.parse::<IpAddr>() {
                Ok(ip) => ExternIp::Ip(ip),
                Err(_) => {
                    c.problem(
                        Some(line),
                        "extern_ip",
                        format!("`{other}` must be auto, none or an IP address"),
                    );
                    ExternIp::None
                }
            },
        },
    };
    let external_port = match c.optional("external_port") {
        Some((v, line)) => c.port("external_port", &v, line),
        None => None,
    };
    let external_hostname = c
        .optional("external_hostname")
        .map(|(v, _)| v.trim().to_string());
    let fqdn = external_hostname.or_else(|| fqdn_from_name.then(|| aio.host.name.clone()));
    if let Some(f) = &fqdn {
        if f.contains(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '.')) {
            let line = inv.var("external_hostname").map(|v| v.line).or(host_line);
            c.problem(
                line,
                "external_hostname",
                format!("`{f}` is not a valid host name"),
            );
        }
    }
    let trusted_cert = c.optional("trusted_cert").map(|(v, _)| v);
    let trusted_key = c.optional("trusted_key").map(|(v, _)| v);
    if trusted_cert.is_some() != trusted_key.is_some() {
        c.problem(
            None,
            "trusted_cert",
            "trusted_cert and trusted_key go together: set both or neither",
        );
    }

    if !c.problems.is_empty() {
        return Err(InventoryError::Invalid(c.problems));
    }
    Ok(InventoryConfig {
        era: aio.era,
        inventory_hostname: aio.host.name.clone(),
        fqdn,
        ip: ip.expect("checked above"),
        connection,
        install_prefix,
        postgres: PostgresConfig {
            host: pg_host,
            port: pg_port,
            database: pg_database,
            user: pg_user,
            password: pg_password.expect("checked above"),
        },
        ami_user,
        ami_password: ami_password.expect("checked above"),
        admin_password: admin_password.expect("checked above"),
        dialer_user,
        dialer_password,
        time_zone,
        login_failure_limit,
        session_cookie_age_s,
        recording_format,
        extern_ip,
        external_port,
        trusted_cert,
        trusted_key,
    })
}
