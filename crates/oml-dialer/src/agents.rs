//! Who is logged in to a queue and who is free, per Asterisk server, kept
//! from `QueueMemberStatus` / `QueueMember` / `AgentConnect` events. Pure:
//! the engine feeds it messages and reads counts for pacing.

use std::collections::HashMap;
use std::time::Instant;

use oml_ami::Message;

/// One queue member.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Member {
    /// Device state (1 not in use, 2 in use, 3 busy, 4 invalid, 5 unavailable, 6 ringing ...).
    pub status: u8,
    pub paused: bool,
    pub in_call: bool,
    /// When the member last changed between ready and not ready.
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
}

/// Counts of one queue (or of all queues of a server).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentCounts {
    pub logged_in: u32,
    pub ready: u32,
    /// Elapsed seconds of each member on a call.
    pub talking_elapsed_s: Vec<f64>,
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

impl Agents {
    /// Applies an event. Returns `true` when a member became ready (the
    /// moment the dialer should react to).
    pub fn on_event(&mut self, m: &Message, now: Instant) -> bool {
        let Some(name) = m.event_name() else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "queuememberstatus" | "queuemember" | "queuememberadded" | "queuememberpause" => {
                let (Some(q), Some(iface)) =
                    (m.get("Queue"), m.get("Interface").or(m.get("Location")))
                else {
                    return false;
                };
                let status = m
                    .get("Status")
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0);
                let paused = flag(m, "Paused");
                let in_call = flag(m, "InCall");
                self.set(q, iface, status, paused, in_call, now)
            }
            "queuememberremoved" => {
                if let (Some(q), Some(iface)) = (m.get("Queue"), m.get("Interface")) {
                    if let Some(members) = self.queues.get_mut(q) {
                        members.remove(iface);
                    }
                }
                false
            }
            "agentconnect" => {
                if let (Some(q), Some(iface)) = (m.get("Queue"), m.get("Interface")) {
                    let entry = self.queues.entry(q.to_owned()).or_default();
                    let e = entry.entry(iface.to_owned()).or_insert(Member {
                        status: 2,
                        paused: false,
                        in_call: true,
                        since: now,
                    });
                    if !e.in_call {
                        e.in_call = true;
                        e.status = 2;
                        e.since = now;
                    }
                }
                false
            }
            _ => false,
        }
    }

    fn set(
        &mut self,
        q: &str,
        iface: &str,
        status: u8,
        paused: bool,
        in_call: bool,
        now: Instant,
    ) -> bool {
        let members = self.queues.entry(q.to_owned()).or_default();
        let new = Member {
            status,
            paused,
            in_call,
            since: now,
        };
        match members.get_mut(iface) {
            Some(old) => {
                let was_ready = old.ready();
                let changed = was_ready != new.ready() || old.talking() != new.talking();
                let since = if changed { now } else { old.since };
                *old = Member { since, ..new };
                !was_ready && new.ready()
            }
            None => {
                members.insert(iface.to_owned(), new);
                new.ready()
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
            let (Some(q), Some(iface)) = (m.get("Queue"), m.get("Interface").or(m.get("Location")))
            else {
                continue;
            };
            let status = m
                .get("Status")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            let new = Member {
                status,
                paused: flag(m, "Paused"),
                in_call: flag(m, "InCall"),
                since: now,
            };
            let since = self
                .queues
                .get(q)
                .and_then(|x| x.get(iface))
                .filter(|o| o.ready() == new.ready() && o.talking() == new.talking())
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
            if !seen.insert(iface.as_str()) || !m.logged_in() || m.paused {
                continue;
            }
            out.logged_in += 1;
            if m.ready() {
                out.ready += 1;
            } else if m.talking() {
                out.talking_elapsed_s
                    .push(now.saturating_duration_since(m.since).as_secs_f64());
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
        assert!(a.on_event(&status("q", "PJSIP/a1", 1, false), now));
        assert!(
            !a.on_event(&status("q", "PJSIP/a1", 1, false), now),
            "no change"
        );
        let connect = Message::event("AgentConnect")
            .with("Queue", "q")
            .with("Interface", "PJSIP/a1");
        a.on_event(&connect, now);
        let c = a.counts("q", now);
        assert_eq!((c.logged_in, c.ready, c.talking_elapsed_s.len()), (1, 0, 1));
        assert!(a.on_event(&status("q", "PJSIP/a1", 1, false), now));
        a.on_event(&status("q", "PJSIP/a2", 5, false), now);
        let c = a.counts("", now);
        assert_eq!(
            (c.logged_in, c.ready),
            (1, 1),
            "unavailable is not logged in"
        );
        assert_eq!(a.counts("other", now), AgentCounts::default());
    }
}
