//! A preview call (issue 19 item 4), followed agent-first: the `Originate`
//! rings the agent's interface (its channel carries the attempt's channel
//! id), and once the agent answers the dialplan (`oml-preview`, see
//! `oml_store::dialplan::PREVIEW_CONTEXT`) dials the customer through the
//! campaign's trunk. The customer's channel is another channel of the call
//! (its `Linkedid` is the channel id).
//!
//! The outcome is the customer leg's: `connected` when it answers (the
//! agent is already there, so it is never an abandon), else no answer,
//! busy, congestion or failed from its hangup cause; `agent_no_answer`
//! when the agent's extension was not answered (nobody was dialed).

use super::{Call, Change, Outcome, Phase};

/// An AMI event about a preview call, by leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentFirst {
    /// The agent's channel exists (their extension rings).
    AgentRinging,
    /// The agent answered (`Newstate` Up of their channel, or the
    /// `OriginateResponse` Success).
    AgentUp,
    /// The `OriginateResponse` failed: the agent did not answer.
    AgentFailed,
    /// The customer's channel answered.
    CustomerUp,
    /// The customer's channel hung up, with its cause.
    CustomerHangup { cause: u32 },
    /// The agent's channel hung up.
    AgentHangup,
}

impl Call {
    /// Applies an event of a preview call at `now`.
    pub fn on_agent_first(&mut self, ev: AgentFirst, now: i64) -> Change {
        if self.phase == Phase::Ended {
            return Change::Nothing;
        }
        match ev {
            AgentFirst::AgentRinging => {
                if self.phase == Phase::Placed {
                    self.phase = Phase::Ringing;
                    self.ringing_at = Some(now);
                    return Change::Ringing;
                }
                Change::Nothing
            }
            AgentFirst::AgentUp => {
                self.response_seen = true;
                self.agent_up_at.get_or_insert(now);
                Change::Nothing
            }
            AgentFirst::AgentFailed => {
                self.response_seen = true;
                if self.agent_up_at.is_none() {
                    return self.end(Outcome::AgentNoAnswer, now);
                }
                Change::Nothing
            }
            AgentFirst::CustomerUp => {
                if self.is_ringing() {
                    self.agent_up_at.get_or_insert(now);
                    self.phase = Phase::Connected;
                    self.answered_at = Some(now);
                    self.connected_at = Some(now);
                    if self.ringing_at.is_none() {
                        self.ringing_at = Some(self.placed_at);
                    }
                    return Change::Connected;
                }
                Change::Nothing
            }
            AgentFirst::CustomerHangup { cause } => {
                self.customer_gone = true;
                // A `Local/` trunk's halves: the first cause that says
                // something is kept.
                if cause != 0 || self.hangup_cause.is_none() {
                    self.hangup_cause = Some(cause);
                }
                if self.phase == Phase::Connected {
                    return self.end(Outcome::Connected, now);
                }
                if cause != 0 {
                    return self.end(Outcome::from_cause(cause), now);
                }
                self.end_seen_at.get_or_insert(now);
                Change::Nothing
            }
            AgentFirst::AgentHangup => {
                let pending = match (self.phase, self.agent_up_at) {
                    (Phase::Connected, _) => Some(Outcome::Connected),
                    (_, None) => Some(Outcome::AgentNoAnswer),
                    // The agent hung up while the customer rang, or after
                    // the customer's leg failed: its cause decides.
                    _ => None,
                };
                if self.pending_outcome.is_none() {
                    self.pending_outcome = pending;
                }
                if self.customer_gone && self.phase != Phase::Connected {
                    let o = self
                        .pending_outcome
                        .unwrap_or_else(|| Outcome::from_cause(self.hangup_cause.unwrap_or(0)));
                    return self.end(o, now);
                }
                // Wait (briefly) for the customer leg's end.
                self.end_seen_at.get_or_insert(now);
                Change::Nothing
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[AgentFirst]) -> Call {
        let mut c = Call::new(0);
        for (i, e) in events.iter().enumerate() {
            c.on_agent_first(*e, 1_000 * (i as i64 + 1));
        }
        c
    }

    #[test]
    fn the_customer_answers_connected_never_answered_alone() {
        use AgentFirst::*;
        let c = run(&[AgentRinging, AgentUp, CustomerUp]);
        assert_eq!(c.phase, Phase::Connected);
        assert_eq!(c.answered_at, c.connected_at);
        let c = run(&[
            AgentRinging,
            AgentUp,
            CustomerUp,
            AgentHangup,
            CustomerHangup { cause: 16 },
        ]);
        assert_eq!(c.finish().unwrap().outcome, Outcome::Connected);
        assert_eq!(c.agent_up_at, Some(2_000));
    }

    #[test]
    fn the_customer_legs_cause_decides() {
        use AgentFirst::*;
        let c = run(&[AgentRinging, AgentUp, CustomerHangup { cause: 17 }]);
        assert_eq!(c.finish().unwrap().outcome, Outcome::Busy);
        let c = run(&[
            AgentRinging,
            AgentUp,
            AgentHangup,
            CustomerHangup { cause: 19 },
        ]);
        assert_eq!(c.finish().unwrap().outcome, Outcome::NoAnswer);
        // A cause 0 first (a Local half) waits for the grace or the agent.
        let mut c = run(&[AgentRinging, AgentUp, CustomerHangup { cause: 0 }]);
        assert!(!c.is_over());
        c.on_agent_first(CustomerHangup { cause: 34 }, 5_000);
        assert_eq!(c.finish().unwrap().outcome, Outcome::Congestion);
    }

    #[test]
    fn an_agent_who_does_not_answer_has_its_own_outcome() {
        use AgentFirst::*;
        let c = run(&[AgentRinging, AgentFailed]);
        let f = c.finish().unwrap();
        assert_eq!(f.outcome, Outcome::AgentNoAnswer);
        assert_eq!(f.answered_at, None);
        let mut c = run(&[AgentRinging, AgentHangup]);
        assert!(!c.is_over());
        c.on_tick(3_000 + super::super::PAIR_GRACE_MS, 30_000);
        assert_eq!(c.finish().unwrap().outcome, Outcome::AgentNoAnswer);
    }
}
