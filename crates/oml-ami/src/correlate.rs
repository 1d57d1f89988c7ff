//! Pure bookkeeping behind the client, testable without sockets or clocks:
//! matching responses (and the event lists of list actions) to the action
//! that asked by `ActionID`, and the send-rate token bucket.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::message::Message;

/// The answer to one action: the `Response` message and, for list actions
/// (`QueueStatus`, `CoreShowChannels`, `DBGet`, ...), the events up to and
/// excluding the `...Complete` event, which is kept in `complete`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The `Response:` message.
    pub message: Message,
    /// Events of a list action, in order.
    pub events: Vec<Message>,
    /// The closing `...Complete` event of a list action.
    pub complete: Option<Message>,
}

impl Response {
    /// `Response: Success` (or `Follows`, `Goodbye`).
    pub fn is_success(&self) -> bool {
        self.message.response_status().is_some_and(|s| {
            s.eq_ignore_ascii_case("Success")
                || s.eq_ignore_ascii_case("Follows")
                || s.eq_ignore_ascii_case("Goodbye")
        })
    }

    /// The `Message:` text, or "".
    pub fn text(&self) -> &str {
        self.message.get("Message").unwrap_or_default()
    }

    /// A header of the response message.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.message.get(key)
    }

    /// The ActionID the client gave the action.
    pub fn action_id(&self) -> Option<&str> {
        self.message.action_id()
    }
}

/// Most events one list response may collect; beyond this they are dropped
/// (counted in the log) so a runaway server cannot exhaust memory.
pub const MAX_LIST_EVENTS: usize = 200_000;

/// A request waiting for its answer. `T` is whatever the caller uses to
/// receive it (a oneshot sender in the client).
#[derive(Debug)]
struct Pending<T> {
    token: T,
    response: Option<Message>,
    events: Vec<Message>,
    dropped: usize,
}

/// What to do with an incoming message.
#[derive(Debug)]
pub enum Routed<T> {
    /// The answer to a request is complete: deliver it.
    Complete(T, Response),
    /// Not an answer to anything pending: broadcast it to subscribers.
    Broadcast(Message),
    /// Consumed (part of a list still being collected, or an unknown
    /// response nobody waits for).
    Absorbed,
}

/// Matches incoming messages to pending requests by `ActionID`.
#[derive(Debug)]
pub struct Correlator<T> {
    pending: HashMap<String, Pending<T>>,
}

impl<T> Default for Correlator<T> {
    fn default() -> Self {
        Self {
            pending: HashMap::new(),
        }
    }
}

fn starts_list(m: &Message) -> bool {
    m.get("EventList")
        .is_some_and(|v| v.eq_ignore_ascii_case("start"))
        || m.get("Message").is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("will follow")
        })
}

fn ends_list(m: &Message) -> bool {
    m.get("EventList")
        .is_some_and(|v| v.eq_ignore_ascii_case("Complete"))
        || m.event_name().is_some_and(|e| e.ends_with("Complete"))
}

impl<T> Correlator<T> {
    /// Registers a request sent with `action_id`.
    pub fn register(&mut self, action_id: String, token: T) {
        self.pending.insert(
            action_id,
            Pending {
                token,
                response: None,
                events: Vec::new(),
                dropped: 0,
            },
        );
    }

    /// Number of requests waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes every pending request (on disconnect, to fail them).
    pub fn drain(&mut self) -> Vec<T> {
        self.pending.drain().map(|(_, p)| p.token).collect()
    }

    /// Forgets requests whose token the predicate says are abandoned.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.pending.retain(|_, p| keep(&p.token));
    }

    /// Routes one incoming message.
    pub fn route(&mut self, m: Message) -> Routed<T> {
        let is_response = m.response_status().is_some() && m.event_name().is_none();
        let Some(id) = m.action_id() else {
            return if is_response {
                Routed::Absorbed
            } else {
                Routed::Broadcast(m)
            };
        };
        let Some(p) = self.pending.get_mut(id) else {
            return if is_response {
                tracing::debug!(action_id = id, "AMI response nobody waits for");
                Routed::Absorbed
            } else {
                Routed::Broadcast(m)
            };
        };
        if is_response {
            if p.response.is_none()
                && starts_list(&m)
                && !m
                    .response_status()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Error"))
            {
                p.response = Some(m);
                return Routed::Absorbed;
            }
            let id = id.to_owned();
            let p = self.pending.remove(&id).expect("present");
            return Routed::Complete(
                p.token,
                Response {
                    message: m,
                    events: p.events,
                    complete: None,
                },
            );
        }
        // An event carrying a pending ActionID.
        if p.response.is_none() {
            // Not a list (e.g. OriginateResponse racing ahead): broadcast.
            return Routed::Broadcast(m);
        }
        if ends_list(&m) {
            let id = id.to_owned();
            let p = self.pending.remove(&id).expect("present");
            if p.dropped > 0 {
                tracing::warn!(
                    dropped = p.dropped,
                    "AMI list response too long; events dropped"
                );
            }
            return Routed::Complete(
                p.token,
                Response {
                    message: p.response.expect("list started"),
                    events: p.events,
                    complete: Some(m),
                },
            );
        }
        if p.events.len() < MAX_LIST_EVENTS {
            p.events.push(m);
        } else {
            p.dropped += 1;
        }
        Routed::Absorbed
    }
}

/// Send-rate limit: `per_second` actions on average, bursts up to `burst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained actions per second (> 0).
    pub per_second: u32,
    /// Actions that may go out back to back after a quiet period (>= 1).
    pub burst: u32,
}

impl Default for RateLimit {
    /// 100 actions/s, bursts of 10.
    fn default() -> Self {
        Self {
            per_second: 100,
            burst: 10,
        }
    }
}

/// Token bucket driven by the caller's clock.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    interval: Duration,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        let per = limit.per_second.max(1);
        let burst = f64::from(limit.burst.max(1));
        Self {
            interval: Duration::from_secs(1) / per,
            burst,
            tokens: burst,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last);
        self.last = now;
        self.tokens =
            (self.tokens + dt.as_secs_f64() / self.interval.as_secs_f64()).min(self.burst);
    }

    /// Takes a token if one is there.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Spends the token of an action that is going out now (the caller only
    /// sends when [`Self::blocked_until`] is `None`) and says until when the
    /// next one must wait, if it must.
    pub fn spend(&mut self, now: Instant) -> Option<Instant> {
        self.refill(now);
        self.tokens -= 1.0;
        self.blocked_until(now)
    }

    /// `None` when an action may go out at `now`, else when it may.
    pub fn blocked_until(&mut self, now: Instant) -> Option<Instant> {
        let ready = self.next_ready(now);
        (ready > now).then_some(ready)
    }

    /// When the next token will be there.
    pub fn next_ready(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.tokens >= 1.0 {
            now
        } else {
            now + self.interval.mul_f64(1.0 - self.tokens)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(id: &str) -> Message {
        Message::response("Success").with("ActionID", id)
    }

    #[test]
    fn simple_response_completes() {
        let mut c = Correlator::default();
        c.register("1".into(), 'a');
        assert!(matches!(c.route(resp("2")), Routed::Absorbed));
        match c.route(resp("1")) {
            Routed::Complete('a', r) => assert!(r.is_success()),
            other => panic!("{other:?}"),
        }
        assert!(c.is_empty());
    }

    #[test]
    fn list_collects_until_complete() {
        let mut c = Correlator::default();
        c.register("q".into(), 1);
        let start = resp("q")
            .with("EventList", "start")
            .with("Message", "Queue status will follow");
        assert!(matches!(c.route(start), Routed::Absorbed));
        let ev = |n: &str| Message::event(n).with("ActionID", "q");
        assert!(matches!(c.route(ev("QueueParams")), Routed::Absorbed));
        // An unrelated event in between is broadcast.
        assert!(matches!(
            c.route(Message::event("Newchannel")),
            Routed::Broadcast(_)
        ));
        assert!(matches!(c.route(ev("QueueMember")), Routed::Absorbed));
        match c.route(ev("QueueStatusComplete").with("EventList", "Complete")) {
            Routed::Complete(1, r) => {
                assert_eq!(r.events.len(), 2);
                assert_eq!(r.events[1].event_name(), Some("QueueMember"));
                assert!(r.complete.is_some());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn error_response_to_list_action_completes() {
        let mut c = Correlator::default();
        c.register("d".into(), ());
        let m = Message::response("Error")
            .with("ActionID", "d")
            .with("Message", "Database entry not found");
        assert!(matches!(c.route(m), Routed::Complete((), r) if !r.is_success()));
    }

    #[test]
    fn originate_response_event_is_broadcast() {
        let mut c: Correlator<()> = Correlator::default();
        let m = Message::event("OriginateResponse").with("ActionID", "o1");
        assert!(matches!(c.route(m), Routed::Broadcast(_)));
    }

    #[test]
    fn bucket_limits_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(
            RateLimit {
                per_second: 100,
                burst: 5,
            },
            t0,
        );
        let mut n = 0;
        while b.try_take(t0) {
            n += 1;
        }
        assert_eq!(n, 5);
        let ready = b.next_ready(t0);
        assert!(ready > t0 && ready <= t0 + Duration::from_millis(10));
        // After one second, at most burst tokens, not 100.
        let t1 = t0 + Duration::from_secs(1);
        let mut m = 0;
        while b.try_take(t1) {
            m += 1;
        }
        assert_eq!(m, 5);
        // 10 ms later: one more.
        assert!(b.try_take(t1 + Duration::from_millis(10)));
        assert!(!b.try_take(t1 + Duration::from_millis(10)));
    }

    /// The sender's loop: send while not blocked, spend, wait when told.
    /// `n` actions with bursts of `burst` at `rate`/s need at least
    /// `(n - burst) / rate` seconds, never one action more than the burst.
    #[test]
    fn spending_sends_no_more_than_the_burst_back_to_back() {
        for burst in [1u32, 3, 10] {
            let limit = RateLimit {
                per_second: 50,
                burst,
            };
            let t0 = Instant::now();
            let mut b = TokenBucket::new(limit, t0);
            let mut now = t0;
            let mut sent_at = Vec::new();
            for _ in 0..20 {
                if let Some(until) = b.blocked_until(now) {
                    now = until;
                }
                sent_at.push(now);
                b.spend(now);
            }
            let back_to_back = sent_at.iter().filter(|t| **t == t0).count();
            assert_eq!(back_to_back, burst as usize, "burst {burst}");
            let span = sent_at[19] - t0;
            let need = Duration::from_millis(20) * (20 - burst);
            assert!(
                span + Duration::from_micros(1) >= need,
                "burst {burst}: {span:?} < {need:?}"
            );
        }
    }
}
