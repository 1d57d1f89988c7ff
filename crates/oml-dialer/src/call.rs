//! One call attempt followed from the `Originate` to its outcome, fed by the
//! AMI events that concern it. Pure: events and times go in, the outcome
//! comes out; the engine does the I/O.
//!
//! Sequence (Asterisk and pbxsim): `Newchannel` → (`Newstate` Up +
//! `OriginateResponse` Success/Reason 4 → `QueueCallerJoin` → `AgentConnect`
//! or `QueueCallerAbandon` → `Hangup`) or (`OriginateResponse` Failure with
//! Reason 0/1/3/5/8, `Hangup` with its Q.850 cause, in any order).
//! A `Local/` dial string makes two channels: the `;1` half runs the
//! campaign's context, the `;2` half dials the customer and carries the
//! customer's cause (`;1` often ends with cause 0). A call ends once the
//! customer's leg has hung up, or [`PAIR_GRACE_MS`] after the first sign of
//! its end, so the stored cause is the customer's whatever the order.

use serde::Serialize;

use crate::pbx_record::PbxRecord;

/// How a call attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered and connected to an agent.
    Connected,
    /// Answered, and the person hung up before an agent took the call.
    Abandoned,
    /// Rang without answer (or the far end cleared before answering).
    NoAnswer,
    Busy,
    Congestion,
    /// Could not be placed (no route, bad number, channel unavailable).
    Failed,
    /// The call ended while the dialer had lost track of it (AMI link down,
    /// crash); rescheduled like `failed`.
    Unknown,
    /// Answered by a machine (Asterisk's `AMD()` said `MACHINE`): hung up
    /// or the machine message left. Not a live answer: outside the abandon
    /// rate; retried by the `machine` rule, else like `no_answer`.
    Machine,
    /// Answered, no agent in time, and the abandon message played (the
    /// FCC's and Ofcom's message): abandoned all the same for the rate.
    AbandonedMessagePlayed,
    /// A preview call (agent-first) whose agent did not answer their
    /// extension: the customer was never dialed; the contact is due again
    /// at once.
    AgentNoAnswer,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::Connected,
        Outcome::Abandoned,
        Outcome::NoAnswer,
        Outcome::Busy,
        Outcome::Congestion,
        Outcome::Failed,
        Outcome::Unknown,
        Outcome::Machine,
        Outcome::AbandonedMessagePlayed,
        Outcome::AgentNoAnswer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Connected => "connected",
            Outcome::Abandoned => "abandoned",
            Outcome::NoAnswer => "no_answer",
            Outcome::Busy => "busy",
            Outcome::Congestion => "congestion",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
            Outcome::Machine => "machine",
            Outcome::AbandonedMessagePlayed => "abandoned_message_played",
            Outcome::AgentNoAnswer => "agent_no_answer",
        }
    }

    /// The outcome of a call that ended before answer, from its Q.850 cause.
    pub fn from_cause(cause: u32) -> Outcome {
        match cause {
            17 => Outcome::Busy,
            16 | 18 | 19 | 20 | 21 | 31 => Outcome::NoAnswer,
            34 | 38 | 41 | 42 | 44 | 47 => Outcome::Congestion,
            _ => Outcome::Failed,
        }
    }

    /// The outcome of a failed `OriginateResponse` `Reason`.
    pub fn from_reason(reason: u32) -> Outcome {
        match reason {
            1 | 3 => Outcome::NoAnswer,
            5 => Outcome::Busy,
            8 => Outcome::Congestion,
            _ => Outcome::Failed,
        }
    }

    /// A cause to store when no `Hangup` told us one.
    fn default_cause(self) -> Option<u32> {
        match self {
            Outcome::Busy => Some(17),
            Outcome::NoAnswer => Some(19),
            Outcome::Congestion => Some(34),
            _ => None,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Which channel of a call an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    /// The `;1` half of a `Local/` channel: the Originate's own side.
    Originated,
    /// The customer's side: the `;2` half of a `Local/` channel (which
    /// dials the trunk) or the only channel of any other dial string.
    Customer,
}

/// The leg of the call `key` (the `ChannelId` it was originated with) that
/// a channel is: its `Uniqueid` is the key (a `Local/` channel's `;1`, or
/// the only channel) or the key with `;2` (Asterisk's id of the `;2`
/// half). Other channels linked to the call (agents) are neither.
pub fn leg_of(key: &str, uniqueid: &str, channel: &str) -> Option<Leg> {
    if uniqueid == key {
        return Some(if channel.starts_with("Local/") {
            Leg::Originated
        } else {
            Leg::Customer
        });
    }
    (uniqueid.strip_prefix(key) == Some(";2")).then_some(Leg::Customer)
}

/// An AMI event about one call, reduced to what matters here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEvent {
    /// `Newchannel`: the call exists and rings.
    Created,
    /// `Newstate` Up: answered.
    Up,
    /// `OriginateResponse`.
    OriginateResponse { success: bool, reason: u32 },
    /// `QueueCallerJoin`: waiting for an agent.
    QueueJoin,
    /// `AgentConnect`: an agent took the call.
    AgentConnect,
    /// `QueueCallerAbandon`: the person hung up while waiting.
    QueueAbandon,
    /// `Hangup` of one leg, with its cause.
    Hangup { cause: u32, leg: Leg },
    /// `UserEvent` `OmlAmd` (the campaign's context after `AMD()`):
    /// whether its `Status` is `MACHINE`.
    Amd { machine: bool },
    /// `UserEvent` `OmlAbandonMessage`: the abandon message started.
    AbandonMessage,
}

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// `Originate` sent, nothing heard yet.
    Placed,
    Ringing,
    /// Answered, waiting for an agent.
    Answered,
    /// Talking with an agent.
    Connected,
    /// Ended, outcome known.
    Ended,
}

/// What an event changed, for the engine's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Nothing,
    /// Ringing started.
    Ringing,
    /// Just answered.
    Answered,
    /// Just connected to an agent.
    Connected,
    /// The call is over; take [`Call::finish`].
    Ended,
}

/// How long a call that failed before answer waits for the other half of
/// the `OriginateResponse` / `Hangup` pair.
pub const PAIR_GRACE_MS: i64 = 2_000;

/// The tracking state of one attempt. Times are Unix epoch ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    pub phase: Phase,
    pub placed_at: i64,
    pub ringing_at: Option<i64>,
    pub answered_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub hangup_cause: Option<u32>,
    /// The agent who took the call (see [`crate::agent_name`]).
    pub agent: Option<String>,
    /// Outcome known (from the `OriginateResponse`, or the `;1` half's
    /// end), waiting for the customer leg's `Hangup`.
    pending_outcome: Option<Outcome>,
    /// The customer leg's `Hangup` was seen (`hangup_cause` is its cause).
    customer_gone: bool,
    /// First sign of the end (for the pairing grace).
    end_seen_at: Option<i64>,
    response_seen: bool,
    queue_abandoned: bool,
    /// `AMD()` said a machine answered.
    machine: bool,
    /// The abandon message started (at this time).
    pub abandon_message_at: Option<i64>,
    outcome: Option<Outcome>,
    /// A preview call (agent-first, see [`AgentFirst`]): when the agent
    /// answered their extension.
    pub agent_up_at: Option<i64>,
}

/// A finished attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub outcome: Outcome,
    pub answered_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub ended_at: i64,
    pub hangup_cause: Option<u32>,
    pub agent: Option<String>,
}

impl Call {
    pub fn new(placed_at: i64) -> Call {
        Call {
            phase: Phase::Placed,
            placed_at,
            ringing_at: None,
            answered_at: None,
            connected_at: None,
            ended_at: None,
            hangup_cause: None,
            agent: None,
            pending_outcome: None,
            customer_gone: false,
            end_seen_at: None,
            response_seen: false,
            queue_abandoned: false,
            machine: false,
            abandon_message_at: None,
            outcome: None,
            agent_up_at: None,
        }
    }

    /// A call found alive after a reconnect or a restart, in `phase`.
    pub fn adopted(
        placed_at: i64,
        phase: Phase,
        answered_at: Option<i64>,
        connected_at: Option<i64>,
    ) -> Call {
        let mut c = Call::new(placed_at);
        c.phase = phase;
        c.answered_at = answered_at;
        c.connected_at = connected_at;
        c.response_seen = matches!(phase, Phase::Answered | Phase::Connected);
        c
    }

    /// Answered and not (yet) connected: waiting in the queue.
    pub fn is_waiting_for_agent(&self) -> bool {
        self.phase == Phase::Answered && !self.machine && self.abandon_message_at.is_none()
    }

    /// Answered by a machine, as `AMD()` said.
    pub fn is_machine(&self) -> bool {
        self.machine
    }

    /// The outcome of an answered call no agent took: `machine`, the
    /// abandon message heard, or abandoned.
    fn unconnected(&self) -> Outcome {
        if self.machine {
            Outcome::Machine
        } else if self.abandon_message_at.is_some() {
            Outcome::AbandonedMessagePlayed
        } else {
            Outcome::Abandoned
        }
    }

    /// The agent who took the call, as the `AgentConnect` named it (the
    /// first one is kept).
    pub fn taken_by(&mut self, agent: String) {
        if self.phase != Phase::Ended && self.agent.is_none() {
            self.agent = Some(agent);
        }
    }

    /// Not answered yet.
    pub fn is_ringing(&self) -> bool {
        matches!(self.phase, Phase::Placed | Phase::Ringing)
    }

    pub fn is_over(&self) -> bool {
        self.phase == Phase::Ended
    }

    fn end(&mut self, outcome: Outcome, now: i64) -> Change {
        self.outcome = Some(outcome);
        self.phase = Phase::Ended;
        self.ended_at = Some(now);
        if self.hangup_cause.is_none() {
            self.hangup_cause = outcome.default_cause();
        }
        Change::Ended
    }

    /// Applies an event at `now`.
    pub fn on_event(&mut self, ev: CallEvent, now: i64) -> Change {
        if self.phase == Phase::Ended {
            return Change::Nothing;
        }
        match ev {
            CallEvent::Created => {
                if self.phase == Phase::Placed {
                    self.phase = Phase::Ringing;
                    self.ringing_at = Some(now);
                    return Change::Ringing;
                }
                Change::Nothing
            }
            CallEvent::Up => self.answer(now),
            CallEvent::OriginateResponse { success, reason } => {
                self.response_seen = true;
                if success || reason == 4 {
                    return self.answer(now);
                }
                if self.answered_at.is_some() {
                    return Change::Nothing;
                }
                // Reason 0 with no channel ever seen: never placed, nothing
                // follows. With a channel (a ringing call hung up by an AMI
                // `Hangup`), Asterisk also sends Reason 0, with hangups
                // before and after it: the customer leg's cause decides.
                if reason == 0 && self.phase == Phase::Placed && self.end_seen_at.is_none() {
                    return self.end(Outcome::Failed, now);
                }
                let known = (reason != 0).then(|| Outcome::from_reason(reason));
                if self.customer_gone {
                    let cause = self.hangup_cause.unwrap_or(0);
                    return self.end(known.unwrap_or_else(|| Outcome::from_cause(cause)), now);
                }
                self.pending_outcome = known;
                self.end_seen_at.get_or_insert(now);
                Change::Nothing
            }
            CallEvent::QueueJoin => {
                if self.is_ringing() {
                    return self.answer(now);
                }
                Change::Nothing
            }
            CallEvent::AgentConnect => {
                if self.is_ringing() {
                    self.answer(now);
                }
                if self.phase == Phase::Answered {
                    self.phase = Phase::Connected;
                    self.connected_at = Some(now);
                    return Change::Connected;
                }
                Change::Nothing
            }
            CallEvent::QueueAbandon => {
                self.queue_abandoned = true;
                Change::Nothing
            }
            CallEvent::Amd { machine } => {
                let change = self.answer(now);
                if self.phase == Phase::Answered {
                    self.machine = machine;
                }
                change
            }
            CallEvent::AbandonMessage => {
                let change = self.answer(now);
                if self.phase == Phase::Connected && !self.machine {
                    // The engine's Redirect to the message crossed an
                    // agent's answer (core/abandon_deadline.rs): Asterisk
                    // took the person out of the agent's bridge into the
                    // message. The person heard the message, not an agent:
                    // abandoned, whatever the AgentConnect said.
                    self.phase = Phase::Answered;
                    self.connected_at = None;
                    self.agent = None;
                }
                if self.phase == Phase::Answered {
                    self.abandon_message_at.get_or_insert(now);
                }
                change
            }
            CallEvent::Hangup { cause, leg } => {
                if leg == Leg::Customer {
                    self.customer_gone = true;
                    self.hangup_cause = Some(cause);
                } else if self.hangup_cause.is_none() {
                    self.hangup_cause = Some(cause);
                }
                let answered = match self.phase {
                    Phase::Connected => Some(Outcome::Connected),
                    Phase::Answered => Some(self.unconnected()),
                    _ => None,
                };
                if let Some(o) = answered {
                    if leg == Leg::Customer {
                        return self.end(o, now);
                    }
                    self.pending_outcome = Some(o);
                } else if leg == Leg::Customer && self.response_seen {
                    let o = self.pending_outcome.unwrap_or(Outcome::from_cause(cause));
                    return self.end(o, now);
                }
                // Wait (briefly) for the customer leg or the response.
                self.end_seen_at.get_or_insert(now);
                Change::Nothing
            }
        }
    }

    fn answer(&mut self, now: i64) -> Change {
        if self.is_ringing() {
            self.phase = Phase::Answered;
            self.answered_at = Some(now);
            if self.ringing_at.is_none() {
                self.ringing_at = Some(self.placed_at);
            }
            return Change::Answered;
        }
        Change::Nothing
    }

    /// Checks timers at `now`: the pairing grace, and a call never heard of
    /// within `ring_timeout_ms` plus a margin. Returns `Change::Ended` when
    /// the call is over.
    pub fn on_tick(&mut self, now: i64, ring_timeout_ms: i64) -> Change {
        if self.phase == Phase::Ended {
            return Change::Nothing;
        }
        if let Some(seen) = self.end_seen_at {
            if now - seen >= PAIR_GRACE_MS {
                let o = self
                    .pending_outcome
                    .unwrap_or_else(|| Outcome::from_cause(self.hangup_cause.unwrap_or(0)));
                return self.end(o, now);
            }
        }
        if self.is_ringing()
            && !self.response_seen
            && now - self.placed_at > ring_timeout_ms + 60_000
        {
            return self.end(Outcome::Unknown, now);
        }
        Change::Nothing
    }

    /// The call's channel is gone and its end was not seen (reconciliation
    /// after a reconnect or a restart).
    pub fn vanished(&mut self, now: i64) -> Change {
        if self.phase == Phase::Ended {
            return Change::Nothing;
        }
        let o = match self.phase {
            Phase::Connected => Outcome::Connected,
            Phase::Answered if self.machine || self.abandon_message_at.is_some() => {
                self.unconnected()
            }
            _ => self.pending_outcome.unwrap_or(Outcome::Unknown),
        };
        self.end(o, now)
    }

    /// The call's channel is gone and the PBX recorded what happened to it
    /// (see [`crate::pbx_record`]): answered, connected and the customer
    /// leg's cause come from the record. Its epoch seconds are taken as the
    /// engine's clock, kept between the placing and `now`.
    pub fn recorded(&mut self, r: &PbxRecord, now: i64) -> Change {
        if self.phase == Phase::Ended {
            return Change::Nothing;
        }
        let placed = self.placed_at;
        let at = |s: Option<i64>| s.map(|s| s.saturating_mul(1000).clamp(placed, now.max(placed)));
        if self.answered_at.is_none() {
            self.answered_at = at(r.answered_s.or(r.queued_s).or(r.connected_s));
        }
        if self.connected_at.is_none() {
            self.connected_at = at(r.connected_s);
        }
        if let Some(c) = r.cause {
            self.hangup_cause = Some(c);
        }
        self.machine |= r.machine;
        if self.abandon_message_at.is_none() {
            self.abandon_message_at = at(r.abandon_message_s);
        }
        let outcome = if self.connected_at.is_some() {
            Outcome::Connected
        } else if self.answered_at.is_some() {
            // Answered and no agent: a machine, the abandon message, or
            // counted abandoned (the safe side).
            self.unconnected()
        } else if let Some(o) = self.pending_outcome {
            o
        } else if r.ended_s.is_some() {
            Outcome::from_cause(r.cause.unwrap_or(0))
        } else {
            Outcome::Unknown
        };
        let change = self.end(outcome, now);
        self.ended_at = at(r.ended_s).or(Some(now));
        change
    }

    /// The result, once [`Call::is_over`].
    pub fn finish(&self) -> Option<Finished> {
        Some(Finished {
            outcome: self.outcome?,
            answered_at: self.answered_at,
            connected_at: self.connected_at,
            ended_at: self.ended_at?,
            hangup_cause: self.hangup_cause,
            agent: self.agent.clone(),
        })
    }

    /// Whether this call counts as abandoned for the regulatory rate:
    /// answered and not connected within `abandon_ms`. `None` when it is
    /// no live answer (not answered, or a machine).
    pub fn counts_as_abandoned(&self, abandon_ms: i64) -> Option<bool> {
        if self.machine && self.connected_at.is_none() {
            return None;
        }
        let answered = self.answered_at?;
        Some(match self.connected_at {
            Some(c) => c - answered > abandon_ms,
            None => true,
        })
    }
}

#[path = "call_agent_first.rs"]
mod agent_first;
pub use agent_first::AgentFirst;

#[cfg(test)]
#[path = "call_path_tests.rs"]
mod call_path_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use CallEvent::*;

    /// A `Hangup` of the customer leg (`;2`) / of the `;1` half.
    fn cust(cause: u32) -> CallEvent {
        Hangup {
            cause,
            leg: Leg::Customer,
        }
    }
    fn half1(cause: u32) -> CallEvent {
        Hangup {
            cause,
            leg: Leg::Originated,
        }
    }
    fn failure(reason: u32) -> CallEvent {
        OriginateResponse {
            success: false,
            reason,
        }
    }

    fn run(events: &[(CallEvent, i64)]) -> Call {
        let mut c = Call::new(0);
        for &(e, t) in events {
            c.on_event(e, t);
        }
        c
    }

    #[test]
    fn answered_and_connected() {
        let c = run(&[
            (Created, 1),
            (Up, 5000),
            (
                OriginateResponse {
                    success: true,
                    reason: 4,
                },
                5001,
            ),
            (QueueJoin, 5002),
            (AgentConnect, 5500),
            (cust(16), 60_000),
        ]);
        let f = c.finish().unwrap();
        assert_eq!(f.outcome, Outcome::Connected);
        assert_eq!(f.answered_at, Some(5000));
        assert_eq!(f.connected_at, Some(5500));
        assert_eq!(f.hangup_cause, Some(16));
        assert_eq!(c.counts_as_abandoned(2000), Some(false));
    }

    #[test]
    fn abandoned_in_queue() {
        let c = run(&[
            (Created, 1),
            (
                OriginateResponse {
                    success: true,
                    reason: 4,
                },
                5000,
            ),
            (QueueJoin, 5001),
            (QueueAbandon, 9000),
            (cust(16), 9001),
        ]);
        assert_eq!(c.finish().unwrap().outcome, Outcome::Abandoned);
        assert_eq!(c.counts_as_abandoned(2000), Some(true));
    }

    #[test]
    fn late_connect_counts_as_abandoned_for_the_rate() {
        let c = run(&[(Up, 1000), (AgentConnect, 4000), (cust(16), 9000)]);
        assert_eq!(c.finish().unwrap().outcome, Outcome::Connected);
        assert_eq!(c.counts_as_abandoned(2000), Some(true));
    }

    #[test]
    fn failures_in_either_order_keep_reason_and_cause() {
        let busy = run(&[
            (Created, 1),
            (
                OriginateResponse {
                    success: false,
                    reason: 5,
                },
                2000,
            ),
            (cust(17), 2001),
        ]);
        let f = busy.finish().unwrap();
        assert_eq!((f.outcome, f.hangup_cause), (Outcome::Busy, Some(17)));
        let cong = run(&[
            (Created, 1),
            (cust(34), 300),
            (
                OriginateResponse {
                    success: false,
                    reason: 8,
                },
                301,
            ),
        ]);
        let f = cong.finish().unwrap();
        assert_eq!((f.outcome, f.hangup_cause), (Outcome::Congestion, Some(34)));
        let failed = run(&[(
            OriginateResponse {
                success: false,
                reason: 0,
            },
            5,
        )]);
        assert_eq!(failed.finish().unwrap().outcome, Outcome::Failed);
    }

    #[test]
    fn half_a_pair_ends_after_the_grace() {
        let mut c = run(&[(
            OriginateResponse {
                success: false,
                reason: 3,
            },
            1000,
        )]);
        assert!(!c.is_over());
        assert_eq!(c.on_tick(1000 + PAIR_GRACE_MS - 1, 25_000), Change::Nothing);
        assert_eq!(c.on_tick(1000 + PAIR_GRACE_MS, 25_000), Change::Ended);
        let f = c.finish().unwrap();
        assert_eq!((f.outcome, f.hangup_cause), (Outcome::NoAnswer, Some(19)));
        let mut h = run(&[(Created, 1), (cust(17), 10)]);
        h.on_tick(10 + PAIR_GRACE_MS, 25_000);
        assert_eq!(h.finish().unwrap().outcome, Outcome::Busy);
    }

    #[test]
    fn silence_and_vanishing() {
        let mut c = Call::new(0);
        assert_eq!(c.on_tick(85_000, 25_000), Change::Nothing);
        assert_eq!(c.on_tick(85_001, 25_000), Change::Ended);
        assert_eq!(c.finish().unwrap().outcome, Outcome::Unknown);
        let mut t = run(&[(Up, 1), (AgentConnect, 2)]);
        t.vanished(100);
        assert_eq!(t.finish().unwrap().outcome, Outcome::Connected);
        let mut r = run(&[(Created, 1)]);
        r.vanished(100);
        assert_eq!(r.finish().unwrap().outcome, Outcome::Unknown);
    }

    #[test]
    fn events_after_the_end_change_nothing() {
        let mut c = run(&[(Up, 1), (cust(16), 2)]);
        assert_eq!(c.on_event(AgentConnect, 3), Change::Nothing);
        assert_eq!(c.finish().unwrap().outcome, Outcome::Abandoned);
    }

    #[test]
    fn the_customer_legs_cause_is_stored_in_every_order() {
        // Asterisk's orders of a busy/congestion call (docs/pbxsim-fidelity.md):
        // the ;1 half ends with cause 0, the customer's ;2 with 17 or 34.
        let orders: [&[(CallEvent, i64)]; 4] = [
            &[(Created, 1), (failure(5), 2), (half1(0), 3), (cust(17), 4)],
            &[(failure(5), 1), (Created, 2), (half1(0), 3), (cust(17), 4)],
            &[(Created, 1), (half1(0), 2), (failure(5), 3), (cust(17), 4)],
            &[(Created, 1), (half1(0), 2), (cust(17), 3), (failure(5), 4)],
        ];
        for events in orders {
            let f = run(events).finish().expect("ended");
            assert_eq!(
                (f.outcome, f.hangup_cause),
                (Outcome::Busy, Some(17)),
                "{events:?}"
            );
        }
        let c = run(&[(Created, 1), (half1(0), 2), (failure(8), 3), (cust(34), 4)]);
        let f = c.finish().expect("ended");
        assert_eq!((f.outcome, f.hangup_cause), (Outcome::Congestion, Some(34)));
        // The ;1 half alone does not end the call before the grace.
        let mut w = run(&[(Created, 1), (failure(5), 2), (half1(0), 3)]);
        assert!(!w.is_over());
        w.on_tick(2 + PAIR_GRACE_MS, 25_000);
        assert_eq!(w.finish().unwrap().outcome, Outcome::Busy);
    }

    #[test]
    fn an_answered_call_keeps_the_customer_legs_cause() {
        let c = run(&[
            (Created, 1),
            (Up, 10),
            (AgentConnect, 20),
            (half1(0), 900),
            (cust(16), 901),
        ]);
        let f = c.finish().expect("ended");
        assert_eq!((f.outcome, f.hangup_cause), (Outcome::Connected, Some(16)));
        let mut a = run(&[(Up, 10), (half1(0), 500)]);
        assert!(!a.is_over(), "waits for the customer leg");
        a.on_tick(500 + PAIR_GRACE_MS, 25_000);
        assert_eq!(a.finish().unwrap().outcome, Outcome::Abandoned);
    }

    #[test]
    fn reason_0_waits_for_the_hangups_when_the_call_existed() {
        // A ringing call hung up by an AMI Hangup (cause 21): Asterisk sends
        // Hangup ;1, OriginateResponse Reason 0, Hangup ;2.
        let mut c = run(&[(Created, 1), (half1(21), 5), (failure(0), 6)]);
        assert!(!c.is_over(), "a Hangup follows Reason 0 here");
        c.on_event(cust(21), 7);
        let f = c.finish().expect("ended");
        assert_eq!((f.ended_at, f.hangup_cause), (7, Some(21)));
        // Never placed: no channel, nothing follows.
        let n = run(&[(failure(0), 5)]);
        assert_eq!(n.finish().unwrap().outcome, Outcome::Failed);
    }

    #[test]
    fn a_redirect_that_crossed_the_agents_answer_counts_as_abandoned() {
        // AgentConnect, then the message the Redirect started: abandoned.
        let c = run(&[
            (Up, 1000),
            (AgentConnect, 2700),
            (AbandonMessage, 2710),
            (cust(16), 9000),
        ]);
        let f = c.finish().unwrap();
        assert_eq!(f.outcome, Outcome::AbandonedMessagePlayed);
        assert_eq!((f.connected_at, f.agent), (None, None));
        assert_eq!(c.counts_as_abandoned(2000), Some(true));
        // A call that stayed connected is no abandon.
        let k = run(&[(Up, 1000), (AgentConnect, 2700), (cust(16), 9000)]);
        assert_eq!(k.finish().unwrap().outcome, Outcome::Connected);
    }

    #[test]
    fn legs_by_uniqueid() {
        let k = "oml-1-2-1";
        assert_eq!(
            leg_of(k, k, "Local/5552@from-oml-00000000;1"),
            Some(Leg::Originated)
        );
        assert_eq!(
            leg_of(k, "oml-1-2-1;2", "Local/5552@from-oml-00000000;2"),
            Some(Leg::Customer)
        );
        assert_eq!(leg_of(k, k, "PJSIP/carrier-00000001"), Some(Leg::Customer));
        // An agent's channel linked to the call is no leg of it.
        assert_eq!(
            leg_of(k, "1796655518.13", "Local/agent2@oml-agents-06;2"),
            None
        );
        assert_eq!(leg_of(k, "oml-1-2-11", "Local/x;1"), None);
    }

    #[test]
    fn a_vanished_call_ends_as_the_pbx_recorded_it() {
        let rec = |a: Option<i64>, c: Option<i64>, e: Option<i64>, cause: Option<u32>| PbxRecord {
            answered_s: a,
            queued_s: a,
            connected_s: c,
            ended_s: e,
            cause,
            ..PbxRecord::default()
        };
        // Connected and ended while no engine watched (placed at 1000 s).
        let mut c = Call::new(1_000_000);
        c.recorded(
            &rec(Some(1005), Some(1006), Some(1030), Some(16)),
            1_100_000,
        );
        let f = c.finish().unwrap();
        assert_eq!(
            (
                f.outcome,
                f.answered_at,
                f.connected_at,
                f.ended_at,
                f.hangup_cause
            ),
            (
                Outcome::Connected,
                Some(1_005_000),
                Some(1_006_000),
                1_030_000,
                Some(16)
            )
        );
        // An adopted connected call gets its cause.
        let mut a = Call::adopted(
            1_000_000,
            Phase::Connected,
            Some(1_001_000),
            Some(1_002_000),
        );
        a.recorded(&rec(None, None, Some(1020), Some(16)), 1_100_000);
        assert_eq!(a.finish().unwrap().hangup_cause, Some(16));
        // Busy, from the customer leg's cause.
        let mut b = Call::new(1_000_000);
        b.recorded(&rec(None, None, Some(1002), Some(17)), 1_100_000);
        let f = b.finish().unwrap();
        assert_eq!((f.outcome, f.hangup_cause), (Outcome::Busy, Some(17)));
        // Answered, never connected.
        let mut q = Call::new(1_000_000);
        q.recorded(&rec(Some(1003), None, Some(1009), Some(16)), 1_100_000);
        assert_eq!(q.finish().unwrap().outcome, Outcome::Abandoned);
        // Nothing but a ringing start: unknown.
        let mut u = Call::new(1_000_000);
        u.recorded(&PbxRecord::default(), 1_100_000);
        assert_eq!(u.finish().unwrap().outcome, Outcome::Unknown);
    }
}
