//! A log-normal fitted to a sample's logarithms: the smooth, honest tail that
//! the empirical talk-time distribution lacks beyond its few largest values.
//! Used to blend with the empirical conditional survival so that no busy
//! agent is ever scored as certain to be free.

/// A log-normal given by the mean and standard deviation of ln(x).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormalFit {
    /// Mean of ln(x).
    pub mu: f64,
    /// Standard deviation of ln(x) (> 0).
    pub sigma: f64,
}

impl LogNormalFit {
    /// Fits from the sums of ln(x) and ln(x)² over `n` values; `None` below 5 values.
    pub fn from_sums(n: usize, sum: f64, sum_sq: f64) -> Option<Self> {
        if n < 5 {
            return None;
        }
        let mu = sum / n as f64;
        let var = (sum_sq / n as f64 - mu * mu).max(0.0);
        Some(LogNormalFit {
            mu,
            sigma: var.sqrt().max(0.05),
        })
    }

    /// P(X > x).
    pub fn survival(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 1.0;
        }
        0.5 * libm::erfc((x.ln() - self.mu) / (self.sigma * std::f64::consts::SQRT_2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survival_of_the_median_is_a_half_and_falls_with_x() {
        let f = LogNormalFit {
            mu: 100f64.ln(),
            sigma: 0.8,
        };
        assert!((f.survival(100.0) - 0.5).abs() < 1e-6);
        assert!(f.survival(50.0) > f.survival(100.0));
        assert!(f.survival(1000.0) > 0.0 && f.survival(1000.0) < 0.01);
        assert_eq!(f.survival(0.0), 1.0);
    }
}
