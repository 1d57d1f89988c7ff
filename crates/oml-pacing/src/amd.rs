//! Answering machines on a simulated floor: the share of answers that are
//! machines, and the answering-machine detection (AMD) that tells them
//! apart before an agent is asked for: its decision time (the line stays
//! busy, no agent is taken), and its mistakes (a person judged a machine
//! is hung up on, which the regulators count as an abandoned call; a
//! machine judged a person reaches an agent). Without AMD every machine is
//! put through to an agent, who spends `machine_talk` on it. The simulator
//! asks [`Machines::route`] what becomes of each answered call.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::dist::Dist;
use crate::error::PacingError;

/// How machines answer and how they are detected.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Machines {
    /// Share of answered calls answered by a machine (0..1).
    pub rate: f64,
    /// AMD decision time; `None` = AMD off (every answer goes to an agent).
    pub amd_time: Option<Dist>,
    /// Share of persons the AMD judges to be machines (hung up on).
    pub false_positive: f64,
    /// Share of machines the AMD judges to be persons (put through).
    pub false_negative: f64,
    /// Agent time spent on a machine put through, seconds.
    pub machine_talk: Dist,
    /// Ofcom (the `uk` window, AMD on): the share of machine verdicts the
    /// operator counts as people hung up on, i.e. abandoned (its estimate
    /// of AMD false positives; oml's campaign default, 5 %). The people
    /// the AMD really took for machines are not seen by an operator and
    /// are counted through this estimate instead.
    #[serde(default = "default_ofcom_estimate")]
    pub ofcom_estimate: f64,
}

fn default_ofcom_estimate() -> f64 {
    0.05
}

impl Default for Machines {
    fn default() -> Self {
        Machines {
            rate: 0.0,
            amd_time: None,
            false_positive: 0.0,
            false_negative: 0.0,
            machine_talk: Dist::uniform(5.0, 15.0),
            ofcom_estimate: default_ofcom_estimate(),
        }
    }
}

/// What becomes of an answered call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Route {
    /// Seconds the AMD listens before deciding (0 without AMD).
    pub detect_s: f64,
    /// A machine answered (whatever the AMD decides).
    pub machine: bool,
    /// The call goes to an agent (otherwise it is hung up after detection).
    pub to_agent: bool,
}

impl Machines {
    /// True when no machine ever answers and no AMD runs.
    pub fn is_none(&self) -> bool {
        self.rate == 0.0 && self.amd_time.is_none()
    }

    /// Checks the parameters; errors name the command-line option.
    pub fn validate(&self) -> Result<(), PacingError> {
        for (name, v) in [
            ("machine-rate", self.rate),
            ("amd-false-positive", self.false_positive),
            ("amd-false-negative", self.false_negative),
            ("amd-false-positive-estimate", self.ofcom_estimate),
        ] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(PacingError::invalid(
                    name,
                    "must be a fraction between 0 and 1 (e.g. 0.3 or 30%)",
                ));
            }
        }
        if let Some(d) = &self.amd_time {
            d.validate("amd-time")?;
        }
        self.machine_talk.validate("machine-talk")
    }

    /// Draws what becomes of one answered call.
    pub fn route<R: Rng + ?Sized>(&self, rng: &mut R) -> Route {
        let machine = self.rate > 0.0 && rng.gen_bool(self.rate);
        match &self.amd_time {
            None => Route {
                detect_s: 0.0,
                machine,
                to_agent: true,
            },
            Some(d) => {
                let detect_s = d.sample(rng);
                let wrong = if machine {
                    self.false_negative
                } else {
                    self.false_positive
                };
                let mistaken = wrong > 0.0 && rng.gen_bool(wrong);
                Route {
                    detect_s,
                    machine,
                    // A person goes to an agent unless mistaken; a machine only if mistaken.
                    to_agent: machine == mistaken,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn share(m: &Machines, f: impl Fn(&Route) -> bool) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        (0..20_000).filter(|_| f(&m.route(&mut rng))).count() as f64 / 20_000.0
    }

    #[test]
    fn without_amd_every_answer_reaches_an_agent_at_once() {
        let m = Machines {
            rate: 0.3,
            ..Machines::default()
        };
        assert_eq!(share(&m, |r| r.to_agent && r.detect_s == 0.0), 1.0);
        assert!((share(&m, |r| r.machine) - 0.3).abs() < 0.02);
    }

    #[test]
    fn amd_hangs_up_on_machines_and_its_mistakes_go_both_ways() {
        let m = Machines {
            rate: 0.3,
            amd_time: Some(Dist::constant(3.0)),
            false_positive: 0.1,
            false_negative: 0.2,
            ..Machines::default()
        };
        assert_eq!(share(&m, |r| r.detect_s == 3.0), 1.0);
        // Persons hung up on: 70 % × 10 %; machines put through: 30 % × 20 %.
        assert!((share(&m, |r| !r.machine && !r.to_agent) - 0.07).abs() < 0.01);
        assert!((share(&m, |r| r.machine && r.to_agent) - 0.06).abs() < 0.01);
    }

    #[test]
    fn bad_shares_name_the_option() {
        let m = Machines {
            rate: 1.5,
            ..Machines::default()
        };
        assert!(m
            .validate()
            .unwrap_err()
            .to_string()
            .contains("machine-rate"));
        let m = Machines {
            false_negative: -0.1,
            ..Machines::default()
        };
        assert!(m
            .validate()
            .unwrap_err()
            .to_string()
            .contains("amd-false-negative"));
    }
}
