//! The named scenarios of the pacing benchmark: the stationary floors the
//! dialer has always been measured on (T1, T2, T3, B, S) and the changing floors of issue 14 (N1–N5): answer
//! rates that fall or rise, agents who leave and come back, two campaigns on
//! one team, and a small team with heavy-tailed talk times.

use serde::{Deserialize, Serialize};

use crate::abandon::AbandonWindow;
use crate::config::{Changes, SimConfig};
use crate::dist::Dist;
use crate::error::PacingError;
use crate::schedule::{Schedule, Step};

/// A named scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scenario {
    /// 50 agents, 80 % answer, talk U(40,60).
    T1,
    /// 50 agents, 80 % answer, talk U(60,120).
    T2,
    /// 50 agents, 80 % answer, talk U(500,600).
    T3,
    /// 50 agents, 25 % answer, talk U(60,180).
    B,
    /// 10 agents, 30 % answer, talk U(60,180).
    S,
    /// Answer rate 40 % → 15 % after 1 h (30 agents).
    N1,
    /// Answer rate 15 % → 40 % after 1 h (30 agents).
    N2,
    /// Agents 30 → 15 after 1 h, back to 30 after 80 min, unannounced.
    N3,
    /// Two campaigns at 40 % and 20 % answer sharing 30 agents.
    N4,
    /// 12 agents, 8 % answer, heavy-tailed talk, random wrap-up, long rings.
    N5,
}

const MIN: f64 = 60.0;

impl Scenario {
    /// Every scenario, in table order.
    pub const ALL: [Scenario; 10] = [
        Scenario::T1,
        Scenario::T2,
        Scenario::T3,
        Scenario::B,
        Scenario::S,
        Scenario::N1,
        Scenario::N2,
        Scenario::N3,
        Scenario::N4,
        Scenario::N5,
    ];

    /// The stationary scenarios (published since the first benchmark).
    pub const PUBLISHED: [Scenario; 5] = [
        Scenario::T1,
        Scenario::T2,
        Scenario::T3,
        Scenario::B,
        Scenario::S,
    ];

    /// The scenario's id.
    pub fn id(&self) -> &'static str {
        match self {
            Scenario::T1 => "T1",
            Scenario::T2 => "T2",
            Scenario::T3 => "T3",
            Scenario::B => "B",
            Scenario::S => "S",
            Scenario::N1 => "N1",
            Scenario::N2 => "N2",
            Scenario::N3 => "N3",
            Scenario::N4 => "N4",
            Scenario::N5 => "N5",
        }
    }

    /// Whether conditions change during the run (N1–N3).
    pub fn changes(&self) -> bool {
        matches!(self, Scenario::N1 | Scenario::N2 | Scenario::N3)
    }

    /// Parses an id (case-insensitive).
    pub fn parse(s: &str) -> Result<Scenario, PacingError> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.id().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| PacingError::Unknown {
                what: "scenario",
                given: s.to_string(),
                expected: "T1, T2, T3, B, S, N1, N2, N3, N4, N5, all".into(),
            })
    }

    /// The scenario's configuration. T1–S: 58 min measured after a 5 min
    /// warm-up, abandon after 2 s, 3 % limit, US window, wrap-up 0 s, preview
    /// 10 s. N1–N4: 30 agents, talk lognormal(180,120), wrap-up U(5,15),
    /// answered after U(5,15) s, given up after U(15,30) s, 2 h measured
    /// after 5 min, changes at 1 h. N5: 12 agents, 8 % answer, talk
    /// lognormal(100,300), wrap-up exp(20), answered after U(10,45) s, given
    /// up after U(20,45) s, 2 h measured after 60 min.
    pub fn config(&self) -> SimConfig {
        match self {
            Scenario::T1 | Scenario::T2 | Scenario::T3 | Scenario::B | Scenario::S => {
                self.published()
            }
            _ => self.changing(),
        }
    }

    fn published(&self) -> SimConfig {
        let (agents, answer, tta, noans, talk) = match self {
            Scenario::T1 => (50, 0.80, (15.0, 25.0), (15.0, 25.0), (40.0, 60.0)),
            Scenario::T2 => (50, 0.80, (15.0, 25.0), (15.0, 25.0), (60.0, 120.0)),
            Scenario::T3 => (50, 0.80, (15.0, 25.0), (15.0, 25.0), (500.0, 600.0)),
            Scenario::B => (50, 0.25, (5.0, 15.0), (10.0, 30.0), (60.0, 180.0)),
            _ => (10, 0.30, (5.0, 20.0), (10.0, 30.0), (60.0, 180.0)),
        };
        SimConfig {
            agents,
            answer_rate: answer,
            time_to_answer: Dist::uniform(tta.0, tta.1),
            no_answer_after: Dist::uniform(noans.0, noans.1),
            talk: Dist::uniform(talk.0, talk.1),
            wrap_up: Dist::constant(0.0),
            preview: Dist::constant(10.0),
            duration_s: 58.0 * MIN,
            warmup_s: 5.0 * MIN,
            abandon_after_s: 2.0,
            max_abandon_rate: 0.03,
            window: AbandonWindow::Us,
            tick_s: 1.0,
            max_lines: 0,
            changes: Changes::default(),
            more_campaigns: Vec::new(),
            machines: Default::default(),
        }
    }

    fn changing(&self) -> SimConfig {
        let mut cfg = SimConfig {
            agents: 30,
            answer_rate: 0.40,
            time_to_answer: Dist::uniform(5.0, 15.0),
            no_answer_after: Dist::uniform(15.0, 30.0),
            talk: Dist::LogNormal {
                mean: 180.0,
                sd: 120.0,
            },
            wrap_up: Dist::uniform(5.0, 15.0),
            duration_s: 120.0 * MIN,
            ..Scenario::T1.published()
        };
        fn at<T>(m: f64, value: T) -> Step<T> {
            Step {
                at_s: m * MIN,
                value,
            }
        }
        match self {
            Scenario::N1 => cfg.changes.answer_rate = vec![at(60.0, 0.15)],
            Scenario::N2 => {
                cfg.answer_rate = 0.15;
                cfg.changes.answer_rate = vec![at(60.0, 0.40)];
            }
            Scenario::N3 => {
                cfg.answer_rate = 0.30;
                cfg.changes.agents = vec![at(60.0, 15), at(80.0, 30)];
            }
            Scenario::N4 => cfg.more_campaigns = vec![Schedule::constant(0.20)],
            _ => {
                cfg.agents = 12;
                cfg.answer_rate = 0.08;
                cfg.time_to_answer = Dist::uniform(10.0, 45.0);
                cfg.no_answer_after = Dist::uniform(20.0, 45.0);
                cfg.talk = Dist::LogNormal {
                    mean: 100.0,
                    sd: 300.0,
                };
                cfg.wrap_up = Dist::Exp { mean: 20.0 };
                // From an empty floor, the share of agents in long calls of
                // this heavy tail (E[(talk − t)+] is still 2 s of its 100 s
                // mean at t = 1 h) builds up for about an hour: measured
                // after 5 min, progressive stood 1.3 points below its
                // steady-state closed form.
                cfg.warmup_s = 60.0 * MIN;
            }
        }
        cfg
    }
}

/// The default floor is scenario T1.
impl Default for SimConfig {
    fn default() -> Self {
        Scenario::T1.config()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_parse() {
        assert_eq!(Scenario::parse("t3").unwrap(), Scenario::T3);
        assert_eq!(Scenario::parse("n5").unwrap(), Scenario::N5);
        assert!(Scenario::parse("T9")
            .unwrap_err()
            .to_string()
            .contains("N1"));
    }

    #[test]
    fn every_scenario_is_valid_and_the_changing_ones_change() {
        for sc in Scenario::ALL {
            let cfg = sc.config();
            cfg.validate().unwrap();
            assert_eq!(!cfg.change_times().is_empty(), sc.changes(), "{}", sc.id());
        }
        assert_eq!(Scenario::N3.config().change_times(), vec![3600.0, 4800.0]);
        assert_eq!(Scenario::N4.config().campaigns(), 2);
        assert!(Scenario::N1.config().progressive_closed_form().is_none());
    }
}
