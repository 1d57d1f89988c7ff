//! The engine's async shell: one task owns the decision core, feeds it what
//! the helper tasks report (AMI events, writer results, claims, loads,
//! leadership news) and its timers, and carries out the actions it returns
//! by handing them to the writer, the AMI links and short-lived tasks.
//! Everything it decides is in `core/`; this file only moves messages.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oml_ami::{AmiClient, ClientConfig};
use oml_store::Store;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::core::wake::Waking;
use super::core::{Action, Core, Input, Lost, Now};
use super::link::{query_channels, query_members, run_link};
use super::load::load;
use super::msg::Msg;
use super::orphans::recover_name;
use super::record;
use super::status::snapshot;
use super::writer::WriterOp;
use super::{EngineConfig, Metrics};

/// An AMI link the shell keeps: its client once connected, and the token
/// that stops it.
struct Link {
    client: Option<AmiClient>,
    cancel: CancellationToken,
    /// The link's task: awaited at shutdown, so its Logoff is sent before
    /// the engine says it has stopped.
    task: tokio::task::JoinHandle<()>,
}

pub(super) struct Shell {
    pub(super) core: Core,
    pub(super) store: Store,
    pub(super) cfg: EngineConfig,
    pub(super) tx: mpsc::UnboundedSender<Msg>,
    pub(super) wtx: mpsc::UnboundedSender<WriterOp>,
    pub(super) want_tx: watch::Sender<BTreeSet<String>>,
    pub(super) cancel: CancellationToken,
    links: HashMap<i64, Link>,
    /// Deletes the PBX records of ended attempts (see `record.rs`).
    forget: mpsc::UnboundedSender<(AmiClient, String)>,
    /// This database's records on the PBX (its instance's family).
    records: record::Records,
    /// The campaigns' per-minute history (see `minutes.rs`).
    minutes: super::minutes::Recorder,
    metrics: Arc<Metrics>,
    /// Freezes and clock jumps (see `core/wake.rs`).
    waking: Waking,
}

impl Shell {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        core: Core,
        store: Store,
        cfg: EngineConfig,
        tx: mpsc::UnboundedSender<Msg>,
        wtx: mpsc::UnboundedSender<WriterOp>,
        want_tx: watch::Sender<BTreeSet<String>>,
        cancel: CancellationToken,
        metrics: Arc<Metrics>,
    ) -> Shell {
        let records = record::Records::new(store.instance());
        let forget = record::forgetter(store.clone(), records.clone());
        let minutes = super::minutes::Recorder::new(store.clone(), cfg.minute_history);
        let waking = Waking::new(cfg.tick);
        Shell {
            core,
            store,
            cfg,
            tx,
            wtx,
            want_tx,
            cancel,
            links: HashMap::new(),
            forget,
            records,
            minutes,
            metrics,
            waking,
        }
    }

    /// Runs until the engine is cancelled; returns the tokens of the AMI
    /// links, to cancel once the writer has finished.
    pub(super) async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Msg>,
    ) -> Vec<(CancellationToken, tokio::task::JoinHandle<()>)> {
        self.reload();
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
                        self.feed(m);
                        // Drain what is already queued before pacing again.
                        for _ in 0..256 {
                            match rx.try_recv() {
                                Ok(m) => self.feed(m),
                                Err(_) => break,
                            }
                        }
                        self.pace(Now::system());
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    self.check_clock();
                    let now = Now::system();
                    // After a wake, time-outs wait until the PBXs are read.
                    if !self.waking.holds(&self.core, now.at) {
                        self.core.handle(Input::Tick, now);
                        self.pace(now);
                    }
                }
                // The abandon message's deadline (core/abandon_deadline.rs),
                // to the millisecond rather than at the next tick.
                _ = deadline(self.core.next_abandon_deadline()) => {
                    self.core.on_abandon_deadlines(Now::system());
                    self.carry_out();
                }
                _ = reload.tick() => self.reload(),
                _ = status.tick() => {
                    self.publish_status(false);
                    self.minutes.sample(&self.core);
                }
            }
        }
        self.stop()
    }

    /// Stops placing calls, hands the hoppers back and publishes the last
    /// status; the writer finishes its queue (committing and sending what
    /// the core placed last) and ends. The links' tokens come back, to be
    /// cancelled after that: cutting a link first would leave committed
    /// attempts whose Originate never left.
    fn stop(&mut self) -> Vec<(CancellationToken, tokio::task::JoinHandle<()>)> {
        self.core.stop(Now::system());
        self.carry_out();
        self.publish_status(true);
        // Closing the channel lets the writer finish its queue and end.
        let (dead, _) = mpsc::unbounded_channel();
        self.wtx = dead;
        self.links
            .drain()
            .map(|(_, l)| (l.cancel, l.task))
            .collect()
    }

    /// Paces the campaigns, unless the database has not taken writes the
    /// engine decided (the writer's backlog): no call is placed before
    /// they are stored.
    fn pace(&mut self, now: Now) {
        if self.metrics.unrecorded.load(Ordering::Relaxed) == 0 {
            self.core.pace_all(now);
        }
        self.carry_out();
    }

    /// At each turn: after a freeze or a clock jump the core reads every
    /// PBX again before it records times or dials (see `core/wake.rs`).
    fn check_clock(&mut self) {
        let now = Now::system();
        if let Some(jump) = self.waking.turn(now.at, now.ms) {
            let servers = self.core.on_wake(jump);
            self.waking.woke(now.at, servers);
            self.carry_out();
        }
    }

    fn feed(&mut self, m: Msg) {
        self.check_clock();
        let input = match m {
            Msg::Input(i) => {
                // Queued by a link during a freeze: stale, dropped.
                if self.waking.drops(&i) {
                    return;
                }
                if let Input::LinkDown { server, .. } = &i {
                    if let Some(l) = self.links.get_mut(server) {
                        l.client = None;
                    }
                }
                i
            }
            Msg::LinkUp { server, client } => match self.links.get_mut(&server) {
                Some(l) => {
                    self.waking.link_up(server);
                    l.client = Some(client);
                    Input::LinkUp { server }
                }
                None => return,
            },
        };
        self.minutes.input(&input);
        self.core.handle(input, Now::system());
        self.carry_out();
    }

    fn client(&self, server: i64) -> Option<AmiClient> {
        self.links.get(&server).and_then(|l| l.client.clone())
    }

    /// Carries out the core's actions, in order.
    fn carry_out(&mut self) {
        let actions: Vec<Action> = self.core.actions().collect();
        for a in actions {
            self.minutes.see(&a);
            match a {
                Action::Connect { server, conf } => {
                    // Not a child of the engine's token: at shutdown the
                    // links stay up until the writer has sent its last
                    // Originates (see `stop`).
                    let cancel = CancellationToken::new();
                    let mut cc = ClientConfig::new(
                        format!("{}:{}", conf.host, conf.ami_port),
                        conf.ami_user.clone(),
                        conf.ami_secret.clone(),
                    );
                    cc.rate_limit = self.cfg.ami_rate_limit;
                    // Only the events the core reads (issue 17 item 5).
                    cc.events = Some(super::core::links::EVENT_CLASSES.into());
                    cc.filters = super::core::links::EVENT_FILTERS
                        .iter()
                        .map(|f| f.to_string())
                        .collect();
                    cc.reconnect = oml_ami::Backoff {
                        initial: Duration::from_millis(200),
                        max: Duration::from_secs(10),
                    };
                    let task = tokio::spawn(run_link(
                        server,
                        conf.name.clone(),
                        cc,
                        self.tx.clone(),
                        cancel.clone(),
                    ));
                    if let Some(old) = self.links.insert(
                        server,
                        Link {
                            client: None,
                            cancel,
                            task,
                        },
                    ) {
                        old.cancel.cancel();
                    }
                }
                Action::Disconnect { server } => {
                    if let Some(l) = self.links.remove(&server) {
                        l.cancel.cancel();
                    }
                }
                Action::QueryChannels { server } => {
                    if let Some(c) = self.client(server) {
                        query_channels(self.tx.clone(), server, c, self.records.clone());
                    }
                }
                Action::Forget { server, key } => {
                    if let Some(c) = self.client(server) {
                        let _ = self.forget.send((c, key));
                    }
                }
                Action::Redirect {
                    server,
                    key,
                    channel,
                    context,
                    exten,
                } => {
                    if let Some(c) = self.client(server) {
                        super::link::redirect(c, key, channel, context, exten);
                    }
                }
                Action::QueryMembers { server } => {
                    if let Some(c) = self.client(server) {
                        query_members(self.tx.clone(), server, c);
                    }
                }
                Action::Claim {
                    campaign,
                    now_ms,
                    limit,
                } => self.claim(campaign, now_ms, limit),
                Action::TakePreviews { campaign, now_ms } => self.take_previews(campaign, now_ms),
                Action::Place { server, items } => match self.client(server) {
                    Some(client) => {
                        let _ = self.wtx.send(WriterOp::Place { client, items });
                    }
                    None => {
                        // The core only places on servers whose link is up,
                        // and the shell learns of a link's state before the
                        // core: nothing committed, nothing dialed.
                        let keys = items.iter().map(|(a, _, _)| a.channel_id.clone());
                        let ids = items.iter().map(|(a, _, _)| a.contact_id).collect();
                        let _ = self.tx.send(Msg::Input(Input::Refused(keys.collect())));
                        let _ = self.wtx.send(WriterOp::Release(ids));
                    }
                },
                Action::Write(w) => {
                    let _ = self.wtx.send(WriterOp::Write(w));
                }
                Action::Release(ids) => {
                    if !ids.is_empty() {
                        let _ = self.wtx.send(WriterOp::Release(ids));
                    }
                }
                Action::ReleaseOthers(campaign) => {
                    let _ = self.wtx.send(WriterOp::ReleaseOthers(campaign));
                }
                Action::RecoverName => {
                    recover_name(self.store.clone(), self.cfg.node.clone(), self.tx.clone())
                }
                Action::FinishCampaign(name) => {
                    let store = self.store.clone();
                    tokio::spawn(async move {
                        let _ = store
                            .set_campaign_state(&name, oml_store::CampaignState::Finished)
                            .await;
                    });
                }
                Action::WantLeadership(wanted) => {
                    self.want_tx.send_if_modified(|w| {
                        let changed = *w != wanted;
                        *w = wanted;
                        changed
                    });
                }
                Action::PacingGained(id) => {
                    tracing::info!(campaign = id, node = %self.cfg.node, "dialer: this node paces the campaign");
                }
                Action::PacingLost(id, Lost::TakenOver) => {
                    tracing::info!(campaign = id, node = %self.cfg.node, "dialer: another node paces this campaign now");
                }
                Action::PacingLost(id, Lost::Stopped) => {
                    tracing::info!(campaign = id, node = %self.cfg.node, "dialer: this node stopped pacing the campaign (finished, paused or dialer stopped)");
                }
                Action::LoadHistory {
                    campaign,
                    since_ms,
                    abandon_ms,
                } => {
                    let _ = self.wtx.send(WriterOp::LoadHistory {
                        campaign,
                        since_ms,
                        abandon_ms,
                    });
                }
                Action::SaveMemory(m) => {
                    let _ = self.wtx.send(WriterOp::SaveMemory(m));
                }
            }
        }
    }

    fn reload(&self) {
        let store = self.store.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            match load(&store).await {
                Ok(l) => {
                    let _ = tx.send(Msg::Input(Input::Config(Box::new(l))));
                }
                Err(e) => tracing::warn!(error = %e, "dialer: cannot read the configuration"),
            }
        });
    }

    fn claim(&self, campaign: i64, now_ms: i64, limit: i64) {
        let store = self.store.clone();
        let tx = self.tx.clone();
        let node = self.cfg.node.clone();
        tokio::spawn(async move {
            let input = match store
                .claim_due_contacts(campaign, &node, now_ms, limit)
                .await
            {
                Ok(contacts) => {
                    let left = if contacts.is_empty() {
                        store.contacts_left(campaign).await.unwrap_or(1)
                    } else {
                        1
                    };
                    Input::Claimed {
                        campaign,
                        contacts,
                        left,
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "dialer: cannot claim contacts");
                    Input::ClaimFailed { campaign }
                }
            };
            let _ = tx.send(Msg::Input(input));
        });
    }

    /// The calls the agents of a preview campaign asked for (see
    /// `core/preview.rs`).
    fn take_previews(&self, campaign: i64, now_ms: i64) {
        let store = self.store.clone();
        let tx = self.tx.clone();
        let node = self.cfg.node.clone();
        tokio::spawn(async move {
            let input = match store.take_preview_calls(campaign, &node, now_ms).await {
                Ok(calls) => Input::PreviewCalls { campaign, calls },
                Err(e) => {
                    tracing::warn!(error = %e, "dialer: cannot take the preview calls agents asked for");
                    Input::ClaimFailed { campaign }
                }
            };
            let _ = tx.send(Msg::Input(input));
        });
    }

    fn publish_status(&self, stopped: bool) {
        if !self.cfg.publish_status {
            return;
        }
        let st = snapshot(&self.core, oml_store::now_ms(), Instant::now(), stopped);
        if let Some(json) = st.and_then(|s| serde_json::to_string(&s).ok()) {
            let _ = self.wtx.send(WriterOp::Status(json));
        }
    }
}

/// Sleeps until `at`; forever when there is nothing to wait for.
async fn deadline(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
