//! What a campaign's pacer learned, kept so that it survives a restart or
//! a take-over: the recent observations (answers and ring times, talk and
//! wrap-up times, in PBX seconds) fed to its [`CallStats`], saved now and
//! then and replayed into fresh statistics when a node starts pacing the
//! campaign. Old observations weigh less: of a memory `age` old only the
//! newest `0.5^(age / HALF_LIFE)` share is replayed, so the priors and the
//! new calls take over sooner; past [`FORGET_AFTER`] nothing is. A
//! campaign with too little of its own starts from another's (`start.rs`).

use std::collections::VecDeque;
use std::time::Duration;

use oml_pacing::CallStats;
use oml_store::pacing_memory::{LearnedAttempt, LearnedCalls, PacingStart};

pub(super) mod start;
#[cfg(test)]
mod tests_start;

/// Attempts kept (the statistics' own window).
const KEEP_ATTEMPTS: usize = 2000;
/// Talk and wrap-up times kept.
const KEEP_TIMES: usize = 500;
/// Age at which half of a saved memory is replayed.
pub const HALF_LIFE: Duration = Duration::from_secs(12 * 3600);
/// Age past which a saved memory is ignored.
pub const FORGET_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often a campaign's memory is saved while it learns.
pub const SAVE_EVERY: Duration = Duration::from_secs(60);

/// The recent observations of one campaign.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    attempts: VecDeque<LearnedAttempt>,
    talks: VecDeque<f64>,
    wrap_ups: VecDeque<f64>,
    /// Observations since the last save.
    pub(super) dirty: bool,
    /// Where pacing started from, saved with the observations.
    pub(super) started: Option<PacingStart>,
}

fn push<T>(q: &mut VecDeque<T>, cap: usize, x: T) {
    if q.len() == cap {
        q.pop_front();
    }
    q.push_back(x);
}

/// The share of a memory `age_ms` old that is replayed.
pub fn weight(age_ms: i64) -> f64 {
    let age = age_ms.max(0) as f64 / 1000.0;
    if age >= FORGET_AFTER.as_secs_f64() {
        return 0.0;
    }
    0.5f64.powf(age / HALF_LIFE.as_secs_f64())
}

/// How many of `len` observations a `share` of them is, at most `cap`.
fn count(len: usize, share: f64, cap: usize) -> usize {
    ((len as f64 * share).round() as usize).min(len).min(cap)
}

/// The newest `n` of `xs`.
fn newest<T: Copy>(xs: &[T], n: usize) -> impl Iterator<Item = T> + '_ {
    xs[xs.len() - n.min(xs.len())..].iter().copied()
}

/// The newest `share` of each kind of observation in `saved` (at most
/// `cap_attempts` attempts and `cap_times` talk and wrap-up times each),
/// oldest first, without values that cannot be replayed.
pub(super) fn replayed(
    saved: &LearnedCalls,
    share: f64,
    cap_attempts: usize,
    cap_times: usize,
) -> LearnedCalls {
    let valid = |x: &f64| x.is_finite() && *x >= 0.0;
    let (t, w) = (&saved.talks, &saved.wrap_ups);
    let a: Vec<LearnedAttempt> = saved.learned_attempts().collect();
    let mut out = LearnedCalls {
        talks: newest(t, count(t.len(), share, cap_times))
            .filter(valid)
            .collect(),
        wrap_ups: newest(w, count(w.len(), share, cap_times))
            .filter(valid)
            .collect(),
        ..LearnedCalls::default()
    };
    out.set_attempts(newest(&a, count(a.len(), share, cap_attempts)).filter(|a| valid(&a.ring_s)));
    out
}

/// Feeds observations to `stats` alone (borrowed ones are not the campaign's).
pub(super) fn feed(stats: &mut CallStats, obs: &LearnedCalls) {
    for a in obs.learned_attempts() {
        if a.machine {
            stats.record_machine(a.ring_s);
        } else {
            stats.record_attempt(a.answered, a.ring_s);
        }
    }
    for &t in &obs.talks {
        stats.record_talk(t);
    }
    for &w in &obs.wrap_ups {
        stats.record_wrap_up(w);
    }
}

impl Memory {
    /// An attempt rang `ring_s` PBX seconds and was answered or not; fed to
    /// `stats` too.
    pub fn attempt(&mut self, stats: &mut CallStats, answered: bool, ring_s: f64) {
        stats.record_attempt(answered, ring_s);
        let a = LearnedAttempt {
            answered,
            ring_s,
            machine: false,
        };
        push(&mut self.attempts, KEEP_ATTEMPTS, a);
        self.dirty = true;
    }

    /// An attempt an answering machine answered after `ring_s`: `stats`
    /// learns the machine share apart ([`CallStats::record_machine`]), and
    /// it is saved as a machine (replayed as one after a restart).
    pub fn machine(&mut self, stats: &mut CallStats, ring_s: f64) {
        stats.record_machine(ring_s);
        let a = LearnedAttempt {
            answered: false,
            ring_s,
            machine: true,
        };
        push(&mut self.attempts, KEEP_ATTEMPTS, a);
        self.dirty = true;
    }

    pub fn talk(&mut self, stats: &mut CallStats, talk_s: f64) {
        stats.record_talk(talk_s);
        push(&mut self.talks, KEEP_TIMES, talk_s);
        self.dirty = true;
    }

    pub fn wrap_up(&mut self, stats: &mut CallStats, wrap_s: f64) {
        stats.record_wrap_up(wrap_s);
        push(&mut self.wrap_ups, KEEP_TIMES, wrap_s);
        self.dirty = true;
    }

    /// What to save.
    pub fn learned(&self) -> LearnedCalls {
        let mut l = LearnedCalls {
            talks: self.talks.iter().copied().collect(),
            wrap_ups: self.wrap_ups.iter().copied().collect(),
            ..LearnedCalls::default()
        };
        l.set_attempts(self.attempts.iter().copied());
        l
    }

    /// A memory saved `age_ms` ago replayed into fresh statistics (its
    /// newest share, by [`weight`]), and the memory that now holds it.
    pub fn restore(saved: &LearnedCalls, age_ms: i64) -> (Memory, CallStats) {
        let obs = replayed(saved, weight(age_ms), KEEP_ATTEMPTS, KEEP_TIMES);
        let mut stats = CallStats::default();
        feed(&mut stats, &obs);
        let m = Memory {
            attempts: obs.learned_attempts().collect(),
            talks: obs.talks.into(),
            wrap_ups: obs.wrap_ups.into(),
            dirty: false,
            started: None,
        };
        (m, stats)
    }

    /// Whether nothing was observed.
    pub(super) fn is_empty(&self) -> bool {
        self.attempts.is_empty() && self.talks.is_empty() && self.wrap_ups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(n: usize) -> LearnedCalls {
        LearnedCalls {
            attempts: (0..n).map(|i| (i % 4 == 0, 5.0)).collect(),
            talks: vec![100.0; n.min(KEEP_TIMES)],
            wrap_ups: vec![10.0; n.min(KEEP_TIMES)],
            ..LearnedCalls::default()
        }
    }

    #[test]
    fn a_fresh_memory_is_replayed_whole_and_an_old_one_in_part() {
        let (m, st) = Memory::restore(&saved(400), 0);
        assert_eq!(st.attempts_observed(), 400);
        assert_eq!(st.talks_observed(), 400);
        assert!(
            st.answer_rate() < 0.4,
            "learned, not the prior: {}",
            st.answer_rate()
        );
        assert_eq!(m.learned(), saved(400));
        let day = 24 * 3600 * 1000;
        let (_, st) = Memory::restore(&saved(400), day);
        assert_eq!(st.attempts_observed(), 100, "two half-lives: a quarter");
        let (_, st) = Memory::restore(&saved(400), 8 * day);
        assert_eq!(st.attempts_observed(), 0, "a week old: forgotten");
        assert_eq!(st.answer_rate(), CallStats::default().answer_rate());
    }

    #[test]
    fn observations_are_kept_up_to_their_caps_and_bad_values_are_not_replayed() {
        let mut m = Memory::default();
        let mut st = CallStats::default();
        for i in 0..(KEEP_ATTEMPTS + 10) {
            m.attempt(&mut st, true, i as f64);
        }
        let l = m.learned();
        assert_eq!(l.attempts.len(), KEEP_ATTEMPTS);
        assert_eq!(l.attempts[0].1, 10.0, "the oldest went first");
        let bad = LearnedCalls {
            attempts: vec![(true, f64::NAN), (false, -1.0), (true, 3.0)],
            talks: vec![f64::INFINITY],
            wrap_ups: vec![],
            machines: vec![1],
        };
        let (_, st) = Memory::restore(&bad, 0);
        assert_eq!((st.attempts_observed(), st.talks_observed()), (1, 0));
    }

    #[test]
    fn machines_are_saved_and_replayed_as_machines() {
        let mut m = Memory::default();
        let mut st = CallStats::default();
        for i in 0..300 {
            match i % 10 {
                0..=1 => m.attempt(&mut st, true, 10.0),
                2..=4 => m.machine(&mut st, 4.0),
                _ => m.attempt(&mut st, false, 25.0),
            }
        }
        let saved = m.learned();
        assert_eq!(saved.machines.len(), 90);
        let (back, st2) = Memory::restore(&saved, 0);
        assert_eq!(back.learned(), saved);
        assert!((st2.machine_rate() - st.machine_rate()).abs() < 1e-9);
        assert!(
            (st2.machine_rate() - 0.3).abs() < 0.05,
            "{}",
            st2.machine_rate()
        );
        // Half of it replayed: the machines among the newest half stay machines.
        let (half, st3) = Memory::restore(&saved, HALF_LIFE.as_millis() as i64);
        assert_eq!(half.learned().attempts.len(), 150);
        assert_eq!(half.learned().machines.len(), 45);
        assert!(
            (st3.machine_rate() - 0.3).abs() < 0.05,
            "{}",
            st3.machine_rate()
        );
    }
}
