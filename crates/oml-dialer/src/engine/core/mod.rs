//! The dialer's decisions, without I/O (the sans-IO style of quinn-proto
//! and h2): [`Core`] holds the campaigns, their hoppers, the calls, the
//! agents and the pacers. It is fed [`Input`]s (AMI events, writer results,
//! claims, loaded configuration, leadership news, ticks) with an explicit
//! [`Now`], and answers with [`Action`]s (commit and originate, write,
//! release, query, claim) that the async shell (`shell.rs`) carries out.
//! No tokio, no sockets, no database: tests drive it with a fake clock.
//!
//! The files beside this one hold the rest of the decisions: `config.rs`
//! (applying a loaded configuration), `calls.rs` (following calls from AMI
//! events to their outcome), `pacing.rs` (how many calls to place, and
//! placing them), `history.rs` (the abandon ledger and learned statistics
//! loaded when pacing starts, and saved), `clock.rs` (the PBX's time),
//! `wake.rs` (reading the PBXs again after a freeze or a clock jump) and
//! `overload.rs` (dialing less when the engine falls behind).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oml_ami::{Message, Originate};
use oml_pacing::{AbandonCounts, AbandonLedger, CallStats, ModeSpec, Pacer};
use oml_store::dialing::{DialingWrite, DueContact, NewAttempt, OpenAttempt};
use oml_store::pacing_memory::{AnswerRow, PacingMemory, StartingPoints};
use oml_store::{AsteriskServer, CallPath, Campaign, CampaignState, RescheduleRule, Trunk};

use super::{EngineConfig, Metrics};
use crate::agents::Agents;
use crate::call::{Call, CallEvent};
use crate::pbx_record::PbxRecord;
use crate::window::CallingWindow;

pub(super) mod abandon_deadline;
mod calls;
mod clock;
mod config;
mod history;
pub(super) mod links;
mod memory;
mod overload;
pub(super) mod pacing;
pub(super) mod preview;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pacing;
#[cfg(test)]
mod tests_record;
pub(super) mod wake;

/// The channel id of an attempt: the key of a call in memory.
pub type Key = String;

/// The time the core decides at: wall time (stored with attempts, used by
/// calling windows) and the monotonic instant (timers, agent states).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// Unix epoch milliseconds.
    pub ms: i64,
    pub at: Instant,
}

impl Now {
    /// The system clock's now.
    pub fn system() -> Now {
        Now {
            ms: oml_store::now_ms(),
            at: Instant::now(),
        }
    }
}

/// What happened, for the core to react to.
#[derive(Debug)]
pub enum Input {
    /// An AMI event from a server, received at `at`.
    Ami {
        server: i64,
        msg: Arc<Message>,
        at: Instant,
    },
    /// The AMI link of a server is (again) up: its calls need reconciling.
    LinkUp {
        server: i64,
    },
    LinkDown {
        server: i64,
        reason: String,
    },
    /// The answer to [`Action::QueryChannels`], asked at `asked_at`: the
    /// server's channels, then the attempt records its dialplan keeps
    /// (see [`crate::pbx_record`]).
    Channels {
        server: i64,
        asked_at: Instant,
        channels: Vec<Message>,
        records: HashMap<String, PbxRecord>,
    },
    /// The answer to [`Action::QueryMembers`].
    Members {
        server: i64,
        members: Vec<Message>,
    },
    /// The answer to [`Action::Claim`]; `left` = contacts the campaign
    /// still has to dial (only read when nothing was due).
    Claimed {
        campaign: i64,
        contacts: Vec<DueContact>,
        left: i64,
    },
    ClaimFailed {
        campaign: i64,
    },
    /// The answer to [`Action::TakePreviews`]: the calls agents asked for
    /// (contact, agent's user id, agent's interface), now in this node's
    /// hopper. A failure comes back as [`Input::ClaimFailed`].
    PreviewCalls {
        campaign: i64,
        calls: Vec<(DueContact, i64, String)>,
    },
    /// The writer refused these attempts (not originated).
    Refused(Vec<Key>),
    /// An `Originate` was queued (`Ok(action id)`), refused by the server
    /// (`Err(true)`) or lost with the link (`Err(false)`).
    Originated {
        key: Key,
        result: Result<String, bool>,
    },
    /// The configuration, play state and campaign states, re-read.
    Config(Box<Loaded>),
    /// The leadership task's news: whether this node holds its name, and
    /// the campaigns it paces.
    Leading {
        named: bool,
        campaigns: HashSet<i64>,
    },
    /// The answer to [`Action::RecoverName`]: what a previous run under
    /// this node's name left in the hopper is pending again, and these are
    /// the attempts it left open.
    NameRecovered(Vec<OpenAttempt>),
    /// Open attempts of a node that stopped, adopted by this node (in a
    /// campaign it paces, or one nobody paces: see `orphans.rs`).
    Adopt(Vec<OpenAttempt>),
    /// Timer resolution: ring time-outs, queue polls.
    Tick,
    /// A server answered a `Ping` with its clock's `Timestamp` (seconds),
    /// at `at` (see `clock.rs`).
    PbxTime {
        server: i64,
        pbx_s: f64,
        at: Instant,
    },
    /// Calls through this server were originated this long (real time,
    /// the slowest of a batch) after their agent became free.
    Reacted {
        server: i64,
        secs: f64,
    },
    /// The answer to [`Action::LoadHistory`]: the campaign's live answers
    /// of its regulatory window, and what its pacer may start from (its
    /// saved pacing memory and those it may borrow; `None` when unread).
    History {
        campaign: i64,
        answers: Vec<AnswerRow>,
        memory: Option<StartingPoints>,
    },
    /// [`Action::LoadHistory`] failed; asked again later.
    HistoryFailed {
        campaign: i64,
    },
}

/// The configuration as read from the store.
#[derive(Debug)]
pub struct Loaded {
    pub play: bool,
    pub servers: Vec<AsteriskServer>,
    pub trunks: Vec<Trunk>,
    /// Each campaign with its reschedule rules.
    pub campaigns: Vec<(Campaign, Vec<RescheduleRule>)>,
    /// The call path settings of the campaigns that have any (AMD, the
    /// abandon message: see `abandon_deadline.rs`).
    pub call_paths: HashMap<i64, CallPath>,
    /// The AMD false positive rates configured, by campaign (Ofcom's
    /// estimate: `oml_store::amd_false_positives`).
    pub amd_false_positive_rates: HashMap<i64, f64>,
}

/// One call to place: its attempt row, the `Originate` to send once the
/// row is committed, and the moment the agent that caused it became free.
pub type Placement = (NewAttempt, Originate, Option<Instant>);

/// Why this node stopped pacing a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// This node no longer wants it: the campaign finished, was paused or
    /// removed, or the dialer was stopped.
    Stopped,
    /// This node still wants it and another node holds it.
    TakenOver,
}

/// What the core asks the shell to do, in order.
#[derive(Debug)]
pub enum Action {
    /// Keep an AMI link up to this server (a new or changed one).
    Connect { server: i64, conf: AsteriskServer },
    /// Close the AMI link of this server (removed, disabled or changed).
    Disconnect { server: i64 },
    /// Ask a server for its channels (`CoreShowChannels`), answer with
    /// [`Input::Channels`].
    QueryChannels { server: i64 },
    /// Ask a server for its queue members, answer with [`Input::Members`].
    QueryMembers { server: i64 },
    /// Claim up to `limit` contacts due at `now_ms` into the hopper,
    /// answer with [`Input::Claimed`] or [`Input::ClaimFailed`].
    Claim {
        campaign: i64,
        now_ms: i64,
        limit: i64,
    },
    /// Take the calls the agents of preview campaign `campaign` asked for
    /// (returning its expired reservations first), answer with
    /// [`Input::PreviewCalls`] or [`Input::ClaimFailed`] (see `preview.rs`).
    TakePreviews { campaign: i64, now_ms: i64 },
    /// Commit these attempts, then send the `Originate` of each one
    /// committed through this server; the refused ones come back as
    /// [`Input::Refused`], the sent ones as [`Input::Originated`].
    Place { server: i64, items: Vec<Placement> },
    /// A database write, in order with the attempts' commits.
    Write(DialingWrite),
    /// These hopper contacts go back to `pending`.
    Release(Vec<i64>),
    /// Contacts of this campaign in the hopper of any other node go back
    /// to `pending` (this node paces it now).
    ReleaseOthers(i64),
    /// This node now holds its name: release what a previous run under the
    /// name left in the hopper, read the attempts it left open, and answer
    /// with [`Input::NameRecovered`].
    RecoverName,
    /// Store the campaign (by name) as finished.
    FinishCampaign(String),
    /// The campaigns (leadership keys) this node wants to pace.
    WantLeadership(BTreeSet<String>),
    /// This node now paces a campaign.
    PacingGained(i64),
    /// This node no longer paces a campaign, and why.
    PacingLost(i64, Lost),
    /// Once every write asked for before is committed, read the live
    /// answers of `campaign` since `since_ms` (abandoned when not connected
    /// within `abandon_ms`) and its pacing memory; answer with
    /// [`Input::History`] or [`Input::HistoryFailed`].
    LoadHistory {
        campaign: i64,
        since_ms: i64,
        abandon_ms: i64,
    },
    /// Save what a campaign's pacer learned.
    SaveMemory(PacingMemory),
    /// The attempt of channel id `key` ended: delete the server's record of
    /// it once its outcome is stored.
    Forget { server: i64, key: String },
    /// AMI `Redirect` of the call `key`'s channel to `context`, `exten`:
    /// the abandon message before the FCC's deadline (`abandon_deadline.rs`).
    Redirect {
        server: i64,
        key: Key,
        channel: String,
        context: String,
        exten: String,
    },
}

/// How often a hopper that is not full claims again (issue 19: due
/// callbacks are claimed first and go before what the hopper holds).
pub(super) const CALLBACK_LOOK: Duration = Duration::from_secs(30);

/// The leadership key of a campaign (see `oml_store::Leadership`).
pub fn lead_key(campaign: i64) -> String {
    format!("campaign:{campaign}")
}

pub(super) struct ServerRt {
    pub(super) conf: AsteriskServer,
    pub(super) up: bool,
    pub(super) last_error: Option<String>,
    pub(super) agents: Agents,
    /// Calls on this server need reconciling once `Channels` arrives.
    reconciling: bool,
    last_poll: Instant,
    /// The PBX's time.
    pub(super) clock: clock::PbxClock,
}

pub(super) struct CampaignRt {
    pub(super) conf: Campaign,
    rules: Vec<RescheduleRule>,
    pub(super) window: Option<CallingWindow>,
    pub(super) problem: Option<String>,
    pub(super) hopper: VecDeque<DueContact>,
    claiming: bool,
    /// Nothing due when last claimed: wait before asking again.
    idle_until: Option<Instant>,
    /// The last claim: a hopper that is not full claims again every
    /// [`CALLBACK_LOOK`], so a callback coming due is not left waiting
    /// behind the contacts the hopper holds.
    claimed_at: Option<Instant>,
    pacers: HashMap<i64, Box<dyn Pacer>>,
    stats: CallStats,
    /// The observations behind `stats`, saved now and then.
    memory: memory::Memory,
    last_save: Option<Instant>,
    /// The live answers of the regulatory window (sliding).
    ledger: AbandonLedger,
    /// The ledger's counts at the last pacing round or change.
    pub(super) abandons: AbandonCounts,
    /// Whether the ledger and statistics were loaded since this node
    /// started pacing the campaign.
    history: History,
    /// An agent became free at this moment and nothing was placed since.
    trigger: Option<Instant>,
    mode: ModeSpec,
}

/// Whether a campaign's history (abandon ledger, learned statistics) is
/// loaded; a campaign is paced only once it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum History {
    Needed,
    Pending,
    Loaded,
}

impl CampaignRt {
    /// Whether this node wants to dial for the campaign at all.
    fn wanted(&self, play: bool) -> bool {
        play && self.conf.state == CampaignState::Running
    }
}

pub(super) struct Live {
    pub(super) campaign: i64,
    server: i64,
    trunk: i64,
    contact_id: i64,
    attempt_no: i64,
    pub(super) call: Call,
    /// The `Originate` was queued by the server (or the call was adopted).
    originated: bool,
    placed: Instant,
    /// The pacer already learned how the attempt was answered (a person or
    /// a machine, and its ring time): at the answer, not at the call's end.
    learned: bool,
}

/// The decision state of the dialer: see the module documentation.
pub struct Core {
    cfg: EngineConfig,
    pub(super) metrics: Arc<Metrics>,
    pub(super) play: bool,
    /// The servers this node is linked to (see `links.rs`).
    pub(super) servers: HashMap<i64, ServerRt>,
    /// Every enabled server, and the links to close.
    links: links::Links,
    pub(super) campaigns: HashMap<i64, CampaignRt>,
    trunks: HashMap<i64, Trunk>,
    pub(super) calls: HashMap<Key, Live>,
    by_action: HashMap<String, Key>,
    /// `OriginateResponse`s that came before their `Originate`'s answer.
    orphans: HashMap<String, (bool, u32, Instant)>,
    trunk_busy: HashMap<i64, i64>,
    loaded: bool,
    /// Campaigns whose leadership this node holds: only these are paced.
    pub(super) leading: HashSet<i64>,
    /// This node holds its name's lease (no other engine runs under it).
    pub(super) named: bool,
    /// What a previous run under this name left behind has been taken
    /// care of ([`Action::RecoverName`] answered): claims may start.
    recovered: bool,
    /// The leadership keys last asked for.
    wanted: BTreeSet<String>,
    /// Whether the engine keeps up (it paces progressively when not).
    pub(super) overload: overload::Overload,
    /// Rotates which campaign of a queue is served first.
    turn: usize,
    /// When the abandon message of each waiting call is due.
    deadlines: abandon_deadline::Deadlines,
    actions: Vec<Action>,
}

impl Core {
    pub fn new(cfg: EngineConfig, metrics: Arc<Metrics>) -> Core {
        Core {
            cfg,
            metrics,
            play: false,
            servers: HashMap::new(),
            links: links::Links::default(),
            campaigns: HashMap::new(),
            trunks: HashMap::new(),
            calls: HashMap::new(),
            by_action: HashMap::new(),
            orphans: HashMap::new(),
            trunk_busy: HashMap::new(),
            loaded: false,
            leading: HashSet::new(),
            named: false,
            recovered: false,
            wanted: BTreeSet::new(),
            overload: overload::Overload::default(),
            turn: 0,
            deadlines: abandon_deadline::Deadlines::default(),
            actions: Vec::new(),
        }
    }

    pub(super) fn node(&self) -> &str {
        &self.cfg.node
    }

    /// The actions decided so far, oldest first.
    pub fn actions(&mut self) -> std::vec::Drain<'_, Action> {
        self.actions.drain(..)
    }

    fn act(&mut self, a: Action) {
        self.actions.push(a);
    }

    /// Reacts to one input. Call [`Core::pace_all`] once the inputs at hand
    /// are handled.
    pub fn handle(&mut self, input: Input, now: Now) {
        // What may change the servers this node needs a link to.
        let relink = matches!(
            input,
            Input::Config(_)
                | Input::Leading { .. }
                | Input::Adopt(_)
                | Input::NameRecovered(_)
                | Input::Tick
        );
        self.on_input(input, now);
        if relink {
            self.sync_links(now);
        }
    }

    fn on_input(&mut self, input: Input, now: Now) {
        match input {
            Input::Ami { server, msg, at } => {
                self.metrics.ami_events.fetch_add(1, Ordering::Relaxed);
                self.watch_abandon(&msg, at, now);
                self.on_ami(server, &msg, at, now);
                self.waited(server, now.at.saturating_duration_since(at), now);
            }
            Input::LinkUp { server } => self.on_link_up(server, now),
            Input::LinkDown { server, reason } => self.on_link_down(server, reason),
            Input::Channels {
                server,
                asked_at,
                channels,
                records,
            } => self.reconcile(server, asked_at, &channels, &records, now),
            Input::Members { server, members } => {
                if let Some(s) = self.servers.get_mut(&server) {
                    s.agents.resync(&members, now.at);
                }
            }
            Input::Claimed {
                campaign,
                contacts,
                left,
            } => self.on_claimed(campaign, contacts, left, now),
            Input::ClaimFailed { campaign } => {
                if let Some(c) = self.campaigns.get_mut(&campaign) {
                    c.claiming = false;
                    c.idle_until = Some(now.at + Duration::from_secs(2));
                }
            }
            Input::PreviewCalls { campaign, calls } => self.on_preview_calls(campaign, calls, now),
            Input::Refused(keys) => self.on_refused(keys),
            Input::Originated { key, result } => self.on_originated(key, result, now),
            Input::Config(loaded) => self.on_config(*loaded, now),
            Input::Leading { named, campaigns } => {
                if named && !self.named {
                    // What a previous run under the name left in the hopper
                    // goes back to pending before this run claims anything:
                    // a release landing after a claim would hand the same
                    // contacts out twice.
                    self.recovered = false;
                    self.act(Action::RecoverName);
                }
                self.named = named;
                self.on_leading(campaigns, now);
            }
            Input::NameRecovered(open) => {
                self.recovered = true;
                if !open.is_empty() {
                    self.adopt(open, now);
                }
            }
            Input::Adopt(open) => self.adopt(open, now),
            Input::Tick => {
                self.on_tick(now);
                self.on_abandon_deadlines(now);
                self.save_memories(now, false);
            }
            Input::PbxTime { server, pbx_s, at } => self.on_pbx_time(server, pbx_s, at),
            Input::Reacted { server, secs } => self.reacted(server, secs, now),
            Input::History {
                campaign,
                answers,
                memory,
            } => self.on_history(campaign, answers, memory, now),
            Input::HistoryFailed { campaign } => {
                if let Some(c) = self.campaigns.get_mut(&campaign) {
                    if c.history == History::Pending {
                        c.history = History::Needed;
                        c.idle_until = Some(now.at + Duration::from_secs(2));
                    }
                }
            }
        }
    }

    /// The engine stops: the hoppers go back to the store. Calls in
    /// progress keep their open attempt (reconciled at the next start).
    pub fn stop(&mut self, now: Now) {
        self.save_memories(now, true);
        let ids: Vec<i64> = self
            .campaigns
            .values_mut()
            .flat_map(|c| c.hopper.drain(..).map(|d| d.id))
            .collect();
        self.act(Action::Release(ids));
    }

    fn on_link_down(&mut self, server: i64, reason: String) {
        if let Some(s) = self.servers.get_mut(&server) {
            if s.up {
                tracing::warn!(server = %s.conf.name, %reason, "dialer: AMI link down; its calls will be reconciled when it is back");
            }
            s.up = false;
            s.last_error = Some(reason);
        }
    }

    fn on_link_up(&mut self, server: i64, now: Now) {
        let Some(s) = self.servers.get_mut(&server) else {
            return;
        };
        tracing::info!(server = %s.conf.name, "dialer: AMI link up");
        s.up = true;
        s.last_error = None;
        s.reconciling = true;
        s.last_poll = now.at;
        s.clock.relink();
        self.act(Action::QueryChannels { server });
        self.act(Action::QueryMembers { server });
    }

    /// Claimed contacts join the hopper, except those the hopper already
    /// holds or that are being dialed (a release in the store, by a
    /// take-over or a restart, lets a later claim return them again): the
    /// hopper never holds a contact twice.
    fn on_claimed(&mut self, campaign: i64, mut contacts: Vec<DueContact>, left: i64, now: Now) {
        let Some(c) = self.campaigns.get_mut(&campaign) else {
            return;
        };
        c.claiming = false;
        if contacts.is_empty() {
            c.idle_until = Some(now.at + Duration::from_secs(1));
            let in_flight = self.calls.values().any(|l| l.campaign == campaign);
            if left == 0 && !in_flight && c.conf.state == CampaignState::Running {
                c.conf.state = CampaignState::Finished;
                tracing::info!(campaign = %c.conf.name, "dialer: campaign finished");
                let name = c.conf.name.clone();
                self.act(Action::FinishCampaign(name));
                self.want_leadership();
                return;
            }
        }
        let Some(c) = self.campaigns.get_mut(&campaign) else {
            return;
        };
        if !(c.wanted(self.play)) {
            if !contacts.is_empty() {
                let ids = contacts.iter().map(|d| d.id).collect();
                self.act(Action::Release(ids));
            }
            return;
        }
        let mut held: HashSet<i64> = c.hopper.iter().map(|d| d.id).collect();
        held.extend(
            self.calls
                .values()
                .filter(|l| l.campaign == campaign)
                .map(|l| l.contact_id),
        );
        let before = contacts.len();
        contacts.retain(|d| held.insert(d.id));
        if contacts.len() < before {
            tracing::debug!(
                campaign = %c.conf.name,
                skipped = before - contacts.len(),
                "dialer: claimed contacts already in the hopper or being dialed"
            );
        }
        // Due callbacks go before the ordinary contacts the hopper holds
        // (in the order claimed); the others after them.
        let (callbacks, ordinary): (Vec<_>, Vec<_>) =
            contacts.into_iter().partition(|d| d.callback);
        for d in callbacks.into_iter().rev() {
            c.hopper.push_front(d);
        }
        c.hopper.extend(ordinary);
    }

    /// The writer refused to begin these attempts: nothing was dialed.
    /// Only a call still waiting for its commit can be refused: one that
    /// was originated (or adopted) is never dropped by a refusal.
    fn on_refused(&mut self, keys: Vec<Key>) {
        for k in keys {
            if self.calls.get(&k).is_some_and(|l| !l.originated) {
                if let Some(l) = self.calls.remove(&k) {
                    self.release_trunk(l.trunk);
                    // A preview call's contact came out of no hopper.
                    if preview::is_preview(&k) {
                        self.act(Action::Release(vec![l.contact_id]));
                    }
                }
            }
        }
    }

    fn on_originated(&mut self, key: Key, result: Result<String, bool>, now: Now) {
        match result {
            Ok(action_id) => {
                self.metrics.originates.fetch_add(1, Ordering::Relaxed);
                if let Some(l) = self.calls.get_mut(&key) {
                    l.originated = true;
                }
                if let Some((success, reason, _)) = self.orphans.remove(&action_id) {
                    self.apply(&key, CallEvent::OriginateResponse { success, reason }, now);
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
                        now.ms,
                    );
                }
                self.finish_if_over(&key, now);
            }
            Err(false) => {
                // Unknown whether it left: reconcile with the server.
                if let Some(l) = self.calls.get_mut(&key) {
                    l.originated = true;
                    let server = l.server;
                    if let Some(s) = self.servers.get_mut(&server) {
                        s.reconciling = true;
                        if s.up {
                            self.act(Action::QueryChannels { server });
                        }
                    }
                }
            }
        }
    }

    /// Tells the leadership task which campaigns this node wants to pace.
    fn want_leadership(&mut self) {
        let wanted: BTreeSet<String> = self
            .campaigns
            .values()
            .filter(|c| c.wanted(self.play))
            .map(|c| lead_key(c.conf.id))
            .collect();
        if wanted != self.wanted {
            self.wanted = wanted.clone();
            self.act(Action::WantLeadership(wanted));
        }
    }

    /// The leadership task's news: release the hopper of campaigns lost;
    /// for campaigns gained, contacts another node had claimed and not
    /// dialed (it died, or let go) go back to pending before pacing starts.
    fn on_leading(&mut self, now_leading: HashSet<i64>, now: Now) {
        let mut lost: Vec<i64> = self.leading.difference(&now_leading).copied().collect();
        let mut gained: Vec<i64> = now_leading.difference(&self.leading).copied().collect();
        lost.sort_unstable();
        gained.sort_unstable();
        for id in lost {
            // A campaign this node let go of itself (finished, paused,
            // removed, dialer stopped) was not taken over by anyone.
            let why = match self.campaigns.get(&id) {
                Some(c) if c.wanted(self.play) => Lost::TakenOver,
                _ => Lost::Stopped,
            };
            self.act(Action::PacingLost(id, why));
            self.save_memory(id, now);
            self.release(id);
        }
        for id in gained {
            self.act(Action::PacingGained(id));
            self.act(Action::ReleaseOthers(id));
            // Another node may have paced it meanwhile: its abandons and
            // what it learned are read again before pacing.
            if let Some(c) = self.campaigns.get_mut(&id) {
                c.history = History::Needed;
            }
        }
        self.leading = now_leading;
    }

    /// The hopper of a campaign goes back to the store.
    fn release(&mut self, id: i64) {
        let Some(c) = self.campaigns.get_mut(&id) else {
            return;
        };
        let ids: Vec<i64> = c.hopper.drain(..).map(|d| d.id).collect();
        if !ids.is_empty() {
            self.act(Action::Release(ids));
        }
    }

    fn release_trunk(&mut self, trunk: i64) {
        if let Some(n) = self.trunk_busy.get_mut(&trunk) {
            *n = (*n - 1).max(0);
        }
    }
}
