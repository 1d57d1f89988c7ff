//! Abandon rates over stretches of a run, pooled over seeds: the worst
//! 15-minute window, and the minutes after each change of conditions (0–10,
//! 10–30, 30–60), which is where a pacer that adapts slowly breaks the law.

use serde::{Deserialize, Serialize};

use crate::sim::SimResult;

/// Abandons over a stretch of the measured period, pooled over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// First minute (from the start of the measured period).
    pub from_min: f64,
    /// End minute (exclusive).
    pub to_min: f64,
    /// Calls answered by a live person in the stretch, all seeds.
    pub live_answered: u64,
    /// Of those, abandoned.
    pub abandoned: u64,
    /// abandoned / live-answered.
    pub rate: f64,
}

/// The stretches after one change of conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AfterChange {
    /// When the change happened (minute of the measured period).
    pub change_at_min: f64,
    /// Minutes 0–10, 10–30 and 30–60 after it (cut at the end of the run).
    pub spans: Vec<Span>,
}

/// The stretches after a change, relative to it, in minutes.
pub const AFTER_CHANGE: [(f64, f64); 3] = [(0.0, 10.0), (10.0, 30.0), (30.0, 60.0)];

/// Length of the window searched for the worst abandon rate, minutes.
pub const WORST_WINDOW_MIN: usize = 15;

fn pooled(runs: &[SimResult]) -> Vec<[u64; 2]> {
    let len = runs.iter().map(|r| r.per_minute.len()).max().unwrap_or(0);
    let mut out = vec![[0u64; 2]; len];
    for r in runs {
        for (o, m) in out.iter_mut().zip(&r.per_minute) {
            o[0] += m[0] as u64;
            o[1] += m[1] as u64;
        }
    }
    out
}

fn span(minutes: &[[u64; 2]], from: usize, to: usize) -> Span {
    let to = to.min(minutes.len());
    let from = from.min(to);
    let (ans, ab) = minutes[from..to]
        .iter()
        .fold((0, 0), |(a, b), m| (a + m[0], b + m[1]));
    Span {
        from_min: from as f64,
        to_min: to as f64,
        live_answered: ans,
        abandoned: ab,
        rate: if ans == 0 {
            0.0
        } else {
            ab as f64 / ans as f64
        },
    }
}

/// The 15-minute window (on whole minutes) with the highest pooled abandon rate.
pub fn worst_window(runs: &[SimResult]) -> Option<Span> {
    let m = pooled(runs);
    if m.is_empty() {
        return None;
    }
    let w = WORST_WINDOW_MIN.min(m.len());
    (0..=m.len() - w)
        .map(|i| span(&m, i, i + w))
        .max_by(|a, b| {
            a.rate
                .total_cmp(&b.rate)
                .then(b.from_min.total_cmp(&a.from_min))
        })
}

/// The pooled abandon rates after each change (times in seconds after the
/// start of the measured period).
pub fn after_changes(runs: &[SimResult], change_times_s: &[f64]) -> Vec<AfterChange> {
    let m = pooled(runs);
    change_times_s
        .iter()
        .map(|&t| {
            let at = (t / 60.0).floor() as usize;
            AfterChange {
                change_at_min: t / 60.0,
                spans: AFTER_CHANGE
                    .iter()
                    .map(|&(a, b)| span(&m, at + a as usize, at + b as usize))
                    .filter(|s| s.to_min > s.from_min)
                    .collect(),
            }
        })
        .collect()
}

/// The pooled rate over minutes `from..to` after the change (e.g. 0–60).
pub fn rate_after(change: &AfterChange, to_min: f64) -> Span {
    let mut s = Span {
        from_min: change.change_at_min,
        to_min: change.change_at_min + to_min,
        live_answered: 0,
        abandoned: 0,
        rate: 0.0,
    };
    for x in change
        .spans
        .iter()
        .filter(|x| x.to_min <= change.change_at_min.floor() + to_min)
    {
        s.live_answered += x.live_answered;
        s.abandoned += x.abandoned;
    }
    if s.live_answered > 0 {
        s.rate = s.abandoned as f64 / s.live_answered as f64;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(per_minute: Vec<[u32; 2]>) -> SimResult {
        SimResult {
            mode: "x".into(),
            seed: 0,
            occupancy: 0.0,
            talk_min_per_agent_hour: 0.0,
            abandon_rate: 0.0,
            live_answered: 0,
            abandoned: 0,
            calls_placed: 0,
            events: 0,
            per_minute,
            per_minute_time: Vec::new(),
            campaigns: Vec::new(),
        }
    }

    #[test]
    fn the_worst_window_is_found_and_pooled_over_seeds() {
        let mut a = vec![[10, 0]; 60];
        let mut b = vec![[10, 0]; 60];
        a[40] = [10, 3];
        b[44] = [10, 3];
        let w = worst_window(&[run(a), run(b)]).unwrap();
        // Both bursts fit in minutes 30..45 .. 40..55; the earliest is reported.
        assert_eq!(w.from_min, 30.0);
        assert_eq!((w.live_answered, w.abandoned), (300, 6));
        assert!((w.rate - 0.02).abs() < 1e-12);
    }

    #[test]
    fn after_a_change_the_stretches_are_counted_and_cut_at_the_end() {
        let mut m = vec![[10, 0]; 100];
        m[62] = [10, 5];
        m[75] = [10, 1];
        let c = after_changes(&[run(m)], &[3600.0]);
        assert_eq!(c.len(), 1);
        let s = &c[0].spans;
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[0].from_min, s[0].to_min, s[0].abandoned),
            (60.0, 70.0, 5)
        );
        assert_eq!((s[1].abandoned, s[1].live_answered), (1, 200));
        assert_eq!((s[2].from_min, s[2].to_min), (90.0, 100.0));
        let all = rate_after(&c[0], 60.0);
        assert_eq!((all.live_answered, all.abandoned), (400, 6));
    }
}
