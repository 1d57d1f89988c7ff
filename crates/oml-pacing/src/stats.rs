//! What the pacer knows about a campaign's calls: answer rate, ring, talk and
//! wrap-up time distributions, learned from observed calls over a sliding
//! window and starting from conservative priors. Fed identically by the live
//! dialer (from AMI events) and by the simulator.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// A sliding sample of the last `cap` observations, kept sorted for fast
/// empirical distribution queries.
#[derive(Debug, Clone)]
pub struct SlidingSample {
    cap: usize,
    fifo: VecDeque<f64>,
    sorted: Vec<f64>,
    sum: f64,
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
        }
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
            }
        }
        let i = self.sorted.partition_point(|&v| v <= x);
        self.sorted.insert(i, x);
        self.fifo.push_back(x);
        self.sum += x;
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
        }
    }

    /// A call attempt ended ringing: answered by a live person after `ring_s`
    /// seconds, or given up as not answered after `ring_s` seconds.
    pub fn record_attempt(&mut self, answered: bool, ring_s: f64) {
        if self.outcomes.len() == self.outcome_cap {
            if let Some(true) = self.outcomes.pop_front() {
                self.answered_in_window -= 1;
            }
        }
        self.outcomes.push_back(answered);
        if answered {
            self.answered_in_window += 1;
            self.ring_answered.push(ring_s);
        } else {
            self.ring_unanswered.push(ring_s);
        }
        self.attempts_total += 1;
    }

    /// An agent finished talking after `talk_s` seconds.
    pub fn record_talk(&mut self, talk_s: f64) {
        self.talk.push(talk_s);
    }

    /// An agent finished wrap-up after `wrap_s` seconds.
    pub fn record_wrap_up(&mut self, wrap_s: f64) {
        self.wrap.push(wrap_s);
    }

    /// Attempts observed since the start.
    pub fn attempts_observed(&self) -> u64 {
        self.attempts_total
    }

    /// Talks observed (in the sliding window).
    pub fn talks_observed(&self) -> usize {
        self.talk.len()
    }

    /// Estimated live-answer rate (prior blended in), in (0, 1].
    pub fn answer_rate(&self) -> f64 {
        let w = self.priors.answer_rate_weight;
        let p = (self.answered_in_window as f64 + self.priors.answer_rate * w)
            / (self.outcomes.len() as f64 + w);
        p.clamp(0.01, 1.0)
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
        let p = self.answer_rate();
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
        let p = self.answer_rate();
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
    /// distribution conditioned on the elapsed time.
    pub fn p_talk_ends_within(&self, elapsed_s: f64, horizon_s: f64) -> f64 {
        let h = horizon_s - self.mean_wrap_up();
        if h <= 0.0 {
            return 0.0;
        }
        conditional_within(&self.talk, elapsed_s, h, self.mean_talk())
    }

    /// Probability that an agent in wrap-up for `elapsed_s` seconds is free within `horizon_s`.
    pub fn p_wrap_up_ends_within(&self, elapsed_s: f64, horizon_s: f64) -> f64 {
        if horizon_s <= 0.0 {
            return 0.0;
        }
        if self.wrap.is_empty() {
            return 0.0;
        }
        conditional_within(&self.wrap, elapsed_s, horizon_s, self.mean_wrap_up())
    }
}

/// P(X ≤ e + h | X > e) from an empirical sample; beyond the sample's range an
/// exponential tail with the sample mean is assumed (memoryless, cautious).
fn conditional_within(s: &SlidingSample, e: f64, h: f64, mean: f64) -> f64 {
    let tail = |h: f64| 1.0 - (-h / mean.max(1e-3)).exp();
    if s.len() < 5 {
        return tail(h);
    }
    let above_e = s.count_gt(e);
    if above_e == 0 {
        return tail(h);
    }
    let above_eh = s.count_gt(e + h);
    ((above_e - above_eh) as f64 / above_e as f64).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            st.record_talk(40.0 + 0.2 * i as f64); // U(40,60)-like
        }
        // Just started: cannot end within 20 s.
        assert_eq!(st.p_talk_ends_within(0.0, 20.0), 0.0);
        // At 50 s elapsed, half of the remaining mass ends within 5 s.
        let p = st.p_talk_ends_within(50.0, 5.0);
        assert!((p - 0.5).abs() < 0.05, "{p}");
        // At 55 s elapsed, everything ends within 10 s.
        assert_eq!(st.p_talk_ends_within(55.0, 10.0), 1.0);
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
