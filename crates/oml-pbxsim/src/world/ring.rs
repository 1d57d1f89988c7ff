//! The end of a customer's ring: the outcome drawn at Originate (see
//! `customers.rs`) becomes the PBX's report of it: the call is answered and
//! enters its queue, or both halves hang up with the customer leg's cause,
//! and the `OriginateResponse` goes out. Apart from `customers.rs` so that
//! the pure drawing does not depend on the channels.

use std::time::Instant;

use oml_ami::Message;

use super::channels::{cause_text, CallState};
use super::customers::codes;
use super::World;
use crate::config::NumberOutcome;

impl World {
    pub(super) fn ring_end(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        if call.state != CallState::Ringing {
            return;
        }
        let outcome = call.ring_outcome;
        let (reason, cause, txt) = codes(outcome);
        match outcome {
            NumberOutcome::Answer => self.stats.answered += 1,
            NumberOutcome::Busy => self.stats.busy += 1,
            NumberOutcome::Congestion => self.stats.congestion += 1,
            NumberOutcome::NoAnswer => self.stats.no_answer += 1,
            NumberOutcome::Fail => self.stats.failed += 1,
        }
        if outcome != NumberOutcome::Answer {
            let call = self.remove_call(c).expect("present");
            events.push(self.originate_response(&call, false, reason));
            if outcome != NumberOutcome::Fail {
                if call.other.is_some() {
                    // Asterisk: the originated ;1 half never got an answer,
                    // so it ends with cause 0 unless it timed out (19);
                    // the customer's cause is on the ;2 half.
                    let first = if outcome == NumberOutcome::NoAnswer {
                        cause
                    } else {
                        0
                    };
                    events.push(self.hangup_event(&call, first, cause_text(first)));
                    events.extend(self.half2_hangup(&call, cause));
                } else {
                    events.push(self.hangup_event(&call, cause, txt));
                }
            }
            return;
        }
        let call = self.calls.get(&c).expect("present");
        events.extend(self.half2_event("Newstate", call, 6, "Up"));
        events.push(self.channel_event("Newstate", call, 6, "Up"));
        events.push(self.originate_response(call, true, reason));
        self.enqueue(c, now, events);
    }
}
