//! The running dialer: one task owns every decision (campaigns, hoppers,
//! calls, agents, pacing) and reacts to messages; the I/O lives in small
//! helper tasks around it:
//!
//! - one AMI link per enabled server (connects, reconnects with back-off,
//!   forwards events; one failing server does not stop the others);
//! - one writer that applies the dialer's database writes in batches, in
//!   order, and sends each `Originate` only after its attempt is committed
//!   (`UNIQUE (contact_id, attempt_no)`: a crash never dials an attempt twice);
//! - short-lived tasks for hopper claims, configuration reloads, queue and
//!   channel status queries.
//!
//! After a reconnect (or a restart, for attempts a crash left open) the
//! calls of that server are reconciled against `CoreShowChannels`: alive
//! ones are followed again, vanished ones get outcome `unknown` (or
//! `connected` when the agent had taken them) — never a blind redial.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oml_ami::{AmiClient, AmiError, ClientConfig, Event, Message, Originate, RateLimit};
use oml_pacing::{AbandonCounts, CallStats, ModeSpec, Pacer, PacingLimits, Snapshot};
use oml_store::dialing::{AttemptResult, DialingWrite, DueContact, NewAttempt};
use oml_store::{
    AsteriskServer, Campaign, CampaignMode, CampaignState, RescheduleRule, Store, Trunk,
};
use secrecy::ExposeSecret;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::agents::Agents;
use crate::call::{Call, CallEvent, Change, Outcome, Phase};
use crate::reschedule;
use crate::window::CallingWindow;

/// The settings key holding the dialer's "play" state (`on` / `off`).
pub const PLAY_KEY: &str = "dialer.play";
/// The settings key where the engine publishes its live figures every
/// second: each node under `dialer.status.<node>` (see [`status_key`]).
pub const STATUS_KEY: &str = "dialer.status";

/// The settings key of node `node`'s live figures.
pub fn status_key(node: &str) -> String {
    format!("{STATUS_KEY}.{node}")
}

/// The leadership key of a campaign (see `oml_store::Leadership`).
fn lead_key(campaign: i64) -> String {
    format!("campaign:{campaign}")
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
        }
    }
}

/// Counters the engine keeps for benchmarks and status.
#[derive(Debug, Default)]
pub struct Metrics {
    /// `Originate` actions accepted by a server.
    pub originates: AtomicU64,
    /// Attempts ended.
    pub ended: AtomicU64,
    /// Microseconds from the receipt of an AMI event that freed an agent to
    /// the `Originate` it caused being handed to the AMI client.
    reaction_us: Mutex<Vec<u64>>,
}

impl Metrics {
    /// Takes the reaction-time samples gathered so far (microseconds).
    pub fn take_reaction_samples(&self) -> Vec<u64> {
        std::mem::take(&mut *self.reaction_us.lock().unwrap_or_else(|e| e.into_inner()))
    }
    fn push_reaction(&self, us: u64) {
        self.reaction_us
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(us);
    }
}

/// The live figures published every second.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct LiveStatus {
    pub updated_at: i64,
    /// Set in the last status an engine publishes when it shuts down.
    #[serde(default)]
    pub stopped: bool,
    pub node: String,
    pub play: bool,
    pub calls_in_flight: usize,
    pub servers: Vec<ServerStatus>,
    pub campaigns: Vec<CampaignLive>,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ServerStatus {
    pub name: String,
    pub connected: bool,
    pub last_error: Option<String>,
    pub agents_logged_in: u32,
    pub agents_free: u32,
    pub agents_talking: u32,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct CampaignLive {
    pub id: i64,
    pub name: String,
    pub state: String,
    pub window_open: bool,
    pub ringing: usize,
    pub waiting_for_agent: usize,
    pub talking: usize,
    pub hopper: usize,
    pub agents_logged_in: u32,
    pub agents_free: u32,
    /// Agents on a call / agents logged in.
    pub occupancy: f64,
    pub live_answered: u64,
    pub abandoned: u64,
    pub abandon_rate: f64,
    pub max_abandon_rate: f64,
    pub problem: Option<String>,
    /// This node paces the campaign (it holds its leadership).
    #[serde(default)]
    pub paced_here: bool,
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
    pub fn spawn(store: Store, config: EngineConfig) -> EngineHandle {
        let cancel = CancellationToken::new();
        let metrics = Arc::new(Metrics::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let (wtx, wrx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(writer(
            store.clone(),
            wrx,
            tx.clone(),
            metrics.clone(),
            status_key(&config.node),
        ));
        let (want_tx, want_rx) = watch::channel(BTreeSet::new());
        let leader = tokio::spawn(lead(
            store.clone(),
            store.leadership(),
            config.node.clone(),
            want_rx,
            tx.clone(),
            cancel.clone(),
            config.lead_every,
        ));
        let core = Core {
            store,
            cfg: config,
            tx,
            wtx,
            cancel: cancel.clone(),
            metrics: metrics.clone(),
            play: false,
            servers: HashMap::new(),
            campaigns: HashMap::new(),
            trunks: HashMap::new(),
            calls: HashMap::new(),
            by_action: HashMap::new(),
            orphans: HashMap::new(),
            trunk_busy: HashMap::new(),
            loaded: false,
            leading: HashSet::new(),
            named: false,
            want_tx,
        };
        let join = tokio::spawn(async move {
            core.run(rx).await;
            let _ = writer.await;
            let _ = leader.await;
        });
        EngineHandle {
            cancel,
            join: Some(join),
            metrics,
        }
    }
}

// ------------------------------------------------------------------ messages

type Key = String; // the channel id of an attempt

enum Msg {
    Ami {
        server: i64,
        msg: Arc<Message>,
        at: Instant,
    },
    LinkUp {
        server: i64,
        client: AmiClient,
    },
    LinkDown {
        server: i64,
        reason: String,
    },
    Channels {
        server: i64,
        asked_at: Instant,
        channels: Vec<Message>,
    },
    Members {
        server: i64,
        members: Vec<Message>,
    },
    Claimed {
        campaign: i64,
        contacts: Vec<DueContact>,
        left: i64,
    },
    ClaimFailed {
        campaign: i64,
    },
    /// The writer refused these attempts (not originated).
    Refused(Vec<Key>),
    /// An `Originate` was queued (`Ok(action id)`), refused by the server
    /// (`Err(true)`) or lost with the link (`Err(false)`).
    Originated {
        key: Key,
        result: Result<String, bool>,
    },
    Config(Box<Loaded>),
    /// The leadership task's news: whether this node holds its name, and
    /// the campaigns it paces.
    Leading {
        named: bool,
        campaigns: HashSet<i64>,
    },
    /// Open attempts of a node that stopped, in campaigns this node paces.
    Adopt(Vec<oml_store::dialing::OpenAttempt>),
}

struct Loaded {
    play: bool,
    servers: Vec<AsteriskServer>,
    trunks: Vec<Trunk>,
    campaigns: Vec<(Campaign, Vec<RescheduleRule>, Option<AbandonCounts>)>,
}

enum WriterOp {
    Place {
        client: AmiClient,
        items: Vec<(NewAttempt, Originate, Option<Instant>)>,
    },
    Write(DialingWrite),
    Release(Vec<i64>, String),
    /// Contacts of a campaign in the hopper of any node but this one.
    ReleaseOthers(i64, String),
    Status(String),
}

// ------------------------------------------------------------------ core state

struct ServerRt {
    conf: AsteriskServer,
    client: Option<AmiClient>,
    up: bool,
    last_error: Option<String>,
    agents: Agents,
    /// Calls on this server need reconciling once `Channels` arrives.
    reconciling: bool,
    link: CancellationToken,
    last_poll: Instant,
}

struct CampaignRt {
    conf: Campaign,
    rules: Vec<RescheduleRule>,
    window: Option<CallingWindow>,
    problem: Option<String>,
    hopper: VecDeque<DueContact>,
    claiming: bool,
    /// Nothing due when last claimed: wait before asking again.
    idle_until: Option<Instant>,
    pacers: HashMap<i64, Box<dyn Pacer>>,
    stats: CallStats,
    abandons: AbandonCounts,
    /// An agent became free at this moment and nothing was placed since.
    trigger: Option<Instant>,
    mode: ModeSpec,
}

struct Live {
    campaign: i64,
    server: i64,
    trunk: i64,
    contact_id: i64,
    attempt_no: i64,
    call: Call,
    /// The `Originate` was queued by the server (or the call was adopted).
    originated: bool,
    placed: Instant,
}

struct Core {
    store: Store,
    cfg: EngineConfig,
    tx: mpsc::UnboundedSender<Msg>,
    wtx: mpsc::UnboundedSender<WriterOp>,
    cancel: CancellationToken,
    metrics: Arc<Metrics>,
    play: bool,
    servers: HashMap<i64, ServerRt>,
    campaigns: HashMap<i64, CampaignRt>,
    trunks: HashMap<i64, Trunk>,
    calls: HashMap<Key, Live>,
    by_action: HashMap<String, Key>,
    orphans: HashMap<String, (bool, u32, Instant)>,
    trunk_busy: HashMap<i64, i64>,
    loaded: bool,
    /// Campaigns whose leadership this node holds: only these are paced.
    leading: HashSet<i64>,
    /// This node holds its name's lease (no other engine runs under it).
    named: bool,
    /// The campaigns this node wants to lead (running, dialer started).
    want_tx: watch::Sender<BTreeSet<String>>,
}

fn now_ms() -> i64 {
    oml_store::now_ms()
}

/// The channel id of an attempt: unique per (campaign, contact, attempt).
pub fn channel_id(campaign: i64, contact: i64, attempt_no: i64) -> String {
    format!("oml-{campaign}-{contact}-{attempt_no}")
}

fn mode_spec(mode: CampaignMode) -> ModeSpec {
    match mode {
        // The agent's preview happens in the console; the engine places the
        // call for a ready agent, like progressive.
        CampaignMode::Preview => ModeSpec::Preview,
        CampaignMode::Progressive => ModeSpec::Progressive,
        CampaignMode::Predictive => "predictive".parse().unwrap_or(ModeSpec::Progressive),
    }
}

impl Core {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Msg>) {
        self.spawn_reload();
        let mut tick = tokio::time::interval(self.cfg.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reload = tokio::time::interval(self.cfg.reload_every);
        reload.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut status = tokio::time::interval(Duration::from_secs(1));
        status.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break,
                m = rx.recv() => match m {
                    Some(m) => {
                        self.handle(m);
                        // Drain what is already queued before pacing again.
                        let mut n = 0;
                        while n < 256 {
                            match rx.try_recv() {
                                Ok(m) => self.handle(m),
                                Err(_) => break,
                            }
                            n += 1;
                        }
                        self.pace_all();
                    }
                    None => break,
                },
                _ = tick.tick() => { self.on_tick(); self.pace_all(); }
                _ = reload.tick() => self.spawn_reload(),
                _ = status.tick() => self.publish_status(),
            }
        }
        self.stop().await;
    }

    async fn stop(&mut self) {
        let node = self.cfg.node.clone();
        let ids: Vec<i64> = self
            .campaigns
            .values_mut()
            .flat_map(|c| c.hopper.drain(..).map(|d| d.id))
            .collect();
        let _ = self.wtx.send(WriterOp::Release(ids, node));
        self.publish_status_final(true);
        for s in self.servers.values() {
            s.link.cancel();
        }
        // Closing the channel lets the writer finish its queue and end.
        let (dead, _) = mpsc::unbounded_channel();
        self.wtx = dead;
    }

    fn handle(&mut self, m: Msg) {
        match m {
            Msg::Ami { server, msg, at } => self.on_ami(server, &msg, at),
            Msg::LinkUp { server, client } => self.on_link_up(server, client),
            Msg::LinkDown { server, reason } => {
                if let Some(s) = self.servers.get_mut(&server) {
                    if s.up {
                        tracing::warn!(server = %s.conf.name, %reason, "dialer: AMI link down; its calls will be reconciled when it is back");
                    }
                    s.up = false;
                    s.client = None;
                    s.last_error = Some(reason);
                }
            }
            Msg::Channels {
                server,
                asked_at,
                channels,
            } => self.reconcile(server, asked_at, &channels),
            Msg::Members { server, members } => {
                if let Some(s) = self.servers.get_mut(&server) {
                    s.agents.resync(&members, Instant::now());
                }
            }
            Msg::Claimed {
                campaign,
                contacts,
                left,
            } => {
                let Some(c) = self.campaigns.get_mut(&campaign) else {
                    return;
                };
                c.claiming = false;
                if contacts.is_empty() {
                    c.idle_until = Some(Instant::now() + Duration::from_secs(1));
                    let in_flight = self.calls.values().any(|l| l.campaign == campaign);
                    if left == 0 && !in_flight && c.conf.state == CampaignState::Running {
                        c.conf.state = CampaignState::Finished;
                        let store = self.store.clone();
                        let name = c.conf.name.clone();
                        tracing::info!(campaign = %name, "dialer: campaign finished");
                        tokio::spawn(async move {
                            let _ = store
                                .set_campaign_state(&name, CampaignState::Finished)
                                .await;
                        });
                    }
                }
                if c.conf.state == CampaignState::Running && self.play {
                    c.hopper.extend(contacts);
                } else if !contacts.is_empty() {
                    let ids = contacts.iter().map(|d| d.id).collect();
                    let _ = self.wtx.send(WriterOp::Release(ids, self.cfg.node.clone()));
                }
            }
            Msg::ClaimFailed { campaign } => {
                if let Some(c) = self.campaigns.get_mut(&campaign) {
                    c.claiming = false;
                    c.idle_until = Some(Instant::now() + Duration::from_secs(2));
                }
            }
            Msg::Refused(keys) => {
                for k in keys {
                    if let Some(l) = self.calls.remove(&k) {
                        self.release_trunk(l.trunk);
                    }
                }
            }
            Msg::Originated { key, result } => match result {
                Ok(action_id) => {
                    self.metrics.originates.fetch_add(1, Ordering::Relaxed);
                    if let Some(l) = self.calls.get_mut(&key) {
                        l.originated = true;
                    }
                    if let Some((success, reason, _)) = self.orphans.remove(&action_id) {
                        self.apply(&key, CallEvent::OriginateResponse { success, reason });
                    } else if self.calls.contains_key(&key) {
                        self.by_action.insert(action_id, key);
                    }
                }
                Err(true) => {
                    // The server refused the Originate: nothing was dialed.
                    if let Some(l) = self.calls.get_mut(&key) {
                        l.originated = true;
                        l.call.on_event(
                            CallEvent::OriginateResponse {
                                success: false,
                                reason: 0,
                            },
                            now_ms(),
                        );
                    }
                    self.finish_if_over(&key);
                }
                Err(false) => {
                    // Unknown whether it left: reconcile with the server.
                    if let Some(l) = self.calls.get_mut(&key) {
                        l.originated = true;
                        let server = l.server;
                        if let Some(s) = self.servers.get_mut(&server) {
                            s.reconciling = true;
                            if s.up {
                                if let Some(c) = s.client.clone() {
                                    spawn_channels(self.tx.clone(), server, c);
                                }
                            }
                        }
                    }
                }
            },
            Msg::Config(loaded) => self.on_config(*loaded),
            Msg::Leading { named, campaigns } => {
                if named && !self.named {
                    self.on_named();
                }
                self.named = named;
                self.on_leading(campaigns);
            }
            Msg::Adopt(open) => {
                let servers: HashSet<i64> = open.iter().filter_map(|a| a.server_id).collect();
                let n = open.len();
                self.adopt(open);
                tracing::info!(
                    calls = n,
                    "dialer: adopted the open calls of a node that stopped"
                );
                for id in servers {
                    if let Some(s) = self.servers.get_mut(&id) {
                        s.reconciling = true;
                        if let (true, Some(c)) = (s.up, s.client.clone()) {
                            spawn_channels(self.tx.clone(), id, c);
                        }
                    }
                }
            }
        }
    }

    /// Follows attempts placed earlier (by this node before a restart, or by
    /// a node that stopped): each is reconciled with its server's channels.
    fn adopt(&mut self, open: Vec<oml_store::dialing::OpenAttempt>) {
        for a in open {
            if self.calls.contains_key(&a.channel_id) {
                continue;
            }
            let phase = if a.connected_at.is_some() {
                Phase::Connected
            } else if a.answered_at.is_some() {
                Phase::Answered
            } else {
                Phase::Placed
            };
            let key = a.channel_id.clone();
            self.calls.insert(
                key,
                Live {
                    campaign: a.campaign_id,
                    server: a.server_id.unwrap_or(0),
                    trunk: 0,
                    contact_id: a.contact_id,
                    attempt_no: a.attempt_no,
                    call: Call::adopted(a.placed_at, phase, a.answered_at, a.connected_at),
                    originated: true,
                    placed: Instant::now(),
                },
            );
        }
    }

    // ---------------------------------------------------------- config

    fn spawn_reload(&self) {
        let store = self.store.clone();
        let tx = self.tx.clone();
        let known: HashSet<i64> = self.campaigns.keys().copied().collect();
        tokio::spawn(async move {
            match load(&store, &known).await {
                Ok(l) => {
                    let _ = tx.send(Msg::Config(Box::new(l)));
                }
                Err(e) => tracing::warn!(error = %e, "dialer: cannot read the configuration"),
            }
        });
    }

    fn on_config(&mut self, l: Loaded) {
        if self.play != l.play {
            tracing::info!(play = l.play, "dialer: play state changed");
        }
        self.play = l.play;
        self.trunks = l.trunks.into_iter().map(|t| (t.id, t)).collect();
        // Servers: start links for new or changed ones, stop removed ones.
        let wanted: HashMap<i64, AsteriskServer> = l
            .servers
            .into_iter()
            .filter(|s| s.enabled)
            .map(|s| (s.id, s))
            .collect();
        let gone: Vec<i64> = self
            .servers
            .iter()
            .filter(|(id, s)| match wanted.get(id) {
                None => true,
                Some(w) => {
                    w.host != s.conf.host
                        || w.ami_port != s.conf.ami_port
                        || w.ami_user != s.conf.ami_user
                        || w.ami_secret.expose_secret() != s.conf.ami_secret.expose_secret()
                }
            })
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            if let Some(s) = self.servers.remove(&id) {
                s.link.cancel();
            }
        }
        for (id, conf) in wanted {
            if self.servers.contains_key(&id) {
                continue;
            }
            let link = self.cancel.child_token();
            let mut cc = ClientConfig::new(
                format!("{}:{}", conf.host, conf.ami_port),
                conf.ami_user.clone(),
                conf.ami_secret.clone(),
            );
            cc.rate_limit = self.cfg.ami_rate_limit;
            cc.reconnect = oml_ami::Backoff {
                initial: Duration::from_millis(200),
                max: Duration::from_secs(10),
            };
            tokio::spawn(run_link(
                id,
                conf.name.clone(),
                cc,
                self.tx.clone(),
                link.clone(),
            ));
            self.servers.insert(
                id,
                ServerRt {
                    conf,
                    client: None,
                    up: false,
                    last_error: None,
                    agents: Agents::default(),
                    reconciling: true,
                    link,
                    last_poll: Instant::now(),
                },
            );
        }
        // Campaigns.
        let seen: HashSet<i64> = l.campaigns.iter().map(|(c, _, _)| c.id).collect();
        let dropped: Vec<i64> = self
            .campaigns
            .keys()
            .filter(|id| !seen.contains(id))
            .copied()
            .collect();
        for id in dropped {
            if let Some(mut c) = self.campaigns.remove(&id) {
                self.release(&mut c);
            }
        }
        for (conf, rules, tally) in l.campaigns {
            let problem = self.check_campaign(&conf);
            let window = CallingWindow::of(&conf).ok();
            match self.campaigns.get_mut(&conf.id) {
                Some(c) => {
                    let mode_changed = c.conf.mode != conf.mode
                        || c.conf.max_abandon_rate != conf.max_abandon_rate
                        || c.conf.abandon_seconds != conf.abandon_seconds;
                    // A campaign we marked finished stays so until the store agrees.
                    if !(c.conf.state == CampaignState::Finished
                        && conf.state == CampaignState::Running)
                    {
                        c.conf = conf;
                    } else {
                        let st = c.conf.state;
                        c.conf = conf;
                        c.conf.state = st;
                    }
                    c.rules = rules;
                    c.window = window;
                    if c.problem != problem {
                        if let Some(p) = &problem {
                            tracing::error!(campaign = %c.conf.name, problem = %p, "dialer: campaign cannot dial");
                        }
                    }
                    c.problem = problem;
                    if mode_changed {
                        c.mode = mode_spec(c.conf.mode);
                        c.pacers.clear();
                    }
                }
                None => {
                    if let Some(p) = &problem {
                        tracing::error!(campaign = %conf.name, problem = %p, "dialer: campaign cannot dial");
                    }
                    let mode = mode_spec(conf.mode);
                    self.campaigns.insert(
                        conf.id,
                        CampaignRt {
                            conf,
                            rules,
                            window,
                            problem,
                            hopper: VecDeque::new(),
                            claiming: false,
                            idle_until: None,
                            pacers: HashMap::new(),
                            stats: CallStats::default(),
                            abandons: tally.unwrap_or_default(),
                            trigger: None,
                            mode,
                        },
                    );
                }
            }
        }
        // Hoppers of campaigns that may not dial go back to the store.
        let ids: Vec<i64> = self
            .campaigns
            .iter()
            .filter(|(_, c)| {
                !(c.hopper.is_empty() || self.play && c.conf.state == CampaignState::Running)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(mut c) = self.campaigns.remove(&id) {
                self.release(&mut c);
                self.campaigns.insert(id, c);
            }
        }
        self.want_leadership();
        // Attempts a crash left on servers that are gone cannot be followed.
        if !self.loaded {
            self.loaded = true;
            let orphaned: Vec<Key> = self
                .calls
                .iter()
                .filter(|(_, l)| !self.servers.contains_key(&l.server))
                .map(|(k, _)| k.clone())
                .collect();
            for k in orphaned {
                if let Some(l) = self.calls.get_mut(&k) {
                    l.call.vanished(now_ms());
                }
                self.finish_if_over(&k);
            }
        }
    }

    /// Tells the leadership task which campaigns this node wants to pace.
    fn want_leadership(&self) {
        let wanted: BTreeSet<String> = self
            .campaigns
            .values()
            .filter(|c| self.play && c.conf.state == CampaignState::Running)
            .map(|c| lead_key(c.conf.id))
            .collect();
        self.want_tx.send_if_modified(|w| {
            let changed = *w != wanted;
            *w = wanted;
            changed
        });
    }

    /// This node now holds its name: what a previous run under the name
    /// left behind is ours. Contacts it left in the hopper go back to
    /// pending; attempts it left open are followed (reconciled with their
    /// server's channels).
    fn on_named(&self) {
        let store = self.store.clone();
        let tx = self.tx.clone();
        let node = self.cfg.node.clone();
        tokio::spawn(async move {
            if let Err(e) = store.release_hopper(&node, None).await {
                tracing::error!(error = %e, "dialer: cannot release the previous hopper");
            }
            match store.open_attempts(Some(&node)).await {
                Ok(open) if !open.is_empty() => {
                    let _ = tx.send(Msg::Adopt(open));
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "dialer: cannot read open attempts"),
            }
        });
    }

    /// The leadership task's news: release the hopper of campaigns lost;
    /// for campaigns gained, contacts another node had claimed and not
    /// dialed (it died, or let go) go back to pending before pacing starts.
    fn on_leading(&mut self, now_leading: HashSet<i64>) {
        let lost: Vec<i64> = self.leading.difference(&now_leading).copied().collect();
        let gained: Vec<i64> = now_leading.difference(&self.leading).copied().collect();
        for id in &lost {
            tracing::info!(campaign = id, node = %self.cfg.node, "dialer: another node paces this campaign now");
            if let Some(mut c) = self.campaigns.remove(id) {
                self.release(&mut c);
                self.campaigns.insert(*id, c);
            }
        }
        for id in &gained {
            tracing::info!(campaign = id, node = %self.cfg.node, "dialer: this node paces the campaign");
            let _ = self
                .wtx
                .send(WriterOp::ReleaseOthers(*id, self.cfg.node.clone()));
        }
        self.leading = now_leading;
    }

    /// Why a campaign cannot dial, in words an administrator can act on.
    fn check_campaign(&self, c: &Campaign) -> Option<String> {
        let Some(t) = self.trunks.get(&c.trunk_id) else {
            return Some(format!(
                "its trunk (id {}) no longer exists; set one with `oml campaign edit {} --trunk NAME`",
                c.trunk_id, c.name
            ));
        };
        if !t.dial_string.contains("${num}") {
            return Some(format!(
                "trunk `{}` has a dial string without ${{num}}; fix it with `oml trunk edit`",
                t.name
            ));
        }
        if let Err(e) = CallingWindow::of(c) {
            return Some(e.to_string());
        }
        if c.window_end_minute <= c.window_start_minute {
            return Some("its time window ends before it starts".into());
        }
        if let Some(sid) = t.server_id {
            if !self.servers.contains_key(&sid) {
                return Some(format!(
                    "trunk `{}` is on a server that is disabled or removed",
                    t.name
                ));
            }
        }
        None
    }

    fn release(&self, c: &mut CampaignRt) {
        let ids: Vec<i64> = c.hopper.drain(..).map(|d| d.id).collect();
        if !ids.is_empty() {
            let _ = self.wtx.send(WriterOp::Release(ids, self.cfg.node.clone()));
        }
    }

    // ---------------------------------------------------------- AMI

    fn on_link_up(&mut self, server: i64, client: AmiClient) {
        let Some(s) = self.servers.get_mut(&server) else {
            return;
        };
        tracing::info!(server = %s.conf.name, "dialer: AMI link up");
        s.up = true;
        s.last_error = None;
        s.client = Some(client.clone());
        s.reconciling = true;
        s.last_poll = Instant::now();
        spawn_channels(self.tx.clone(), server, client.clone());
        spawn_members(self.tx.clone(), server, client);
    }

    fn on_ami(&mut self, server: i64, m: &Message, at: Instant) {
        let Some(name) = m.event_name() else {
            return;
        };
        let lname = name.to_ascii_lowercase();
        if let Some(s) = self.servers.get_mut(&server) {
            let change = s.agents.on_event(m, at);
            let q = m.get("Queue").unwrap_or("");
            for c in self.campaigns.values_mut() {
                if !(c.conf.queue_name.is_empty() || c.conf.queue_name == q) {
                    continue;
                }
                if let Some(w) = change.wrap_up_ended_s {
                    c.stats.record_wrap_up(w);
                }
                // An agent is free: campaigns on its queue react now.
                if change.became_ready && c.trigger.is_none() {
                    c.trigger = Some(at);
                }
            }
        }
        let ev = match lname.as_str() {
            "newchannel" => CallEvent::Created,
            "newstate" if m.get("ChannelState") == Some("6") => CallEvent::Up,
            "originateresponse" => {
                let success = m
                    .get("Response")
                    .is_some_and(|r| r.eq_ignore_ascii_case("Success"));
                let reason = m
                    .get("Reason")
                    .and_then(|r| r.trim().parse().ok())
                    .unwrap_or(0);
                let ev = CallEvent::OriginateResponse { success, reason };
                let key = self
                    .key_of(m)
                    .or_else(|| m.action_id().and_then(|a| self.by_action.get(a).cloned()));
                match key {
                    Some(k) => {
                        if let Some(a) = m.action_id() {
                            self.by_action.remove(a);
                        }
                        self.apply(&k, ev);
                    }
                    None => {
                        if let Some(a) = m.action_id() {
                            self.orphans
                                .insert(a.to_owned(), (success, reason, Instant::now()));
                        }
                    }
                }
                return;
            }
            "queuecallerjoin" => CallEvent::QueueJoin,
            "agentconnect" => CallEvent::AgentConnect,
            "queuecallerabandon" => CallEvent::QueueAbandon,
            "hangup" => CallEvent::Hangup {
                cause: m
                    .get("Cause")
                    .and_then(|c| c.trim().parse().ok())
                    .unwrap_or(0),
            },
            _ => return,
        };
        if let Some(k) = self.key_of(m) {
            self.apply(&k, ev);
        }
    }

    fn key_of(&self, m: &Message) -> Option<Key> {
        for f in ["Uniqueid", "Linkedid"] {
            if let Some(u) = m.get(f) {
                if self.calls.contains_key(u) {
                    return Some(u.to_owned());
                }
            }
        }
        None
    }

    fn apply(&mut self, key: &str, ev: CallEvent) {
        let now = now_ms();
        let Some(l) = self.calls.get_mut(key) else {
            return;
        };
        let change = l.call.on_event(ev, now);
        match change {
            Change::Answered | Change::Connected => {
                let _ = self.wtx.send(WriterOp::Write(DialingWrite::Progress {
                    contact_id: l.contact_id,
                    attempt_no: l.attempt_no,
                    answered_at: l.call.answered_at,
                    connected_at: l.call.connected_at,
                }));
            }
            Change::Ended => {}
            _ => {}
        }
        self.finish_if_over(key);
    }

    fn finish_if_over(&mut self, key: &str) {
        if !self.calls.get(key).is_some_and(|l| l.call.is_over()) {
            return;
        }
        let l = self.calls.remove(key).expect("present");
        self.release_trunk(l.trunk);
        let Some(f) = l.call.finish() else {
            return;
        };
        self.metrics.ended.fetch_add(1, Ordering::Relaxed);
        let now = now_ms();
        let (state, next) = match self.campaigns.get_mut(&l.campaign) {
            Some(c) => {
                let d = reschedule::decide(f.outcome, l.attempt_no, &c.rules, now);
                let ring_s =
                    (f.answered_at.unwrap_or(f.ended_at) - l.call.placed_at).max(0) as f64 / 1000.0;
                match f.outcome {
                    Outcome::Failed | Outcome::Unknown | Outcome::Congestion => {}
                    _ => c.stats.record_attempt(f.answered_at.is_some(), ring_s),
                }
                if let (Some(conn), Outcome::Connected) = (f.connected_at, f.outcome) {
                    c.stats
                        .record_talk((f.ended_at - conn).max(0) as f64 / 1000.0);
                }
                if let Some(ab) = l.call.counts_as_abandoned(c.conf.abandon_seconds * 1000) {
                    c.abandons.live_answered += 1;
                    if ab {
                        c.abandons.abandoned += 1;
                    }
                }
                (d.state, d.next_attempt_at)
            }
            // Campaign deleted meanwhile: close the attempt, nothing to plan.
            None => ("exhausted", 0),
        };
        let _ = self
            .wtx
            .send(WriterOp::Write(DialingWrite::End(AttemptResult {
                contact_id: l.contact_id,
                attempt_no: l.attempt_no,
                answered_at: f.answered_at,
                connected_at: f.connected_at,
                ended_at: f.ended_at,
                outcome: f.outcome.as_str().into(),
                hangup_cause: f.hangup_cause.map(i64::from),
                contact_state: state.into(),
                next_attempt_at: next,
            })));
    }

    fn release_trunk(&mut self, trunk: i64) {
        if let Some(n) = self.trunk_busy.get_mut(&trunk) {
            *n = (*n - 1).max(0);
        }
    }

    fn reconcile(&mut self, server: i64, asked_at: Instant, channels: &[Message]) {
        let alive: HashMap<&str, &Message> = channels
            .iter()
            .filter_map(|c| c.get("Uniqueid").map(|u| (u, c)))
            .collect();
        let now = now_ms();
        let keys: Vec<Key> = self
            .calls
            .iter()
            .filter(|(_, l)| l.server == server && l.originated && l.placed <= asked_at)
            .map(|(k, _)| k.clone())
            .collect();
        let mut vanished = 0;
        for k in keys {
            let l = self.calls.get_mut(&k).expect("present");
            match alive.get(k.as_str()) {
                Some(ch) => {
                    // Catch up on what was missed while the link was down.
                    let app = ch.get("Application").unwrap_or("");
                    let bridged = ch.get("BridgeId").is_some_and(|b| !b.is_empty());
                    if app.eq_ignore_ascii_case("Queue") || ch.get("ChannelState") == Some("6") {
                        l.call.on_event(CallEvent::Up, now);
                        if bridged {
                            l.call.on_event(CallEvent::AgentConnect, now);
                        }
                    }
                }
                None => {
                    l.call.vanished(now);
                    vanished += 1;
                }
            }
            self.finish_if_over(&k);
        }
        if let Some(s) = self.servers.get_mut(&server) {
            s.reconciling = false;
            if vanished > 0 {
                tracing::warn!(server = %s.conf.name, vanished, "dialer: calls ended while the link was down; recorded as unknown (not redialed as the same attempt)");
            }
        }
    }

    // ---------------------------------------------------------- timers

    fn on_tick(&mut self) {
        let now = now_ms();
        let keys: Vec<Key> = self.calls.keys().cloned().collect();
        for k in keys {
            let timeout = {
                let l = &self.calls[&k];
                self.campaigns
                    .get(&l.campaign)
                    .map_or(60_000, |c| c.conf.ring_timeout_s * 1000)
            };
            if let Some(l) = self.calls.get_mut(&k) {
                if l.originated {
                    l.call.on_tick(now, timeout);
                }
            }
            self.finish_if_over(&k);
        }
        let stale = Instant::now() - Duration::from_secs(120);
        self.orphans.retain(|_, (_, _, t)| *t > stale);
        // Poll queue members now and then, to correct missed events.
        let every = self.cfg.queue_poll_every;
        for (id, s) in self.servers.iter_mut() {
            if s.up && s.last_poll.elapsed() >= every {
                s.last_poll = Instant::now();
                if let Some(c) = s.client.clone() {
                    spawn_members(self.tx.clone(), *id, c);
                }
            }
        }
    }

    // ---------------------------------------------------------- pacing

    fn pace_all(&mut self) {
        if !self.loaded {
            return;
        }
        let ids: Vec<i64> = self.campaigns.keys().copied().collect();
        for id in ids {
            self.pace(id);
        }
    }

    fn pace(&mut self, id: i64) {
        let now = now_ms();
        let node = self.cfg.node.clone();
        let play = self.play;
        let leading = self.leading.contains(&id);
        let Some(c) = self.campaigns.get_mut(&id) else {
            return;
        };
        if !play || !leading || c.conf.state != CampaignState::Running || c.problem.is_some() {
            c.trigger = None;
            return;
        }
        if !c.window.is_some_and(|w| w.is_open(now)) {
            c.trigger = None;
            return;
        }
        let Some(trunk) = self.trunks.get(&c.conf.trunk_id).cloned() else {
            return;
        };
        // Keep the hopper stocked.
        if c.hopper.len() < (self.cfg.hopper_batch as usize / 2).max(1)
            && !c.claiming
            && c.idle_until.is_none_or(|t| Instant::now() >= t)
        {
            c.claiming = true;
            c.idle_until = None;
            let store = self.store.clone();
            let tx = self.tx.clone();
            let n = self.cfg.hopper_batch;
            tokio::spawn(async move {
                let r = store.claim_due_contacts(id, &node, now, n).await;
                let msg = match r {
                    Ok(contacts) => {
                        let left = if contacts.is_empty() {
                            store.contacts_left(id).await.unwrap_or(1)
                        } else {
                            1
                        };
                        Msg::Claimed {
                            campaign: id,
                            contacts,
                            left,
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "dialer: cannot claim contacts");
                        Msg::ClaimFailed { campaign: id }
                    }
                };
                let _ = tx.send(msg);
            });
        }
        if c.hopper.is_empty() {
            return;
        }
        let limits = PacingLimits {
            max_abandon_rate: c.conf.max_abandon_rate,
            abandon_after_s: c.conf.abandon_seconds as f64,
            max_lines: 0,
        };
        let servers: Vec<i64> = self
            .servers
            .iter()
            .filter(|(sid, s)| s.up && !s.reconciling && trunk.server_id.is_none_or(|t| t == **sid))
            .map(|(sid, _)| *sid)
            .collect();
        let instant_now = Instant::now();
        for sid in servers {
            let s = &self.servers[&sid];
            let counts = s.agents.counts(&c.conf.queue_name, instant_now);
            let mut ringing = Vec::new();
            let mut waiting = 0u32;
            for l in self.calls.values() {
                if l.campaign == id && l.server == sid {
                    if l.call.is_ringing() {
                        ringing.push((now - l.call.placed_at).max(0) as f64 / 1000.0);
                    } else if l.call.is_waiting_for_agent() {
                        waiting += 1;
                    }
                }
            }
            let snap = Snapshot {
                now_s: now as f64 / 1000.0,
                agents_logged_in: counts.logged_in,
                agents_ready: counts.ready,
                talking_elapsed_s: &counts.talking_elapsed_s,
                wrap_up_elapsed_s: &counts.wrap_up_elapsed_s,
                ringing_elapsed_s: &ringing,
                answered_waiting: waiting,
                stats: &c.stats,
                abandons: c.abandons,
            };
            let mode = c.mode;
            let pacer = c.pacers.entry(sid).or_insert_with(|| mode.build(limits));
            let want = pacer.calls_to_place(&snap) as i64;
            let busy = self.trunk_busy.get(&trunk.id).copied().unwrap_or(0);
            let n = want
                .min(trunk.max_channels - busy)
                .min(c.hopper.len() as i64);
            if n <= 0 {
                continue;
            }
            let Some(client) = s.client.clone() else {
                continue;
            };
            let trigger = c.trigger.take();
            let mut items = Vec::with_capacity(n as usize);
            for i in 0..n {
                let d = c.hopper.pop_front().expect("checked length");
                let attempt_no = d.attempts + 1;
                let key = channel_id(id, d.id, attempt_no);
                let mut o = Originate::to_extension(
                    &trunk.dial(&d.phone),
                    &c.conf.delivery_context,
                    &c.conf.delivery_exten,
                );
                o.timeout = Some(Duration::from_secs(c.conf.ring_timeout_s.max(1) as u64));
                let cid = if c.conf.caller_id.is_empty() {
                    &trunk.caller_id
                } else {
                    &c.conf.caller_id
                };
                if !cid.is_empty() {
                    o.caller_id = Some(cid.clone());
                }
                o.channel_id = Some(key.clone());
                o = o
                    .variable("OML_CAMPAIGN_ID", &id.to_string())
                    .variable("OML_CONTACT_ID", &d.id.to_string())
                    .variable("OML_ATTEMPT", &attempt_no.to_string());
                let a = NewAttempt {
                    campaign_id: id,
                    contact_id: d.id,
                    attempt_no,
                    server_id: Some(sid),
                    channel_id: key.clone(),
                    placed_at: now,
                    node: self.cfg.node.clone(),
                };
                self.calls.insert(
                    key,
                    Live {
                        campaign: id,
                        server: sid,
                        trunk: trunk.id,
                        contact_id: d.id,
                        attempt_no,
                        call: Call::new(now),
                        originated: false,
                        placed: instant_now,
                    },
                );
                items.push((a, o, if i == 0 { trigger } else { None }));
            }
            *self.trunk_busy.entry(trunk.id).or_insert(0) += n;
            let _ = self.wtx.send(WriterOp::Place { client, items });
        }
    }

    // ---------------------------------------------------------- status

    fn publish_status(&self) {
        self.publish_status_final(false);
    }

    fn publish_status_final(&self, stopped: bool) {
        // Under a name another engine holds, its status is the one to show.
        if !self.cfg.publish_status || !self.named {
            return;
        }
        let now = now_ms();
        let inst = Instant::now();
        let mut st = LiveStatus {
            updated_at: now,
            stopped,
            node: self.cfg.node.clone(),
            play: self.play,
            calls_in_flight: self.calls.len(),
            ..Default::default()
        };
        let mut servers: Vec<&ServerRt> = self.servers.values().collect();
        servers.sort_by(|a, b| a.conf.name.cmp(&b.conf.name));
        for s in &servers {
            let c = s.agents.counts("", inst);
            st.servers.push(ServerStatus {
                name: s.conf.name.clone(),
                connected: s.up,
                last_error: s.last_error.clone(),
                agents_logged_in: c.logged_in,
                agents_free: c.ready,
                agents_talking: c.talking_elapsed_s.len() as u32,
            });
        }
        let mut camps: Vec<&CampaignRt> = self.campaigns.values().collect();
        camps.sort_by(|a, b| a.conf.name.cmp(&b.conf.name));
        for c in camps {
            let mut live = CampaignLive {
                id: c.conf.id,
                name: c.conf.name.clone(),
                state: c.conf.state.to_string(),
                window_open: c.window.is_some_and(|w| w.is_open(now)),
                hopper: c.hopper.len(),
                live_answered: c.abandons.live_answered,
                abandoned: c.abandons.abandoned,
                abandon_rate: c.abandons.rate(),
                max_abandon_rate: c.conf.max_abandon_rate,
                problem: c.problem.clone(),
                paced_here: self.leading.contains(&c.conf.id),
                ..Default::default()
            };
            for l in self.calls.values().filter(|l| l.campaign == c.conf.id) {
                match l.call.phase {
                    Phase::Placed | Phase::Ringing => live.ringing += 1,
                    Phase::Answered => live.waiting_for_agent += 1,
                    Phase::Connected => live.talking += 1,
                    Phase::Ended => {}
                }
            }
            let mut talking = 0;
            for s in &servers {
                let a = s.agents.counts(&c.conf.queue_name, inst);
                live.agents_logged_in += a.logged_in;
                live.agents_free += a.ready;
                talking += a.talking_elapsed_s.len();
            }
            if live.agents_logged_in > 0 {
                live.occupancy = talking as f64 / live.agents_logged_in as f64;
            }
            st.campaigns.push(live);
        }
        if let Ok(json) = serde_json::to_string(&st) {
            let _ = self.wtx.send(WriterOp::Status(json));
        }
    }
}

async fn load(store: &Store, known: &HashSet<i64>) -> oml_store::Result<Loaded> {
    let play = store.setting(PLAY_KEY).await?.as_deref() == Some("on");
    let servers = store.servers().await?;
    let trunks = store.trunks().await?;
    let mut campaigns = Vec::new();
    let now = now_ms();
    for c in store.campaigns().await? {
        let rules = store.reschedule_rules(c.id).await?;
        let tally = if known.contains(&c.id) {
            None
        } else {
            let t = store
                .abandon_tally(
                    c.id,
                    now - c.abandon_window.millis(),
                    c.abandon_seconds * 1000,
                )
                .await?;
            Some(AbandonCounts {
                live_answered: t.live_answered as u64,
                abandoned: t.abandoned as u64,
            })
        };
        campaigns.push((c, rules, tally));
    }
    Ok(Loaded {
        play,
        servers,
        trunks,
        campaigns,
    })
}

fn spawn_channels(tx: mpsc::UnboundedSender<Msg>, server: i64, client: AmiClient) {
    let asked_at = Instant::now();
    tokio::spawn(async move {
        match client.core_show_channels().await {
            Ok(channels) => {
                let _ = tx.send(Msg::Channels {
                    server,
                    asked_at,
                    channels,
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "dialer: CoreShowChannels failed; will retry on the next link-up")
            }
        }
    });
}

fn spawn_members(tx: mpsc::UnboundedSender<Msg>, server: i64, client: AmiClient) {
    tokio::spawn(async move {
        if let Ok(members) = client.queue_status(None).await {
            let _ = tx.send(Msg::Members { server, members });
        }
    });
}

/// Keeps one AMI connection up and forwards its events.
async fn run_link(
    server: i64,
    name: String,
    cfg: ClientConfig,
    tx: mpsc::UnboundedSender<Msg>,
    cancel: CancellationToken,
) {
    let mut attempt = 0u32;
    let mut last_error = String::new();
    loop {
        let r = tokio::select! {
            _ = cancel.cancelled() => return,
            r = AmiClient::connect(cfg.clone()) => r,
        };
        let client = match r {
            Ok(c) => c,
            Err(e) => {
                let reason = e.to_string();
                if reason != last_error {
                    tracing::error!(server = %name, error = %reason, "dialer: cannot connect to the AMI server; retrying (other servers keep dialing)");
                    last_error = reason.clone();
                }
                let _ = tx.send(Msg::LinkDown { server, reason });
                let wait = cfg.reconnect.delay(attempt);
                attempt = attempt.saturating_add(1);
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
        };
        attempt = 0;
        last_error.clear();
        let mut events = client.events();
        let _ = tx.send(Msg::LinkUp {
            server,
            client: client.clone(),
        });
        loop {
            let ev = tokio::select! {
                _ = cancel.cancelled() => {
                    let _ = client.logoff().await;
                    return;
                }
                ev = events.recv() => ev,
            };
            match ev {
                Ok(Event::Ami(m)) => {
                    let _ = tx.send(Msg::Ami {
                        server,
                        msg: m,
                        at: Instant::now(),
                    });
                }
                Ok(Event::Disconnected { reason }) => {
                    let _ = tx.send(Msg::LinkDown { server, reason });
                }
                Ok(Event::Reconnected) => {
                    let _ = tx.send(Msg::LinkUp {
                        server,
                        client: client.clone(),
                    });
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(server = %name, missed = n, "dialer: fell behind the AMI events; reconciling");
                    let _ = tx.send(Msg::LinkUp {
                        server,
                        client: client.clone(),
                    });
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    }
}

/// A batch of calls to originate through one client once their attempts
/// (starting at the `usize` index of the batch's writes) are committed.
type Placement = (AmiClient, Vec<(Originate, Option<Instant>)>, usize);

/// Applies database writes in order and in batches; sends each `Originate`
/// only once its attempt is committed.
async fn writer(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<WriterOp>,
    tx: mpsc::UnboundedSender<Msg>,
    metrics: Arc<Metrics>,
    status_key: String,
) {
    while let Some(first) = rx.recv().await {
        let mut ops = vec![first];
        while ops.len() < 2000 {
            match rx.try_recv() {
                Ok(op) => ops.push(op),
                Err(_) => break,
            }
        }
        let mut writes = Vec::new();
        let mut places: Vec<Placement> = Vec::new();
        let mut status = None;
        let mut releases: Vec<(Vec<i64>, String)> = Vec::new();
        let mut release_others: Vec<(i64, String)> = Vec::new();
        for op in ops {
            match op {
                WriterOp::Place { client, items } => {
                    let start = writes.len();
                    let mut origs = Vec::with_capacity(items.len());
                    for (a, o, trig) in items {
                        writes.push(DialingWrite::Begin(a));
                        origs.push((o, trig));
                    }
                    places.push((client, origs, start));
                }
                WriterOp::Write(w) => writes.push(w),
                WriterOp::Release(ids, node) => releases.push((ids, node)),
                WriterOp::ReleaseOthers(campaign, node) => release_others.push((campaign, node)),
                WriterOp::Status(s) => status = Some(s),
            }
        }
        if !writes.is_empty() {
            let mut tries = 0;
            let flags = loop {
                match store.apply_dialing_writes(&writes).await {
                    Ok(f) => break Some(f),
                    Err(e) => {
                        tries += 1;
                        tracing::error!(error = %e, tries, "dialer: cannot record calls; retrying");
                        if tries >= 5 {
                            break None;
                        }
                        tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                    }
                }
            };
            let flags = flags.unwrap_or_else(|| vec![false; writes.len()]);
            let mut refused = Vec::new();
            for (client, origs, start) in places {
                for (i, (o, trig)) in origs.into_iter().enumerate() {
                    let key = o.channel_id.clone().unwrap_or_default();
                    if !flags.get(start + i).copied().unwrap_or(false) {
                        refused.push(key);
                        continue;
                    }
                    if let Some(t) = trig {
                        metrics.push_reaction(t.elapsed().as_micros() as u64);
                    }
                    let client = client.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let result = match client.originate(&o).await {
                            Ok(r) => Ok(r.action_id().unwrap_or_default().to_owned()),
                            Err(AmiError::ActionFailed { message, .. }) => {
                                tracing::warn!(channel = %o.channel, %message, "dialer: Originate refused");
                                Err(true)
                            }
                            Err(_) => Err(false),
                        };
                        let _ = tx.send(Msg::Originated { key, result });
                    });
                }
            }
            if !refused.is_empty() {
                let _ = tx.send(Msg::Refused(refused));
            }
        }
        for (ids, node) in releases {
            if let Err(e) = store.release_contacts(&node, &ids).await {
                tracing::warn!(error = %e, "dialer: cannot release hopper contacts (they are released at the next start)");
            }
        }
        for (campaign, node) in release_others {
            match store.release_hopper_except(&node, campaign).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    campaign,
                    contacts = n,
                    "dialer: contacts another node had claimed are pending again"
                ),
                Err(e) => tracing::warn!(error = %e, "dialer: cannot release other nodes' hopper"),
            }
        }
        if let Some(s) = status {
            let _ = store.set_setting(&status_key, &s).await;
        }
    }
}

/// The leadership task: every `every` (or when the wanted set changes) it
/// holds the leases of the campaigns the core wants and tells the core which
/// it leads. A lease this node cannot get is another node's: it paces that
/// campaign and this one does not dial for it. First of all it holds its
/// node name's lease: two engines under one name would release each other's
/// claims, so the second one paces nothing until it has a name of its own.
async fn lead(
    store: Store,
    mut leadership: oml_store::Leadership,
    node: String,
    mut want: watch::Receiver<BTreeSet<String>>,
    tx: mpsc::UnboundedSender<Msg>,
    cancel: CancellationToken,
    every: Duration,
) {
    let mut last: Option<(bool, HashSet<i64>)> = None;
    let mut last_error: Option<String> = None;
    let node_key = format!("node:{node}");
    let mut name_taken_logged = false;
    // Open attempts already handed to the core, by channel id.
    let mut adopted: HashSet<String> = HashSet::new();
    loop {
        let had_name = leadership.held().contains(&node_key);
        let mut wanted = if had_name {
            want.borrow_and_update().clone()
        } else {
            BTreeSet::new()
        };
        wanted.insert(node_key.clone());
        let mut named = false;
        let held: HashSet<i64> = match leadership.hold(&wanted).await {
            Ok(held) if !held.contains(&node_key) => {
                if !name_taken_logged {
                    let node = node_key.trim_start_matches("node:");
                    tracing::error!(%node, "dialer: another engine runs as node {node} on this database; this one paces nothing until it has a name of its own (`oml dialer run --node NAME` or `[dialer] node_name` in oml.toml)");
                    name_taken_logged = true;
                }
                HashSet::new()
            }
            Ok(held) => {
                if last_error.take().is_some() {
                    tracing::info!("dialer: campaign leadership works again");
                }
                if !had_name {
                    // The name is ours: ask for the campaigns right away.
                    name_taken_logged = false;
                    continue;
                }
                named = true;
                held.iter()
                    .filter_map(|k| k.strip_prefix("campaign:")?.parse().ok())
                    .collect()
            }
            Err(e) => {
                let text = e.to_string();
                if last_error.as_deref() != Some(text.as_str()) {
                    tracing::warn!(error = %text, "dialer: cannot hold campaign leadership; not pacing until it can");
                    last_error = Some(text);
                }
                HashSet::new()
            }
        };
        if last.as_ref() != Some(&(named, held.clone())) {
            let msg = Msg::Leading {
                named,
                campaigns: held.clone(),
            };
            if tx.send(msg).is_err() {
                break;
            }
            last = Some((named, held.clone()));
        }
        if !held.is_empty() {
            match orphans(&store, &mut leadership, &node, &held, &mut adopted).await {
                Ok(open) if !open.is_empty() => {
                    adopted.extend(open.iter().map(|a| a.channel_id.clone()));
                    if tx.send(Msg::Adopt(open)).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "dialer: cannot look for calls of stopped nodes")
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            r = want.changed() => if r.is_err() { break },
            _ = tokio::time::sleep(every) => {}
        }
    }
    leadership.release_all().await;
}

/// Open attempts, in campaigns this node paces, of nodes that no longer
/// run (their node lease is free): a node that stopped or died left them,
/// and this node follows them to their outcome.
async fn orphans(
    store: &Store,
    leadership: &mut oml_store::Leadership,
    node: &str,
    leading: &HashSet<i64>,
    adopted: &mut HashSet<String>,
) -> oml_store::Result<Vec<oml_store::dialing::OpenAttempt>> {
    let all = store.open_attempts_of_others(node).await?;
    // Forget adopted calls that have ended.
    let still_open: HashSet<&str> = all.iter().map(|a| a.channel_id.as_str()).collect();
    adopted.retain(|c| still_open.contains(c.as_str()));
    let open: Vec<_> = all
        .into_iter()
        .filter(|a| leading.contains(&a.campaign_id) && !adopted.contains(&a.channel_id))
        .collect();
    let mut alive: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for a in open {
        let running = match alive.get(&a.node) {
            Some(r) => *r,
            None => {
                let r = leadership
                    .held_elsewhere(&format!("node:{}", a.node))
                    .await?;
                alive.insert(a.node.clone(), r);
                r
            }
        };
        if !running {
            out.push(a);
        }
    }
    Ok(out)
}
