//! What defines a simulated floor: agents, campaigns (each with its answer
//! rate), ring, talk and wrap-up time distributions, and how they change
//! during the run; its validation (errors name the parameter) and the closed
//! forms of the agent-paced modes.

use serde::{Deserialize, Serialize};

use crate::abandon::AbandonWindow;
use crate::amd::Machines;
use crate::dist::Dist;
use crate::error::PacingError;
use crate::pacer::PacingLimits;
use crate::schedule::{Schedule, Step};

/// Everything that defines a simulated campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Agents logged in at the start (see `changes` for later).
    pub agents: u32,
    /// Probability that a call of the first campaign is answered by a live
    /// person, at the start (see `changes` for later).
    pub answer_rate: f64,
    /// Ring time of the calls that are answered, seconds.
    pub time_to_answer: Dist,
    /// Ring time after which an unanswered call is given up, seconds.
    pub no_answer_after: Dist,
    /// Talk time at the start, seconds (see `changes` for later).
    pub talk: Dist,
    /// Wrap-up time after each call, seconds.
    pub wrap_up: Dist,
    /// Preview mode only: time the agent reads the contact before the call is placed.
    pub preview: Dist,
    /// Measured duration after the warm-up, seconds.
    pub duration_s: f64,
    /// Warm-up before measuring, seconds (pacing runs, nothing is counted).
    pub warmup_s: f64,
    /// Seconds after the answer within which an agent must take the call.
    pub abandon_after_s: f64,
    /// The campaign's maximum abandon rate (fraction).
    pub max_abandon_rate: f64,
    /// Regulatory window of the abandon rate.
    pub window: AbandonWindow,
    /// Seconds between periodic pacer calls (it is also called after every event).
    pub tick_s: f64,
    /// Maximum calls ringing at once (0 = only the per-agent ceiling).
    pub max_lines: u32,
    /// How the agents, the first campaign's answer rate and the talk time
    /// change during the run.
    #[serde(default, skip_serializing_if = "Changes::is_empty")]
    pub changes: Changes,
    /// Further campaigns dialing for the same agents, each with its own
    /// pacer: their answer rates (the first campaign's is `answer_rate`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_campaigns: Vec<Schedule<f64>>,
    /// Answering machines and their detection (none by default).
    #[serde(default, skip_serializing_if = "Machines::is_none")]
    pub machines: Machines,
}

/// Changes during the run; times are seconds after the start of the measured period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    /// Agents logged in from then on (those who leave finish their call first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<Step<u32>>,
    /// The first campaign's answer rate from then on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answer_rate: Vec<Step<f64>>,
    /// Talk time of the calls connected from then on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub talk: Vec<Step<Dist>>,
}

impl Changes {
    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty() && self.answer_rate.is_empty() && self.talk.is_empty()
    }
}

impl SimConfig {
    /// The agents over time.
    pub fn agents_schedule(&self) -> Schedule<u32> {
        Schedule {
            start: self.agents,
            steps: self.changes.agents.clone(),
        }
    }

    /// Sets the agents over time.
    pub fn set_agents(&mut self, s: Schedule<u32>) {
        self.agents = s.start;
        self.changes.agents = s.steps;
    }

    /// The talk time over time.
    pub fn talk_schedule(&self) -> Schedule<Dist> {
        Schedule {
            start: self.talk,
            steps: self.changes.talk.clone(),
        }
    }

    /// Sets the talk time over time.
    pub fn set_talk(&mut self, s: Schedule<Dist>) {
        self.talk = s.start;
        self.changes.talk = s.steps;
    }

    /// The answer rate of each campaign over time, the first campaign first.
    pub fn answer_rates(&self) -> Vec<Schedule<f64>> {
        let mut v = vec![Schedule {
            start: self.answer_rate,
            steps: self.changes.answer_rate.clone(),
        }];
        v.extend(self.more_campaigns.iter().cloned());
        v
    }

    /// Sets the campaigns (one or more) by their answer rates over time.
    pub fn set_answer_rates(&mut self, mut v: Vec<Schedule<f64>>) {
        if v.is_empty() {
            return;
        }
        let first = v.remove(0);
        self.answer_rate = first.start;
        self.changes.answer_rate = first.steps;
        self.more_campaigns = v;
    }

    /// Number of campaigns dialing for the agents.
    pub fn campaigns(&self) -> usize {
        1 + self.more_campaigns.len()
    }

    /// The moments (seconds after the start of the measured period) when
    /// anything changes, in order, without duplicates.
    pub fn change_times(&self) -> Vec<f64> {
        let mut t: Vec<f64> = self
            .changes
            .agents
            .iter()
            .map(|s| s.at_s)
            .chain(self.changes.talk.iter().map(|s| s.at_s))
            .chain(
                self.answer_rates()
                    .iter()
                    .flat_map(|s| s.steps.iter().map(|x| x.at_s).collect::<Vec<_>>()),
            )
            .collect();
        t.sort_by(f64::total_cmp);
        t.dedup();
        t
    }

    /// Checks every parameter; the error names the parameter to fix.
    pub fn validate(&self) -> Result<(), PacingError> {
        for a in self.agents_schedule().values() {
            if a > 100_000 {
                return Err(PacingError::invalid("agents", "at most 100000 agents"));
            }
        }
        for r in self
            .answer_rates()
            .iter()
            .flat_map(|s| s.values().collect::<Vec<_>>())
        {
            if !(r.is_finite() && (0.0..=1.0).contains(&r)) {
                return Err(PacingError::invalid(
                    "answer-rate",
                    "must be a fraction between 0 and 1 (e.g. 0.8 for 80 %)",
                ));
            }
        }
        if self.campaigns() > 50 {
            return Err(PacingError::invalid("campaigns", "at most 50 campaigns"));
        }
        self.time_to_answer.validate("time-to-answer")?;
        self.no_answer_after.validate("no-answer-after")?;
        for d in self.talk_schedule().values() {
            d.validate("talk")?;
            if d.mean() <= 0.0 {
                return Err(PacingError::invalid(
                    "talk",
                    "the mean talk time must be more than 0 seconds",
                ));
            }
        }
        self.wrap_up.validate("wrap-up")?;
        self.preview.validate("preview")?;
        if !(self.duration_s.is_finite() && self.duration_s > 0.0) {
            return Err(PacingError::invalid(
                "duration",
                "must be more than 0 seconds",
            ));
        }
        if !(self.warmup_s.is_finite() && self.warmup_s >= 0.0) {
            return Err(PacingError::invalid("warmup", "must be 0 seconds or more"));
        }
        if !(self.tick_s.is_finite() && self.tick_s > 0.0) {
            return Err(PacingError::invalid("tick", "must be more than 0 seconds"));
        }
        self.machines.validate()?;
        self.limits().validate()
    }

    /// The pacing limits implied by this configuration.
    pub fn limits(&self) -> PacingLimits {
        PacingLimits {
            max_abandon_rate: self.max_abandon_rate,
            abandon_after_s: self.abandon_after_s,
            max_lines: self.max_lines,
        }
    }

    /// Mean duration of one dial attempt (answered or not), seconds.
    pub fn mean_attempt_s(&self) -> f64 {
        self.answer_rate * self.time_to_answer.mean()
            + (1.0 - self.answer_rate) * self.no_answer_after.mean()
    }

    /// Closed-form occupancy of progressive dialing: talk / (talk + wrap-up +
    /// mean attempt time / answer rate). `None` when nothing is ever answered.
    pub fn progressive_closed_form(&self) -> Option<f64> {
        self.agent_paced_closed_form(0.0)
    }

    /// Closed-form occupancy of preview dialing (progressive plus the preview time).
    pub fn preview_closed_form(&self) -> Option<f64> {
        self.agent_paced_closed_form(self.preview.mean())
    }

    fn agent_paced_closed_form(&self, extra: f64) -> Option<f64> {
        if self.answer_rate <= 0.0
            || !self.changes.is_empty()
            || self.campaigns() > 1
            || !self.machines.is_none()
        {
            return None;
        }
        let talk = self.talk.mean();
        Some(talk / (talk + self.wrap_up.mean() + extra + self.mean_attempt_s() / self.answer_rate))
    }
}
