//! Answering machines in the simulated PBX (issue 18): which answers are
//! machines, how long Asterisk's `AMD()` listens before its verdict, how
//! often the verdict is wrong, and how long the messages the campaign's
//! context plays last. Pure: the model, its check naming the flag to fix,
//! and the drawing of one verdict with a seeded RNG.

use rand::Rng;

use crate::config::{Dist, ParseError};

/// How answering machines and `AMD()` behave (simulated seconds).
#[derive(Clone, Debug, PartialEq)]
pub struct MachineModel {
    /// Fraction of answers that come from a machine (`--machine-rate`).
    pub rate: f64,
    /// How long `AMD()` listens before its verdict (`--amd-time`).
    pub amd_time: Dist,
    /// Fraction of people `AMD()` calls a machine (`--amd-false-positive`).
    pub false_positive: f64,
    /// Fraction of machines `AMD()` calls a person (`--amd-false-negative`).
    pub false_negative: f64,
    /// How long a message (machine or abandon message) plays before the
    /// context hangs up (`--message-time`).
    pub message_time: Dist,
}

impl Default for MachineModel {
    fn default() -> Self {
        MachineModel {
            rate: 0.0,
            amd_time: Dist::Uniform { min: 2.0, max: 4.0 },
            false_positive: 0.0,
            false_negative: 0.0,
            message_time: Dist::Fixed(5.0),
        }
    }
}

/// `AMD()`'s verdict on one answer, as the campaign's context reports it
/// (`AMDSTATUS`, `AMDCAUSE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// `MACHINE` or `HUMAN`.
    pub status: &'static str,
    /// Asterisk's `AMDCAUSE` form for that status.
    pub cause: String,
}

impl Verdict {
    /// Whether the context sends the call to its `machine` extension.
    pub fn machine(&self) -> bool {
        self.status == "MACHINE"
    }
}

impl MachineModel {
    /// Every fraction is between 0 and 1, naming the flag otherwise.
    pub fn check(&self) -> Result<(), ParseError> {
        for (flag, p) in [
            ("--machine-rate", self.rate),
            ("--amd-false-positive", self.false_positive),
            ("--amd-false-negative", self.false_negative),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(ParseError(format!(
                    "{flag} {p} must be between 0 and 1 (write 0.3 or 30%)"
                )));
            }
        }
        Ok(())
    }

    /// Whether an answer comes from a machine. Draws nothing when there
    /// are no machines, so a run without them keeps its calls.
    pub fn is_machine<R: Rng + ?Sized>(&self, rng: &mut R) -> bool {
        self.rate > 0.0 && rng.gen::<f64>() < self.rate
    }

    /// `AMD()`'s verdict on an answer by a machine or a person.
    pub fn verdict<R: Rng + ?Sized>(&self, machine: bool, rng: &mut R) -> Verdict {
        let wrong = if machine {
            self.false_negative
        } else {
            self.false_positive
        };
        let wrong = wrong > 0.0 && rng.gen::<f64>() < wrong;
        // Causes in Asterisk's form: a greeting longer than `greeting`
        // (1500 ms), or the silence after a short one (800 ms).
        if machine != wrong {
            Verdict {
                status: "MACHINE",
                cause: "LONGGREETING-1600-1500".into(),
            }
        } else {
            Verdict {
                status: "HUMAN",
                cause: "HUMAN-800-800".into(),
            }
        }
    }
}

/// Parses a fraction flag: `0.3` or `30%`.
pub fn parse_fraction(text: &str) -> Result<f64, ParseError> {
    let t = text.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (t, 1.0),
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .map(|v| v / scale)
        .filter(|v| (0.0..=1.0).contains(v))
        .ok_or_else(|| {
            ParseError(format!(
                "{text:?} is not a fraction between 0 and 1 (write 0.3 or 30%)"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rates_and_errors_as_configured() {
        let m = MachineModel {
            rate: 0.3,
            false_positive: 0.05,
            false_negative: 0.2,
            ..MachineModel::default()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let n = 20_000;
        let machines: Vec<bool> = (0..n).map(|_| m.is_machine(&mut rng)).collect();
        let share = machines.iter().filter(|x| **x).count() as f64 / n as f64;
        assert!((share - 0.3).abs() < 0.02, "{share}");
        let said = |machine: bool, rng: &mut rand::rngs::StdRng| {
            (0..n).filter(|_| m.verdict(machine, rng).machine()).count() as f64 / n as f64
        };
        let fp = said(false, &mut rng);
        let tp = said(true, &mut rng);
        assert!((fp - 0.05).abs() < 0.01, "false positives {fp}");
        assert!((tp - 0.8).abs() < 0.02, "machines found {tp}");
        let v = m.verdict(false, &mut rng);
        assert_eq!(v.cause.starts_with("HUMAN"), !v.machine(), "{v:?}");
    }

    #[test]
    fn no_machines_draw_nothing() {
        let m = MachineModel::default();
        let mut a = rand::rngs::StdRng::seed_from_u64(9);
        let mut b = rand::rngs::StdRng::seed_from_u64(9);
        assert!(!m.is_machine(&mut a));
        assert_eq!(a.gen::<u64>(), b.gen::<u64>(), "the RNG did not move");
    }

    #[test]
    fn bad_fractions_name_the_flag() {
        assert_eq!(parse_fraction("30%").unwrap(), 0.3);
        assert_eq!(parse_fraction("0.25").unwrap(), 0.25);
        assert!(parse_fraction("130%").is_err());
        assert!(parse_fraction("x").is_err());
        let e = MachineModel {
            false_negative: 2.0,
            ..MachineModel::default()
        }
        .check()
        .unwrap_err();
        assert!(e.0.contains("--amd-false-negative"), "{}", e.0);
    }
}
