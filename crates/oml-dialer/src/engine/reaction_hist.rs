//! The engine's histogram of reaction times (agent freed → the `Originate`
//! it caused handed to the AMI client), kept since the engine started and
//! published with the live figures, for Prometheus's
//! `oml_dialer_reaction_seconds` (issue 20 item 6).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Upper bounds of the buckets, in seconds (the last bucket is `+Inf`).
pub const BOUNDS_S: [f64; 11] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// Counts per bucket, lock-free.
#[derive(Debug, Default)]
pub struct ReactionHistogram {
    /// One per bound, then `+Inf`.
    buckets: [AtomicU64; BOUNDS_S.len() + 1],
    sum_us: AtomicU64,
}

/// What is published: each bucket's own count (not cumulative), the sum.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReactionSummary {
    /// Upper bounds in seconds; one count more than bounds (`+Inf`).
    pub bounds_s: Vec<f64>,
    pub counts: Vec<u64>,
    pub sum_s: f64,
}

impl ReactionSummary {
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Adds another node's counts (same bounds; an empty summary takes
    /// the other's).
    pub fn add(&mut self, other: &ReactionSummary) {
        if self.counts.is_empty() {
            *self = other.clone();
        } else if self.bounds_s == other.bounds_s {
            for (a, b) in self.counts.iter_mut().zip(&other.counts) {
                *a += b;
            }
            self.sum_s += other.sum_s;
        }
    }
}

impl ReactionHistogram {
    pub fn observe(&self, us: u64) {
        let s = us as f64 / 1e6;
        let i = BOUNDS_S
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(BOUNDS_S.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    pub fn summary(&self) -> ReactionSummary {
        ReactionSummary {
            bounds_s: BOUNDS_S.to_vec(),
            counts: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
            sum_s: self.sum_us.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_time_lands_in_its_bucket() {
        let h = ReactionHistogram::default();
        for us in [300, 500, 1_500, 2_000_000] {
            h.observe(us);
        }
        let s = h.summary();
        assert_eq!(s.counts.len(), BOUNDS_S.len() + 1);
        assert_eq!(s.counts[0], 2, "0.3 and 0.5 ms: first bucket (le 0.5 ms)");
        assert_eq!(s.counts[2], 1, "1.5 ms: le 2 ms");
        assert_eq!(*s.counts.last().unwrap(), 1, "2 s: +Inf");
        assert_eq!(s.count(), 4);
        assert!((s.sum_s - 2.0023).abs() < 1e-9);
        let mut two = ReactionSummary::default();
        two.add(&s);
        two.add(&s);
        assert_eq!((two.count(), two.counts[0]), (8, 4));
    }
}
