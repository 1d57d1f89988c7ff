//! Who is logged in to a queue and who is free, talking or in wrap-up, per
//! Asterisk server, kept from `QueueMemberStatus` / `QueueMember` /
//! `QueueMemberPause` / `AgentConnect` events. Pure: the engine feeds it
//! messages and reads counts for pacing.
//!
//! Wrap-up (after-call work) is a pause whose reason is one of
//! [`WRAP_UP_PAUSE_REASONS`], as the agent console sets after each call (the
//! rendered queues keep Asterisk's own `wrapuptime` at 0). Such an agent is
//! still logged in and about to be free, so the predictive pacer counts it;
//! any other pause takes the agent out of the campaign.

use std::collections::HashMap;
use std::time::Instant;

use oml_ami::Message;

/// Pause reasons (compared without case) that mean "wrap-up after a call".
pub const WRAP_UP_PAUSE_REASONS: &[&str] = &["ACW", "wrap-up", "wrapup", "wrap up"];

/// One queue member.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Member {
    /// Device state (1 not in use, 2 in use, 3 busy, 4 invalid, 5 unavailable, 6 ringing ...).
    pub status: u8,
    pub paused: bool,
    /// Paused for wrap-up (see [`WRAP_UP_PAUSE_REASONS`]).
    pub wrap_up: bool,
    pub in_call: bool,
    /// When the member last changed between ready, talking and wrap-up.
    pub since: Instant,
}

impl Member {
    pub fn logged_in(&self) -> bool {
        !matches!(self.status, 4 | 5)
    }
    pub fn ready(&self) -> bool {
        self.status == 1 && !self.paused && !self.in_call
    }
    pub fn talking(&self) -> bool {
        self.logged_in() && !self.paused && (self.in_call || matches!(self.status, 2 | 3 | 8))
    }
    /// In wrap-up: logged in, paused for after-call work, not on a call.
    pub fn in_wrap_up(&self) -> bool {
        self.logged_in() && self.paused && self.wrap_up && !self.in_call
    }
    /// The state class whose changes restart [`Member::since`].
    fn phase(&self) -> (bool, bool, bool) {
        (self.ready(), self.talking(), self.in_wrap_up())
    }
}

/// A member event's effect the engine reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Change {
    /// The member became ready (the moment to place a call for it).
    pub became_ready: bool,
    /// The member left wrap-up after this many seconds (a sample for pacing).
    pub wrap_up_ended_s: Option<f64>,
}

/// Counts of one queue (or of all queues of a server).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentCounts {
    pub logged_in: u32,
    pub ready: u32,
    /// Elapsed seconds of each member on a call.
    pub talking_elapsed_s: Vec<f64>,
    /// Elapsed seconds of each member in wrap-up.
    pub wrap_up_elapsed_s: Vec<f64>,
}

/// The members of every queue of one server.
#[derive(Debug, Default, Clone)]
pub struct Agents {
    queues: HashMap<String, HashMap<String, Member>>,
}

fn flag(m: &Message, k: &str) -> bool {
    m.get(k)
        .is_some_and(|v| v.trim() == "1" || v.eq_ignore_ascii_case("true"))
}

/// The queue, interface and state a member event or list entry describes.
fn member_of(m: &Message, now: Instant) -> Option<(&str, &str, Member)> {
    let q = m.get("Queue")?;
    let iface = m.get("Interface").or(m.get("Location"))?;
    let paused = flag(m, "Paused");
    let member = Member {
        status: m
            .get("Status")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
        paused,
        wrap_up: paused && is_wrap_up_reason(m),
        in_call: flag(m, "InCall"),
        since: now,
    };
    Some((q, iface, member))
}

fn is_wrap_up_reason(m: &Message) -> bool {
    m.get("PausedReason").is_some_and(|r| {
        WRAP_UP_PAUSE_REASONS
            .iter()
            .any(|w| r.trim().eq_ignore_ascii_case(w))
    })
}

impl Agents {
    /// Applies an event and says what changed that the engine reacts to.
    pub fn on_event(&mut self, m: &Message, now: Instant) -> Change {
        let Some(name) = m.event_name() else {
            return Change::default();
        };
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "queuememberstatus" | "queuemember" | "queuememberadded" | "queuememberpause" => {
                match member_of(m, now) {
                    Some((q, iface, new)) => self.set(q, iface, new, now),
                    None => Change::default(),
                }
            }
            "queuememberremoved" => {
                if let (Some(q), Some(iface)) = (m.get("Queue"), m.get("Interface")) {
                    if let Some(members) = self.queues.get_mut(q) {
                        members.remove(iface);
                    }
                }
                Change::default()
            }
            "agentconnect" => {
                if let (Some(q), Some(iface)) = (m.get("Queue"), m.get("Interface")) {
                    let entry = self.queues.entry(q.to_owned()).or_default();
                    let e = entry.entry(iface.to_owned()).or_insert(Member {
                        status: 2,
                        paused: false,
                        wrap_up: false,
                        in_call: true,
                        since: now,
                    });
                    if !e.in_call {
                        e.in_call = true;
                        e.status = 2;
                        e.since = now;
                    }
                }
                Change::default()
            }
            _ => Change::default(),
        }
    }

    fn set(&mut self, q: &str, iface: &str, new: Member, now: Instant) -> Change {
        let members = self.queues.entry(q.to_owned()).or_default();
        match members.get_mut(iface) {
            Some(old) => {
                let before = *old;
                let since = if before.phase() != new.phase() {
                    now
                } else {
                    before.since
                };
                *old = Member { since, ..new };
                Change {
                    became_ready: !before.ready() && new.ready(),
                    wrap_up_ended_s: (before.in_wrap_up() && !new.in_wrap_up())
                        .then(|| now.saturating_duration_since(before.since).as_secs_f64()),
                }
            }
            None => {
                members.insert(iface.to_owned(), new);
                Change {
                    became_ready: new.ready(),
                    wrap_up_ended_s: None,
                }
            }
        }
    }

    /// Replaces everything known about the queues in `members` (a
    /// `QueueStatus` answer).
    pub fn resync(&mut self, members: &[Message], now: Instant) {
        let mut fresh: HashMap<String, HashMap<String, Member>> = HashMap::new();
        for m in members {
            if !m
                .event_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("QueueMember"))
            {
                continue;
            }
            let Some((q, iface, new)) = member_of(m, now) else {
                continue;
            };
            let since = self
                .queues
                .get(q)
                .and_then(|x| x.get(iface))
                .filter(|o| o.phase() == new.phase())
                .map_or(now, |o| o.since);
            fresh
                .entry(q.to_owned())
                .or_default()
                .insert(iface.to_owned(), Member { since, ..new });
        }
        self.queues = fresh;
    }

    /// Counts for `queue`, or for every queue when `queue` is empty (a
    /// member of two queues counts once).
    pub fn counts(&self, queue: &str, now: Instant) -> AgentCounts {
        let mut out = AgentCounts::default();
        let mut seen = std::collections::HashSet::new();
        let iter: Box<dyn Iterator<Item = (&String, &Member)>> = if queue.is_empty() {
            Box::new(self.queues.values().flat_map(|m| m.iter()))
        } else {
            match self.queues.get(queue) {
                Some(m) => Box::new(m.iter()),
                None => Box::new(std::iter::empty()),
            }
        };
        for (iface, m) in iter {
            if !seen.insert(iface.as_str()) || !m.logged_in() || (m.paused && !m.in_wrap_up()) {
                continue;
            }
            out.logged_in += 1;
            let elapsed = now.saturating_duration_since(m.since).as_secs_f64();
            if m.ready() {
                out.ready += 1;
            } else if m.talking() {
                out.talking_elapsed_s.push(elapsed);
            } else if m.in_wrap_up() {
                out.wrap_up_elapsed_s.push(elapsed);
            }
        }
        out
    }

    /// Every queue name known.
    pub fn queue_names(&self) -> impl Iterator<Item = &str> {
        self.queues.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(q: &str, iface: &str, st: u8, in_call: bool) -> Message {
        Message::event("QueueMemberStatus")
            .with("Queue", q)
            .with("Interface", iface)
            .with("Status", st.to_string())
            .with("Paused", "0")
            .with("InCall", if in_call { "1" } else { "0" })
    }

    #[test]
    fn ready_transitions_are_reported() {
        let now = Instant::now();
        let mut a = Agents::default();
        assert!(
            a.on_event(&status("q", "PJSIP/a1", 1, false), now)
                .became_ready
        );
        assert!(
            !a.on_event(&status("q", "PJSIP/a1", 1, false), now)
                .became_ready,
            "no change"
        );
        let connect = Message::event("AgentConnect")
            .with("Queue", "q")
            .with("Interface", "PJSIP/a1");
        a.on_event(&connect, now);
        let c = a.counts("q", now);
        assert_eq!((c.logged_in, c.ready, c.talking_elapsed_s.len()), (1, 0, 1));
        assert!(
            a.on_event(&status("q", "PJSIP/a1", 1, false), now)
                .became_ready
        );
        a.on_event(&status("q", "PJSIP/a2", 5, false), now);
        let c = a.counts("", now);
        assert_eq!(
            (c.logged_in, c.ready),
            (1, 1),
            "unavailable is not logged in"
        );
        assert_eq!(a.counts("other", now), AgentCounts::default());
    }

    fn pause(iface: &str, paused: bool, reason: &str) -> Message {
        Message::event("QueueMemberPause")
            .with("Queue", "q")
            .with("Interface", iface)
            .with("Status", "1")
            .with("Paused", if paused { "1" } else { "0" })
            .with("PausedReason", reason)
            .with("InCall", "0")
    }

    #[test]
    fn a_wrap_up_pause_counts_as_about_to_be_free_and_other_pauses_do_not() {
        let t0 = Instant::now();
        let mut a = Agents::default();
        a.on_event(&status("q", "PJSIP/a1", 2, true), t0);
        a.on_event(&status("q", "PJSIP/a2", 1, false), t0);
        // a1 ends its call and pauses for after-call work; a2 goes to lunch.
        assert_eq!(
            a.on_event(&pause("PJSIP/a1", true, "ACW"), t0),
            Change::default()
        );
        a.on_event(&pause("PJSIP/a2", true, "Lunch"), t0);
        let c = a.counts("q", t0 + std::time::Duration::from_secs(3));
        assert_eq!((c.logged_in, c.ready), (1, 0), "{c:?}");
        assert!(c.talking_elapsed_s.is_empty());
        assert_eq!(c.wrap_up_elapsed_s, vec![3.0]);
        // The wrap-up ends 7 s later: ready, and a 7 s sample for pacing.
        let ch = a.on_event(
            &pause("PJSIP/a1", false, ""),
            t0 + std::time::Duration::from_secs(7),
        );
        assert!(ch.became_ready);
        assert_eq!(ch.wrap_up_ended_s, Some(7.0));
        let c = a.counts("q", t0 + std::time::Duration::from_secs(8));
        assert_eq!((c.logged_in, c.ready), (1, 1));
        assert!(c.wrap_up_elapsed_s.is_empty());
    }
}
