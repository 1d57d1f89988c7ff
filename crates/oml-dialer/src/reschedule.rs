//! What becomes of a contact after an attempt: done, tried again later
//! (the campaign's rule for that outcome: max attempts, retry after,
//! fixed or multiplied back-off), or out of attempts. Pure.

use oml_store::{RescheduleRule, RetryOutcome};

use crate::call::Outcome;
use oml_store::dialing::contact_state;

/// The contact's next state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// `pending`, `done` or `exhausted`.
    pub state: &'static str,
    /// When `pending`: when it is due again (epoch ms).
    pub next_attempt_at: i64,
}

/// The rule that applies to `outcome` (`unknown` follows the `failed`
/// rule, `abandoned_message_played` the `abandoned` one, `machine` its own
/// rule or else the `no_answer` one).
pub fn rule_for(outcome: Outcome, rules: &[RescheduleRule]) -> Option<&RescheduleRule> {
    let key = match outcome {
        Outcome::Connected | Outcome::AgentNoAnswer => return None,
        Outcome::Machine => {
            let own = rules.iter().find(|r| r.outcome == RetryOutcome::Machine);
            return own.or_else(|| rules.iter().find(|r| r.outcome == RetryOutcome::NoAnswer));
        }
        Outcome::Abandoned | Outcome::AbandonedMessagePlayed => RetryOutcome::Abandoned,
        Outcome::NoAnswer => RetryOutcome::NoAnswer,
        Outcome::Busy => RetryOutcome::Busy,
        Outcome::Congestion => RetryOutcome::Congestion,
        Outcome::Failed | Outcome::Unknown => RetryOutcome::Failed,
    };
    rules.iter().find(|r| r.outcome == key)
}

/// Decides after attempt number `attempts_made` ended with `outcome` at `now_ms`.
pub fn decide(
    outcome: Outcome,
    attempts_made: i64,
    rules: &[RescheduleRule],
    now_ms: i64,
) -> Decision {
    if outcome == Outcome::Connected {
        return Decision {
            state: contact_state::DONE,
            next_attempt_at: 0,
        };
    }
    // The preview agent did not answer: the customer was not called.
    if outcome == Outcome::AgentNoAnswer {
        return Decision {
            state: contact_state::PENDING,
            next_attempt_at: now_ms,
        };
    }
    match rule_for(outcome, rules).and_then(|r| r.delay_after(attempts_made)) {
        Some(delay_s) => Decision {
            state: contact_state::PENDING,
            next_attempt_at: now_ms.saturating_add(delay_s.saturating_mul(1000)),
        },
        None => Decision {
            state: contact_state::EXHAUSTED,
            next_attempt_at: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oml_store::Backoff;

    fn rules() -> Vec<RescheduleRule> {
        vec![
            RescheduleRule::parse("busy:3:60:multiplied").unwrap(),
            RescheduleRule::parse("failed:2:10").unwrap(),
        ]
    }

    #[test]
    fn retries_until_the_maximum() {
        let r = rules();
        assert_eq!(
            decide(Outcome::Busy, 1, &r, 1000),
            Decision {
                state: "pending",
                next_attempt_at: 61_000
            }
        );
        assert_eq!(decide(Outcome::Busy, 2, &r, 0).next_attempt_at, 120_000);
        assert_eq!(decide(Outcome::Busy, 3, &r, 0).state, "exhausted");
        assert_eq!(decide(Outcome::Connected, 1, &r, 0).state, "done");
        // No rule for no_answer: final.
        assert_eq!(decide(Outcome::NoAnswer, 1, &r, 0).state, "exhausted");
        // Unknown follows the failed rule.
        assert_eq!(decide(Outcome::Unknown, 1, &r, 0).next_attempt_at, 10_000);
        assert_eq!(decide(Outcome::Unknown, 2, &r, 0).state, "exhausted");
        assert_eq!(r[1].backoff, Backoff::Fixed);
    }

    #[test]
    fn machines_follow_their_rule_else_no_answer() {
        let no_answer = RescheduleRule::parse("no_answer:5:600").unwrap();
        let machine = RescheduleRule::parse("machine:2:3600").unwrap();
        let r = vec![no_answer.clone()];
        assert_eq!(decide(Outcome::Machine, 1, &r, 0).next_attempt_at, 600_000);
        assert_eq!(decide(Outcome::Machine, 4, &r, 0).state, "pending");
        let r = vec![no_answer, machine];
        assert_eq!(
            decide(Outcome::Machine, 1, &r, 0).next_attempt_at,
            3_600_000
        );
        assert_eq!(decide(Outcome::Machine, 2, &r, 0).state, "exhausted");
        assert_eq!(decide(Outcome::NoAnswer, 2, &r, 0).state, "pending");
        let ab = vec![RescheduleRule::parse("abandoned:3:60").unwrap()];
        assert_eq!(
            decide(Outcome::AbandonedMessagePlayed, 1, &ab, 0).next_attempt_at,
            60_000
        );
        assert_eq!(decide(Outcome::Machine, 1, &[], 0).state, "exhausted");
    }
}
