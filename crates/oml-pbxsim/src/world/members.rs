//! Agents logging in and out of queues and pausing (issue 19 item 8):
//! `QueueAdd`, `QueueRemove` and `QueuePause` with a reason, answered and
//! reported (`QueueMemberAdded`, `QueueMemberRemoved`, `QueueMemberPause`
//! with `PausedReason`) in Asterisk 22's words, as the agent page sends them.
//! A paused member is offered no call; unpausing offers the waiting ones.

use std::time::Instant;

use oml_ami::Message;

use super::queues::Agent;
use super::reply::reply;
use super::World;

impl World {
    /// The member of `queue` at `interface` (an index into the agents).
    fn member(&self, queue: &str, interface: &str) -> Option<usize> {
        self.queues
            .get(queue)?
            .agents
            .iter()
            .copied()
            .find(|&a| self.agents[a].interface.eq_ignore_ascii_case(interface))
    }

    /// `QueueAdd`: a dynamic member, paused (with `Reason`) if asked.
    pub(super) fn queue_add(
        &mut self,
        m: &Message,
        now: Instant,
        events: &mut Vec<Message>,
    ) -> Vec<Message> {
        let id = m.action_id();
        let err = |msg: &str| vec![reply("Error", id).with("Message", msg)];
        let (Some(queue), Some(interface)) = (field(m, "Queue"), field(m, "Interface")) else {
            return err(if field(m, "Queue").is_none() {
                "'Queue' not specified."
            } else {
                "'Interface' not specified."
            });
        };
        if !self.queues.contains_key(queue) {
            return err("Unable to add interface to queue: No such queue");
        }
        if self.member(queue, interface).is_some() {
            return err("Unable to add interface: Already there");
        }
        let paused = m.get("Paused").is_some_and(is_true);
        let a = self.agents.len();
        self.agents.push(Agent {
            name: field(m, "MemberName").unwrap_or(interface).to_owned(),
            interface: interface.to_owned(),
            queue: queue.to_owned(),
            call: None,
            wrapup: false,
            acw_paused: false,
            paused: paused.then(|| m.get("Reason").unwrap_or("").trim().to_owned()),
            dynamic: true,
            calls_taken: 0,
            last_call: 0,
            login_time: self.sim_epoch(now),
        });
        self.queues.get_mut(queue).expect("exists").agents.push(a);
        events.push(self.member_fields(
            Message::event("QueueMemberAdded").with("Privilege", "agent,all"),
            a,
            ("MemberName", "Interface"),
        ));
        self.dispatch(queue, now, events);
        vec![reply("Success", id).with("Message", "Added interface to queue")]
    }

    /// `QueueRemove`: a dynamic member leaves (a call in progress goes on).
    pub(super) fn queue_remove(&mut self, m: &Message, events: &mut Vec<Message>) -> Vec<Message> {
        let id = m.action_id();
        let err = |msg: &str| vec![reply("Error", id).with("Message", msg)];
        let (Some(queue), Some(interface)) = (field(m, "Queue"), field(m, "Interface")) else {
            return err("Need 'Queue' and 'Interface' parameters.");
        };
        if !self.queues.contains_key(queue) {
            return err("Unable to remove interface from queue: No such queue");
        }
        let Some(a) = self.member(queue, interface) else {
            return err("Unable to remove interface: Not there");
        };
        if !self.agents[a].dynamic {
            return err("Member not dynamic");
        }
        self.queues
            .get_mut(queue)
            .expect("exists")
            .agents
            .retain(|&x| x != a);
        events.push(self.member_fields(
            Message::event("QueueMemberRemoved").with("Privilege", "agent,all"),
            a,
            ("MemberName", "Interface"),
        ));
        vec![reply("Success", id).with("Message", "Removed interface from queue")]
    }

    /// `QueuePause`: pauses or unpauses `Interface` in `Queue`, or in every
    /// queue it is a member of, with `Reason`.
    pub(super) fn queue_pause(
        &mut self,
        m: &Message,
        now: Instant,
        events: &mut Vec<Message>,
    ) -> Vec<Message> {
        let id = m.action_id();
        let (Some(interface), Some(paused)) = (field(m, "Interface"), m.get("Paused")) else {
            return vec![
                reply("Error", id).with("Message", "Need 'Interface' and 'Paused' parameters.")
            ];
        };
        let paused = is_true(paused);
        let reason = m.get("Reason").unwrap_or("").trim().to_owned();
        let only = field(m, "Queue");
        let members: Vec<(String, usize)> = self
            .queues
            .iter()
            .filter(|(name, _)| only.is_none_or(|o| o == name.as_str()))
            .flat_map(|(name, q)| q.agents.iter().map(move |&a| (name.clone(), a)))
            .filter(|(_, a)| self.agents[*a].interface.eq_ignore_ascii_case(interface))
            .collect();
        if members.is_empty() {
            return vec![reply("Error", id).with("Message", "Interface not found")];
        }
        for (queue, a) in members {
            self.agents[a].paused = paused.then(|| reason.clone());
            events.push(self.member_pause(a));
            if !paused {
                self.dispatch(&queue, now, events);
            }
        }
        let msg = if paused {
            "Interface paused successfully"
        } else {
            "Interface unpaused successfully"
        };
        vec![reply("Success", id).with("Message", msg)]
    }
}

/// A non-empty, trimmed header.
fn field<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.get(name).map(str::trim).filter(|v| !v.is_empty())
}

/// Asterisk's `ast_true`.
fn is_true(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "yes" | "true" | "y" | "t" | "1" | "on"
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use oml_ami::Message;

    use crate::config::NumberOutcome;
    use crate::world::testkit::{logged_in, names, world};

    fn action(name: &str, fields: &[(&str, &str)]) -> Message {
        let mut m = Message::action(name).with("ActionID", "x");
        for (k, v) in fields {
            m.set(k, v);
        }
        m
    }

    #[test]
    fn agents_log_in_pause_with_a_reason_and_log_out() {
        // No configured agents: only the one who logs in takes calls.
        let (mut w, t0) = world(0);
        let mut s = logged_in();
        let mut ev = Vec::new();
        let q = w.default_queue.clone();
        let add = action(
            "QueueAdd",
            &[
                ("Queue", &q),
                ("Interface", "PJSIP/1001"),
                ("MemberName", "ana"),
                ("Paused", "true"),
                ("Reason", "Break"),
            ],
        );
        let r = w.handle(&mut s, &add, t0, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Added interface to queue"));
        assert_eq!(names(&ev), ["QueueMemberAdded"]);
        assert_eq!(ev[0].get("Membership"), Some("dynamic"));
        assert_eq!(ev[0].get("Paused"), Some("1"));
        assert_eq!(ev[0].get("PausedReason"), Some("Break"));
        let r = w.handle(&mut s, &add, t0, &mut ev);
        assert_eq!(
            r[0].get("Message"),
            Some("Unable to add interface: Already there")
        );

        // A customer answers while ana is paused: the call waits.
        w.cfg
            .numbers
            .insert("5551000".into(), NumberOutcome::Answer);
        let o = oml_ami::Originate::to_extension("Local/5551000@from-oml/n", "oml-campaign", "1");
        let mut m = o.to_message().with("ActionID", "o1");
        m.set("Timeout", "30000");
        w.handle(&mut s, &m, t0, &mut ev);
        ev.clear();
        w.advance(t0 + Duration::from_secs(11), &mut ev);
        assert!(names(&ev).contains(&"QueueCallerJoin"), "{:?}", names(&ev));
        assert!(!names(&ev).contains(&"AgentConnect"));

        // Unpaused: she gets it at once.
        ev.clear();
        let t1 = t0 + Duration::from_secs(12);
        let pause = |p: &str, reason: &str| {
            action(
                "QueuePause",
                &[
                    ("Interface", "PJSIP/1001"),
                    ("Paused", p),
                    ("Reason", reason),
                ],
            )
        };
        let r = w.handle(&mut s, &pause("false", ""), t1, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Interface unpaused successfully"));
        assert_eq!(names(&ev)[0], "QueueMemberPause");
        assert_eq!(ev[0].get("Paused"), Some("0"));
        let connect = ev
            .iter()
            .find(|e| e.event_name() == Some("AgentConnect"))
            .expect("connected");
        assert_eq!(connect.get("MemberName"), Some("ana"));
        assert_eq!(connect.get("Interface"), Some("PJSIP/1001"));

        // Paused with a reason, as QueueStatus and the event report it.
        ev.clear();
        let r = w.handle(&mut s, &pause("1", "Lunch"), t1, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Interface paused successfully"));
        assert_eq!(ev[0].get("PausedReason"), Some("Lunch"));
        let st = w.handle(
            &mut s,
            &action("QueueStatus", &[("Queue", &q)]),
            t1,
            &mut ev,
        );
        let member = st
            .iter()
            .find(|e| e.event_name() == Some("QueueMember"))
            .expect("member");
        assert_eq!(member.get("Paused"), Some("1"));
        assert_eq!(member.get("PausedReason"), Some("Lunch"));

        // Log out; unknown interfaces and queues are refused in Asterisk's words.
        ev.clear();
        let rm = action("QueueRemove", &[("Queue", &q), ("Interface", "PJSIP/1001")]);
        let r = w.handle(&mut s, &rm, t1, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Removed interface from queue"));
        assert_eq!(names(&ev), ["QueueMemberRemoved"]);
        let r = w.handle(&mut s, &rm, t1, &mut ev);
        assert_eq!(
            r[0].get("Message"),
            Some("Unable to remove interface: Not there")
        );
        let r = w.handle(&mut s, &pause("1", "x"), t1, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Interface not found"));
        let nope = action("QueueAdd", &[("Queue", "nope"), ("Interface", "PJSIP/1")]);
        let r = w.handle(&mut s, &nope, t1, &mut ev);
        assert_eq!(
            r[0].get("Message"),
            Some("Unable to add interface to queue: No such queue")
        );
    }
}
