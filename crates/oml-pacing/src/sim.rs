//! A deterministic discrete-event simulator of a dialing floor: virtual
//! time, a seeded RNG, customers who answer or not after a ring time, agents
//! who talk, wrap up (and in preview mode read the next contact), and answered
//! calls abandoned when no agent takes them within the abandon seconds.
//! Conditions may change during the run (answer rates, talk times, agents who
//! leave after their call without telling the pacer), and several campaigns
//! may share the agents, each with its own pacer, through
//! [`crate::share::allocate`]. It drives any [`Pacer`] through the same
//! [`Snapshot`] the live dialer builds.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::abandon::{AbandonLedger, AbandonWindow};
use crate::error::PacingError;
use crate::pacer::{ModeSpec, Pacer, Snapshot};
use crate::share::allocate;
use crate::stats::{CallStats, Priors};

pub use crate::config::{Changes, SimConfig};
pub use crate::scenario::Scenario;

/// Figures of one simulated run (measured after the warm-up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    /// The pacer's label.
    pub mode: String,
    /// The RNG seed.
    pub seed: u64,
    /// Agent time talking / agent time logged in.
    pub occupancy: f64,
    /// Talk minutes per agent-hour (occupancy × 60).
    pub talk_min_per_agent_hour: f64,
    /// Abandoned / live-answered, for calls answered in the measured period.
    pub abandon_rate: f64,
    /// Calls answered by a live person in the measured period.
    pub live_answered: u64,
    /// Of those, abandoned.
    pub abandoned: u64,
    /// Calls placed in the measured period.
    pub calls_placed: u64,
    /// Events processed over the whole run (warm-up included).
    pub events: u64,
    /// Live-answered and abandoned calls in each minute of the measured period.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_minute: Vec<[u32; 2]>,
    /// Agent seconds logged in and agent seconds talking with a person in
    /// each minute of the measured period (their ratio is the minute's
    /// occupancy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_minute_time: Vec<[f64; 2]>,
    /// Figures of each campaign, when several share the agents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaigns: Vec<CampaignResult>,
}

/// One campaign's figures in a run where several share the agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignResult {
    /// Agent time talking on this campaign's calls / agent time logged in.
    pub occupancy: f64,
    /// Its abandon rate.
    pub abandon_rate: f64,
    /// Its live-answered calls.
    pub live_answered: u64,
    /// Of those, abandoned.
    pub abandoned: u64,
    /// Its calls placed.
    pub calls_placed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    RingEnd {
        call: u64,
        answered: bool,
    },
    /// The AMD decided (see [`crate::amd`]).
    Detected {
        call: u64,
        machine: bool,
        to_agent: bool,
    },
    AbandonDeadline {
        call: u64,
    },
    TalkEnd {
        agent: usize,
    },
    WrapEnd {
        agent: usize,
    },
    PreviewEnd {
        agent: usize,
    },
    Agents {
        step: usize,
    },
    Tick,
}

#[derive(Debug, Clone, Copy)]
struct Event {
    at: f64,
    seq: u64,
    kind: Kind,
}

impl PartialEq for Event {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Event {
    // Reversed: BinaryHeap is a max-heap and we want the earliest event.
    fn cmp(&self, o: &Self) -> Ordering {
        o.at.total_cmp(&self.at).then(o.seq.cmp(&self.seq))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum AgentState {
    Ready,
    Talking { since: f64, campaign: usize },
    WrapUp { since: f64, campaign: usize },
    Previewing,
    Gone,
}

/// One campaign's own state: its calls, statistics and abandon tally.
struct Campaign {
    stats: CallStats,
    ledger: AbandonLedger,
    ringing: BTreeMap<u64, f64>,
    buf_ring: Vec<f64>,
    talk_time: f64,
    placed: u64,
    answered: u64,
    abandoned: u64,
    /// Ofcom's AMD false positive estimate not yet counted (a fraction of
    /// a call).
    fp_carry: f64,
}

struct Sim<'c> {
    cfg: &'c SimConfig,
    answer_rates: Vec<crate::schedule::Schedule<f64>>,
    rng: ChaCha8Rng,
    now: f64,
    seq: u64,
    events: BinaryHeap<Event>,
    agents: Vec<AgentState>,
    leaving: Vec<bool>,
    ready: VecDeque<usize>,
    /// Answered calls waiting for an agent: call, campaign, answered at, machine.
    waiting: VecDeque<(u64, usize, f64, bool)>,
    campaigns: Vec<Campaign>,
    next_call: u64,
    preview_mode: bool,
    turn: usize,
    // measurement
    m_start: f64,
    m_end: f64,
    clock: f64,
    agent_time: f64,
    talk_time: f64,
    placed: u64,
    answered: u64,
    abandoned: u64,
    processed: u64,
    per_minute: Vec<[u32; 2]>,
    per_minute_time: Vec<[f64; 2]>,
    // snapshot buffers
    buf_talk: Vec<f64>,
    buf_wrap: Vec<f64>,
}

/// Adds `weight` × the seconds of `[from, to)` (seconds after the start of
/// the measured period) to column `k` of the minutes they fall in.
fn by_minute(minutes: &mut [[f64; 2]], k: usize, from: f64, to: f64, weight: f64) {
    let end = to.min(minutes.len() as f64 * 60.0);
    let mut t = from.max(0.0);
    while t < end {
        let m = (t / 60.0) as usize;
        let next = ((m + 1) as f64 * 60.0).min(end);
        if let Some(x) = minutes.get_mut(m) {
            x[k] += (next - t) * weight;
        }
        t = next;
    }
}

impl<'c> Sim<'c> {
    fn schedule(&mut self, at: f64, kind: Kind) {
        self.seq += 1;
        self.events.push(Event {
            at,
            seq: self.seq,
            kind,
        });
    }

    fn in_window(&self, t: f64) -> bool {
        t >= self.m_start && t < self.m_end
    }

    fn ms(t: f64) -> i64 {
        (t * 1000.0).round() as i64
    }

    /// Seconds after the start of the measured period (negative in the warm-up).
    fn rel(&self) -> f64 {
        self.now - self.m_start
    }

    fn present(&self) -> usize {
        self.agents
            .iter()
            .filter(|a| !matches!(a, AgentState::Gone))
            .count()
    }

    /// Moves the clock to `t`, adding the logged-in agent time in the measured period.
    fn advance(&mut self, t: f64) {
        let overlap = t.min(self.m_end) - self.clock.max(self.m_start);
        if overlap > 0.0 {
            let present = self.present() as f64;
            self.agent_time += overlap * present;
            let (from, to) = (self.clock - self.m_start, t - self.m_start);
            by_minute(&mut self.per_minute_time, 0, from, to, present);
        }
        self.clock = t;
    }

    fn place_call(&mut self, c: usize) {
        let call = self.next_call;
        self.next_call += 1;
        let p = self.answer_rates[c].at(self.rel());
        let answered = self.rng.gen_bool(p);
        let ring = if answered {
            self.cfg.time_to_answer.sample(&mut self.rng)
        } else {
            self.cfg.no_answer_after.sample(&mut self.rng)
        };
        self.campaigns[c].ringing.insert(call, self.now);
        if self.in_window(self.now) {
            self.placed += 1;
            self.campaigns[c].placed += 1;
        }
        self.schedule(self.now + ring, Kind::RingEnd { call, answered });
    }

    fn connect(&mut self, agent: usize, campaign: usize, answered_at: f64, machine: bool) {
        let talk = if machine {
            self.cfg.machines.machine_talk.sample(&mut self.rng)
        } else {
            self.cfg
                .talk_schedule()
                .at(self.rel())
                .sample(&mut self.rng)
        };
        let (start, end) = (self.now, self.now + talk);
        let overlap = end.min(self.m_end) - start.max(self.m_start);
        // Occupancy counts talk with persons: time on a machine is lost.
        if overlap > 0.0 && !machine {
            self.talk_time += overlap;
            self.campaigns[campaign].talk_time += overlap;
            let (from, to) = (start - self.m_start, end - self.m_start);
            by_minute(&mut self.per_minute_time, 1, from, to, 1.0);
        }
        self.agents[agent] = AgentState::Talking {
            since: start,
            campaign,
        };
        self.record_answer(campaign, answered_at, false);
        self.schedule(end, Kind::TalkEnd { agent });
    }

    fn record_answer(&mut self, c: usize, answered_at: f64, abandoned: bool) {
        self.campaigns[c]
            .ledger
            .record(Self::ms(answered_at), abandoned);
        if self.in_window(answered_at) {
            self.answered += 1;
            self.campaigns[c].answered += 1;
            let minute = ((answered_at - self.m_start) / 60.0) as usize;
            if let Some(m) = self.per_minute.get_mut(minute) {
                m[0] += 1;
                m[1] += abandoned as u32;
            }
            if abandoned {
                self.abandoned += 1;
                self.campaigns[c].abandoned += 1;
            }
        }
    }

    fn agent_available(&mut self, agent: usize) {
        if self.leaving[agent] {
            self.leaving[agent] = false;
            self.agents[agent] = AgentState::Gone;
            return;
        }
        if self.preview_mode {
            let d = self.cfg.preview.sample(&mut self.rng);
            if d > 0.0 {
                self.agents[agent] = AgentState::Previewing;
                self.schedule(self.now + d, Kind::PreviewEnd { agent });
                return;
            }
        }
        self.agent_ready(agent);
    }

    fn agent_ready(&mut self, agent: usize) {
        if self.leaving[agent] {
            self.leaving[agent] = false;
            self.agents[agent] = AgentState::Gone;
        } else if let Some((_, c, answered_at, machine)) = self.waiting.pop_front() {
            self.connect(agent, c, answered_at, machine);
        } else {
            self.agents[agent] = AgentState::Ready;
            self.ready.push_back(agent);
        }
    }

    /// The floor goes to `target` agents: ready agents leave at once, busy
    /// ones after their call; agents join ready. The pacer is not told: it
    /// sees the logged-in count change as agents actually leave or join.
    fn set_agents(&mut self, target: usize) {
        let staying = |s: &Self| s.present() - s.leaving.iter().filter(|&&l| l).count();
        let mut have = staying(self);
        while have > target {
            if let Some(a) = self.ready.pop_back() {
                self.agents[a] = AgentState::Gone;
            } else if let Some(a) = (0..self.agents.len())
                .rev()
                .find(|&a| !self.leaving[a] && !matches!(self.agents[a], AgentState::Gone))
            {
                self.leaving[a] = true;
            } else {
                break;
            }
            have -= 1;
        }
        while have < target {
            if let Some(a) = (0..self.agents.len()).find(|&a| self.leaving[a]) {
                self.leaving[a] = false;
            } else {
                let a = match self
                    .agents
                    .iter()
                    .position(|s| matches!(s, AgentState::Gone))
                {
                    Some(a) => a,
                    None => {
                        self.agents.push(AgentState::Gone);
                        self.leaving.push(false);
                        self.agents.len() - 1
                    }
                };
                self.agent_available(a);
            }
            have += 1;
        }
    }

    fn handle(&mut self, kind: Kind) {
        match kind {
            Kind::RingEnd { call, answered } => {
                let Some(c) = self
                    .campaigns
                    .iter()
                    .position(|c| c.ringing.contains_key(&call))
                else {
                    return;
                };
                if !answered {
                    let placed = self.campaigns[c].ringing.remove(&call).unwrap_or(self.now);
                    self.campaigns[c]
                        .stats
                        .record_attempt(false, self.now - placed);
                } else if self.cfg.machines.is_none() {
                    self.answered(c, call, false, true);
                } else {
                    let r = self.cfg.machines.route(&mut self.rng);
                    if r.detect_s > 0.0 {
                        // The line stays busy while the AMD listens.
                        let (machine, to_agent) = (r.machine, r.to_agent);
                        let kind = Kind::Detected {
                            call,
                            machine,
                            to_agent,
                        };
                        self.schedule(self.now + r.detect_s, kind);
                    } else {
                        self.answered(c, call, r.machine, r.to_agent);
                    }
                }
            }
            Kind::Detected {
                call,
                machine,
                to_agent,
            } => {
                if let Some(c) = self
                    .campaigns
                    .iter()
                    .position(|c| c.ringing.contains_key(&call))
                {
                    self.answered(c, call, machine, to_agent);
                }
            }
            Kind::AbandonDeadline { call } => {
                if let Some(i) = self.waiting.iter().position(|w| w.0 == call) {
                    if let Some((_, c, answered_at, _)) = self.waiting.remove(i) {
                        self.record_answer(c, answered_at, true);
                    }
                }
            }
            Kind::TalkEnd { agent } => {
                let AgentState::Talking { since, campaign } = self.agents[agent] else {
                    return;
                };
                self.campaigns[campaign].stats.record_talk(self.now - since);
                let wrap = self.cfg.wrap_up.sample(&mut self.rng);
                if wrap > 0.0 && !self.leaving[agent] {
                    self.agents[agent] = AgentState::WrapUp {
                        since: self.now,
                        campaign,
                    };
                    self.schedule(self.now + wrap, Kind::WrapEnd { agent });
                } else {
                    self.agent_available(agent);
                }
            }
            Kind::WrapEnd { agent } => {
                if let AgentState::WrapUp { since, campaign } = self.agents[agent] {
                    self.campaigns[campaign]
                        .stats
                        .record_wrap_up(self.now - since);
                }
                self.agent_available(agent);
            }
            Kind::PreviewEnd { agent } => self.agent_ready(agent),
            Kind::Agents { step } => {
                if let Some(s) = self.cfg.changes.agents.get(step) {
                    self.set_agents(s.value as usize);
                }
            }
            Kind::Tick => {
                let next = self.now + self.cfg.tick_s;
                if next < self.m_end {
                    self.schedule(next, Kind::Tick);
                }
            }
        }
    }

    /// A call was answered (and, with AMD, its verdict given): the dialer
    /// learns a live answer or a machine; a call for an agent takes a ready
    /// one or waits for one until its abandon deadline. A person the AMD
    /// hangs up on is an abandoned call.
    fn answered(&mut self, c: usize, call: u64, machine: bool, to_agent: bool) {
        let placed = self.campaigns[c].ringing.remove(&call).unwrap_or(self.now);
        let st = &mut self.campaigns[c].stats;
        if to_agent {
            st.record_attempt(true, self.now - placed);
        } else {
            st.record_machine(self.now - placed);
            if self.cfg.window == AbandonWindow::Uk {
                // Ofcom: the operator sees a machine verdict, whoever
                // answered, and counts its estimate of AMD false
                // positives as abandoned calls, each whole call of it.
                let carry = &mut self.campaigns[c].fp_carry;
                *carry += self.cfg.machines.ofcom_estimate;
                let mut whole = 0;
                while *carry >= 1.0 - 1e-9 {
                    *carry -= 1.0;
                    whole += 1;
                }
                for _ in 0..whole {
                    self.record_answer(c, self.now, true);
                }
            } else if !machine {
                self.record_answer(c, self.now, true);
            }
            return;
        }
        if let Some(agent) = self.ready.pop_front() {
            self.connect(agent, c, self.now, machine);
        } else {
            self.waiting.push_back((call, c, self.now, machine));
            self.schedule(
                self.now + self.cfg.abandon_after_s,
                Kind::AbandonDeadline { call },
            );
        }
    }

    fn pace(&mut self, pacers: &mut [&mut dyn Pacer]) {
        self.buf_talk.clear();
        self.buf_wrap.clear();
        let mut logged_in = 0u32;
        for a in &self.agents {
            match *a {
                AgentState::Talking { since, .. } => self.buf_talk.push(self.now - since),
                AgentState::WrapUp { since, .. } => self.buf_wrap.push(self.now - since),
                AgentState::Ready | AgentState::Previewing => {}
                AgentState::Gone => continue,
            }
            logged_in += 1;
        }
        let now = self.now;
        for c in self.campaigns.iter_mut() {
            c.buf_ring.clear();
            c.buf_ring.extend(c.ringing.values().map(|&p| now - p));
        }
        let mut waiting = vec![0u32; self.campaigns.len()];
        for w in &self.waiting {
            waiting[w.1] += 1;
        }
        let mut counts = Vec::with_capacity(self.campaigns.len());
        for c in self.campaigns.iter_mut() {
            counts.push(c.ledger.counts(Self::ms(now)));
        }
        let snaps: Vec<Snapshot<'_>> = self
            .campaigns
            .iter()
            .enumerate()
            .map(|(i, c)| Snapshot {
                now_s: now,
                agents_logged_in: logged_in,
                agents_ready: self.ready.len() as u32,
                talking_elapsed_s: &self.buf_talk,
                wrap_up_elapsed_s: &self.buf_wrap,
                ringing_elapsed_s: &c.buf_ring,
                answered_waiting: waiting[i],
                stats: &c.stats,
                abandons: counts[i],
            })
            .collect();
        let calls = if snaps.len() == 1 {
            vec![pacers[0].calls_to_place(&snaps[0])]
        } else {
            self.turn += 1;
            allocate(pacers, &snaps, &vec![0; snaps.len()], self.turn)
        };
        for (c, n) in calls.into_iter().enumerate() {
            for _ in 0..n {
                self.place_call(c);
            }
        }
    }
}

/// Runs one simulation of `mode` with `seed` (every campaign of the
/// configuration dials in this mode). Same inputs, same figures.
pub fn simulate(cfg: &SimConfig, mode: &ModeSpec, seed: u64) -> Result<SimResult, PacingError> {
    cfg.validate()?;
    let mut pacers: Vec<Box<dyn Pacer>> = (0..cfg.campaigns())
        .map(|_| mode.build(cfg.limits()))
        .collect();
    let mut refs: Vec<&mut dyn Pacer> = pacers
        .iter_mut()
        .map(|p| &mut **p as &mut dyn Pacer)
        .collect();
    let result = run_campaigns(cfg, &mut refs, matches!(mode, ModeSpec::Preview), seed);
    Ok(result)
}

/// Runs one simulation with a pacer built by the caller (the configuration
/// must be valid, see [`SimConfig::validate`], and have one campaign).
/// `preview_mode` makes agents read the contact (the `preview` time) before
/// they are ready.
pub fn run(cfg: &SimConfig, pacer: &mut dyn Pacer, preview_mode: bool, seed: u64) -> SimResult {
    run_campaigns(cfg, &mut [pacer], preview_mode, seed)
}

/// Runs one simulation with one pacer per campaign of the configuration.
pub fn run_campaigns(
    cfg: &SimConfig,
    pacers: &mut [&mut dyn Pacer],
    preview_mode: bool,
    seed: u64,
) -> SimResult {
    let n = cfg.agents as usize;
    let answer_rates = cfg.answer_rates();
    let campaigns = answer_rates
        .iter()
        .take(pacers.len())
        .map(|_| Campaign {
            stats: CallStats::new(Priors::default(), 2000),
            ledger: AbandonLedger::new(cfg.window),
            ringing: BTreeMap::new(),
            buf_ring: Vec::with_capacity(4 * n),
            talk_time: 0.0,
            placed: 0,
            answered: 0,
            abandoned: 0,
            fp_carry: 0.0,
        })
        .collect();
    let mut sim = Sim {
        cfg,
        answer_rates,
        rng: ChaCha8Rng::seed_from_u64(seed),
        now: 0.0,
        seq: 0,
        events: BinaryHeap::with_capacity(4 * n + 64),
        agents: vec![AgentState::Ready; n],
        leaving: vec![false; n],
        ready: (0..n).collect(),
        waiting: VecDeque::new(),
        campaigns,
        next_call: 0,
        preview_mode,
        turn: 0,
        m_start: cfg.warmup_s,
        m_end: cfg.warmup_s + cfg.duration_s,
        clock: 0.0,
        agent_time: 0.0,
        talk_time: 0.0,
        placed: 0,
        answered: 0,
        abandoned: 0,
        processed: 0,
        per_minute: vec![[0, 0]; (cfg.duration_s / 60.0).ceil() as usize],
        per_minute_time: vec![[0.0, 0.0]; (cfg.duration_s / 60.0).ceil() as usize],
        buf_talk: Vec::with_capacity(n),
        buf_wrap: Vec::with_capacity(n),
    };
    if preview_mode {
        // Every agent starts by reading a first contact.
        sim.ready.clear();
        for a in 0..n {
            sim.agent_available(a);
        }
    }
    for (step, s) in cfg.changes.agents.iter().enumerate() {
        sim.schedule(cfg.warmup_s + s.at_s, Kind::Agents { step });
    }
    sim.schedule(0.0, Kind::Tick);
    if !sim.campaigns.is_empty() {
        while let Some(ev) = sim.events.pop() {
            if ev.at >= sim.m_end {
                break;
            }
            sim.advance(ev.at);
            sim.now = ev.at;
            sim.handle(ev.kind);
            sim.processed += 1;
            // Pace once per instant: after the last event scheduled at this time.
            let same_instant = sim.events.peek().is_some_and(|e| e.at == sim.now);
            if !same_instant {
                sim.pace(pacers);
            }
        }
    }
    sim.advance(sim.m_end);
    let rate = |ab: u64, ans: u64| {
        if ans == 0 {
            0.0
        } else {
            ab as f64 / ans as f64
        }
    };
    let share = |t: f64| {
        if sim.agent_time > 0.0 {
            t / sim.agent_time
        } else {
            0.0
        }
    };
    let occupancy = share(sim.talk_time);
    let campaigns = if sim.campaigns.len() > 1 {
        sim.campaigns
            .iter()
            .map(|c| CampaignResult {
                occupancy: share(c.talk_time),
                abandon_rate: rate(c.abandoned, c.answered),
                live_answered: c.answered,
                abandoned: c.abandoned,
                calls_placed: c.placed,
            })
            .collect()
    } else {
        Vec::new()
    };
    SimResult {
        mode: pacers.first().map(|p| p.label()).unwrap_or_default(),
        seed,
        occupancy,
        talk_min_per_agent_hour: occupancy * 60.0,
        abandon_rate: rate(sim.abandoned, sim.answered),
        live_answered: sim.answered,
        abandoned: sim.abandoned,
        calls_placed: sim.placed,
        events: sim.processed,
        per_minute: sim.per_minute,
        per_minute_time: sim.per_minute_time,
        campaigns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;

    #[test]
    fn same_seed_same_figures_other_seed_other_figures() {
        let cfg = Scenario::T1.config();
        let mode = "predictive".parse::<ModeSpec>().unwrap();
        let a = simulate(&cfg, &mode, 1).unwrap();
        let b = simulate(&cfg, &mode, 1).unwrap();
        let c = simulate(&cfg, &mode, 2).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.calls_placed, c.calls_placed);
    }

    #[test]
    fn progressive_matches_its_closed_form_on_every_scenario() {
        for sc in Scenario::PUBLISHED {
            let cfg = sc.config();
            let r = simulate(&cfg, &ModeSpec::Progressive, 3).unwrap();
            let cf = cfg.progressive_closed_form().unwrap();
            assert_eq!(r.abandoned, 0, "{}", sc.id());
            // One seed: allow 2 points (the benchmark checks 1 point on the 20-seed mean).
            assert!(
                (r.occupancy - cf).abs() < 0.02,
                "{}: {} vs {}",
                sc.id(),
                r.occupancy,
                cf
            );
        }
    }

    #[test]
    fn amd_gives_agents_the_time_machines_took_and_its_mistakes_abandon() {
        let mut cfg = Scenario::T1.config();
        cfg.machines = crate::amd::Machines {
            rate: 0.3,
            machine_talk: Dist::constant(30.0),
            ..Default::default()
        };
        let off = simulate(&cfg, &ModeSpec::Progressive, 8).unwrap();
        cfg.machines.amd_time = Some(Dist::constant(3.0));
        let on = simulate(&cfg, &ModeSpec::Progressive, 8).unwrap();
        // Progressive: AMD costs each person 3 s and each machine holds the
        // agent's line 3 s; off, an agent spends 30 s on each of the 0.43
        // machines per person, against 50 s of talk.
        assert!(
            on.occupancy > off.occupancy + 0.03,
            "AMD on {} off {}",
            on.occupancy,
            off.occupancy
        );
        assert_eq!(on.abandoned, 0, "progressive with a perfect AMD");
        // A person taken for a machine is hung up on: an abandoned call.
        cfg.machines.false_positive = 0.05;
        let fp = simulate(&cfg, &ModeSpec::Progressive, 8).unwrap();
        let rate = fp.abandon_rate;
        assert!((0.03..0.07).contains(&rate), "{rate}");
    }

    /// Ofcom's mode (issue 18): under the `uk` window the operator counts
    /// its AMD false positive estimate x machine verdicts as abandoned
    /// live calls, not the people the AMD really took for machines.
    #[test]
    fn ofcom_counts_the_amd_false_positive_estimate() {
        let mut cfg = Scenario::T1.config();
        cfg.machines = crate::amd::Machines {
            rate: 0.3,
            amd_time: Some(Dist::constant(3.0)),
            machine_talk: Dist::constant(30.0),
            ofcom_estimate: 0.1,
            ..Default::default()
        };
        let us = simulate(&cfg, &ModeSpec::Progressive, 8).unwrap();
        assert_eq!(us.abandoned, 0, "progressive with a perfect AMD, FCC");
        cfg.window = AbandonWindow::Uk;
        let uk = simulate(&cfg, &ModeSpec::Progressive, 8).unwrap();
        // 0.1 x 3 machines per 7 people: 0.043 / 1.043 of live calls.
        let want = 0.1 * 0.3 / 0.7 / (1.0 + 0.1 * 0.3 / 0.7);
        let rate = uk.abandon_rate;
        assert!((rate - want).abs() < 0.01, "uk {rate}, want {want}");
        // Real false positives are not seen under Ofcom's accounting: the
        // estimate stands for them.
        cfg.machines.false_positive = 0.05;
        cfg.machines.ofcom_estimate = 0.0;
        let none = simulate(&cfg, &ModeSpec::Progressive, 8).unwrap();
        assert_eq!(none.abandoned, 0);
        cfg.machines.ofcom_estimate = 1.5;
        assert!(simulate(&cfg, &ModeSpec::Progressive, 8)
            .unwrap_err()
            .to_string()
            .contains("`amd-false-positive-estimate`"));
    }

    #[test]
    fn invalid_parameters_name_the_parameter() {
        let mut cfg = Scenario::T1.config();
        cfg.answer_rate = 1.5;
        assert!(simulate(&cfg, &ModeSpec::Progressive, 1)
            .unwrap_err()
            .to_string()
            .contains("`answer-rate`"));
        let mut cfg = Scenario::T1.config();
        cfg.duration_s = 0.0;
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`duration`"));
        let mut cfg = Scenario::T1.config();
        cfg.talk = Dist::uniform(-5.0, 10.0);
        assert!(cfg.validate().unwrap_err().to_string().contains("`talk`"));
        let mut cfg = Scenario::T1.config();
        cfg.wrap_up = Dist::constant(-1.0);
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`wrap-up`"));
        let mut cfg = Scenario::T1.config();
        cfg.abandon_after_s = -2.0;
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`abandon-seconds`"));
    }

    #[test]
    fn zero_agents_place_no_calls() {
        let mut cfg = Scenario::S.config();
        cfg.agents = 0;
        for m in ["preview", "progressive", "predictive", "ratio"] {
            let r = simulate(&cfg, &m.parse().unwrap(), 1).unwrap();
            assert_eq!(r.calls_placed, 0, "{m}");
        }
    }

    #[test]
    fn per_minute_times_add_up_to_the_occupancy() {
        let cfg = Scenario::T1.config();
        let r = simulate(&cfg, &"predictive".parse().unwrap(), 3).unwrap();
        assert_eq!(
            r.per_minute_time.len(),
            (cfg.duration_s / 60.0).ceil() as usize
        );
        let agent: f64 = r.per_minute_time.iter().map(|m| m[0]).sum();
        let talk: f64 = r.per_minute_time.iter().map(|m| m[1]).sum();
        assert!(
            (talk / agent - r.occupancy).abs() < 1e-9,
            "{} vs {}",
            talk / agent,
            r.occupancy
        );
        let full = f64::from(cfg.agents) * 60.0;
        assert!(r
            .per_minute_time
            .iter()
            .all(|m| m[1] <= m[0] + 1e-6 && m[0] <= full + 1e-6));
        assert!(
            (r.per_minute_time[0][0] - full).abs() < 1e-6,
            "every agent logged in all minute"
        );
    }

    #[test]
    fn per_minute_counts_add_up_to_the_totals() {
        let r = simulate(&Scenario::S.config(), &"predictive".parse().unwrap(), 4).unwrap();
        assert_eq!(r.per_minute.len(), 58);
        let (ans, ab) = r
            .per_minute
            .iter()
            .fold((0u64, 0u64), |(a, b), m| (a + m[0] as u64, b + m[1] as u64));
        assert_eq!((ans, ab), (r.live_answered, r.abandoned));
    }

    #[test]
    fn agents_who_leave_stop_taking_calls_and_lower_the_logged_in_time() {
        // Progressive, 30 → 15 agents half-way: half the agent time after the
        // change, so talk time falls and occupancy does not.
        let mut cfg = Scenario::N3.config();
        cfg.changes.agents.truncate(1);
        let full = simulate(&Scenario::N1.config(), &ModeSpec::Progressive, 5).unwrap();
        let r = simulate(&cfg, &ModeSpec::Progressive, 5).unwrap();
        // Only a call placed for a ready agent who then left can be abandoned.
        assert!(r.abandoned <= 3, "{}", r.abandoned);
        assert!(
            r.live_answered < full.live_answered * 9 / 10,
            "{} {}",
            r.live_answered,
            full.live_answered
        );
        assert!((0.3..1.0).contains(&r.occupancy), "{}", r.occupancy);
    }

    #[test]
    fn answer_rate_changes_show_in_the_answers_per_minute() {
        let cfg = Scenario::N2.config();
        let r = simulate(&cfg, &ModeSpec::Progressive, 6).unwrap();
        let before: u32 = r.per_minute[..60].iter().map(|m| m[0]).sum();
        let after: u32 = r.per_minute[60..].iter().map(|m| m[0]).sum();
        // At 15 % an agent waits longer between answers than at 40 %.
        assert!(after as f64 > before as f64 * 1.2, "{before} {after}");
    }

    #[test]
    fn campaigns_sharing_agents_report_each_and_progressive_never_abandons() {
        let cfg = Scenario::N4.config();
        let r = simulate(&cfg, &ModeSpec::Progressive, 7).unwrap();
        assert_eq!(r.campaigns.len(), 2);
        assert_eq!(r.abandoned, 0);
        let placed: u64 = r.campaigns.iter().map(|c| c.calls_placed).sum();
        assert_eq!(placed, r.calls_placed);
        let occ: f64 = r.campaigns.iter().map(|c| c.occupancy).sum();
        assert!((occ - r.occupancy).abs() < 1e-9);
        assert!(
            r.campaigns.iter().all(|c| c.live_answered > 100),
            "{:?}",
            r.campaigns
        );
    }
}
