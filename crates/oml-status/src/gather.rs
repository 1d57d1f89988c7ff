//! Collecting the facts of the report: the database as it is (opened
//! without migrating it), the free space of the data, backup and recordings
//! folders, the newest backup, an AMI login to every enabled Asterisk
//! server (all at once, each with a short time-out, so two unreachable
//! servers cost one time-out, not two), the dialer's published status and
//! the lock-outs in force. Each fact goes through [`crate::judge`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use oml_ami::{AmiClient, ClientConfig};
use oml_store::{
    latest_schema_version, now_ms, AsteriskServer, CampaignState, Location, OpenMode, Store,
};
use tokio::task::JoinSet;

use crate::judge::{self, Agents, Check, Report};

/// Where the installation is, and how long an Asterisk server may take to
/// accept a login.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub data_dir: PathBuf,
    pub location: Location,
    pub probe_timeout: Duration,
}

impl Inputs {
    /// How long a server may take to accept the login, by default.
    pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_millis(700);

    pub fn new(data_dir: PathBuf, location: Location) -> Inputs {
        Inputs {
            data_dir,
            location,
            probe_timeout: Self::DEFAULT_PROBE_TIMEOUT,
        }
    }
}

/// Runs every check and returns the report (`oml status`: the database
/// is opened here, as it is, without migrating it).
pub async fn gather(inputs: &Inputs) -> Report {
    let mut checks = Vec::new();
    let config = match oml_config::Config::load(&inputs.data_dir) {
        Ok(c) => c,
        Err(e) => {
            checks.push(judge::config_unreadable(&e.to_string()));
            oml_config::Config::default()
        }
    };
    let where_ = inputs.location.describe();
    let opened = tokio::time::timeout(
        Duration::from_secs(3),
        Store::open(&inputs.location, OpenMode::AsIs),
    )
    .await;
    match opened {
        Err(_) => checks.push(judge::database_unreachable(&where_, "no answer within 3 s")),
        Ok(Err(e)) => checks.push(judge::database_unreachable(&where_, &e.to_string())),
        Ok(Ok(store)) => {
            checks.extend(store_checks(&store, inputs.probe_timeout).await);
            store.close().await;
        }
    }
    checks.extend(folder_checks(Some(&inputs.data_dir), &config));
    Report::new(checks, now_ms())
}

/// The same report from a running service (`GET /api/v1/status`), with its
/// open database and loaded configuration. The data folder is measured
/// when the database lives in it (SQLite).
pub async fn gather_running(store: &Store, config: &oml_config::Config) -> Report {
    let mut checks = store_checks(store, Inputs::DEFAULT_PROBE_TIMEOUT).await;
    let data_dir = match store.location() {
        Location::DataDir(d) => Some(d.as_path()),
        Location::Postgres(_) => None,
    };
    checks.extend(folder_checks(data_dir, config));
    Report::new(checks, now_ms())
}

/// Free space of the data, backup and recordings folders, and the newest
/// backup.
fn folder_checks(data_dir: Option<&Path>, config: &oml_config::Config) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(d) = data_dir {
        checks.push(disk("data folder", d));
    }
    checks.push(disk("backup folder", &config.paths.backup_dir));
    checks.push(disk("recordings", &config.paths.recordings_dir));
    checks.push(newest_backup(&config.paths.backup_dir));
    checks
}

/// The database's schema, and every check that reads the database.
async fn store_checks(store: &Store, probe_timeout: Duration) -> Vec<Check> {
    let where_ = store.location().describe();
    let supported = latest_schema_version();
    let schema = match store.schema_version().await {
        Ok(s) => s,
        Err(e) => return vec![judge::database_unreachable(&where_, &e.to_string())],
    };
    let mut checks = vec![judge::database(
        &where_,
        &store.backend().to_string(),
        schema,
        supported,
    )];
    // Older or newer tables cannot be read with this oml's queries.
    if schema == Some(supported) {
        match with_store(store, probe_timeout).await {
            Ok(more) => checks.extend(more),
            Err(e) => checks.push(judge::database_unreachable(&where_, &e.to_string())),
        }
    }
    checks
}

async fn with_store(store: &Store, probe_timeout: Duration) -> oml_store::Result<Vec<Check>> {
    let servers = store.servers().await?;
    let probes = probe_all(&servers, probe_timeout);
    let status = oml_dialer::control::status(store).await?;
    let now = now_ms();
    let blocks: Vec<judge::Block> = store
        .active_blocks(now)
        .await?
        .into_iter()
        .map(|b| judge::Block {
            kind: b.kind.as_str().to_string(),
            subject: b.subject,
            minutes_left: b.until_at.map(|u| ((u - now) / 60_000).max(0)),
        })
        .collect();
    let logins = probes.await;
    let mut checks = Vec::new();
    for (s, login) in servers.iter().zip(logins) {
        let agents = status
            .live
            .as_ref()
            .filter(|_| status.engine_running)
            .and_then(|l| l.servers.iter().find(|x| x.name == s.name && x.connected))
            .map(|x| Agents {
                logged_in: x.agents_logged_in,
                free: x.agents_free,
                talking: x.agents_talking,
            });
        checks.push(judge::asterisk(&s.name, &addr(s), s.enabled, login, agents));
    }
    let running: Vec<_> = status
        .campaigns
        .iter()
        .filter(|c| c.state == CampaignState::Running.to_string())
        .collect();
    checks.push(judge::dialer(status.play, &status.nodes, running.len()));
    for c in running {
        checks.push(judge::campaign(
            &c.name,
            c.abandoned,
            c.live_answered,
            c.max_abandon_rate,
        ));
    }
    checks.push(judge::lockouts(&blocks));
    Ok(checks)
}

fn addr(s: &AsteriskServer) -> String {
    if s.host.contains(':') {
        format!("[{}]:{}", s.host, s.ami_port)
    } else {
        format!("{}:{}", s.host, s.ami_port)
    }
}

/// Logs in to every enabled server at once; the results in `servers`'
/// order (disabled ones are not tried).
async fn probe_all(servers: &[AsteriskServer], timeout: Duration) -> Vec<Result<Duration, String>> {
    let mut set = JoinSet::new();
    for (i, s) in servers.iter().enumerate().filter(|(_, s)| s.enabled) {
        let mut cfg = ClientConfig::new(addr(s), s.ami_user.clone(), s.ami_secret.clone());
        cfg.connect_timeout = timeout;
        cfg.ping_interval = None;
        set.spawn(async move {
            let started = Instant::now();
            let r = match tokio::time::timeout(timeout, AmiClient::connect(cfg)).await {
                Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
                Ok(Err(e)) => Err(e.to_string()),
                Ok(Ok(c)) => {
                    let took = started.elapsed();
                    let _ = tokio::time::timeout(timeout, c.logoff()).await;
                    Ok(took)
                }
            };
            (i, r)
        });
    }
    let mut out: Vec<Result<Duration, String>> =
        vec![Err("disabled: not tried".to_string()); servers.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r)) = joined {
            out[i] = r;
        }
    }
    out
}

/// The free space of the file system that holds `path` (or would: the
/// nearest folder above it that exists).
fn disk(what: &str, path: &Path) -> Check {
    let shown = path.display().to_string();
    let exists = path.exists();
    let measured = path
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    match nix::sys::statvfs::statvfs(measured) {
        Ok(v) => {
            let unit = v.fragment_size();
            judge::disk(
                what,
                &shown,
                v.blocks_available() * unit,
                v.blocks() * unit,
                exists,
            )
        }
        Err(e) => judge::disk_unreadable(what, &shown, &e.to_string()),
    }
}

/// The newest archive of the backup folder, by modification time.
fn newest_backup(dir: &Path) -> Check {
    let shown = dir.display().to_string();
    let names = match oml_backup::catalog::archive_names(dir) {
        Ok(n) => n,
        Err(e) => return judge::disk_unreadable("backup folder", &shown, &e.to_string()),
    };
    let now = SystemTime::now();
    let newest = names
        .iter()
        .filter_map(|n| {
            let modified = std::fs::metadata(dir.join(n)).ok()?.modified().ok()?;
            Some((n.as_str(), now.duration_since(modified).unwrap_or_default()))
        })
        .min_by_key(|(_, age)| *age);
    judge::backup(&shown, newest)
}
