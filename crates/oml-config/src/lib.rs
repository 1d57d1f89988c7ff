//! oml's own configuration: `<data-dir>/oml.toml`.
//!
//! Every setting has a default, so a missing file means "all defaults". A
//! file that exists is read strictly: unknown keys and wrong types are errors
//! that name the key, because a typo silently ignored is a 3 a.m. surprise.
//! Secrets do not live here (they live in the database or the inventory).

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use thiserror::Error;

mod text;
pub use text::{ConfigText, Value, DEFAULT_TEXT};

/// File name of the configuration inside the data folder.
pub const CONFIG_FILE: &str = "oml.toml";

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("{path}: `{key}` {reason}")]
    Invalid {
        path: String,
        key: &'static str,
        reason: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub web: Web,
    pub lockout: Lockout,
    pub paths: Paths,
    pub dialer: Dialer,
}

/// The console and API server (`oml serve`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Web {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Peers (e.g. the local nginx) whose X-Forwarded-For header is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// PEM certificate and key; both set = serve HTTPS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// A session unused this long expires (the original system's SCA setting).
    pub session_idle_seconds: u64,
}

impl Default for Web {
    fn default() -> Self {
        Web {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            trusted_proxies: Vec::new(),
            tls_cert: None,
            tls_key: None,
            session_idle_seconds: 3600,
        }
    }
}

/// Login lock-out (the original system's django-defender settings).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Lockout {
    /// Consecutive wrong passwords that block a username (LOGIN_FAILURE_LIMIT).
    pub login_failure_limit: u32,
    /// Whether failures are also counted per client IP.
    pub ip_blocking: bool,
    /// Consecutive failures from one IP that block the IP.
    pub ip_failure_limit: u32,
    /// How long a block lasts; 0 = until an administrator unblocks.
    pub cool_off_seconds: u64,
}

impl Default for Lockout {
    fn default() -> Self {
        Lockout {
            login_failure_limit: 3,
            ip_blocking: true,
            ip_failure_limit: 20,
            cool_off_seconds: 300,
        }
    }
}

/// Where things are on disk. Relative paths are relative to the data folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Paths {
    /// Backup archives (default `<data-dir>/backup`).
    pub backup_dir: PathBuf,
    /// Call recordings (default `<data-dir>/recordings`).
    pub recordings_dir: PathBuf,
    /// Uploaded sounds (default `<data-dir>/sounds`), see docs/sounds.md.
    pub sounds_dir: PathBuf,
    /// The OMniLeads-format inventory file, when there is one.
    pub inventory: Option<PathBuf>,
    /// Root under which generated configuration is written (`/` on a real
    /// host; a folder in tests).
    pub config_root: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            backup_dir: PathBuf::from("backup"),
            recordings_dir: PathBuf::from("recordings"),
            sounds_dir: PathBuf::from("sounds"),
            inventory: None,
            config_root: PathBuf::from("/"),
        }
    }
}

/// The dialer engine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Dialer {
    /// This node's name in a multi-node setup (default: the host name).
    pub node_name: Option<String>,
    /// AMI messages per second per server (0 = unlimited).
    pub ami_rate_limit: u32,
    /// The country of phone numbers written without a country code, in
    /// every contact import and do-not-call entry (CLI and console) unless
    /// a flag or form field says otherwise: a calling code (`54`, `+54`) or
    /// a two-letter country (`AR`). None: such numbers are kept as written.
    pub default_country: Option<String>,
    /// This node's share of the campaigns among the live dialer nodes: a
    /// weight from 1 to 10,000 (e.g. its agents or CPU cores); a node with
    /// twice the capacity leads about twice the campaigns.
    pub capacity: u32,
}

impl Default for Dialer {
    fn default() -> Self {
        Dialer {
            node_name: None,
            ami_rate_limit: 100,
            default_country: None,
            capacity: 100,
        }
    }
}

impl Config {
    /// Reads `<data_dir>/oml.toml`; defaults when the file does not exist.
    /// Relative paths come back resolved against `data_dir`.
    pub fn load(data_dir: &Path) -> Result<Config, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let mut config = match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path.display().to_string())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })
            }
        };
        config.paths.resolve(data_dir);
        Ok(config)
    }

    /// Parses and validates configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            reason: e.to_string().trim().replace('\n', " "),
        })?;
        config.validate(origin)?;
        Ok(config)
    }

    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| ConfigError::Invalid {
            path: origin.to_string(),
            key,
            reason: reason.to_string(),
        };
        if self.lockout.login_failure_limit == 0 {
            return Err(invalid("lockout.login_failure_limit", "must be at least 1"));
        }
        if self.lockout.ip_blocking && self.lockout.ip_failure_limit == 0 {
            return Err(invalid("lockout.ip_failure_limit", "must be at least 1"));
        }
        if self.web.tls_cert.is_some() != self.web.tls_key.is_some() {
            return Err(invalid(
                "web.tls_cert",
                "and `web.tls_key` must be set together (or neither)",
            ));
        }
        if let Some(c) = &self.dialer.default_country {
            let t = c.strip_prefix('+').unwrap_or(c);
            let code = (1..=3).contains(&t.len())
                && !t.starts_with('0')
                && t.bytes().all(|b| b.is_ascii_digit());
            let letters = t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic());
            if !(code || letters) {
                return Err(invalid(
                    "dialer.default_country",
                    "must be a country calling code (e.g. \"54\") or a two-letter country (e.g. \"AR\")",
                ));
            }
        }
        if !(1..=10_000).contains(&self.dialer.capacity) {
            return Err(invalid(
                "dialer.capacity",
                "must be a weight from 1 to 10000 (default 100)",
            ));
        }
        if self.web.session_idle_seconds == 0 {
            return Err(invalid("web.session_idle_seconds", "must be at least 1"));
        }
        Ok(())
    }
}

impl Paths {
    fn resolve(&mut self, data_dir: &Path) {
        for p in [
            &mut self.backup_dir,
            &mut self.recordings_dir,
            &mut self.sounds_dir,
        ] {
            if p.is_relative() {
                *p = data_dir.join(&*p);
            }
        }
        if let Some(inv) = &mut self.inventory {
            if inv.is_relative() {
                *inv = data_dir.join(&*inv);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_means_defaults_resolved_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(dir.path()).unwrap();
        assert_eq!(c.lockout.login_failure_limit, 3);
        assert_eq!(c.lockout.cool_off_seconds, 300);
        assert_eq!(c.web.session_idle_seconds, 3600);
        assert_eq!(c.paths.backup_dir, dir.path().join("backup"));
    }

    #[test]
    fn values_are_read_and_defaults_fill_the_rest() {
        let c = Config::parse(
            "[lockout]\nlogin_failure_limit = 5\n[web]\nlisten = \"0.0.0.0:9000\"\ntrusted_proxies = [\"127.0.0.1\"]\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.lockout.login_failure_limit, 5);
        assert_eq!(c.lockout.cool_off_seconds, 300);
        assert_eq!(c.web.listen.port(), 9000);
        assert_eq!(c.web.trusted_proxies.len(), 1);
    }

    #[test]
    fn typos_and_bad_values_name_the_key() {
        let e = Config::parse("[dialer]\ncapacity = 0\n", "oml.toml").unwrap_err();
        assert!(e.to_string().contains("dialer.capacity"), "{e}");
        let c = Config::parse("[dialer]\ncapacity = 250\n", "oml.toml").unwrap();
        assert_eq!(c.dialer.capacity, 250);
        let e = Config::parse("[dialer]\ndefault_country = \"Mars\"\n", "oml.toml").unwrap_err();
        assert!(e.to_string().contains("dialer.default_country"), "{e}");
        for ok in ["54", "+54", "AR", "us"] {
            let c = Config::parse(&format!("[dialer]\ndefault_country = \"{ok}\"\n"), "t").unwrap();
            assert_eq!(c.dialer.default_country.as_deref(), Some(ok));
        }
        let e = Config::parse("[lockout]\nlogin_failure_limt = 5\n", "oml.toml").unwrap_err();
        assert!(e.to_string().contains("login_failure_limt"), "{e}");
        let e = Config::parse("[lockout]\nlogin_failure_limit = 0\n", "oml.toml").unwrap_err();
        assert!(e.to_string().contains("lockout.login_failure_limit"), "{e}");
        let e = Config::parse("[web]\nlisten = \"nowhere\"\n", "oml.toml").unwrap_err();
        assert!(e.to_string().contains("listen"), "{e}");
        let e = Config::parse("[web]\ntls_cert = \"/c.pem\"\n", "oml.toml").unwrap_err();
        assert!(e.to_string().contains("tls_key"), "{e}");
    }
}
