//! `oml dialer start|stop|status|run`: the dialer's "play" button (a
//! persisted setting the running engine watches), its live figures, and
//! running the engine alone in the foreground (what `oml serve` also does,
//! without the web console).

use crate::output::{self, outln};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use oml_dialer::control::{self, Actor};
use oml_dialer::{Engine, EngineConfig};
use oml_store::CampaignState;

use crate::cli::GlobalArgs;

/// Options of `oml dialer status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `oml dialer run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Name of this dialer node, unique among the engines on one database
    /// (default: `[dialer] node_name` in oml.toml, else the host name).
    #[arg(long)]
    pub node: Option<String>,
    /// AMI actions per second per server, 0 = no limit (default:
    /// `[dialer] ami_rate_limit` in oml.toml, else 100).
    #[arg(long)]
    pub ami_rate: Option<u32>,
    /// This node's share of the campaigns among the live nodes, a weight
    /// from 1 to 10000 (default: `[dialer] capacity` in oml.toml, else 100).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub capacity: Option<u32>,
}

/// The engine's settings from oml.toml, with `node` / `ami_rate` overriding;
/// its journal in the data folder.
pub fn engine_config(
    config: &oml_config::Config,
    data_dir: &std::path::Path,
    node: Option<String>,
    ami_rate: Option<u32>,
    capacity: Option<u32>,
) -> EngineConfig {
    let node = node
        .or_else(|| config.dialer.node_name.clone())
        .unwrap_or_else(oml_backup::hostname);
    let rate = ami_rate.unwrap_or(config.dialer.ami_rate_limit);
    EngineConfig {
        node,
        ami_rate_limit: (rate > 0).then(|| oml_ami::RateLimit {
            per_second: rate,
            burst: rate.clamp(1, 50),
        }),
        journal_dir: Some(data_dir.join(oml_dialer::engine::journal::FOLDER)),
        capacity: capacity.unwrap_or(config.dialer.capacity),
        ..EngineConfig::default()
    }
}

/// `oml dialer start`: dialing allowed (campaigns in state running dial).
pub async fn start(g: &GlobalArgs) -> Result<ExitCode> {
    set_play(g, true).await
}

/// `oml dialer stop`: no new calls; calls in progress finish.
pub async fn stop(g: &GlobalArgs) -> Result<ExitCode> {
    set_play(g, false).await
}

async fn set_play(g: &GlobalArgs, on: bool) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let actor = crate::actor::cli_actor();
    control::set_play(
        &store,
        on,
        Actor {
            name: &actor,
            ip: None,
        },
    )
    .await?;
    if on {
        outln!("dialer started: running campaigns dial (the engine runs in `oml serve` or `oml dialer run`)")?;
    } else {
        outln!("dialer stopped: no new calls are placed; calls in progress finish")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `oml dialer status`.
pub async fn status(g: &GlobalArgs, a: StatusArgs) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let out = control::status(&store).await?;
    if a.json {
        output::json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    output::text(&oml_dialer::status_text::text(&out))?;
    Ok(ExitCode::SUCCESS)
}

/// `oml dialer run`: the engine alone, until SIGTERM or Ctrl-C.
pub async fn run(g: &GlobalArgs, a: RunArgs) -> Result<ExitCode> {
    let _running = crate::running::hold_shared(&g.data_dir, "oml dialer run")?;
    let store = g.open_store().await?;
    let config = oml_config::Config::load(&g.data_dir)?;
    let cfg = engine_config(&config, &g.data_dir, a.node, a.ami_rate, a.capacity);
    let node = cfg.node.clone();
    let capacity = cfg.capacity;
    let play = control::is_playing(&store).await?;
    let engine = Engine::spawn(store.clone(), cfg);
    outln!(
        "dialer engine running as node {node}, capacity {capacity} ({}); stop with Ctrl-C",
        if play {
            "started: running campaigns dial"
        } else {
            "stopped: `oml dialer start` to dial"
        }
    )?;
    shutdown_signal().await;
    outln!("stopping: no new calls; calls in progress are reconciled at the next start")?;
    tokio::time::timeout(Duration::from_secs(10), engine.shutdown())
        .await
        .context("the engine did not stop within 10 s")?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `oml campaign start|pause|stop NAME`.
pub async fn set_campaign_state(
    g: &GlobalArgs,
    name: &str,
    state: CampaignState,
) -> Result<ExitCode> {
    let store = g.open_store().await?;
    let c = store
        .campaign_by_name(name)
        .await?
        .with_context(|| format!("campaign `{name}` not found (see `oml campaign list`)"))?;
    let actor = crate::actor::cli_actor();
    control::set_campaign_state(
        &store,
        &c.name,
        state,
        Actor {
            name: &actor,
            ip: None,
        },
    )
    .await?;
    let play = control::is_playing(&store).await?;
    match state {
        CampaignState::Running => outln!(
            "campaign {} running{}",
            c.name,
            if play {
                ""
            } else {
                " (the dialer is stopped: `oml dialer start` to dial)"
            }
        )?,
        CampaignState::Paused => outln!(
            "campaign {} paused: no new calls; calls in progress finish",
            c.name
        )?,
        _ => outln!(
            "campaign {} stopped: no new calls; calls in progress finish",
            c.name
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
