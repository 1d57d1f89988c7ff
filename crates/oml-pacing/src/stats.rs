//! What the pacer knows about a campaign's calls: answer rate, ring, talk and
//! wrap-up time distributions, learned from observed calls over a sliding
//! window and starting from conservative priors. Fed identically by the live
//! dialer (from AMI events) and by the simulator.
//!
//! The window forgets fast when the floor changes: every few observations the
//! most recent ones are tested against the older ones (a two-sample z-test on
//! the answer rate, and on the logarithms of ring, talk and wrap-up times);
//! when they disagree beyond chance the older observations are dropped. The
//! chance that a talk ends soon blends the empirical conditional survival
//! with a fitted log-normal tail, so that a long call is never scored as
//! certain to end, and wrap-up is counted as the distribution it is.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::fit::LogNormalFit;
use crate::machine_rate::MachineRate;

/// z beyond which recent observations are taken to disagree with older ones.
const CHANGE_Z: f64 = 4.0;
/// Recent stretches tested for a change of answer rate (attempts).
const ANSWER_SPANS: [usize; 5] = [50, 100, 200, 400, 800];
/// Recent stretches tested for a change of a time distribution (observations).
const TIME_SPANS: [usize; 4] = [30, 60, 120, 240];
/// Observations between two tests.
const TEST_EVERY: u32 = 10;
/// Pseudo-observations of the fitted tail blended into the empirical
/// conditional survival of talk times.
const TAIL_WEIGHT: f64 = 8.0;
/// Points of the wrap-up distribution a talk's end is convolved with.
const WRAP_POINTS: usize = 3;
/// Memory of the fast answer-rate estimate, in attempts (exponentially weighted).
const FAST_ANSWER_MEMORY: f64 = 40.0;
/// Attempts the fast estimate needs before it may raise the pacing estimate.
const FAST_ANSWER_MIN: f64 = 20.0;
/// Standard deviations the fast estimate must stand above the window's to count.
const FAST_ANSWER_SD: f64 = 1.0;

/// Odds ratio of the rise of the answer rate the CUSUM watches for.
const RISE_ODDS: f64 = 3.0;
/// Log-likelihood ratio at which the CUSUM takes the rise as real.
const RISE_ALARM: f64 = 4.0;
/// Standard deviations the stretch that raised the CUSUM must stand above the old rate.
const RISE_CONFIRM_SD: f64 = 1.0;
/// Attempts the stretch that raised the CUSUM is counted at least as.
const RISE_MIN_LEN: usize = 10;
/// Attempts after an alarm during which the pacing estimate is at least
/// the rate since the rise began (less [`RISE_CONFIRM_SD`] standard
/// deviations): long enough for the window's own test to confirm a real
/// change, short enough that a false alarm costs little.
const RISE_HOLD: u32 = 150;

fn ln1(x: f64) -> f64 {
    x.max(0.1).ln()
}

/// A one-sided Bernoulli CUSUM for a rise of the answer rate: each attempt
/// adds the log-likelihood ratio of the answer rate at [`RISE_ODDS`] times
/// the odds of the current estimate against the estimate itself; past
/// [`RISE_ALARM`] (and when the stretch since the sum last stood at zero
/// confirms it, [`RISE_CONFIRM_SD`]) the rise is believed: for the next
/// [`RISE_HOLD`] attempts the pacing estimate is at least the rate since
/// the stretch began. A rise of the answer rate is what makes a predictive
/// dialer abandon (every call in flight is answered more often than it
/// was placed for); a fall only makes it dial less for a while, which the
/// window's two-sample test follows.
#[derive(Debug, Clone, Default)]
struct Rise {
    sum: f64,
    len: usize,
    alarms: u64,
    /// Since the last alarm's stretch began: attempts, answered, attempts left to hold.
    since: (f64, f64, u32),
}

impl Rise {
    fn observe(&mut self, answered: bool, p0: f64) {
        let p0 = p0.clamp(0.01, 0.99);
        let odds = RISE_ODDS * p0 / (1.0 - p0);
        let p1 = odds / (1.0 + odds);
        self.sum += if answered {
            (p1 / p0).ln()
        } else {
            ((1.0 - p1) / (1.0 - p0)).ln()
        };
        if self.sum <= 0.0 {
            self.sum = 0.0;
            self.len = 0;
        } else {
            self.len += 1;
        }
        if self.since.2 > 0 {
            self.since.0 += 1.0;
            self.since.1 += answered as u8 as f64;
            self.since.2 -= 1;
        }
    }

    /// After an attempt is pushed onto `outcomes`: raises the alarm when the sum is past its level.
    fn check(&mut self, outcomes: &VecDeque<bool>, p0: f64) {
        if self.sum <= RISE_ALARM {
            return;
        }
        let k = self.len.max(RISE_MIN_LEN).min(outcomes.len()).max(1);
        let a = outcomes.iter().rev().take(k).filter(|&&x| x).count() as f64;
        let p = a / k as f64;
        // A short lucky stretch on a steady floor does not count.
        if p - RISE_CONFIRM_SD * (p * (1.0 - p) / k as f64).sqrt() <= p0 {
            return;
        }
        self.since = (k as f64, a, RISE_HOLD);
        self.sum = 0.0;
        self.len = 0;
        self.alarms += 1;
    }

    /// The answer rate since the rise began, less [`RISE_CONFIRM_SD`]
    /// standard deviations, while the alarm holds (else 0).
    fn rate_since(&self) -> f64 {
        let (n, a, left) = self.since;
        if left == 0 || n <= 0.0 {
            return 0.0;
        }
        let p = a / n;
        p - RISE_CONFIRM_SD * (p * (1.0 - p) / n).sqrt()
    }
}

/// A sliding sample of the last `cap` observations, kept sorted for fast
/// empirical distribution queries.
#[derive(Debug, Clone)]
pub struct SlidingSample {
    cap: usize,
    fifo: VecDeque<f64>,
    sorted: Vec<f64>,
    sum: f64,
    sum_log: f64,
    sum_log2: f64,
    since_test: u32,
}

impl SlidingSample {
    /// An empty sample that keeps at most `cap` (≥ 1) observations.
    pub fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        SlidingSample {
            cap,
            fifo: VecDeque::with_capacity(cap),
            sorted: Vec::with_capacity(cap),
            sum: 0.0,
            sum_log: 0.0,
            sum_log2: 0.0,
            since_test: 0,
        }
    }

    /// Pushes `x` and tests the recent values against the older ones; when
    /// they disagree, keeps only the recent ones. True when it forgot.
    pub fn push_and_adapt(&mut self, x: f64) -> bool {
        self.push(x);
        self.since_test += 1;
        if self.since_test < TEST_EVERY {
            return false;
        }
        self.since_test = 0;
        match self.shift_point() {
            Some(k) => {
                self.keep_last(k);
                true
            }
            None => false,
        }
    }

    /// The shortest recent stretch whose log-mean differs from the rest's by
    /// more than [`CHANGE_Z`] standard errors.
    fn shift_point(&self) -> Option<usize> {
        let n = self.fifo.len();
        let var = (self.sum_log2 / n as f64 - (self.sum_log / n as f64).powi(2)).max(1e-6);
        let mut recent = 0.0;
        let mut taken = 0;
        for &k in TIME_SPANS.iter().filter(|&&k| 2 * k <= n) {
            recent += self
                .fifo
                .iter()
                .rev()
                .skip(taken)
                .take(k - taken)
                .map(|&x| ln1(x))
                .sum::<f64>();
            taken = k;
            let old = (self.sum_log - recent) / (n - k) as f64;
            let se = (var * (1.0 / k as f64 + 1.0 / (n - k) as f64)).sqrt();
            if ((recent / k as f64 - old) / se).abs() > CHANGE_Z {
                return Some(k);
            }
        }
        None
    }

    /// Forgets all but the last `k` observations.
    pub fn keep_last(&mut self, k: usize) {
        while self.fifo.len() > k {
            if let Some(old) = self.fifo.pop_front() {
                self.sum -= old;
                self.sum_log -= ln1(old);
                self.sum_log2 -= ln1(old).powi(2);
            }
        }
        self.sorted = self.fifo.iter().copied().collect();
        self.sorted.sort_by(f64::total_cmp);
    }

    /// A log-normal fitted to the observations (at least 5).
    pub fn fit(&self) -> Option<LogNormalFit> {
        LogNormalFit::from_sums(self.fifo.len(), self.sum_log, self.sum_log2)
    }

    /// Adds one observation (non-finite values are ignored), evicting the oldest when full.
    pub fn push(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        if self.fifo.len() == self.cap {
            if let Some(old) = self.fifo.pop_front() {
                let i = self.sorted.partition_point(|&v| v < old);
                if i < self.sorted.len() {
                    self.sorted.remove(i);
                }
                self.sum -= old;
                self.sum_log -= ln1(old);
                self.sum_log2 -= ln1(old).powi(2);
            }
        }
        let i = self.sorted.partition_point(|&v| v <= x);
        self.sorted.insert(i, x);
        self.fifo.push_back(x);
        self.sum += x;
        self.sum_log += ln1(x);
        self.sum_log2 += ln1(x).powi(2);
    }

    /// Number of observations held.
    pub fn len(&self) -> usize {
        self.fifo.len()
    }

    /// True when nothing was observed.
    pub fn is_empty(&self) -> bool {
        self.fifo.is_empty()
    }

    /// Mean of the observations, or `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        if self.fifo.is_empty() {
            None
        } else {
            Some((self.sum / self.fifo.len() as f64).max(0.0))
        }
    }

    /// Number of observations strictly greater than `x`.
    pub fn count_gt(&self, x: f64) -> usize {
        self.sorted.len() - self.sorted.partition_point(|&v| v <= x)
    }

    /// The `q`-quantile (0..=1) of the observations, or `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.sorted.is_empty() {
            return None;
        }
        let i = ((self.sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        Some(self.sorted[i])
    }

    /// Largest observation.
    pub fn max(&self) -> Option<f64> {
        self.sorted.last().copied()
    }
}

/// Priors used before enough calls are observed. They are conservative: they
/// make the predictive mode dial less, never more.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Priors {
    /// Assumed answer rate (high = fewer calls per agent).
    pub answer_rate: f64,
    /// Weight of the prior answer rate, in pseudo-attempts.
    pub answer_rate_weight: f64,
    /// Assumed mean time to answer, seconds (short = shorter look-ahead).
    pub time_to_answer_s: f64,
    /// Assumed mean talk time, seconds (long = fewer agents about to finish).
    pub talk_s: f64,
}

impl Default for Priors {
    fn default() -> Self {
        Priors {
            answer_rate: 1.0,
            answer_rate_weight: 20.0,
            time_to_answer_s: 5.0,
            talk_s: 300.0,
        }
    }
}

/// Learned call statistics of one campaign.
#[derive(Debug, Clone)]
pub struct CallStats {
    priors: Priors,
    outcomes: VecDeque<bool>,
    outcome_cap: usize,
    answered_in_window: usize,
    attempts_total: u64,
    ring_answered: SlidingSample,
    ring_unanswered: SlidingSample,
    talk: SlidingSample,
    wrap: SlidingSample,
    since_answer_test: u32,
    changes: u64,
    fast_answered: f64,
    fast_attempts: f64,
    rise: Rise,
    talks_total: u64,
    machines: MachineRate,
}

impl Default for CallStats {
    fn default() -> Self {
        CallStats::new(Priors::default(), 2000)
    }
}

impl CallStats {
    /// Empty statistics with the given priors; `window` is how many recent
    /// observations of each kind are kept.
    pub fn new(priors: Priors, window: usize) -> Self {
        let window = window.max(10);
        CallStats {
            priors,
            outcomes: VecDeque::with_capacity(window),
            outcome_cap: window,
            answered_in_window: 0,
            attempts_total: 0,
            ring_answered: SlidingSample::new(window),
            ring_unanswered: SlidingSample::new(window),
            talk: SlidingSample::new(window),
            wrap: SlidingSample::new(window),
            since_answer_test: 0,
            changes: 0,
            fast_answered: 0.0,
            fast_attempts: 0.0,
            rise: Rise::default(),
            talks_total: 0,
            machines: MachineRate::default(),
        }
    }

    /// How many times the statistics found that the floor changed and forgot
    /// the older observations (answer rate, ring, talk or wrap-up times).
    pub fn changes_detected(&self) -> u64 {
        self.changes
    }

    /// How many times the answer rate was seen rising (a CUSUM over the
    /// recent attempts, see [`Rise`]): the pacing estimate then follows the
    /// attempts since the rise began at once, before the window's own test
    /// ([`CallStats::changes_detected`]) can tell.
    pub fn rises_suspected(&self) -> u64 {
        self.rise.alarms
    }

    /// The shortest recent stretch of attempts whose answer rate differs from
    /// the older attempts' by more than [`CHANGE_Z`] standard errors.
    fn answer_shift(&self) -> Option<usize> {
        let n = self.outcomes.len();
        let mut recent = 0usize;
        let mut taken = 0;
        for &k in ANSWER_SPANS.iter().filter(|&&k| 2 * k <= n) {
            recent += self
                .outcomes
                .iter()
                .rev()
                .skip(taken)
                .take(k - taken)
                .filter(|&&a| a)
                .count();
            taken = k;
            let p_all = self.answered_in_window as f64 / n as f64;
            let var = (p_all * (1.0 - p_all)).max(0.25 / n as f64);
            let old = (self.answered_in_window - recent) as f64 / (n - k) as f64;
            let se = (var * (1.0 / k as f64 + 1.0 / (n - k) as f64)).sqrt();
            if ((recent as f64 / k as f64 - old) / se).abs() > CHANGE_Z {
                return Some(k);
            }
        }
        None
    }

    /// A call attempt ended ringing: answered by a live person after `ring_s`
    /// seconds, or given up as not answered after `ring_s` seconds.
    pub fn record_attempt(&mut self, answered: bool, ring_s: f64) {
        self.machines.observe(false);
        self.record_outcome(answered, ring_s);
    }

    /// A call attempt was answered by an answering machine after `ring_s`
    /// seconds (the AMD's verdict, or when the machine answered if the
    /// verdict time is unknown). For the live-answer rate it is an attempt
    /// nobody live answered, and its ring time joins those of the other
    /// attempts that end without a live person (the chance that a ringing
    /// call is live-answered stays right); the share of machines is learned
    /// apart ([`CallStats::machine_rate`]).
    pub fn record_machine(&mut self, ring_s: f64) {
        self.machines.observe(true);
        self.record_outcome(false, ring_s);
    }

    /// The share of recent attempts answered by a machine (0 until one is recorded).
    pub fn machine_rate(&self) -> f64 {
        self.machines.rate()
    }

    fn record_outcome(&mut self, answered: bool, ring_s: f64) {
        if self.outcomes.len() == self.outcome_cap {
            if let Some(true) = self.outcomes.pop_front() {
                self.answered_in_window -= 1;
            }
        }
        let p0 = self.answer_rate();
        self.outcomes.push_back(answered);
        self.rise.observe(answered, p0);
        let keep = 1.0 - 1.0 / FAST_ANSWER_MEMORY;
        self.fast_answered = self.fast_answered * keep + answered as u8 as f64;
        self.fast_attempts = self.fast_attempts * keep + 1.0;
        let forgot = if answered {
            self.answered_in_window += 1;
            self.ring_answered.push_and_adapt(ring_s)
        } else {
            self.ring_unanswered.push_and_adapt(ring_s)
        };
        self.changes += forgot as u64;
        self.attempts_total += 1;
        self.rise.check(&self.outcomes, p0);
        self.since_answer_test += 1;
        if self.since_answer_test >= TEST_EVERY {
            self.since_answer_test = 0;
            if let Some(k) = self.answer_shift() {
                self.forget_outcomes(k);
                self.changes += 1;
            }
        }
    }

    /// Keeps only the last `k` attempts' outcomes.
    fn forget_outcomes(&mut self, k: usize) {
        while self.outcomes.len() > k {
            if let Some(true) = self.outcomes.pop_front() {
                self.answered_in_window -= 1;
            }
        }
    }

    /// An agent finished talking after `talk_s` seconds.
    pub fn record_talk(&mut self, talk_s: f64) {
        self.talks_total += 1;
        self.changes += self.talk.push_and_adapt(talk_s) as u64;
    }

    /// An agent finished wrap-up after `wrap_s` seconds.
    pub fn record_wrap_up(&mut self, wrap_s: f64) {
        self.changes += self.wrap.push_and_adapt(wrap_s) as u64;
    }

    /// Attempts observed since the start.
    pub fn attempts_observed(&self) -> u64 {
        self.attempts_total
    }

    /// Talks that ended since the start (not only those in the window).
    pub fn talks_total(&self) -> u64 {
        self.talks_total
    }

    /// Talks observed (in the sliding window).
    pub fn talks_observed(&self) -> usize {
        self.talk.len()
    }

    /// Estimated live-answer rate (prior blended in), in (0, 1].
    pub fn answer_rate(&self) -> f64 {
        // The prior counts fully while learning, then fades to a tenth so
        // that a window shortened by a change follows the new rate.
        let fade = (self.attempts_total as f64 / 200.0).clamp(0.0, 0.9);
        let w = self.priors.answer_rate_weight * (1.0 - fade);
        let p = (self.answered_in_window as f64 + self.priors.answer_rate * w)
            / (self.outcomes.len() as f64 + w);
        p.clamp(0.01, 1.0)
    }

    /// The answer rate the pacing decisions use: [`CallStats::answer_rate`],
    /// raised when the last few dozen attempts (exponentially weighted) show
    /// a higher rate even [`FAST_ANSWER_SD`] standard deviations below their
    /// own estimate.
    /// A rise of the answer rate is what makes a predictive dialer abandon,
    /// and the change test needs some attempts to be sure of it; until then
    /// the recent attempts are believed on the side of caution only.
    pub fn cautious_answer_rate(&self) -> f64 {
        let p = self.answer_rate();
        let p = p.max(self.rise.rate_since());
        if self.fast_attempts < FAST_ANSWER_MIN {
            return p;
        }
        let fast = self.fast_answered / self.fast_attempts;
        let sd = (fast * (1.0 - fast) / self.fast_attempts).sqrt();
        p.max(fast - FAST_ANSWER_SD * sd).clamp(0.01, 1.0)
    }

    /// Estimated mean time from dialing to a live answer, seconds.
    pub fn mean_time_to_answer(&self) -> f64 {
        self.ring_answered
            .mean()
            .unwrap_or(self.priors.time_to_answer_s)
    }

    /// Mean attempt duration (answered or not), seconds.
    pub fn mean_attempt_time(&self) -> f64 {
        let p = self.answer_rate();
        let a = self.mean_time_to_answer();
        let n = self.ring_unanswered.mean().unwrap_or(a);
        p * a + (1.0 - p) * n
    }

    /// Estimated mean talk time, seconds.
    pub fn mean_talk(&self) -> f64 {
        self.talk.mean().unwrap_or(self.priors.talk_s)
    }

    /// Estimated mean wrap-up time, seconds (0 until observed).
    pub fn mean_wrap_up(&self) -> f64 {
        self.wrap.mean().unwrap_or(0.0)
    }

    /// The `q`-quantile of the time to answer, seconds (the prior before any answer).
    pub fn time_to_answer_quantile(&self, q: f64) -> f64 {
        self.ring_answered
            .quantile(q)
            .unwrap_or(self.priors.time_to_answer_s)
    }

    /// Fraction of answered calls answered within `t_s` seconds of dialing.
    pub fn fraction_answered_within(&self, t_s: f64) -> f64 {
        let s = &self.ring_answered;
        if s.is_empty() {
            return if t_s >= self.priors.time_to_answer_s {
                1.0
            } else {
                0.0
            };
        }
        1.0 - s.count_gt(t_s) as f64 / s.len() as f64
    }

    /// Probability that a call ringing for `elapsed_s` seconds is answered by a
    /// live person within the next `within_s` seconds.
    pub fn p_answer_within(&self, elapsed_s: f64, within_s: f64) -> f64 {
        let p = self.cautious_answer_rate();
        if self.ring_answered.is_empty() {
            return p;
        }
        let sa = |t: f64| {
            (self.ring_answered.count_gt(t) as f64 + 0.5) / (self.ring_answered.len() as f64 + 1.0)
        };
        let sn = if self.ring_unanswered.is_empty() {
            1.0
        } else {
            (self.ring_unanswered.count_gt(elapsed_s) as f64 + 0.5)
                / (self.ring_unanswered.len() as f64 + 1.0)
        };
        let now = sa(elapsed_s);
        let den = p * now + (1.0 - p) * sn;
        if den <= 0.0 {
            return 0.0;
        }
        (p * (now - sa(elapsed_s + within_s)).max(0.0) / den).clamp(0.0, 1.0)
    }

    /// Probability that a call still ringing after `elapsed_s` seconds will be
    /// answered by a live person (Bayes on the two ring-time distributions).
    pub fn p_answer_given_ringing(&self, elapsed_s: f64) -> f64 {
        let p = self.cautious_answer_rate();
        let surv = |s: &SlidingSample| -> f64 {
            (s.count_gt(elapsed_s) as f64 + 0.5) / (s.len() as f64 + 1.0)
        };
        if self.ring_answered.is_empty() {
            return p;
        }
        let sa = surv(&self.ring_answered);
        let sn = if self.ring_unanswered.is_empty() {
            1.0
        } else {
            surv(&self.ring_unanswered)
        };
        let num = p * sa;
        let den = num + (1.0 - p) * sn;
        if den <= 0.0 {
            0.0
        } else {
            (num / den).clamp(0.0, 1.0)
        }
    }

    /// Probability that an agent talking for `elapsed_s` seconds is free
    /// (talk and wrap-up done) within `horizon_s` seconds, from the talk-time
    /// distribution conditioned on the elapsed time and the wrap-up
    /// distribution.
    pub fn p_talk_ends_within(&self, elapsed_s: f64, horizon_s: f64) -> f64 {
        let mut out = [0.0];
        self.p_free_within(elapsed_s, &[horizon_s], &mut out);
        out[0]
    }

    /// [`CallStats::p_talk_ends_within`] for several horizons at once (the
    /// costly parts are shared): `out[i]` for `horizons_s[i]`.
    pub fn p_free_within(&self, elapsed_s: f64, horizons_s: &[f64], out: &mut [f64]) {
        self.free_model().p_free_within(elapsed_s, horizons_s, out);
    }

    /// What [`CallStats::p_free_within`] needs that does not depend on the
    /// agent (the fitted tail, the wrap-up points): computed once per pacing
    /// decision, then asked for each busy agent.
    pub fn free_model(&self) -> FreeModel<'_> {
        FreeModel {
            talk: &self.talk,
            fit: self.talk.fit(),
            mean: self.mean_talk(),
            wraps: self.wrap_points(),
        }
    }

    /// Points (quantiles) of the wrap-up distribution; `[0]` before any is observed.
    fn wrap_points(&self) -> Vec<f64> {
        if self.wrap.is_empty() {
            return vec![0.0];
        }
        (0..WRAP_POINTS)
            .map(|i| {
                self.wrap
                    .quantile((i as f64 + 0.5) / WRAP_POINTS as f64)
                    .unwrap_or(0.0)
            })
            .collect()
    }

    /// Probability that an agent in wrap-up for `elapsed_s` seconds is free within `horizon_s`.
    pub fn p_wrap_up_ends_within(&self, elapsed_s: f64, horizon_s: f64) -> f64 {
        if horizon_s <= 0.0 || self.wrap.is_empty() {
            return 0.0;
        }
        TalkEnd::new(&self.wrap, self.wrap.fit(), elapsed_s, self.mean_wrap_up()).within(horizon_s)
    }
}

/// The chance that a busy agent is free soon, with the parts shared by all
/// agents computed once (see [`CallStats::free_model`]).
pub struct FreeModel<'a> {
    talk: &'a SlidingSample,
    fit: Option<LogNormalFit>,
    mean: f64,
    wraps: Vec<f64>,
}

impl FreeModel<'_> {
    /// [`CallStats::p_free_within`]: `out[i]` for `horizons_s[i]`.
    pub fn p_free_within(&self, elapsed_s: f64, horizons_s: &[f64], out: &mut [f64]) {
        let talk = TalkEnd::new(self.talk, self.fit, elapsed_s, self.mean);
        let n = self.wraps.len() as f64;
        for (o, &h) in out.iter_mut().zip(horizons_s) {
            *o = self.wraps.iter().map(|&w| talk.within(h - w)).sum::<f64>() / n;
        }
    }
}

/// P(X ≤ e + h | X > e) for one elapsed time e and several h: the empirical
/// conditional survival blended with a fitted log-normal's, the fit weighing
/// [`TAIL_WEIGHT`] observations; beyond the sample only the fit speaks.
struct TalkEnd<'a> {
    s: &'a SlidingSample,
    e: f64,
    above_e: usize,
    fit: Option<(LogNormalFit, f64)>,
    mean: f64,
}

impl<'a> TalkEnd<'a> {
    fn new(s: &'a SlidingSample, fit: Option<LogNormalFit>, e: f64, mean: f64) -> Self {
        let fit = fit.map(|f| (f, f.survival(e)));
        TalkEnd {
            s,
            e,
            above_e: s.count_gt(e),
            fit,
            mean,
        }
    }

    fn within(&self, h: f64) -> f64 {
        if h <= 0.0 {
            return 0.0;
        }
        let (fit, s_e) = match self.fit {
            Some(f) if self.s.len() >= 5 => f,
            // Too little data: an exponential with the mean (memoryless, cautious).
            _ => return 1.0 - (-h / self.mean.max(1e-3)).exp(),
        };
        let p_fit = if s_e > 1e-300 {
            (1.0 - fit.survival(self.e + h) / s_e).clamp(0.0, 1.0)
        } else {
            1.0 - (-h / self.mean.max(1e-3)).exp()
        };
        let n = self.above_e as f64;
        let p_emp = if self.above_e == 0 {
            0.0
        } else {
            (self.above_e - self.s.count_gt(self.e + h)) as f64 / n
        };
        let p = (n * p_emp + TAIL_WEIGHT * p_fit) / (n + TAIL_WEIGHT);
        // Never certain: as many as the sample holds above e, one might stay.
        p.min(1.0 - 0.5 / (n + TAIL_WEIGHT + 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::LogNormalFit;

    #[test]
    fn sliding_sample_keeps_the_last_values_sorted() {
        let mut s = SlidingSample::new(3);
        for x in [5.0, 1.0, 3.0, 4.0] {
            s.push(x);
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.mean(), Some((1.0 + 3.0 + 4.0) / 3.0));
        assert_eq!(s.count_gt(2.0), 2);
        assert_eq!(s.max(), Some(4.0));
    }

    #[test]
    fn answer_rate_moves_from_prior_to_observation() {
        let mut st = CallStats::default();
        assert_eq!(st.answer_rate(), 1.0);
        for i in 0..1000 {
            st.record_attempt(i % 4 == 0, 10.0);
        }
        assert!(
            (st.answer_rate() - 0.25).abs() < 0.02,
            "{}",
            st.answer_rate()
        );
    }

    #[test]
    fn talk_conditioning_uses_elapsed_time() {
        let mut st = CallStats::default();
        for i in 0..=100 {
            st.record_talk(40.0 + 0.2 * ((i * 37) % 101) as f64); // U(40,60)-like, in no order
        }
        // Just started: all but cannot end within 20 s.
        assert!(st.p_talk_ends_within(0.0, 20.0) < 0.01);
        // At 50 s elapsed, about half of the remaining mass ends within 5 s.
        let p = st.p_talk_ends_within(50.0, 5.0);
        assert!((p - 0.5).abs() < 0.08, "{p}");
        // At 55 s elapsed, nearly everything ends within 10 s, but not surely.
        let p = st.p_talk_ends_within(55.0, 10.0);
        assert!(p > 0.9 && p < 1.0, "{p}");
    }

    #[test]
    fn a_long_call_in_a_heavy_tail_is_never_certain_to_end() {
        // Log-normal talks (mean 100 s, sd 300 s): a call 778 s in, beyond
        // nearly all the sample, has a small chance to end within 29 s.
        let mut st = CallStats::default();
        let f = LogNormalFit {
            mu: 100f64.ln() - 0.5 * 10f64.ln(),
            sigma: 10f64.ln().sqrt(),
        };
        for i in 0..2000 {
            // Quantiles of the distribution, in a scrambled order.
            let q = ((i * 7919) % 2000) as f64 / 2000.0 + 0.00025;
            let mut lo = 0.0f64;
            let mut hi = 1e6f64;
            for _ in 0..80 {
                let mid = 0.5 * (lo + hi);
                if 1.0 - f.survival(mid) < q {
                    lo = mid
                } else {
                    hi = mid
                }
            }
            st.record_talk(lo);
        }
        let p = st.p_talk_ends_within(778.0, 29.0);
        assert!(p > 0.0 && p < 0.3, "{p}");
        assert!(st.p_talk_ends_within(1.0e5, 29.0) < 0.99);
    }

    #[test]
    fn wrap_up_delays_the_moment_an_agent_is_free() {
        let mut st = CallStats::default();
        for i in 0..=100 {
            st.record_talk(40.0 + 0.2 * ((i * 37) % 101) as f64);
        }
        let before = st.p_talk_ends_within(50.0, 12.0);
        for i in 0..100 {
            st.record_wrap_up(5.0 + 0.1 * ((i * 37) % 100) as f64); // U(5,15)
        }
        let after = st.p_talk_ends_within(50.0, 12.0);
        assert!(after < before - 0.2, "{before} {after}");
    }

    #[test]
    fn a_change_of_answer_rate_is_followed_within_a_few_hundred_attempts() {
        let mut st = CallStats::default();
        for i in 0..2000 {
            st.record_attempt(i % 5 < 2, 10.0); // 40 %
        }
        assert!((st.answer_rate() - 0.4).abs() < 0.02);
        let seen = st.changes_detected();
        for i in 0..150 {
            st.record_attempt(i % 20 < 3, 10.0); // 15 %
        }
        assert!(st.changes_detected() > seen);
        assert!(st.answer_rate() < 0.25, "{}", st.answer_rate());
    }

    #[test]
    fn machines_are_learned_apart_from_the_live_answer_rate() {
        let mut st = CallStats::default();
        for i in 0..2000 {
            match i % 10 {
                0..=1 => st.record_attempt(true, 10.0), // 20 % live
                2..=4 => st.record_machine(10.0),       // 30 % machines
                _ => st.record_attempt(false, 25.0),    // 50 % not answered
            }
        }
        assert!(
            (st.answer_rate() - 0.2).abs() < 0.02,
            "{}",
            st.answer_rate()
        );
        assert!(
            (st.machine_rate() - 0.3).abs() < 0.03,
            "{}",
            st.machine_rate()
        );
        // A call ringing for 12 s is past the live answers' 10 s and the
        // machines': only a no-answer is left.
        assert!(st.p_answer_given_ringing(12.0) < 0.05);
    }

    #[test]
    fn a_rise_of_the_answer_rate_is_believed_at_once_for_pacing() {
        let mut st = CallStats::default();
        for i in 0..2000 {
            st.record_attempt(i % 20 < 3, 10.0); // 15 %
        }
        assert!((st.cautious_answer_rate() - st.answer_rate()).abs() < 0.05);
        for _ in 0..15 {
            st.record_attempt(true, 10.0); // everybody answers now
        }
        // The change test has not spoken yet; the pacing estimate has.
        assert!(st.answer_rate() < 0.2, "{}", st.answer_rate());
        assert!(
            st.cautious_answer_rate() > st.answer_rate() + 0.1,
            "{} {}",
            st.cautious_answer_rate(),
            st.answer_rate()
        );
        // A fall is not believed faster than the window follows it.
        let mut st = CallStats::default();
        for i in 0..2000 {
            st.record_attempt(i % 5 < 2, 10.0); // 40 %
        }
        for _ in 0..30 {
            st.record_attempt(false, 10.0);
        }
        assert!(st.cautious_answer_rate() >= st.answer_rate());
    }

    #[test]
    fn a_rise_of_the_answer_rate_is_suspected_within_a_few_dozen_attempts() {
        let x = |i: u64| (i.wrapping_mul(2654435761) % 1000) as f64 / 1000.0;
        let mut st = CallStats::default();
        for i in 0..3000u64 {
            st.record_attempt(x(i) < 0.15, 10.0);
        }
        let (before, rises) = (st.cautious_answer_rate(), st.rises_suspected());
        assert!((before - 0.15).abs() < 0.05, "{before}");
        // 15 % -> 40 %: within 60 attempts the rise is suspected and the
        // pacing estimate follows it.
        let mut at = None;
        for i in 3000..3060u64 {
            st.record_attempt(x(i) < 0.40, 10.0);
            if at.is_none() && st.rises_suspected() > rises {
                at = Some(i - 3000);
            }
        }
        assert!(at.is_some(), "no rise suspected");
        assert!(
            st.cautious_answer_rate() > 0.27,
            "{}",
            st.cautious_answer_rate()
        );
        // Once the hold is over and the window agrees, the estimate is the window's.
        for i in 3060..4000u64 {
            st.record_attempt(x(i) < 0.40, 10.0);
        }
        assert!(
            (st.cautious_answer_rate() - 0.4).abs() < 0.06,
            "{}",
            st.cautious_answer_rate()
        );
    }

    #[test]
    fn steady_calls_raise_no_change() {
        let mut st = CallStats::default();
        for i in 0..5000u64 {
            // A deterministic but irregular 30 % sequence and talk times.
            let x = (i.wrapping_mul(2654435761) % 1000) as f64 / 1000.0;
            st.record_attempt(x < 0.3, 5.0 + 10.0 * x);
            st.record_talk(60.0 + 120.0 * x);
        }
        assert_eq!(st.changes_detected(), 0);
    }

    #[test]
    fn ringing_calls_lose_answer_probability_as_they_ring() {
        let mut st = CallStats::default();
        for i in 0..400 {
            let answered = i % 5 != 0;
            st.record_attempt(
                answered,
                if answered {
                    15.0 + (i % 10) as f64
                } else {
                    30.0
                },
            );
        }
        let fresh = st.p_answer_given_ringing(0.0);
        let late = st.p_answer_given_ringing(26.0);
        assert!((fresh - 0.8).abs() < 0.03, "{fresh}");
        assert!(late < 0.05, "{late}");
    }
}
