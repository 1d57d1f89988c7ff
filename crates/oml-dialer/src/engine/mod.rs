//! The running dialer, `oml serve` and `oml dialer run` start it with
//! [`Engine::spawn`]. One task owns every decision and the I/O lives in
//! small tasks around it:
//!
//! - `core/`: the decisions (campaigns, hoppers, calls, agents, pacing) as
//!   a plain struct fed with events and time, returning actions — no
//!   runtime, no sockets, tested alone;
//! - `shell.rs`: the task that feeds the core and carries out its actions;
//! - `link.rs`: one AMI link per enabled server (connects, reconnects with
//!   back-off, forwards events; one failing server does not stop the
//!   others) and the queries the core asks for;
//! - `writer.rs`: the database writes in batches, in order, each
//!   `Originate` sent only after its attempt is committed; `backlog.rs`
//!   and `journal.rs`: what the database did not take, kept on disk and
//!   stored first when it is back (no calls placed meanwhile);
//! - `leadership.rs` and `orphans.rs`: one engine paces a campaign; calls
//!   a stopped node (or this node's previous run) left open are followed;
//! - `record.rs`: the PBX's durable record of each attempt, read when
//!   reconciling and deleted once the outcome is stored;
//! - `load.rs`: the configuration the core is fed; `status.rs`: the live
//!   figures published every second; `minutes.rs`: each paced campaign's
//!   per-minute history.
//!
//! After a reconnect (or a restart, for attempts a crash left open) the
//! calls of that server are reconciled against `CoreShowChannels` and the
//! attempt records its dialplan keeps in AstDB (`DBGetTree OML/CALL`):
//! alive ones are followed again, vanished ones end as the PBX recorded
//! them, `unknown` only when it has no record (or `connected` when the
//! agent had taken them) — never a blind redial.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oml_ami::RateLimit;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

mod backlog;
mod core;
pub mod journal;
mod leadership;
mod link;
mod load;
mod minutes;
mod msg;
mod orphans;
pub mod reaction_hist;
mod record;
mod share;
mod shell;
mod status;
mod writer;

pub use self::core::links::{
    EVENT_CLASSES as AMI_EVENT_CLASSES, EVENT_FILTERS as AMI_EVENT_FILTERS,
};
pub use self::core::pacing::channel_id;
pub use status::{CampaignLive, LiveStatus, ServerStatus};

/// The settings key holding the dialer's "play" state (`on` / `off`).
pub const PLAY_KEY: &str = "dialer.play";
/// The settings key where the engine publishes its live figures every
/// second: each node under `dialer.status.<node>` (see [`status_key`]).
pub const STATUS_KEY: &str = "dialer.status";

/// The settings key of node `node`'s live figures.
pub fn status_key(node: &str) -> String {
    format!("{STATUS_KEY}.{node}")
}

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This node's name, stored with claims and attempts.
    pub node: String,
    /// Timer resolution (call time-outs, pacing of predictive campaigns).
    pub tick: Duration,
    /// How often configuration, play state and campaign states are re-read.
    pub reload_every: Duration,
    /// How often queue members are re-read from each server.
    pub queue_poll_every: Duration,
    /// Contacts claimed into a campaign's hopper at a time.
    pub hopper_batch: i64,
    /// AMI send-rate limit per server; `None` = no limit.
    pub ami_rate_limit: Option<RateLimit>,
    /// Publish live figures under [`status_key`]`(node)`.
    pub publish_status: bool,
    /// How often the engine tries to become the pacing leader of its
    /// running campaigns (one engine per campaign paces it; see
    /// `oml_store::Leadership`).
    pub lead_every: Duration,
    /// The period of each paced campaign's history rows (`minutes.rs`):
    /// one minute; shorter in tests, `None` (off) only to measure its cost.
    pub minute_history: Option<Duration>,
    /// The folder of the journal keeping what the database did not take
    /// (`<data>/dialer-journal`, see [`journal`]); `None`: kept in memory
    /// only (tests, benchmarks).
    pub journal_dir: Option<PathBuf>,
    /// This node's share of the campaigns among the live nodes (a weight,
    /// 1 to `oml_store::MAX_CAPACITY`; see `crate::assign`).
    pub capacity: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            node: "oml".into(),
            tick: Duration::from_millis(200),
            reload_every: Duration::from_secs(1),
            queue_poll_every: Duration::from_secs(5),
            hopper_batch: 200,
            ami_rate_limit: Some(RateLimit::default()),
            publish_status: true,
            lead_every: Duration::from_secs(1),
            minute_history: Some(Duration::from_secs(60)),
            journal_dir: None,
            capacity: oml_store::DEFAULT_CAPACITY,
        }
    }
}

/// Counters the engine keeps for benchmarks and status.
#[derive(Debug, Default)]
pub struct Metrics {
    /// `Originate` actions accepted by a server.
    pub originates: AtomicU64,
    /// AMI events received from every server (the scale benchmark's
    /// fan-out figure).
    pub ami_events: AtomicU64,
    /// Attempts ended.
    pub ended: AtomicU64,
    /// AMI `Redirect`s sent to start the abandon message before the FCC's
    /// deadline (see `core/abandon_deadline.rs`).
    pub abandon_redirects: AtomicU64,
    /// Write batches the database refused after every retry (their
    /// outcomes are kept and written again).
    pub failed_commits: AtomicU64,
    /// Writes decided but not stored yet (the database did not take them;
    /// they wait in the journal). No call is placed while there are any.
    pub unrecorded: AtomicU64,
    /// Since when (ms since 1970) writes have been waiting without a break;
    /// 0 while none waits (kept by the status every second).
    pub unrecorded_since_ms: std::sync::atomic::AtomicI64,
    /// Microseconds from the receipt of an AMI event that freed an agent to
    /// the `Originate` it caused being handed to the AMI client.
    reaction_us: Mutex<Vec<u64>>,
    /// The same times as a histogram since the start (published, for
    /// Prometheus).
    pub reaction: reaction_hist::ReactionHistogram,
}

impl Metrics {
    /// Takes the reaction-time samples gathered so far (microseconds).
    pub fn take_reaction_samples(&self) -> Vec<u64> {
        std::mem::take(&mut *self.reaction_us.lock().unwrap_or_else(|e| e.into_inner()))
    }
    fn push_reaction(&self, us: u64) {
        self.reaction.observe(us);
        self.reaction_us
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(us);
    }
}

/// A running engine. Dropping it without [`EngineHandle::shutdown`] stops
/// it too (without waiting).
pub struct EngineHandle {
    cancel: CancellationToken,
    join: Option<tokio::task::JoinHandle<()>>,
    metrics: Arc<Metrics>,
}

impl EngineHandle {
    /// Stops placing calls, returns the hopper's contacts, flushes pending
    /// writes and closes the AMI links. Calls in progress keep their open
    /// attempt and are reconciled at the next start.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(j) = self.join.take() {
            let _ = j.await;
        }
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Whether the engine task has ended (it only ends on shutdown).
    pub fn is_finished(&self) -> bool {
        self.join.as_ref().is_none_or(|j| j.is_finished())
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The dialer engine.
pub struct Engine;

impl Engine {
    /// Starts the engine on the current tokio runtime.
    pub fn spawn(store: oml_store::Store, config: EngineConfig) -> EngineHandle {
        let cancel = CancellationToken::new();
        // The writes that start calls need the campaign's lease (fencing).
        let leadership = store
            .leadership(&config.node)
            .with_capacity(config.capacity);
        let fenced = store.with_fence(leadership.fence());
        let metrics = Arc::new(Metrics::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let (wtx, wrx) = mpsc::unbounded_channel();
        let journal = config.journal_dir.as_ref().and_then(|dir| {
            journal::Journal::open(dir, &config.node, journal::MAX_BYTES)
                .inspect_err(|e| tracing::error!(error = %e, "dialer: no journal; what the database does not take is kept in memory only"))
                .ok()
        });
        let backlog = backlog::Backlog::new(journal, config.node.clone(), metrics.clone());
        let writer = tokio::spawn(writer::writer(
            fenced.clone(),
            config.node.clone(),
            wrx,
            tx.clone(),
            metrics.clone(),
            status_key(&config.node),
            backlog,
        ));
        let (want_tx, want_rx) = watch::channel(BTreeSet::new());
        let leader = tokio::spawn(leadership::lead(
            store.clone(),
            leadership,
            config.node.clone(),
            want_rx,
            tx.clone(),
            cancel.clone(),
            config.lead_every,
        ));
        let core = self::core::Core::new(config.clone(), metrics.clone());
        let shell = shell::Shell::new(
            core,
            fenced,
            config,
            tx,
            wtx,
            want_tx,
            cancel.clone(),
            metrics.clone(),
        );
        let join = tokio::spawn(async move {
            let links = shell.run(rx).await;
            let _ = writer.await;
            for (cancel, _) in &links {
                cancel.cancel();
            }
            // Each link logs off; a peer that does not answer the Logoff
            // does not hold the shutdown for long.
            for (_, task) in links {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(2), task).await;
            }
            let _ = leader.await;
        });
        EngineHandle {
            cancel,
            join: Some(join),
            metrics,
        }
    }
}
