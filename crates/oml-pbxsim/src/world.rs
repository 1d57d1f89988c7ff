//! The simulated PBX itself, without sockets: actions go in, responses and
//! events come out, the clock is passed in. The server (server.rs) wraps it
//! in a mutex and moves bytes.
//!
//! This file holds the state and the clock (the timers that move calls
//! along); each concern lives in a file of its own below `world/`:
//! `session.rs` (logins and permissions), `actions.rs` (the AMI action
//! dispatcher and CLI commands), `reply.rs` (the reply builders), `astdb.rs` (the key/value database),
//! `dialplan.rs` (the attempt records oml's dialplan writes there),
//! `customers.rs` (who answers, how long they ring, what a failed leg
//! reports), `ring.rs` (what the PBX reports when a ring ends), `order.rs`
//! (the order of a failed call's events), `channels.rs` (channels, the `;1`/`;2` Local pair and their
//! events), `queues.rs` (queues, agents, talk and wrap-up), `call_path.rs`
//! (a campaign's context: `AMD()`, recording, the abandon message).
//!
//! Event names and fields follow Asterisk's AMI documentation:
//! `Newchannel`, `Newstate`, `OriginateResponse` (Response, Channel,
//! Context, Exten, Application, Data, Reason, Uniqueid, CallerIDNum,
//! CallerIDName), `QueueCallerJoin` (Queue, Position, Count),
//! `AgentCalled`, `QueueCallerLeave`, `AgentConnect` / `AgentComplete` (Queue, MemberName,
//! Interface, HoldTime, RingTime / TalkTime, Reason), `QueueCallerAbandon`
//! (Position, OriginalPosition, HoldTime), `QueueMemberStatus` and
//! `Hangup` (Cause, Cause-txt), each with the channel snapshot fields.

mod actions;
mod agent_first;
mod astdb;
mod call_path;
mod channels;
mod customers;
mod dialplan;
mod members;
mod order;
mod queues;
mod redirect;
mod reply;
mod ring;
mod session;
#[cfg(test)]
mod testkit;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use oml_ami::Message;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::config::SimConfig;
use astdb::AstDb;
use channels::Call;
use queues::{Agent, Queue};

pub use channels::number_of;
pub use session::Session;

/// Counters of what the simulator did; for tests and the command's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Originate actions accepted.
    pub originates: u64,
    /// Calls answered by a customer.
    pub answered: u64,
    /// Calls busy.
    pub busy: u64,
    /// Calls congested.
    pub congestion: u64,
    /// Calls not answered before the timeout.
    pub no_answer: u64,
    /// Calls that could not be placed.
    pub failed: u64,
    /// Answered calls connected to an agent.
    pub connected: u64,
    /// Answered calls whose customer hung up while waiting in queue.
    pub abandoned: u64,
    /// Calls an agent finished.
    pub completed: u64,
    /// Answers `AMD()` called a machine (campaigns that detect them).
    pub machines: u64,
    /// Calls that heard the abandon message (no agent within `QUEUETIME`).
    pub abandon_messages: u64,
    /// Actions handled (all kinds).
    pub actions: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// End of ringing: apply the drawn outcome.
    Ring(u64),
    /// Customer's patience in queue ran out.
    Abandon(u64),
    /// Agent finished talking.
    TalkEnd(u64),
    /// Agent's wrap-up is over.
    WrapupEnd(usize),
    /// `AMD()` gives its verdict (`call_path.rs`).
    Amd(u64),
    /// `Queue()` timed out (the campaign's `QUEUETIME`).
    QueueTimeout(u64),
    /// A message the campaign's context plays is over: it hangs up.
    MessageEnd(u64),
    /// A preview call's agent answers, or their ring ran out
    /// (`agent_first.rs`).
    PreviewAgent(u64),
    /// A preview call's customer answers or their leg ends.
    PreviewCustomer(u64),
    /// A preview call's talk is over.
    PreviewEnd(u64),
}

/// The PBX state.
pub struct World {
    cfg: SimConfig,
    rng: StdRng,
    start: Instant,
    epoch_at_start: i64,
    db: AstDb,
    /// Where each call's AstDB record goes (`dialplan.rs`).
    records: dialplan::Records,
    calls: HashMap<u64, Call>,
    /// Preview calls, agent-first (`agent_first.rs`).
    previews: HashMap<u64, agent_first::Preview>,
    by_channel: HashMap<String, u64>,
    queues: BTreeMap<String, Queue>,
    agents: Vec<Agent>,
    timers: BinaryHeap<Reverse<(Instant, u64, Timer)>>,
    seq: u64,
    stats: Stats,
    default_queue: String,
    /// Users read from `SimConfig::manager_file` (at start and on reload).
    file_users: Vec<crate::config::SimUser>,
}

fn epoch_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl World {
    /// A PBX with `cfg`'s queues and agents, all free, at `now`.
    pub fn new(cfg: SimConfig, now: Instant) -> Self {
        let epoch = epoch_now();
        let (queues, agents, default_queue) = queues::build(&cfg, epoch);
        let mut world = Self {
            rng: StdRng::seed_from_u64(cfg.seed),
            cfg,
            start: now,
            epoch_at_start: epoch,
            db: AstDb::default(),
            records: dialplan::Records::default(),
            calls: HashMap::new(),
            previews: HashMap::new(),
            by_channel: HashMap::new(),
            queues,
            agents,
            timers: BinaryHeap::new(),
            seq: 0,
            stats: Stats::default(),
            default_queue,
            file_users: Vec::new(),
        };
        world.reload_manager_file();
        world
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Calls in progress (ringing, queued or talking).
    pub fn active_calls(&self) -> usize {
        self.calls.len() + self.preview_calls()
    }

    /// Agents neither talking nor in wrap-up.
    pub fn free_agents(&self) -> usize {
        self.agents
            .iter()
            .filter(|a| a.call.is_none() && !a.wrapup)
            .count()
    }

    /// When the next timer is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((t, _, _))| *t)
    }

    fn sim_secs(&self, now: Instant) -> f64 {
        now.saturating_duration_since(self.start).as_secs_f64() * self.cfg.time_scale
    }

    fn sim_epoch(&self, now: Instant) -> i64 {
        self.epoch_at_start + self.sim_secs(now) as i64
    }

    fn real(&self, sim_secs: f64) -> Duration {
        let s = sim_secs / self.cfg.time_scale.max(1e-9);
        Duration::try_from_secs_f64(s.clamp(0.0, 1e9)).unwrap_or(Duration::ZERO)
    }

    fn schedule(&mut self, now: Instant, after_sim: f64, t: Timer) {
        self.seq += 1;
        let at = now + self.real(after_sim);
        self.timers.push(Reverse((at, self.seq, t)));
    }

    fn next_id(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Fires every timer due at `now`, appending the resulting events.
    pub fn advance(&mut self, now: Instant, events: &mut Vec<Message>) {
        let start = events.len();
        self.fire_timers(now, events);
        self.run_dialplan(&events[start..], now);
    }

    /// The AstDB writes of oml's dialplan for `events` (see `dialplan.rs`).
    fn run_dialplan(&mut self, events: &[Message], now: Instant) {
        let epoch = self.sim_epoch(now);
        dialplan::record(&mut self.db, &mut self.records, events, epoch);
    }

    fn fire_timers(&mut self, now: Instant, events: &mut Vec<Message>) {
        while let Some(Reverse((at, _, t))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            // Handle each timer at its own due time, so a late wake-up
            // does not stretch simulated hold and talk times.
            match t {
                Timer::Ring(c) => self.ring_end(c, at, events),
                Timer::Abandon(c) => self.abandon(c, at, events),
                Timer::TalkEnd(c) => self.talk_end(c, 16, true, at, events),
                Timer::WrapupEnd(a) => self.wrapup_end(a, at, events),
                Timer::Amd(c) => self.amd_verdict(c, at, events),
                Timer::QueueTimeout(c) => self.queue_timeout(c, at, events),
                Timer::MessageEnd(c) => self.context_hangup(c, events),
                Timer::PreviewAgent(c) => self.preview_agent(c, at, events),
                Timer::PreviewCustomer(c) => self.preview_customer(c, at, events),
                Timer::PreviewEnd(c) => self.preview_end(c, 16, events),
            }
        }
    }
}
