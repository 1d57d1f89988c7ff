//! A log-normal fitted to a sample's logarithms: the smooth, honest tail that
//! the empirical talk-time distribution lacks beyond its few largest values.
//! Used to blend with the empirical conditional survival so that no busy
//! agent is ever scored as certain to be free.

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

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
        0.5 * erfc((x.ln() - self.mu) / (self.sigma * std::f64::consts::SQRT_2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        for (x, v) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (2.0, 0.004_677_735),
            (-1.0, 1.842_700_793),
        ] {
            assert!((erfc(x) - v).abs() < 1e-6, "{x}: {}", erfc(x));
        }
    }

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
