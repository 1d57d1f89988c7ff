//! The distribution of a count of independent yes/no events with different
//! probabilities (a Poisson-binomial): how many busy agents will be free, or
//! how many calls in flight will be answered, by some moment. The predictive
//! pacer needs its exact lower tail, where a normal approximation is poorest
//! (a handful of agents each with a small chance of finishing). Written here
//! because it is a few lines of convolution; no crate offers it for `f64`.

/// Probabilities below this (or above 1 − this) are treated as 0 (or 1).
const NEGLIGIBLE: f64 = 1e-9;

/// Tail probabilities below this are dropped (see [`CountDist::trim`]).
const TAIL: f64 = 1e-15;

/// P(count = certain + i) for i = 0.. .
#[derive(Debug, Clone, PartialEq)]
pub struct CountDist {
    certain: u32,
    pmf: Vec<f64>,
}

impl CountDist {
    /// A count known to be exactly `n`.
    pub fn exactly(n: u32) -> Self {
        CountDist {
            certain: n,
            pmf: vec![1.0],
        }
    }

    /// Adds one event happening with probability `p` (clamped to 0..=1).
    pub fn add(&mut self, p: f64) {
        // NaN counts as impossible.
        if p.is_nan() || p <= NEGLIGIBLE {
            return;
        }
        if p >= 1.0 - NEGLIGIBLE {
            self.certain += 1;
            return;
        }
        // One forward pass: each value keeps (1 − p) of itself and gains p
        // of the one below it (no index checks in the loop).
        let q = 1.0 - p;
        let mut below = 0.0;
        for x in self.pmf.iter_mut() {
            let here = *x;
            *x = here * q + below * p;
            below = here;
        }
        self.pmf.push(below * p);
        self.trim();
    }

    /// Drops tail values whose probability is negligible, so that the table
    /// grows with the spread of the count (a few standard deviations), not
    /// with the number of events: large campaigns stay cheap.
    fn trim(&mut self) {
        let low = self
            .pmf
            .iter()
            .take_while(|&&q| q < TAIL)
            .count()
            .min(self.pmf.len() - 1);
        if low > 0 {
            self.pmf.drain(..low);
            self.certain += low as u32;
        }
        while self.pmf.len() > 1 && self.pmf[self.pmf.len() - 1] < TAIL {
            self.pmf.pop();
        }
    }

    /// Expected count.
    pub fn mean(&self) -> f64 {
        self.certain as f64
            + self
                .pmf
                .iter()
                .enumerate()
                .map(|(i, q)| i as f64 * q)
                .sum::<f64>()
    }

    /// P(count ≤ x) for every x in `0..=max`, as a table indexed by x.
    pub fn cdf_table(&self, max: usize) -> Vec<f64> {
        let mut out = vec![0.0; max + 1];
        let mut acc = 0.0;
        for (x, slot) in out.iter_mut().enumerate() {
            if x >= self.certain as usize {
                let i = x - self.certain as usize;
                acc += self.pmf.get(i).copied().unwrap_or(0.0);
            }
            *slot = acc.min(1.0);
        }
        out
    }

    /// P(self ≤ other) for independent counts, with `self`'s cdf table
    /// (from [`CountDist::cdf_table`]; beyond its end the cdf is taken as 1).
    pub fn p_other_at_least(cdf_self: &[f64], other: &CountDist) -> f64 {
        // Values of `other` within the table, then those beyond it (cdf 1).
        let from = (other.certain as usize).min(cdf_self.len());
        let within = (cdf_self.len() - from).min(other.pmf.len());
        let (inside, beyond) = other.pmf.split_at(within);
        let p = inside
            .iter()
            .zip(&cdf_self[from..from + within])
            .map(|(q, c)| q * c)
            .sum::<f64>()
            + beyond.iter().sum::<f64>();
        p.clamp(0.0, 1.0)
    }

    /// Largest value with non-zero probability.
    pub fn max_value(&self) -> usize {
        self.certain as usize + self.pmf.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_binomial_when_probabilities_are_equal() {
        let mut c = CountDist::exactly(0);
        for _ in 0..4 {
            c.add(0.5);
        }
        let cdf = c.cdf_table(4);
        let expect = [1.0, 5.0, 11.0, 15.0, 16.0].map(|x| x / 16.0);
        for (a, b) in cdf.iter().zip(expect) {
            assert!((a - b).abs() < 1e-12, "{cdf:?}");
        }
        assert!((c.mean() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn many_events_keep_a_short_table_and_the_right_mean() {
        let mut c = CountDist::exactly(0);
        for i in 0..5000 {
            c.add(0.1 + 0.8 * (i % 7) as f64 / 6.0);
        }
        let expected: f64 = (0..5000).map(|i| 0.1 + 0.8 * (i % 7) as f64 / 6.0).sum();
        assert!(
            (c.mean() - expected).abs() < 1e-6,
            "{} {expected}",
            c.mean()
        );
        // About 16 standard deviations wide (sd ≈ 30), not 5,001 entries.
        assert!(c.pmf.len() < 600, "{}", c.pmf.len());
        let cdf = c.cdf_table(c.max_value());
        assert!((cdf[cdf.len() - 1] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn certain_and_impossible_events_shift_or_vanish() {
        let mut c = CountDist::exactly(2);
        c.add(1.0);
        c.add(0.0);
        assert_eq!(c.cdf_table(4), vec![0.0, 0.0, 0.0, 1.0, 1.0]);
        assert_eq!(c.max_value(), 3);
    }

    #[test]
    fn compares_two_counts() {
        // S ∈ {0,1} with P(1) = 0.3; D = 0 for sure: P(S ≤ D) = 0.7.
        let mut s = CountDist::exactly(0);
        s.add(0.3);
        let d = CountDist::exactly(0);
        let p = CountDist::p_other_at_least(&s.cdf_table(s.max_value()), &d);
        assert!((p - 0.7).abs() < 1e-12);
        // D = 1 for sure: S ≤ 1 always.
        let p = CountDist::p_other_at_least(&s.cdf_table(s.max_value()), &CountDist::exactly(1));
        assert!((p - 1.0).abs() < 1e-12);
    }
}
