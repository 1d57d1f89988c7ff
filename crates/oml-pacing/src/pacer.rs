//! The pacing interface shared by the live dialer and the simulator, and the
//! dialing modes: preview, progressive, predictive and a VICIdial-style
//! adaptive ratio kept as a baseline. A pacer looks at a [`Snapshot`] of the
//! campaign and answers one question: how many calls to place now.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::abandon::AbandonCounts;
use crate::error::PacingError;
use crate::stats::CallStats;

/// Hard ceiling on calls ringing per logged-in agent, whatever the mode says.
pub const MAX_LINES_PER_AGENT: u32 = 20;

/// The campaign's observed state at one moment. All durations in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// Current time, seconds (virtual in the simulator, wall clock in the dialer).
    pub now_s: f64,
    /// Agents logged in (not paused).
    pub agents_logged_in: u32,
    /// Agents free and waiting for a call.
    pub agents_ready: u32,
    /// Elapsed talk time of each agent on a call.
    pub talking_elapsed_s: &'a [f64],
    /// Elapsed wrap-up time of each agent in wrap-up.
    pub wrap_up_elapsed_s: &'a [f64],
    /// Elapsed ring time of each call placed and not yet answered.
    pub ringing_elapsed_s: &'a [f64],
    /// Calls answered by a live person, waiting for an agent.
    pub answered_waiting: u32,
    /// Learned answer rate and time distributions.
    pub stats: &'a CallStats,
    /// Abandoned / live-answered counts over the regulatory window.
    pub abandons: AbandonCounts,
}

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
    /// Look-ahead as a multiple of (expected time to answer + abandon seconds),
    /// used when `horizons` is 1.
    pub lookahead: f64,
    /// Number of look-ahead points checked, spread over the observed
    /// time-to-answer distribution (1 = only its mean). With several, a call is
    /// placed only if agents are expected at each point where new calls may answer.
    pub horizons: u8,
    /// Initial safety margin, in standard deviations of (answers − free agents).
    pub initial_safety: f64,
    /// Lowest safety margin the controller may reach (negative = dial above the mean).
    pub min_safety: f64,
    /// Highest safety margin the controller may reach.
    pub max_safety: f64,
    /// Integral gain: change of the safety margin per abandon (and, times the
    /// target rate, per answered call in the other direction).
    pub gain: f64,
    /// Proportional gain on the evidence of the regulatory window: the margin
    /// grows by this much per standard deviation that the window's abandon
    /// count stands above what the target rate predicts.
    /// Strong when the campaign is small and each abandon weighs a lot.
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
            lookahead: 1.0,
            horizons: 1,
            initial_safety: 1.6,
            min_safety: -1.0,
            max_safety: 4.0,
            gain: 0.1,
            window_gain: 0.5,
        }
    }
}

/// Predictive: dials ahead for agents about to finish.
///
/// For each busy agent, P(free within the look-ahead | elapsed talk) comes
/// from the observed talk-time distribution conditioned on the elapsed time;
/// the look-ahead is the expected time to answer of a new call plus the
/// abandon seconds. Agents available by then: F = ready + Σ those
/// probabilities (mean μF, variance Σ p(1−p)). Answers by then: A = waiting +
/// Σ P(answer | still ringing) of the calls in flight + n × answer rate for n
/// new calls. The pacer places the largest n with
/// `E[A] + z·sd(A − F) ≤ E[F]`: without the margin z that is "expected
/// available agents / answer rate"; z is the safety margin, driven by an
/// integral controller on abandon outcomes (each abandon raises it by `gain`,
/// each answered call lowers it by `gain` × target), so it settles where the
/// abandon rate equals the target. Behaves like progressive until enough calls
/// are observed; while the window's rate is over the limit the margin can only grow.
#[derive(Debug, Clone)]
pub struct Predictive {
    limits: PacingLimits,
    cfg: PredictiveConfig,
    safety: f64,
    last_counts: Option<AbandonCounts>,
}

/// The quantities the predictive decision is made from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    /// Look-ahead, seconds.
    pub horizon_s: f64,
    /// Expected agents free by the horizon.
    pub free_mean: f64,
    /// Variance of that.
    pub free_var: f64,
    /// Expected answered calls needing an agent by the horizon (without new calls).
    pub demand_mean: f64,
    /// Variance of that.
    pub demand_var: f64,
}

impl Predictive {
    /// A predictive pacer.
    pub fn new(limits: PacingLimits, cfg: PredictiveConfig) -> Self {
        Predictive {
            limits,
            cfg,
            safety: cfg.initial_safety,
            last_counts: None,
        }
    }

    /// The controller's current safety margin (standard deviations).
    pub fn safety(&self) -> f64 {
        self.safety
    }

    /// The abandon rate the controller aims at, given the window's counts.
    pub fn target_rate(&self, window: AbandonCounts) -> f64 {
        let limit = self.limits.max_abandon_rate;
        let n = window.live_answered.max(1) as f64;
        let sd = (limit * (1.0 - limit) / n).sqrt();
        (limit * self.cfg.target_fraction - self.cfg.target_margin_sd * sd)
            .max(limit * self.cfg.target_floor_fraction)
    }

    /// The safety margin used now: the integral term plus the window's evidence.
    pub fn margin(&self, window: AbandonCounts) -> f64 {
        let t = self.target_rate(window);
        let n = window.live_answered as f64;
        let expected = t * n;
        // One-sided: evidence of too many abandons widens the margin; a quiet
        // window does not narrow it (the integral term does that, slowly).
        let evidence =
            ((window.abandoned as f64 - expected) / (expected * (1.0 - t) + 1.0).sqrt()).max(0.0);
        (self.safety + self.cfg.window_gain * evidence)
            .clamp(self.cfg.min_safety, self.cfg.max_safety)
    }

    fn update_controller(&mut self, now: AbandonCounts) {
        if let Some(prev) = self.last_counts {
            if now.live_answered >= prev.live_answered && now.abandoned >= prev.abandoned {
                let d_ans = (now.live_answered - prev.live_answered) as f64;
                let d_ab = (now.abandoned - prev.abandoned) as f64;
                let mut delta = self.cfg.gain * (d_ab - self.target_rate(now) * d_ans);
                if now.rate() > self.limits.max_abandon_rate && delta < 0.0 {
                    delta = 0.0;
                }
                self.safety = (self.safety + delta).clamp(self.cfg.min_safety, self.cfg.max_safety);
            }
            // Counts went down: records left the window; resynchronise only.
        }
        self.last_counts = Some(now);
    }

    /// Expected agents free and answers arriving by the look-ahead (single horizon).
    pub fn forecast(&self, snap: &Snapshot<'_>) -> Forecast {
        let st = snap.stats;
        let horizon = self.cfg.lookahead * (st.mean_time_to_answer() + self.limits.abandon_after_s);
        self.forecast_at(snap, horizon, None)
    }

    /// Agents free by `horizon` (+ nothing) and answers by `horizon` − grace
    /// (calls in flight answering within `answer_by`, or by `horizon` when `None`).
    pub fn forecast_at(
        &self,
        snap: &Snapshot<'_>,
        horizon: f64,
        answer_by: Option<f64>,
    ) -> Forecast {
        let st = snap.stats;
        let mut free_mean = snap.agents_ready as f64;
        let mut free_var = 0.0;
        for &e in snap.talking_elapsed_s {
            let p = st.p_talk_ends_within(e, horizon);
            free_mean += p;
            free_var += p * (1.0 - p);
        }
        for &e in snap.wrap_up_elapsed_s {
            let p = st.p_wrap_up_ends_within(e, horizon);
            free_mean += p;
            free_var += p * (1.0 - p);
        }
        let mut demand_mean = snap.answered_waiting as f64;
        let mut demand_var = 0.0;
        for &r in snap.ringing_elapsed_s {
            let q = match answer_by {
                Some(t) => st.p_answer_within(r, t),
                None => st.p_answer_given_ringing(r),
            };
            demand_mean += q;
            demand_var += q * (1.0 - q);
        }
        Forecast {
            horizon_s: horizon,
            free_mean,
            free_var,
            demand_mean,
            demand_var,
        }
    }

    /// Calls to place under the multi-horizon rule (see [`PredictiveConfig::horizons`]).
    fn calls_multi(&self, snap: &Snapshot<'_>, z: f64) -> i64 {
        let st = snap.stats;
        let p = st.answer_rate();
        let k = self.cfg.horizons.max(2) as usize;
        let grace = self.limits.abandon_after_s;
        let mut best = i64::MAX;
        for i in 0..k {
            let q = (i as f64 + 0.5) / k as f64;
            let t = st.time_to_answer_quantile(q);
            let g = st.fraction_answered_within(t);
            if g <= 0.0 {
                continue;
            }
            let f = self.forecast_at(snap, t + grace, Some(t));
            best = best.min(Self::calls_for(&f, p * g, z));
        }
        if best == i64::MAX {
            0
        } else {
            best
        }
    }

    /// Largest n with `demand + n·p + z·sqrt(var + n·p(1−p)) ≤ free`.
    fn calls_for(f: &Forecast, p: f64, z: f64) -> i64 {
        let v0 = f.free_var + f.demand_var;
        let room = f.free_mean - f.demand_mean;
        let v = p * (1.0 - p);
        if v <= 1e-12 {
            return (room - z * v0.sqrt()).floor() as i64;
        }
        // With x = sqrt(v0 + n v): (p/v) x² + z x + (−room − p v0 / v) ≤ 0.
        let a = p / v;
        let c = -room - p * v0 / v;
        let disc = z * z - 4.0 * a * c;
        if disc < 0.0 {
            return 0;
        }
        let x = (-z + disc.sqrt()) / (2.0 * a);
        if x * x < v0 {
            return 0;
        }
        let n = ((x * x - v0) / v + 1e-9).floor();
        if n.is_finite() {
            n as i64
        } else {
            0
        }
    }
}

impl Pacer for Predictive {
    fn label(&self) -> String {
        "predictive".into()
    }

    fn calls_to_place(&mut self, snap: &Snapshot<'_>) -> u32 {
        self.update_controller(snap.abandons);
        if snap.agents_logged_in == 0 {
            return 0;
        }
        let st = snap.stats;
        if st.attempts_observed() < self.cfg.min_attempts
            || st.talks_observed() < self.cfg.min_talks
        {
            return self.limits.bound(progressive_wish(snap), snap);
        }
        let wish = if self.cfg.horizons <= 1 {
            let f = self.forecast(snap);
            Self::calls_for(&f, st.answer_rate(), self.margin(snap.abandons))
        } else {
            self.calls_multi(snap, self.margin(snap.abandons))
        };
        self.limits.bound(wish, snap)
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
