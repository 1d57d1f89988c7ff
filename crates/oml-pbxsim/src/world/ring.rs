//! The end of a customer's ring: the outcome drawn at Originate (see
//! `customers.rs`) becomes the PBX's report of it: the call is answered and
//! enters its queue, or both halves hang up with the causes Asterisk gives
//! them, in one of the orders Asterisk sends them (`order.rs`), and the
//! `OriginateResponse` goes out. Apart from `customers.rs` so that the pure
//! drawing does not depend on the channels.

use std::time::Instant;

use oml_ami::Message;

use super::channels::{Call, CallState, ChanState};
use super::customers::codes;
use super::order::{self, Step};
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
        let (reason, cause) = codes(outcome);
        match outcome {
            NumberOutcome::Answer => self.stats.answered += 1,
            NumberOutcome::Busy => self.stats.busy += 1,
            NumberOutcome::Congestion => self.stats.congestion += 1,
            NumberOutcome::NoAnswer => self.stats.no_answer += 1,
            NumberOutcome::Fail => self.stats.failed += 1,
        }
        if outcome != NumberOutcome::Answer {
            let call = self.remove_call(c).expect("present");
            match outcome {
                // Never placed: no channel, only the response.
                NumberOutcome::Fail => events.push(self.originate_response(&call, false, reason)),
                // Asterisk (Busy()/Congestion()): ;1 never got an answer
                // and ends Down with cause 0; ;2 ends Busy with the
                // customer's cause.
                NumberOutcome::Busy | NumberOutcome::Congestion => {
                    self.failed_end(call, reason, (0, cause), ChanState::Busy, events)
                }
                // The Originate timed out: cause 19 on both halves, ;1
                // Ringing, ;2 Ring.
                _ => self.failed_end(call, reason, (cause, cause), ChanState::Ring, events),
            }
            return;
        }
        let call = self.calls.get_mut(&c).expect("present");
        call.chan_state = ChanState::Up;
        if let Some(h) = call.other.as_mut() {
            h.state = ChanState::Up;
        }
        let call = self.calls.get(&c).expect("present");
        events.extend(self.half2_event("Newstate", call));
        events.push(self.channel_event("Newstate", call));
        // Answered, the ;1 half runs the Originate's context and extension.
        let call = self.calls.get_mut(&c).expect("present");
        if !call.context.is_empty() {
            call.at_context = call.context.clone();
            call.at_exten = call.exten.clone();
        }
        let call = self.calls.get(&c).expect("present");
        events.push(self.originate_response(call, true, reason));
        self.answered(c, now, events);
    }

    /// The end of a call that was never answered: its `Newchannel`s when
    /// they have not gone out yet, the `OriginateResponse` with `reason`,
    /// and the `Hangup` of each half with `causes` (`;1`, `;2`), the `;2`
    /// half in state `half2_end`.
    pub(super) fn failed_end(
        &mut self,
        mut call: Call,
        reason: u32,
        causes: (u32, u32),
        half2_end: ChanState,
        events: &mut Vec<Message>,
    ) {
        let immediate = !call.announced;
        if call.other.is_none() {
            // One channel (no Local pair): it carries the customer's cause.
            if immediate {
                events.push(self.channel_event("Newchannel", &call));
            }
            events.push(self.originate_response(&call, false, reason));
            events.push(self.hangup_event(&call, causes.1));
            return;
        }
        let set_half2 = |call: &mut Call, s: ChanState| {
            if let Some(h) = call.other.as_mut() {
                h.state = s;
            }
        };
        if !immediate && half2_end != ChanState::Ring {
            set_half2(&mut call, half2_end);
            events.extend(self.half2_event("Newstate", &call));
        }
        for step in order::failed(immediate, &mut self.rng) {
            match step {
                Step::Newchannel1 => events.push(self.channel_event("Newchannel", &call)),
                Step::Newchannel2 => {
                    events.extend(self.half2_event("Newchannel", &call));
                    if half2_end != ChanState::Ring {
                        set_half2(&mut call, half2_end);
                        events.extend(self.half2_event("Newstate", &call));
                    }
                }
                Step::Response => events.push(self.originate_response(&call, false, reason)),
                Step::Hangup1 => events.push(self.hangup_event(&call, causes.0)),
                Step::Hangup2 => events.extend(self.half2_hangup(&call, causes.1)),
            }
        }
    }
}
