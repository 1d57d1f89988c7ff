//! The pacing interface shared by the live dialer and the simulator, and the
//! dialing modes: preview, progressive, predictive and a VICIdial-style
//! adaptive ratio kept as a baseline. A pacer looks at a [`Snapshot`] of the
//! campaign and answers one question: how many calls to place now.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::abandon::AbandonCounts;
use crate::count::CountDist;
use crate::error::PacingError;
use crate::snapshot::OtherCalls;
pub use crate::snapshot::Snapshot;
#[cfg(doc)]
use crate::stats::CallStats;

/// Hard ceiling on calls ringing per logged-in agent, whatever the mode says.
pub const MAX_LINES_PER_AGENT: u32 = 20;

/// Limits every mode obeys.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PacingLimits {
    /// The campaign's maximum abandon rate (fraction, default 0.03).
    pub max_abandon_rate: f64,
    /// Seconds after the answer within which an agent must be connected (default 2).
    pub abandon_after_s: f64,
    /// Maximum calls ringing at once (trunk channels); 0 = no limit other than
    /// [`MAX_LINES_PER_AGENT`] per logged-in agent.
    pub max_lines: u32,
}

impl Default for PacingLimits {
    fn default() -> Self {
        PacingLimits {
            max_abandon_rate: 0.03,
            abandon_after_s: 2.0,
            max_lines: 0,
        }
    }
}

impl PacingLimits {
    /// Checks the limits; errors name the parameter.
    pub fn validate(&self) -> Result<(), PacingError> {
        if !(self.max_abandon_rate.is_finite() && (0.0..=1.0).contains(&self.max_abandon_rate)) {
            return Err(PacingError::invalid(
                "max-abandon-rate",
                "must be a fraction between 0 and 1 (e.g. 0.03 for 3 %)",
            ));
        }
        if !(self.abandon_after_s.is_finite() && self.abandon_after_s >= 0.0) {
            return Err(PacingError::invalid(
                "abandon-seconds",
                "must be a number of seconds ≥ 0",
            ));
        }
        Ok(())
    }

    /// Clamps a mode's wish to the line limits; nothing is dialed without agents.
    pub fn bound(&self, wish: i64, snap: &Snapshot<'_>) -> u32 {
        if snap.agents_logged_in == 0 || wish <= 0 {
            return 0;
        }
        let ringing = snap.ringing_elapsed_s.len() as i64;
        let mut cap = snap.agents_logged_in as i64 * MAX_LINES_PER_AGENT as i64;
        if self.max_lines > 0 {
            cap = cap.min(self.max_lines as i64);
        }
        wish.min(cap - ringing).max(0) as u32
    }
}

/// A pacing algorithm. The live dialer and the simulator call it the same way:
/// after every event and on a periodic tick.
pub trait Pacer: Send {
    /// A short name for reports (`predictive`, `ratio(ready,2%)` ...).
    fn label(&self) -> String;
    /// How many calls to place now (never more than the limits allow).
    fn calls_to_place(&mut self, snap: &Snapshot<'_>) -> u32;
    /// The same when other campaigns dial for the same agents (see
    /// [`crate::share::allocate`]): `others` are their calls in flight. By
    /// default each of their calls takes one agent from this campaign's count.
    fn calls_to_place_among(&mut self, snap: &Snapshot<'_>, others: &[OtherCalls<'_>]) -> u32 {
        let own = self.calls_to_place(snap) as i64;
        (own - OtherCalls::in_flight(others)).max(0) as u32
    }
    /// The risk threshold this pacer would use now with the regulatory
    /// window's counts `window` (the largest chance that a call placed now
    /// is abandoned it accepts); `None` for pacers without one. Shown in
    /// the campaign's per-minute history.
    fn risk_threshold_now(&self, _window: AbandonCounts) -> Option<f64> {
        None
    }
}

/// One call per free agent, minus the calls already placed for them.
fn progressive_wish(snap: &Snapshot<'_>) -> i64 {
    snap.agents_ready as i64 - snap.ringing_elapsed_s.len() as i64 - snap.answered_waiting as i64
}

/// Progressive: one call per free agent; never abandons.
#[derive(Debug, Clone)]
pub struct Progressive {
    limits: PacingLimits,
}

impl Pacer for Progressive {
    fn label(&self) -> String {
        "progressive".into()
    }
    fn calls_to_place(&mut self, snap: &Snapshot<'_>) -> u32 {
        self.limits.bound(progressive_wish(snap), snap)
    }
}

/// Preview: the agent asks for the next contact (after reading it) and the
/// call is placed for them. The agents still previewing are not `ready`.
#[derive(Debug, Clone)]
pub struct Preview {
    limits: PacingLimits,
}

impl Pacer for Preview {
    fn label(&self) -> String {
        "preview".into()
    }
    fn calls_to_place(&mut self, snap: &Snapshot<'_>) -> u32 {
        self.limits.bound(progressive_wish(snap), snap)
    }
}

/// Settings of the predictive mode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PredictiveConfig {
    /// The controller aims at this fraction of the campaign's limit...
    pub target_fraction: f64,
    /// ... minus this many binomial standard deviations of the rate over the
    /// window's live-answered count (few answers → a rate that swings more →
    /// aim lower), ...
    pub target_margin_sd: f64,
    /// ... but never below this fraction of the limit.
    pub target_floor_fraction: f64,
    /// Attempts to observe before leaving progressive behaviour.
    pub min_attempts: u64,
    /// Finished talks to observe before leaving progressive behaviour.
    pub min_talks: usize,
    /// How many points of the observed time-to-answer distribution the risk
    /// of a new call is averaged over (its quantiles (i + ½) / n).
    pub answer_time_points: u8,
    /// Starting tightening: the risk threshold is the campaign's limit × e^−tightening.
    pub initial_tightening: f64,
    /// Lowest tightening the controller may reach (negative = a threshold above the limit).
    pub min_tightening: f64,
    /// Highest tightening the controller may reach.
    pub max_tightening: f64,
    /// Integral gain: change of the tightening per abandon (and, times the
    /// target rate, per live-answered call in the other direction).
    pub gain: f64,
    /// Proportional gain on the evidence of the regulatory window: the
    /// tightening grows by this much per standard deviation that the window's
    /// abandon count stands above what the target rate predicts. Strong when
    /// the campaign is small and each abandon weighs a lot.
    pub window_gain: f64,
}

impl Default for PredictiveConfig {
    fn default() -> Self {
        PredictiveConfig {
            target_fraction: 1.0,
            target_margin_sd: 1.5,
            target_floor_fraction: 0.25,
            min_attempts: 100,
            min_talks: 30,
            answer_time_points: 4,
            initial_tightening: 0.5,
            min_tightening: -1.0,
            max_tightening: 4.0,
            gain: 0.2,
            window_gain: 0.3,
        }
    }
}

/// Predictive: dials ahead for agents about to finish.
///
/// A new call is placed while the risk that it finds no agent stays under a
/// threshold. Its risk is P(S ≤ D) at the moment `a` it would be answered:
/// S = agents free by `a` + the abandon seconds (the ready ones, plus each
/// busy agent with the probability that its talk, conditioned on the time
/// already spent, ends by then), D = answered calls ahead of it (the waiting
/// ones, each call in flight with the probability that it is answered by
/// `a` given how long it has rung, and the other new calls answered before
/// it). S and D are counted exactly ([`CountDist`]), not approximated, because
/// the decision lives in their tails: a handful of agents each with a small
/// chance of finishing. The risk is averaged over the observed time-to-answer
/// distribution. Calls that cover free agents have a risk near zero, so the
/// mode never dials less than progressive; calls placed ahead of agents carry
/// the risk the threshold allows.
///
/// The threshold is the campaign's limit × e^−tightening; an integral
/// controller raises the tightening by `gain` per abandon and lowers it by
/// `gain` × target per live answer, so it settles where the abandon rate
/// equals the target; evidence of too many abandons in the regulatory window
/// tightens further, and while the window is over the limit the threshold can
/// only go down. Anti-windup: the controller may not be looser than the same
/// controller restarted from its initial tightening an hour ago (only the
/// last hour's evidence may loosen it), and it goes back to at least its
/// initial tightening whenever the statistics detect that the floor changed
/// or agents log out. Agents seen leaving after their call lower the chance
/// that a busy agent will take the next one; the answer rate used is the
/// cautious one ([`CallStats::cautious_answer_rate`]). Behaves like
/// progressive until enough calls are observed.
#[derive(Debug, Clone)]
pub struct Predictive {
    limits: PacingLimits,
    cfg: PredictiveConfig,
    tightening: f64,
    last_counts: Option<AbandonCounts>,
    hour: Evidence,
    changes_seen: u64,
    departures: Departures,
}

impl Predictive {
    /// A predictive pacer.
    pub fn new(limits: PacingLimits, cfg: PredictiveConfig) -> Self {
        Predictive {
            limits,
            cfg,
            tightening: cfg.initial_tightening,
            last_counts: None,
            hour: Evidence::default(),
            changes_seen: 0,
            departures: Departures::default(),
        }
    }

    /// The share of agents who leave after their call instead of taking the
    /// next one, as recently observed (0 on a steady floor).
    pub fn leave_share(&self) -> f64 {
        self.departures.share()
    }

    /// The abandon rate the controller aims at, given the window's counts.
    pub fn target_rate(&self, window: AbandonCounts) -> f64 {
        let limit = self.limits.max_abandon_rate;
        let n = window.live_answered.max(1) as f64;
        let sd = (limit * (1.0 - limit) / n).sqrt();
        (limit * self.cfg.target_fraction - self.cfg.target_margin_sd * sd)
            .max(limit * self.cfg.target_floor_fraction)
    }

    /// The risk a new call may carry now: the limit × e^−(integral term +
    /// the window's evidence).
    pub fn risk_threshold(&self, window: AbandonCounts) -> f64 {
        let t = self.target_rate(window);
        let n = window.live_answered as f64;
        let expected = t * n;
        // One-sided: evidence of too many abandons tightens; a quiet window
        // does not loosen (the integral term does that, slowly).
        let evidence =
            ((window.abandoned as f64 - expected) / (expected * (1.0 - t) + 1.0).sqrt()).max(0.0);
        let tightening = (self.tightening + self.cfg.window_gain * evidence)
            .clamp(self.cfg.min_tightening, self.cfg.max_tightening);
        self.limits.max_abandon_rate * (-tightening).exp()
    }

    #[cfg(test)]
    fn update_controller(&mut self, now: AbandonCounts) {
        self.update_controller_at(now, None);
    }

    /// The integral controller with anti-windup: it may not be looser than
    /// the same controller started from its initial tightening an hour ago
    /// (the evidence of the last hour, `now_s` given), so a long quiet
    /// stretch (say while the pacer under-dials after a change) does not
    /// store up a looseness that over-dials later.
    fn update_controller_at(&mut self, now: AbandonCounts, now_s: Option<f64>) {
        if let Some(prev) = self.last_counts {
            if now.live_answered >= prev.live_answered && now.abandoned >= prev.abandoned {
                let d_ans = now.live_answered - prev.live_answered;
                let d_ab = now.abandoned - prev.abandoned;
                let mut delta =
                    self.cfg.gain * (d_ab as f64 - self.target_rate(now) * d_ans as f64);
                if now.rate() > self.limits.max_abandon_rate && delta < 0.0 {
                    delta = 0.0;
                }
                self.tightening = (self.tightening + delta)
                    .clamp(self.cfg.min_tightening, self.cfg.max_tightening);
                if let Some(t) = now_s {
                    self.hour.add(t, d_ans, d_ab);
                }
            }
            // Counts went down: records left the window; resynchronise only.
        }
        if let Some(t) = now_s {
            let (ans, ab) = self.hour.totals(t);
            let floor = self.cfg.initial_tightening
                + self.cfg.gain * (ab as f64 - self.target_rate(now) * ans as f64);
            self.tightening = self
                .tightening
                .max(floor.min(self.cfg.initial_tightening))
                .clamp(self.cfg.min_tightening, self.cfg.max_tightening);
        }
        self.last_counts = Some(now);
    }

    /// The risk that each of the next new calls finds no agent: element k is
    /// the risk of the (k + 1)-th call placed now, for up to `max_calls`
    /// calls and stopping at the first one over `stop_above`.
    pub fn risks(&self, snap: &Snapshot<'_>, max_calls: usize, stop_above: f64) -> Vec<f64> {
        self.risks_among(snap, &[], max_calls, stop_above)
    }

    /// [`Predictive::risks`] with other campaigns' calls in flight for the same agents.
    pub fn risks_among(
        &self,
        snap: &Snapshot<'_>,
        others: &[OtherCalls<'_>],
        max_calls: usize,
        stop_above: f64,
    ) -> Vec<f64> {
        let st = snap.stats;
        let p = st.cautious_answer_rate();
        let stay = 1.0 - self.departures.share();
        let points = self.cfg.answer_time_points.max(1) as usize;
        let grace = self.limits.abandon_after_s;
        // Per answer-time point: cdf of S, the count D, and the chance that
        // another new call is answered (ahead of this one) by then.
        let answer_at: Vec<f64> = (0..points)
            .map(|i| st.time_to_answer_quantile((i as f64 + 0.5) / points as f64))
            .collect();
        let horizons: Vec<f64> = answer_at.iter().map(|a| a + grace).collect();
        let mut supplies = vec![CountDist::exactly(snap.agents_ready); points];
        let mut p_free = vec![0.0; points];
        let free = st.free_model();
        for &e in snap.talking_elapsed_s {
            free.p_free_within(e, &horizons, &mut p_free);
            for (s, &q) in supplies.iter_mut().zip(&p_free) {
                s.add(q * stay);
            }
        }
        let mut at: Vec<(Vec<f64>, CountDist, f64)> = answer_at
            .iter()
            .zip(supplies)
            .map(|(&a, mut supply)| {
                for &e in snap.wrap_up_elapsed_s {
                    supply.add(stay * st.p_wrap_up_ends_within(e, a + grace));
                }
                let mut demand = CountDist::exactly(snap.answered_waiting);
                for &r in snap.ringing_elapsed_s {
                    demand.add(st.p_answer_within(r, a));
                }
                for o in others {
                    for _ in 0..o.answered_waiting {
                        demand.add(1.0);
                    }
                    for &r in o.ringing_elapsed_s {
                        demand.add(o.stats.p_answer_within(r, a));
                    }
                }
                let ahead = p * st.fraction_answered_within(a);
                (supply.cdf_table(supply.max_value()), demand, ahead)
            })
            .collect();
        let mut out = Vec::new();
        while out.len() < max_calls {
            let risk = at
                .iter()
                .map(|(cdf, d, _)| CountDist::p_other_at_least(cdf, d))
                .sum::<f64>()
                / points as f64;
            out.push(risk);
            if risk > stop_above {
                break;
            }
            for (_, d, ahead) in at.iter_mut() {
                d.add(*ahead);
            }
        }
        out
    }
}

impl Pacer for Predictive {
    fn label(&self) -> String {
        "predictive".into()
    }

    fn risk_threshold_now(&self, window: AbandonCounts) -> Option<f64> {
        Some(self.risk_threshold(window))
    }

    fn calls_to_place(&mut self, snap: &Snapshot<'_>) -> u32 {
        self.calls_to_place_among(snap, &[])
    }

    fn calls_to_place_among(&mut self, snap: &Snapshot<'_>, others: &[OtherCalls<'_>]) -> u32 {
        self.update_controller_at(snap.abandons, Some(snap.now_s));
        // A confirmed change, or a rise of the answer rate suspected.
        let changes = snap.stats.changes_detected() + snap.stats.rises_suspected();
        let left = self
            .departures
            .observe(snap.agents_logged_in, snap.stats.talks_total());
        if changes > self.changes_seen || left {
            // The floor changed: what the controller learned before no longer holds.
            self.changes_seen = changes;
            self.tightening = self.tightening.max(self.cfg.initial_tightening);
        }
        if snap.agents_logged_in == 0 {
            return 0;
        }
        let st = snap.stats;
        if st.attempts_observed() < self.cfg.min_attempts
            || st.talks_observed() < self.cfg.min_talks
        {
            let wish = progressive_wish(snap) - OtherCalls::in_flight(others);
            return self.limits.bound(wish, snap);
        }
        let theta = self.risk_threshold(snap.abandons);
        let most = self.limits.bound(i64::MAX, snap) as usize;
        let risks = self.risks_among(snap, others, most, theta);
        let wish = risks.iter().take_while(|&&r| r <= theta).count();
        self.limits.bound(wish as i64, snap)
    }
}

/// Live answers and abandons per minute over the last hour: the evidence the
/// controller's anti-windup allows it to act on.
#[derive(Debug, Clone, Default)]
struct Evidence {
    minutes: std::collections::VecDeque<(i64, u64, u64)>,
}

impl Evidence {
    const MINUTES: i64 = 60;

    fn add(&mut self, now_s: f64, answers: u64, abandons: u64) {
        if answers == 0 && abandons == 0 {
            return;
        }
        let m = (now_s / 60.0).floor() as i64;
        match self.minutes.back_mut() {
            Some(last) if last.0 == m => {
                last.1 += answers;
                last.2 += abandons;
            }
            _ => self.minutes.push_back((m, answers, abandons)),
        }
    }

    /// Answers and abandons of the last hour.
    fn totals(&mut self, now_s: f64) -> (u64, u64) {
        let m = (now_s / 60.0).floor() as i64;
        while self
            .minutes
            .front()
            .is_some_and(|f| f.0 <= m - Self::MINUTES)
        {
            self.minutes.pop_front();
        }
        self.minutes
            .iter()
            .fold((0, 0), |(a, b), x| (a + x.1, b + x.2))
    }
}

/// Agents who log out after a call instead of taking the next one, told
/// apart from agents who finish a call by the logged-in count: an
/// exponentially weighted share over about [`Departures::MEMORY`] recent
/// talk ends and departures. When part of the team leaves (unannounced, as
/// on a real floor), busy agents are no longer counted on as fully.
#[derive(Debug, Clone, Default)]
struct Departures {
    last: Option<(u32, u64)>,
    left: f64,
    all: f64,
}

impl Departures {
    const MEMORY: f64 = 20.0;

    /// Counts what happened since the last snapshot; true when agents left.
    fn observe(&mut self, logged_in: u32, talks_total: u64) -> bool {
        let mut left = false;
        if let Some((l, t)) = self.last {
            let gone = l.saturating_sub(logged_in) as f64;
            let ended = talks_total.saturating_sub(t) as f64;
            let events = ended.max(gone);
            if events > 0.0 {
                let keep = (1.0 - 1.0 / Self::MEMORY).powf(events);
                self.left = self.left * keep + gone;
                self.all = self.all * keep + events;
            }
            left = gone > 0.0;
        }
        self.last = Some((logged_in, talks_total));
        left
    }

    fn share(&self) -> f64 {
        if self.all <= 0.0 {
            0.0
        } else {
            (self.left / self.all).clamp(0.0, 0.9)
        }
    }
}

/// Which agents the VICIdial-style ratio multiplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RatioTally {
    /// Dial level × ready agents, minus calls ringing ("available only" tally).
    Ready,
    /// Dial level × logged-in agents, minus calls ringing and connected (VICIdial's default tally).
    Active,
}

/// Settings of the VICIdial-style adaptive ratio baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatioConfig {
    /// Which agents the dial level multiplies.
    pub tally: RatioTally,
    /// Drop (abandon) rate the adaptation aims under (fraction).
    pub drop_target: f64,
    /// Starting dial level.
    pub initial_level: f64,
    /// Lowest dial level.
    pub min_level: f64,
    /// Highest dial level.
    pub max_level: f64,
    /// Seconds between adaptations (VICIdial adapts every 15 s).
    pub adapt_interval_s: f64,
    /// Level increase per unit of (idle agents − waiting calls) / agents.
    pub up_gain: f64,
    /// Largest level increase per interval.
    pub max_up_step: f64,
    /// Level decrease per interval while the drop rate is over target.
    pub down_step: f64,
    /// The drop rate the adaptation looks at is averaged over about this many
    /// recent answered calls (exponentially weighted), so that one burst does
    /// not pin the level for the rest of the regulatory window.
    pub drop_memory_answers: f64,
}

impl RatioConfig {
    /// A fixed ratio: always `level` calls per ready agent (minus calls ringing).
    pub fn fixed(level: f64) -> Self {
        RatioConfig {
            initial_level: level,
            min_level: level,
            max_level: level,
            ..RatioConfig::default()
        }
    }

    /// Whether the level never adapts.
    pub fn is_fixed(&self) -> bool {
        self.min_level >= self.max_level
    }
}

impl Default for RatioConfig {
    fn default() -> Self {
        RatioConfig {
            tally: RatioTally::Ready,
            drop_target: 0.03,
            initial_level: 1.0,
            min_level: 1.0,
            max_level: 10.0,
            adapt_interval_s: 15.0,
            up_gain: 1.0,
            max_up_step: 0.2,
            down_step: 0.2,
            drop_memory_answers: 500.0,
        }
    }
}

/// The VICIdial-style adaptive ratio: lines = dial level × agents (ready or
/// active, see [`RatioTally`]) minus calls in progress; every interval the
/// level goes down while the drop rate is over target or answered calls wait,
/// and up while agents sit idle.
#[derive(Debug, Clone)]
pub struct AdaptiveRatio {
    limits: PacingLimits,
    cfg: RatioConfig,
    level: f64,
    interval_start: Option<f64>,
    last_now: f64,
    idle_area: f64,
    waiting_area: f64,
    last_counts: Option<AbandonCounts>,
    recent_answered: f64,
    recent_abandoned: f64,
}

impl AdaptiveRatio {
    /// A ratio pacer.
    pub fn new(limits: PacingLimits, cfg: RatioConfig) -> Self {
        AdaptiveRatio {
            limits,
            cfg,
            level: cfg.initial_level.clamp(cfg.min_level, cfg.max_level),
            interval_start: None,
            last_now: 0.0,
            idle_area: 0.0,
            waiting_area: 0.0,
            last_counts: None,
            recent_answered: 0.0,
            recent_abandoned: 0.0,
        }
    }

    fn track_drops(&mut self, now: AbandonCounts) {
        if let Some(prev) = self.last_counts {
            if now.live_answered >= prev.live_answered && now.abandoned >= prev.abandoned {
                let d_ans = (now.live_answered - prev.live_answered) as f64;
                let d_ab = (now.abandoned - prev.abandoned) as f64;
                let keep = (1.0 - 1.0 / self.cfg.drop_memory_answers.max(1.0)).powf(d_ans);
                self.recent_answered = self.recent_answered * keep + d_ans;
                self.recent_abandoned = self.recent_abandoned * keep + d_ab;
            }
        }
        self.last_counts = Some(now);
    }

    /// The current dial level.
    pub fn level(&self) -> f64 {
        self.level
    }

    fn adapt(&mut self, snap: &Snapshot<'_>) {
        self.track_drops(snap.abandons);
        let now = snap.now_s;
        let start = *self.interval_start.get_or_insert(now);
        let dt = (now - self.last_now).max(0.0);
        if now > start {
            self.idle_area += dt * snap.agents_ready as f64;
            self.waiting_area += dt * snap.answered_waiting as f64;
        }
        self.last_now = now;
        let span = now - start;
        if span < self.cfg.adapt_interval_s {
            return;
        }
        let agents = snap.agents_logged_in.max(1) as f64;
        let idle = self.idle_area / span / agents;
        let waiting = self.waiting_area / span / agents;
        let drop_rate = if self.recent_answered > 0.0 {
            self.recent_abandoned / self.recent_answered
        } else {
            0.0
        };
        if self.recent_answered >= 20.0 && drop_rate >= self.cfg.drop_target {
            let over = (drop_rate - self.cfg.drop_target) / self.cfg.drop_target.max(1e-6);
            self.level -= self.cfg.down_step * (1.0 + over.min(4.0));
        } else {
            self.level += (self.cfg.up_gain * (idle - waiting)).min(self.cfg.max_up_step);
        }
        self.level = self.level.clamp(self.cfg.min_level, self.cfg.max_level);
        self.interval_start = Some(now);
        self.idle_area = 0.0;
        self.waiting_area = 0.0;
    }
}

impl Pacer for AdaptiveRatio {
    fn label(&self) -> String {
        if self.cfg.is_fixed() {
            return format!("fixed({} per ready)", self.cfg.min_level);
        }
        let tally = match self.cfg.tally {
            RatioTally::Ready => "ready",
            RatioTally::Active => "active",
        };
        format!("ratio({tally},{}%)", fmt_pct(self.cfg.drop_target))
    }

    fn calls_to_place(&mut self, snap: &Snapshot<'_>) -> u32 {
        self.adapt(snap);
        let ringing = snap.ringing_elapsed_s.len() as i64;
        let wish = match self.cfg.tally {
            RatioTally::Ready => (self.level * snap.agents_ready as f64).ceil() as i64 - ringing,
            RatioTally::Active => {
                let connected = snap.talking_elapsed_s.len() as i64 + snap.answered_waiting as i64;
                (self.level * snap.agents_logged_in as f64).ceil() as i64 - ringing - connected
            }
        };
        self.limits.bound(wish, snap)
    }
}

fn fmt_pct(f: f64) -> String {
    let p = f * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}", p.round())
    } else {
        format!("{p:.1}")
    }
}

/// A dialing mode with its settings: what a campaign (or the simulator) is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum ModeSpec {
    /// Agent-initiated.
    Preview,
    /// One call per free agent.
    Progressive,
    /// Dial ahead for agents about to finish.
    Predictive(PredictiveConfig),
    /// VICIdial-style adaptive ratio baseline.
    Ratio(RatioConfig),
}

impl ModeSpec {
    /// Builds the pacer for this mode.
    pub fn build(&self, limits: PacingLimits) -> Box<dyn Pacer> {
        match *self {
            ModeSpec::Preview => Box::new(Preview { limits }),
            ModeSpec::Progressive => Box::new(Progressive { limits }),
            ModeSpec::Predictive(cfg) => Box::new(Predictive::new(limits, cfg)),
            ModeSpec::Ratio(cfg) => Box::new(AdaptiveRatio::new(limits, cfg)),
        }
    }

    /// The mode's family name.
    pub fn name(&self) -> &'static str {
        match self {
            ModeSpec::Preview => "preview",
            ModeSpec::Progressive => "progressive",
            ModeSpec::Predictive(_) => "predictive",
            ModeSpec::Ratio(_) => "ratio",
        }
    }

    /// The label the pacer reports.
    pub fn label(&self) -> String {
        self.build(PacingLimits::default()).label()
    }

    /// Whether the mode dials only for agents already waiting (so it never abandons).
    pub fn is_agent_paced(&self) -> bool {
        matches!(self, ModeSpec::Preview | ModeSpec::Progressive)
    }
}

impl fmt::Display for ModeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl FromStr for ModeSpec {
    type Err = PacingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "preview" => Ok(ModeSpec::Preview),
            "progressive" => Ok(ModeSpec::Progressive),
            "predictive" => Ok(ModeSpec::Predictive(PredictiveConfig::default())),
            "ratio" | "vicidial" | "adaptive-ratio" => Ok(ModeSpec::Ratio(RatioConfig::default())),
            other => Err(PacingError::Unknown {
                what: "mode",
                given: other.to_string(),
                expected: "preview, progressive, predictive, ratio".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::CallStats;

    fn snap<'a>(
        stats: &'a CallStats,
        ready: u32,
        talking: &'a [f64],
        ringing: &'a [f64],
    ) -> Snapshot<'a> {
        Snapshot {
            now_s: 0.0,
            agents_logged_in: 10,
            agents_ready: ready,
            talking_elapsed_s: talking,
            wrap_up_elapsed_s: &[],
            ringing_elapsed_s: ringing,
            answered_waiting: 0,
            stats,
            abandons: AbandonCounts::default(),
        }
    }

    fn trained() -> CallStats {
        let mut st = CallStats::default();
        for i in 0..500 {
            let answered = i % 5 != 0;
            st.record_attempt(answered, 15.0 + (i % 11) as f64);
        }
        for i in 0..200 {
            st.record_talk(40.0 + (i % 21) as f64);
        }
        st
    }

    #[test]
    fn progressive_places_one_call_per_free_agent() {
        let st = CallStats::default();
        let mut p = ModeSpec::Progressive.build(PacingLimits::default());
        assert_eq!(p.calls_to_place(&snap(&st, 3, &[10.0; 7], &[])), 3);
        assert_eq!(p.calls_to_place(&snap(&st, 3, &[10.0; 7], &[1.0, 2.0])), 1);
    }

    #[test]
    fn predictive_is_progressive_while_learning() {
        let st = CallStats::default();
        let mut p =
            ModeSpec::Predictive(PredictiveConfig::default()).build(PacingLimits::default());
        assert_eq!(p.calls_to_place(&snap(&st, 2, &[55.0; 8], &[])), 2);
    }

    #[test]
    fn predictive_dials_for_agents_about_to_finish() {
        let st = trained();
        let mut p =
            ModeSpec::Predictive(PredictiveConfig::default()).build(PacingLimits::default());
        // Nobody free; everybody just started: nothing to dial.
        assert_eq!(p.calls_to_place(&snap(&st, 0, &[1.0; 10], &[])), 0);
        // Nobody free, everybody about to finish: dial ahead, at most 10 / 0.8
        // (less the safety margin).
        let n = p.calls_to_place(&snap(&st, 0, &[59.0; 10], &[]));
        assert!((5..=13).contains(&n), "{n}");
        // Calls already in flight for them are counted.
        let ringing = [1.0; 8];
        let m = p.calls_to_place(&snap(&st, 0, &[59.0; 10], &ringing));
        assert!(m < n && m <= 4, "{m}");
    }

    /// Talk U(500,600) and answers after 15..25 s, as in scenario T3.
    fn long_talks() -> CallStats {
        let mut st = CallStats::default();
        for i in 0..500 {
            let answered = i % 5 != 0;
            st.record_attempt(answered, 15.0 + (i % 11) as f64);
        }
        for i in 0..=200 {
            st.record_talk(500.0 + 0.5 * ((i * 37) % 201) as f64);
        }
        st
    }

    fn predictive() -> Predictive {
        Predictive::new(PacingLimits::default(), PredictiveConfig::default())
    }

    #[test]
    fn a_call_for_a_free_agent_carries_no_risk_and_each_extra_call_more() {
        let st = long_talks();
        let p = predictive();
        let talking = [10.0; 9];
        let risks = p.risks(&snap(&st, 1, &talking, &[]), 3, 1.0);
        assert_eq!(risks.len(), 3);
        assert!(risks[0] < 1e-12, "{risks:?}");
        // Nine agents who just started cannot take a second call: it is
        // abandoned whenever the first one is answered before it (0.8 × ½).
        assert!((risks[1] - 0.4).abs() < 0.1, "{risks:?}");
        assert!(risks[2] > risks[1], "{risks:?}");
    }

    #[test]
    fn risk_follows_the_elapsed_talk_time() {
        let st = long_talks();
        let p = predictive();
        let risk_at = |elapsed: f64| {
            let talking = [elapsed; 10];
            p.risks(&snap(&st, 0, &talking, &[]), 1, 1.0)[0]
        };
        // Ten agents 595 s into a talk that ends by 600 s: all free before
        // any answer (nearly: no agent is ever certain). Ten agents at 100 s: none can be.
        assert!(risk_at(595.0) < 1e-4, "{}", risk_at(595.0));
        assert!(risk_at(100.0) > 1.0 - 1e-9, "{}", risk_at(100.0));
        // In between, the later the talk, the lower the risk.
        assert!(
            risk_at(560.0) > risk_at(580.0),
            "{} {}",
            risk_at(560.0),
            risk_at(580.0)
        );
        // Calls already ringing are ahead in the queue: they raise the risk.
        let talking = [580.0; 2];
        let alone = p.risks(&snap(&st, 0, &talking, &[]), 1, 1.0)[0];
        let behind = p.risks(&snap(&st, 0, &talking, &[5.0, 5.0]), 1, 1.0)[0];
        assert!(behind > alone, "{alone} {behind}");
    }

    #[test]
    fn predictive_never_dials_less_than_progressive() {
        let st = long_talks();
        let mut p = predictive();
        let talking = [100.0; 6];
        assert_eq!(p.calls_to_place(&snap(&st, 4, &talking, &[])), 4);
    }

    #[test]
    fn abandons_tighten_the_threshold_and_answers_loosen_it() {
        let mut p = predictive();
        let counts = |live_answered, abandoned| AbandonCounts {
            live_answered,
            abandoned,
        };
        p.update_controller(counts(100, 1));
        let start = p.risk_threshold(counts(100, 1));
        // Five abandons in ten answers: tighter.
        p.update_controller(counts(110, 6));
        let after_abandons = p.risk_threshold(counts(110, 6));
        assert!(after_abandons < start, "{start} {after_abandons}");
        // Many clean answers: looser again.
        let mut p = predictive();
        p.update_controller(counts(100, 1));
        p.update_controller(counts(1100, 1));
        assert!(p.risk_threshold(counts(1100, 1)) > start);
        // While the window is over the limit the threshold never loosens.
        let mut p = predictive();
        p.update_controller(counts(100, 10));
        let over = p.tightening;
        p.update_controller(counts(200, 10));
        assert!(p.tightening >= over);
    }

    #[test]
    fn a_long_quiet_stretch_cannot_loosen_beyond_the_last_hours_evidence() {
        // One clean answer a minute for three hours, no abandon.
        let mut bounded = predictive();
        let mut unbounded = predictive();
        for m in 0..=180u64 {
            let c = AbandonCounts {
                live_answered: 100 + m,
                abandoned: 1,
            };
            bounded.update_controller_at(c, Some(m as f64 * 60.0));
            unbounded.update_controller(c);
        }
        // Without the bound the integral keeps loosening; with it, only the
        // last hour's 60 answers count.
        assert!(
            bounded.tightening > unbounded.tightening + 0.2,
            "{} {}",
            bounded.tightening,
            unbounded.tightening
        );
        let cfg = PredictiveConfig::default();
        assert!(bounded.tightening < cfg.initial_tightening);
    }

    #[test]
    fn agents_who_leave_after_their_call_are_no_longer_counted_on() {
        let mut st = long_talks();
        let mut p = predictive();
        let talking = [590.0; 10];
        let mut s = snap(&st, 0, &talking, &[]);
        let before = p.risks(&s, 1, 1.0)[0];
        p.calls_to_place(&s);
        assert_eq!(p.leave_share(), 0.0);
        // Four talks end and each agent logs out instead of taking a call.
        for left in 1..=4u32 {
            st.record_talk(595.0);
            s = snap(&st, 0, &talking, &[]);
            s.agents_logged_in = 10 - left;
            p.calls_to_place(&s);
        }
        assert!(p.leave_share() > 0.5, "{}", p.leave_share());
        s = snap(&st, 0, &talking, &[]);
        s.agents_logged_in = 6;
        let after = p.risks(&s, 1, 1.0)[0];
        assert!(after > before + 0.01, "{before} {after}");
    }

    #[test]
    fn ratio_multiplies_ready_agents() {
        let st = trained();
        let cfg = RatioConfig {
            initial_level: 2.0,
            ..RatioConfig::default()
        };
        let mut p = ModeSpec::Ratio(cfg).build(PacingLimits::default());
        assert_eq!(p.calls_to_place(&snap(&st, 3, &[1.0; 7], &[])), 6);
        assert_eq!(p.calls_to_place(&snap(&st, 3, &[1.0; 7], &[1.0; 5])), 1);
    }

    #[test]
    fn limits_cap_the_lines_and_zero_agents_dial_nothing() {
        let st = trained();
        let limits = PacingLimits {
            max_lines: 4,
            ..PacingLimits::default()
        };
        let mut p = ModeSpec::Progressive.build(limits);
        assert_eq!(p.calls_to_place(&snap(&st, 10, &[], &[1.0])), 3);
        let mut s = snap(&st, 10, &[], &[]);
        s.agents_logged_in = 0;
        assert_eq!(p.calls_to_place(&s), 0);
    }

    #[test]
    fn modes_parse_and_reject_unknown_names() {
        assert_eq!(
            "progressive".parse::<ModeSpec>().unwrap(),
            ModeSpec::Progressive
        );
        let e = "turbo".parse::<ModeSpec>().unwrap_err().to_string();
        assert!(e.contains("mode") && e.contains("predictive"), "{e}");
    }
}
