//! Duration distributions (seconds) for ring, talk, wrap-up and preview times:
//! parsing from the command line, validation, sampling with an injected RNG.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand_distr::{Distribution as _, Exp, LogNormal};
use serde::{Deserialize, Serialize};

use crate::error::PacingError;

/// A distribution of durations, in seconds. Samples are never negative.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Dist {
    /// Always the same value.
    Const {
        /// The value, seconds.
        value: f64,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// Lower bound, seconds.
        min: f64,
        /// Upper bound, seconds.
        max: f64,
    },
    /// Exponential with the given mean.
    Exp {
        /// Mean, seconds.
        mean: f64,
    },
    /// Log-normal with the given mean and standard deviation (of the value, not of its log).
    LogNormal {
        /// Mean, seconds.
        mean: f64,
        /// Standard deviation, seconds.
        sd: f64,
    },
}

impl Dist {
    /// Uniform between `min` and `max` seconds.
    pub const fn uniform(min: f64, max: f64) -> Self {
        Dist::Uniform { min, max }
    }

    /// Always `value` seconds.
    pub const fn constant(value: f64) -> Self {
        Dist::Const { value }
    }

    /// The mean, seconds.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Const { value } => value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Exp { mean } => mean,
            Dist::LogNormal { mean, .. } => mean,
        }
    }

    /// Checks the parameters; `name` is the parameter the distribution was given for.
    pub fn validate(&self, name: &str) -> Result<(), PacingError> {
        let bad = |reason: &str| Err(PacingError::invalid(name, reason));
        let finite = |v: f64| v.is_finite();
        match *self {
            Dist::Const { value } => {
                if !finite(value) || value < 0.0 {
                    return bad("the time must be a finite number of seconds ≥ 0");
                }
            }
            Dist::Uniform { min, max } => {
                if !finite(min) || !finite(max) || min < 0.0 || max < 0.0 {
                    return bad("times must be finite numbers of seconds ≥ 0");
                }
                if min > max {
                    return bad("the minimum of U(min,max) is above the maximum");
                }
            }
            Dist::Exp { mean } => {
                if !finite(mean) || mean <= 0.0 {
                    return bad("the mean of exp(mean) must be a finite number of seconds > 0");
                }
            }
            Dist::LogNormal { mean, sd } => {
                if !finite(mean) || mean <= 0.0 {
                    return bad("the mean of lognormal(mean,sd) must be > 0 seconds");
                }
                if !finite(sd) || sd <= 0.0 {
                    return bad("the standard deviation of lognormal(mean,sd) must be > 0 seconds");
                }
            }
        }
        Ok(())
    }

    /// Draws one duration in seconds (≥ 0). The distribution must be valid.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let v = match *self {
            Dist::Const { value } => value,
            Dist::Uniform { min, max } => {
                if max > min {
                    rng.gen_range(min..max)
                } else {
                    min
                }
            }
            Dist::Exp { mean } => match Exp::new(1.0 / mean) {
                Ok(d) => d.sample(rng),
                Err(_) => mean,
            },
            Dist::LogNormal { mean, sd } => {
                let (mu, sigma) = lognormal_params(mean, sd);
                match LogNormal::new(mu, sigma) {
                    Ok(d) => d.sample(rng),
                    Err(_) => mean,
                }
            }
        };
        v.max(0.0)
    }
}

/// Parameters (μ, σ) of the underlying normal for a log-normal of the given mean and sd.
fn lognormal_params(mean: f64, sd: f64) -> (f64, f64) {
    let var_ratio = (sd / mean).powi(2);
    let sigma2 = (1.0 + var_ratio).ln();
    (mean.ln() - sigma2 / 2.0, sigma2.sqrt())
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Dist::Const { value } => write!(f, "const({value})"),
            Dist::Uniform { min, max } => write!(f, "U({min},{max})"),
            Dist::Exp { mean } => write!(f, "exp({mean})"),
            Dist::LogNormal { mean, sd } => write!(f, "lognormal({mean},{sd})"),
        }
    }
}

impl Dist {
    /// Parses `U(a,b)` / `uniform(a,b)`, `exp(mean)`, `lognormal(mean,sd)`,
    /// `const(v)` or a bare number, and validates it. `name` names the parameter in errors.
    pub fn parse(name: &str, text: &str) -> Result<Dist, PacingError> {
        let err = |reason: &str| PacingError::InvalidDistribution {
            name: name.to_string(),
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let t = text.trim();
        let dist = if let Ok(v) = t.parse::<f64>() {
            Dist::Const { value: v }
        } else {
            let open = t.find('(').ok_or_else(|| err("missing `(`"))?;
            if !t.ends_with(')') {
                return Err(err("missing `)` at the end"));
            }
            let kind = t[..open].trim().to_ascii_lowercase();
            let args: Vec<f64> = t[open + 1..t.len() - 1]
                .split(',')
                .map(|a| a.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| err("arguments must be numbers of seconds"))?;
            let want = |n: usize| {
                if args.len() == n {
                    Ok(())
                } else {
                    Err(err(&format!("`{kind}` takes {n} argument(s)")))
                }
            };
            match kind.as_str() {
                "u" | "uniform" => {
                    want(2)?;
                    Dist::Uniform {
                        min: args[0],
                        max: args[1],
                    }
                }
                "exp" | "exponential" => {
                    want(1)?;
                    Dist::Exp { mean: args[0] }
                }
                "lognormal" | "lognorm" | "ln" => {
                    want(2)?;
                    Dist::LogNormal {
                        mean: args[0],
                        sd: args[1],
                    }
                }
                "const" | "c" => {
                    want(1)?;
                    Dist::Const { value: args[0] }
                }
                _ => return Err(err("unknown distribution kind")),
            }
        };
        dist.validate(name)?;
        Ok(dist)
    }
}

impl FromStr for Dist {
    type Err = PacingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dist::parse("distribution", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn parses_every_kind_and_round_trips() {
        for text in ["U(40,60)", "exp(90)", "lognormal(90,30)", "const(5)"] {
            let d = Dist::parse("talk", text).unwrap();
            assert_eq!(Dist::parse("talk", &d.to_string()).unwrap(), d);
        }
        assert_eq!(Dist::parse("x", "3").unwrap(), Dist::constant(3.0));
        assert_eq!(
            Dist::parse("x", "uniform( 1 , 2 )").unwrap(),
            Dist::uniform(1.0, 2.0)
        );
    }

    #[test]
    fn errors_name_the_parameter() {
        let e = Dist::parse("talk", "U(60,40)").unwrap_err().to_string();
        assert!(e.contains("`talk`"), "{e}");
        let e = Dist::parse("wrap-up", "U(-1,4)").unwrap_err().to_string();
        assert!(e.contains("`wrap-up`") && e.contains("≥ 0"), "{e}");
        let e = Dist::parse("ring", "gamma(3)").unwrap_err().to_string();
        assert!(e.contains("unknown distribution"), "{e}");
        assert!(Dist::parse("ring", "exp(0)").is_err());
        assert!(Dist::parse("ring", "-2").is_err());
    }

    #[test]
    fn sample_means_are_close_to_the_declared_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for d in [
            Dist::uniform(40.0, 60.0),
            Dist::Exp { mean: 90.0 },
            Dist::LogNormal {
                mean: 90.0,
                sd: 30.0,
            },
        ] {
            let n = 20_000;
            let m: f64 = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            assert!((m - d.mean()).abs() / d.mean() < 0.03, "{d}: {m}");
        }
    }
}
