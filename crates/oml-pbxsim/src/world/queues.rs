//! Queues and agents: where an answered call waits, how it is connected
//! to the free agent idle longest, talk and wrap-up (an `ACW` pause),
//! customers who give up waiting, and the queue views (`QueueStatus`,
//! `QueueSummary`, `QueueMember*` and `Agent*` events), as app_queue
//! reports them.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use oml_ami::Message;

use super::channels::{Call, CallState};
use super::reply::{complete, list_event, reply};
use super::{Timer, World};
use crate::config::SimConfig;

/// A simulated agent: a static member of one queue.
#[derive(Debug)]
pub(super) struct Agent {
    pub(super) name: String,
    pub(super) interface: String,
    pub(super) queue: String,
    /// The call being handled, or `None` when free or in wrap-up.
    pub(super) call: Option<u64>,
    pub(super) wrapup: bool,
    /// In a wrap-up of non-zero length: paused with reason `ACW`, as the
    /// agent console does after each call (the queue's own wrapuptime is 0).
    pub(super) acw_paused: bool,
    /// Paused by QueuePause, with its reason (`members.rs`).
    pub(super) paused: Option<String>,
    /// Added by QueueAdd (a logged-in agent) rather than configured.
    pub(super) dynamic: bool,
    pub(super) calls_taken: u64,
    pub(super) last_call: i64,
    pub(super) login_time: i64,
}

/// A queue: its waiting callers (call ids, in order), its members
/// (indexes into the agents) and the figures `QueueStatus` reports.
#[derive(Debug, Default)]
pub(super) struct Queue {
    pub(super) waiting: VecDeque<u64>,
    pub(super) agents: Vec<usize>,
    pub(super) completed: u64,
    pub(super) abandoned: u64,
    pub(super) hold_total: f64,
    pub(super) talk_total: f64,
}

impl Agent {
    /// Free to be offered a call: not on one, not in wrap-up, not paused.
    pub(super) fn free(&self) -> bool {
        self.call.is_none() && !self.wrapup && self.paused.is_none()
    }
}

/// The queues of `cfg` with their agents, all free and logged in since
/// `epoch`, and the name of the default queue (the first, or
/// `oml-default`), which always exists.
pub(super) fn build(cfg: &SimConfig, epoch: i64) -> (BTreeMap<String, Queue>, Vec<Agent>, String) {
    let mut queues = BTreeMap::new();
    let mut agents = Vec::new();
    for q in &cfg.queues {
        let mut queue = Queue::default();
        for _ in 0..q.agents {
            let n = agents.len() + 1;
            queue.agents.push(agents.len());
            agents.push(Agent {
                name: format!("Agent {n}"),
                interface: format!("Local/agent{n}@oml-agents/n"),
                queue: q.name.clone(),
                call: None,
                wrapup: false,
                acw_paused: false,
                paused: None,
                dynamic: false,
                calls_taken: 0,
                last_call: 0,
                login_time: epoch,
            });
        }
        queues.insert(q.name.clone(), queue);
    }
    let default_queue = cfg
        .queues
        .first()
        .map_or_else(|| "oml-default".to_owned(), |q| q.name.clone());
    queues.entry(default_queue.clone()).or_default();
    (queues, agents, default_queue)
}

impl World {
    /// An answered call goes to its queue (the one its Context, or its
    /// `Queue` application's data, is routed to; else the default queue)
    /// and waits there until an agent is free or the customer's patience
    /// runs out.
    pub(super) fn enqueue(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let call = self.calls.get(&c).expect("present");
        // Where does the answered call go?
        let queue = if call.application.eq_ignore_ascii_case("Queue") {
            let q = call.data.split(',').next().unwrap_or("").trim();
            self.cfg
                .routes
                .get(q)
                .cloned()
                .unwrap_or_else(|| q.to_owned())
        } else {
            self.cfg
                .routes
                .get(&call.context)
                .cloned()
                .unwrap_or_else(|| self.default_queue.clone())
        };
        let queue = if self.queues.contains_key(&queue) {
            queue
        } else {
            self.default_queue.clone()
        };
        let sim_now = self.sim_secs(now);
        let q = self.queues.get_mut(&queue).expect("queue exists");
        q.waiting.push_back(c);
        let position = q.waiting.len();
        let call = self.calls.get_mut(&c).expect("present");
        call.state = CallState::Queued;
        call.queue = Some(queue.clone());
        call.original_position = position;
        call.joined_at = sim_now;
        let call = self.calls.get(&c).expect("present");
        events.push(
            self.channel_event("QueueCallerJoin", call)
                .with("Queue", &queue)
                .with("Position", position.to_string())
                .with("Count", position.to_string()),
        );
        let patience = self.cfg.customers.patience.sample(&mut self.rng);
        self.schedule(now, patience, Timer::Abandon(c));
        self.dispatch(&queue, now, events);
    }

    /// Connects waiting callers of `queue` to free agents, longest-idle
    /// (lowest index among free) first.
    pub(super) fn dispatch(&mut self, queue: &str, now: Instant, events: &mut Vec<Message>) {
        loop {
            let Some(q) = self.queues.get(queue) else {
                return;
            };
            if q.waiting.is_empty() {
                return;
            }
            let Some(&a) = q.agents.iter().find(|&&a| self.agents[a].free()) else {
                return;
            };
            let q = self.queues.get_mut(queue).expect("exists");
            let c = q.waiting.pop_front().expect("non-empty");
            let count = q.waiting.len();
            let sim_now = self.sim_secs(now);
            let epoch = self.sim_epoch(now);
            let call = self.calls.get_mut(&c).expect("queued call exists");
            call.state = CallState::Talking;
            call.agent = Some(a);
            call.connected_at = sim_now;
            let hold = (sim_now - call.joined_at).max(0.0);
            self.queues.get_mut(queue).expect("exists").hold_total += hold;
            self.agents[a].call = Some(c);
            self.agents[a].calls_taken += 1;
            self.agents[a].last_call = epoch;
            self.stats.connected += 1;
            let call = self.calls.get(&c).expect("present");
            // The agent is rung (answering at once), then the caller leaves
            // the queue and is bridged, as app_queue reports it.
            events.push(self.agent_event("AgentCalled", call, a));
            events.push(
                self.channel_event("QueueCallerLeave", call)
                    .with("Queue", queue)
                    .with("Count", count.to_string())
                    .with("Position", "1"),
            );
            events.push(
                self.agent_event("AgentConnect", call, a)
                    .with("HoldTime", (hold.round() as i64).to_string())
                    .with("RingTime", "0"),
            );
            events.push(self.member_status(a));
            let talk = self.cfg.talk_time.sample(&mut self.rng);
            self.schedule(now, talk, Timer::TalkEnd(c));
        }
    }

    pub(super) fn abandon(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        if call.state != CallState::Queued {
            return;
        }
        self.abandon_queued(c, 16, true, now, events);
    }

    /// A queued call ends: the customer hung up (`by_customer`, the ;2
    /// half goes first) or a Hangup action ended the ;1 half.
    pub(super) fn abandon_queued(
        &mut self,
        c: u64,
        cause: u32,
        by_customer: bool,
        now: Instant,
        events: &mut Vec<Message>,
    ) {
        let sim_now = self.sim_secs(now);
        let call = self.remove_call(c).expect("present");
        if by_customer {
            events.extend(self.half2_hangup(&call, cause));
        }
        let queue = call.queue.clone().unwrap_or_default();
        let mut position = 0;
        let mut count = 0;
        if let Some(q) = self.queues.get_mut(&queue) {
            if let Some(i) = q.waiting.iter().position(|&x| x == c) {
                q.waiting.remove(i);
                position = i + 1;
            }
            q.abandoned += 1;
            count = q.waiting.len();
        }
        self.stats.abandoned += 1;
        let hold = (sim_now - call.joined_at).max(0.0);
        events.push(
            self.channel_event("QueueCallerAbandon", &call)
                .with("Queue", &queue)
                .with("Position", position.to_string())
                .with("OriginalPosition", call.original_position.to_string())
                .with("HoldTime", (hold.round() as i64).to_string()),
        );
        events.push(
            self.channel_event("QueueCallerLeave", &call)
                .with("Queue", &queue)
                .with("Count", count.to_string())
                .with("Position", position.to_string()),
        );
        events.push(self.hangup_event(&call, cause));
        if !by_customer {
            events.extend(self.half2_hangup(&call, cause));
        }
    }

    /// A connected call ends with `cause`: `by_customer` when the customer
    /// (the ;2 half) hung up, else a Hangup action on the ;1 half.
    pub(super) fn talk_end(
        &mut self,
        c: u64,
        cause: u32,
        by_customer: bool,
        now: Instant,
        events: &mut Vec<Message>,
    ) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        if call.state != CallState::Talking {
            return;
        }
        let sim_now = self.sim_secs(now);
        let call = self.remove_call(c).expect("present");
        let a = call.agent.expect("talking call has an agent");
        let talk = (sim_now - call.connected_at).max(0.0);
        let hold = (call.connected_at - call.joined_at).max(0.0);
        if let Some(q) = call.queue.as_ref().and_then(|q| self.queues.get_mut(q)) {
            q.completed += 1;
            q.talk_total += talk;
        }
        self.stats.completed += 1;
        if by_customer {
            events.extend(self.half2_hangup(&call, cause));
        }
        // Either way the caller side of the queue (;1) left: app_queue
        // says `caller`.
        events.push(
            self.agent_event("AgentComplete", &call, a)
                .with("HoldTime", (hold.round() as i64).to_string())
                .with("TalkTime", (talk.round() as i64).to_string())
                .with("Reason", "caller"),
        );
        events.push(self.hangup_event(&call, cause));
        if !by_customer {
            events.extend(self.half2_hangup(&call, cause));
        }
        self.agents[a].call = None;
        self.agents[a].wrapup = true;
        let w = self.cfg.wrapup_time.sample(&mut self.rng);
        if w > 0.0 {
            self.agents[a].acw_paused = true;
            events.push(self.member_pause(a));
        }
        events.push(self.member_status(a));
        self.schedule(now, w, Timer::WrapupEnd(a));
    }

    pub(super) fn wrapup_end(&mut self, a: usize, now: Instant, events: &mut Vec<Message>) {
        if !self.agents[a].wrapup {
            return;
        }
        self.agents[a].wrapup = false;
        if self.agents[a].acw_paused {
            self.agents[a].acw_paused = false;
            events.push(self.member_pause(a));
        }
        let queue = self.agents[a].queue.clone();
        self.dispatch(&queue, now, events);
    }

    pub(super) fn queue_status(&self, m: &Message, now: Instant) -> Vec<Message> {
        let id = m.action_id();
        let only = m.get("Queue");
        let mut out = vec![reply("Success", id)
            .with("EventList", "start")
            .with("Message", "Queue status will follow")];
        let sim_now = self.sim_secs(now);
        for (name, q) in &self.queues {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            let done = q.completed.max(1) as f64;
            out.push(
                list_event("QueueParams", id)
                    .with("Queue", name)
                    .with("Max", "0")
                    .with("Strategy", "rrordered")
                    .with("Calls", q.waiting.len().to_string())
                    .with(
                        "Holdtime",
                        ((q.hold_total / done).round() as i64).to_string(),
                    )
                    .with(
                        "TalkTime",
                        ((q.talk_total / done).round() as i64).to_string(),
                    )
                    .with("Completed", q.completed.to_string())
                    .with("Abandoned", q.abandoned.to_string())
                    .with("ServiceLevel", "0")
                    .with("ServicelevelPerf", "0.0")
                    .with("ServicelevelPerf2", "0.0")
                    .with("Weight", "0"),
            );
            for &a in &q.agents {
                // QueueStatus names the member `Name` / `Location` (the
                // QueueMemberStatus event says `MemberName` / `Interface`).
                out.push(self.member_fields(
                    list_event("QueueMember", id),
                    a,
                    ("Name", "Location"),
                ));
            }
            for (i, &c) in q.waiting.iter().enumerate() {
                let call = &self.calls[&c];
                out.push(
                    list_event("QueueEntry", id)
                        .with("Queue", name)
                        .with("Position", (i + 1).to_string())
                        .with("Channel", &call.channel)
                        .with("Uniqueid", &call.uniqueid)
                        .with("CallerIDNum", &call.caller_num)
                        .with("CallerIDName", &call.caller_name)
                        .with("ConnectedLineNum", &call.number)
                        .with("ConnectedLineName", "<unknown>")
                        .with(
                            "Wait",
                            (((sim_now - call.joined_at).max(0.0)).round() as i64).to_string(),
                        )
                        .with("Priority", "0"),
                );
            }
        }
        let n = out.len() - 1;
        out.push(complete("QueueStatusComplete", id, n));
        out
    }

    pub(super) fn queue_summary(&self, m: &Message, now: Instant) -> Vec<Message> {
        let id = m.action_id();
        let only = m.get("Queue");
        let sim_now = self.sim_secs(now);
        let mut out = vec![reply("Success", id)
            .with("EventList", "start")
            .with("Message", "Queue summary will follow")];
        for (name, q) in &self.queues {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            let available = q.agents.iter().filter(|&&a| self.agents[a].free()).count();
            let longest = q
                .waiting
                .front()
                .map_or(0.0, |c| sim_now - self.calls[c].joined_at);
            let done = q.completed.max(1) as f64;
            out.push(
                list_event("QueueSummary", id)
                    .with("Queue", name)
                    .with("LoggedIn", q.agents.len().to_string())
                    .with("Available", available.to_string())
                    .with("Callers", q.waiting.len().to_string())
                    .with(
                        "HoldTime",
                        ((q.hold_total / done).round() as i64).to_string(),
                    )
                    .with(
                        "TalkTime",
                        ((q.talk_total / done).round() as i64).to_string(),
                    )
                    .with(
                        "LongestHoldTime",
                        (longest.max(0.0).round() as i64).to_string(),
                    ),
            );
        }
        let n = out.len() - 1;
        out.push(complete("QueueSummaryComplete", id, n));
        out
    }

    pub(super) fn agent_event(&self, name: &str, call: &Call, a: usize) -> Message {
        let ag = &self.agents[a];
        let agent_uid = format!("{}.agent{}", self.epoch_at_start, a + 1);
        self.channel_event(name, call)
            .with(
                "DestChannel",
                format!("{}-{:08x};1", ag.interface.trim_end_matches("/n"), a + 1),
            )
            .with("DestChannelState", "6")
            .with("DestChannelStateDesc", "Up")
            .with("DestCallerIDNum", format!("agent{}", a + 1))
            .with("DestCallerIDName", &ag.name)
            .with("DestConnectedLineNum", &call.number)
            .with("DestConnectedLineName", "<unknown>")
            .with("DestLanguage", "en")
            .with("DestAccountCode", "")
            .with("DestContext", "from-queue")
            .with("DestExten", &call.exten)
            .with("DestPriority", "1")
            .with("DestUniqueid", &agent_uid)
            .with("DestLinkedid", &call.uniqueid)
            .with("Queue", call.queue.as_deref().unwrap_or(""))
            .with("MemberName", &ag.name)
            .with("Interface", &ag.interface)
    }

    /// The fields describing queue member `a`; `keys` names its name and
    /// interface fields, which differ between events and list responses.
    pub(super) fn member_fields(&self, m: Message, a: usize, keys: (&str, &str)) -> Message {
        let ag = &self.agents[a];
        let in_call = ag.call.is_some();
        let paused = ag.acw_paused || ag.paused.is_some();
        let reason = match (&ag.paused, ag.acw_paused) {
            (_, true) => "ACW",
            (Some(r), false) => r.as_str(),
            (None, false) => "",
        };
        m.with("Queue", &ag.queue)
            .with(keys.0, &ag.name)
            .with(keys.1, &ag.interface)
            .with("StateInterface", &ag.interface)
            .with("Membership", if ag.dynamic { "dynamic" } else { "static" })
            .with("Penalty", "0")
            .with("CallsTaken", ag.calls_taken.to_string())
            .with("LastCall", ag.last_call.to_string())
            .with("LastPause", "0")
            .with("LoginTime", ag.login_time.to_string())
            .with("InCall", if in_call { "1" } else { "0" })
            .with("Status", if in_call { "2" } else { "1" })
            .with("Paused", if paused { "1" } else { "0" })
            .with("PausedReason", reason)
            .with("Wrapuptime", "0")
    }

    pub(super) fn member_status(&self, a: usize) -> Message {
        self.member_fields(
            Message::event("QueueMemberStatus").with("Privilege", "agent,all"),
            a,
            ("MemberName", "Interface"),
        )
        .with("Ringinuse", "0")
    }

    /// `QueueMemberPause`: the member was paused or unpaused (here, the
    /// wrap-up pause after a call).
    pub(super) fn member_pause(&self, a: usize) -> Message {
        self.member_fields(
            Message::event("QueueMemberPause").with("Privilege", "agent,all"),
            a,
            ("MemberName", "Interface"),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::{NumberOutcome, QueueConfig};
    use crate::world::testkit::{logged_in, names, world};

    #[test]
    fn answered_call_full_sequence() {
        let (mut w, t0) = world(1);
        let mut s = logged_in();
        let mut ev = Vec::new();
        let o = oml_ami::Originate::to_extension("Local/5551000@from-oml/n", "oml-campaign", "1");
        let mut m = o.to_message().with("ActionID", "o1");
        m.set("Timeout", "30000");
        w.cfg
            .numbers
            .insert("5551000".into(), NumberOutcome::Answer);
        let r = w.handle(&mut s, &m, t0, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Originate successfully queued"));
        // The ;1 half we originated and the ;2 customer half, both at the
        // Local channel's own number and context; then ;1 rings.
        assert_eq!(names(&ev), ["Newchannel", "Newchannel", "Newstate"]);
        assert!(ev[1].get("Channel").unwrap().ends_with(";2"));
        assert_eq!(ev[1].get("Linkedid"), ev[0].get("Uniqueid"));
        for e in &ev[..2] {
            assert_eq!(e.get("Context"), Some("from-oml"), "{e:?}");
            assert_eq!(e.get("Exten"), Some("5551000"), "{e:?}");
        }
        let states: Vec<_> = ev
            .iter()
            .map(|e| e.get("ChannelStateDesc").unwrap())
            .collect();
        assert_eq!(states, ["Down", "Ring", "Ringing"]);
        ev.clear();
        w.advance(t0 + Duration::from_secs(10), &mut ev);
        assert_eq!(
            names(&ev),
            [
                "Newstate",
                "Newstate",
                "OriginateResponse",
                "QueueCallerJoin",
                "AgentCalled",
                "QueueCallerLeave",
                "AgentConnect",
                "QueueMemberStatus"
            ]
        );
        let or = oml_ami::OriginateResponse::from_message(&ev[2]).unwrap();
        assert_eq!(or.outcome, oml_ami::OriginateOutcome::Answered);
        assert_eq!(or.action_id.as_deref(), Some("o1"));
        assert!(or.channel.ends_with(";1"), "{or:?}");
        assert_eq!(ev[3].get("Queue"), Some("oml-default"));
        assert_eq!(ev[7].get("InCall"), Some("1"));
        ev.clear();
        w.advance(t0 + Duration::from_secs(70), &mut ev);
        // The customer (;2) hangs up, the queue reports, then ;1 goes.
        // The agent goes into wrap-up: paused with reason ACW before its
        // device is reported free, so nobody mistakes it for a free agent.
        assert_eq!(
            names(&ev),
            [
                "Hangup",
                "AgentComplete",
                "Hangup",
                "QueueMemberPause",
                "QueueMemberStatus"
            ]
        );
        assert!(ev[0].get("Channel").unwrap().ends_with(";2"));
        assert_eq!(ev[0].get("Cause"), Some("16"));
        assert_eq!(ev[1].get("TalkTime"), Some("60"));
        assert!(ev[2].get("Channel").unwrap().ends_with(";1"));
        assert_eq!(ev[2].get("Cause"), Some("16"));
        for m in &ev[3..] {
            assert_eq!(
                (m.get("Paused"), m.get("PausedReason"), m.get("InCall")),
                (Some("1"), Some("ACW"), Some("0"))
            );
        }
        assert_eq!(w.free_agents(), 0, "wrap-up");
        ev.clear();
        w.advance(t0 + Duration::from_secs(76), &mut ev);
        assert_eq!(names(&ev), ["QueueMemberPause"]);
        assert_eq!(ev[0].get("Paused"), Some("0"));
        assert_eq!(w.free_agents(), 1);
        assert_eq!(w.stats().completed, 1);
    }

    #[test]
    fn waiting_caller_abandons_when_no_agent() {
        let (mut w, t0) = world(0);
        w.cfg.customers.answer_rate = 1.0;
        let mut s = logged_in();
        let mut ev = Vec::new();
        let m = oml_ami::Originate::to_application("PJSIP/777@trunk", "Queue", "oml-default,t")
            .to_message();
        w.handle(&mut s, &m, t0, &mut ev);
        ev.clear();
        w.advance(t0 + Duration::from_secs(10), &mut ev);
        assert!(names(&ev).contains(&"QueueCallerJoin"));
        ev.clear();
        w.advance(t0 + Duration::from_secs(41), &mut ev);
        assert_eq!(
            names(&ev),
            ["QueueCallerAbandon", "QueueCallerLeave", "Hangup"]
        );
        assert_eq!(ev[0].get("HoldTime"), Some("30"));
        assert_eq!(w.stats().abandoned, 1);
        assert_eq!(w.active_calls(), 0);
    }

    #[test]
    fn routes_and_queue_status_lists() {
        let (mut w, t0) = world(0);
        w.cfg.queues.push(QueueConfig {
            name: "sales".into(),
            agents: 0,
        });
        w.queues.entry("sales".into()).or_default();
        w.cfg.routes.insert("camp-7".into(), "sales".into());
        w.cfg.customers.answer_rate = 1.0;
        let mut s = logged_in();
        let mut ev = Vec::new();
        w.handle(
            &mut s,
            &oml_ami::Originate::to_extension("Local/9@from-oml/n", "camp-7", "1").to_message(),
            t0,
            &mut ev,
        );
        ev.clear();
        w.advance(t0 + Duration::from_secs(25), &mut ev);
        let join = ev
            .iter()
            .find(|e| e.event_name() == Some("QueueCallerJoin"))
            .unwrap();
        assert_eq!(join.get("Queue"), Some("sales"));
        let r = w.handle(
            &mut s,
            &oml_ami::actions::queue_status(Some("sales")).with("ActionID", "q"),
            t0,
            &mut ev,
        );
        assert_eq!(
            names(&r[1..]),
            ["QueueParams", "QueueEntry", "QueueStatusComplete"]
        );
        assert_eq!(r[3].get("ListItems"), Some("2"));
        let r = w.handle(&mut s, &oml_ami::actions::core_show_channels(), t0, &mut ev);
        assert_eq!(
            names(&r[1..]),
            ["CoreShowChannel", "CoreShowChannelsComplete"]
        );
    }
}
