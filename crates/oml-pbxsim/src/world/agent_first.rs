//! Preview calls, agent-first (issue 19 items 4 and 8): an Originate into
//! context `oml-preview` rings the agent's interface (`PJSIP/1001`, or any
//! non-Local channel) first. The agent answers after
//! `SimConfig::agent_answer_time`, or never when their interface is in
//! `SimConfig::agents_not_answering`; then the rendered dialplan's `Dial`
//! of `OMLPREVIEWDIAL` (the campaign's trunk, `Local/NUMBER@from-oml/n`)
//! rings the customer, who behaves as the customer model (or the number's
//! forced outcome) says. The events are Asterisk's for that dialplan:
//!
//! - agent: `Newchannel` and `Newstate` Ringing (`Uniqueid` and `Linkedid`
//!   the `ChannelId`), then `Newstate` Up and `OriginateResponse` Success
//!   (Reason 4); or, unanswered at the Originate's `Timeout`, `Hangup`
//!   (cause 19) and `OriginateResponse` Failure (Reason 3);
//! - customer: the Local pair's `Newchannel`s (`Linkedid` the agent's
//!   channel id), `Newstate` Up of `;2` then `;1` on answer; the `Hangup`s
//!   of `;2` then `;1` with the customer's cause (busy 17, congestion 34,
//!   no answer 19, unplaceable 1), or 16 when the talk ends;
//! - then the agent's `Hangup` (16: the dialplan's `Hangup()`).
//!
//! The attempt record (`OML/CALL/[<instance>/]<channel id>`) gets `ANSWERED` and
//! `CONNECTED` when the customer answers (`oml-preview-answered`) and the
//! customer's `CAUSE`/`ENDED` from its `;2` half's hangup (`dialplan.rs`).

use std::time::Instant;

use oml_ami::Message;

use super::channels::{cause_text, number_of};
use super::reply::reply;
use super::{customers, Timer, World};
use crate::config::NumberOutcome;

/// The context a preview Originate names (`oml_store::dialplan::PREVIEW_CONTEXT`).
pub(super) const PREVIEW_CONTEXT: &str = "oml-preview";
/// Its variable with the customer's dial string.
const DIAL_VAR: &str = "OMLPREVIEWDIAL";

#[derive(Debug)]
pub(super) struct Preview {
    key: String,
    agent_chan: String,
    interface: String,
    action_id: Option<String>,
    caller_num: String,
    number: String,
    campaign: String,
    timeout_s: f64,
    /// The customer's Local pair: (channel, uniqueid) of `;1` and `;2`.
    cust: Option<[(String, String); 2]>,
    outcome: NumberOutcome,
    answered: bool,
}

/// The value of `Variable` `name` of an Originate (one header per
/// variable; `__NAME`, inherited, counts as `NAME`).
fn variable(m: &Message, name: &str) -> Option<String> {
    m.get_all("Variable")
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim().trim_start_matches('_') == name)
        .map(|(_, v)| v.trim().to_owned())
}

impl World {
    /// An Originate into [`PREVIEW_CONTEXT`].
    pub(super) fn originate_agent_first(
        &mut self,
        m: &Message,
        now: Instant,
        events: &mut Vec<Message>,
    ) -> Vec<Message> {
        let id = m.action_id();
        let interface = m.get("Channel").unwrap_or("").to_owned();
        let n = self.next_id();
        self.stats.originates += 1;
        let key = m
            .get("ChannelId")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}.{n}", self.epoch_at_start));
        let dial = variable(m, DIAL_VAR).unwrap_or_default();
        let p = Preview {
            key,
            agent_chan: format!("{interface}-{n:08x}"),
            interface: interface.clone(),
            action_id: id.map(str::to_owned),
            caller_num: m
                .get("CallerID")
                .map(|c| {
                    c.rsplit('<')
                        .next()
                        .unwrap_or(c)
                        .trim_end_matches('>')
                        .to_owned()
                })
                .unwrap_or_default(),
            number: number_of(&dial),
            campaign: variable(m, "OMLCAMPID").unwrap_or_default(),
            timeout_s: m
                .get("Timeout")
                .and_then(|t| t.trim().parse::<f64>().ok())
                .map_or(30.0, |ms| ms / 1000.0),
            cust: None,
            outcome: NumberOutcome::NoAnswer,
            answered: false,
        };
        self.records.placed(&p.key, m);
        events.push(self.agent_leg_event("Newchannel", &p, 0, "Down"));
        events.push(self.agent_leg_event("Newstate", &p, 5, "Ringing"));
        let after = if self.cfg.agents_not_answering.contains(&interface) {
            p.timeout_s
        } else {
            self.cfg
                .agent_answer_time
                .sample(&mut self.rng)
                .min(p.timeout_s)
        };
        self.previews.insert(n, p);
        self.schedule(now, after, Timer::PreviewAgent(n));
        vec![reply("Success", id).with("Message", "Originate successfully queued")]
    }

    fn agent_leg_event(&self, name: &str, p: &Preview, state: u8, desc: &str) -> Message {
        Message::event(name)
            .with("Privilege", "call,all")
            .with("Channel", &p.agent_chan)
            .with("ChannelState", state.to_string())
            .with("ChannelStateDesc", desc)
            .with("CallerIDNum", &p.caller_num)
            .with("CallerIDName", "<unknown>")
            .with("ConnectedLineNum", &p.number)
            .with("Context", PREVIEW_CONTEXT)
            .with("Exten", "s")
            .with("Priority", "1")
            .with("Uniqueid", &p.key)
            .with("Linkedid", &p.key)
    }

    fn customer_event(&self, name: &str, p: &Preview, half: usize, state: u8) -> Option<Message> {
        let (chan, uid) = &p.cust.as_ref()?[half];
        let desc = match state {
            6 => "Up",
            5 => "Ringing",
            4 => "Ring",
            _ => "Down",
        };
        Some(
            Message::event(name)
                .with("Privilege", "call,all")
                .with("Channel", chan)
                .with("ChannelState", state.to_string())
                .with("ChannelStateDesc", desc)
                .with("CallerIDNum", &p.number)
                .with("CallerIDName", "<unknown>")
                .with("ConnectedLineNum", &p.caller_num)
                .with("Context", "from-oml")
                .with("Exten", &p.number)
                .with("Priority", "1")
                .with("Uniqueid", uid)
                .with("Linkedid", &p.key),
        )
    }

    fn agent_hangup(&self, p: &Preview, cause: u32, state: u8) -> Message {
        let desc = if state == 6 { "Up" } else { "Ringing" };
        self.agent_leg_event("Hangup", p, state, desc)
            .with("Cause", cause.to_string())
            .with("Cause-txt", cause_text(cause))
    }

    fn originate_reply(&self, p: &Preview, success: bool, reason: u32) -> Message {
        let mut m = Message::event("OriginateResponse").with("Privilege", "call,all");
        if let Some(a) = &p.action_id {
            m.push("ActionID", a);
        }
        m.with("Response", if success { "Success" } else { "Failure" })
            .with(
                "Channel",
                if success { &p.agent_chan } else { &p.interface },
            )
            .with("Context", PREVIEW_CONTEXT)
            .with("Exten", "s")
            .with("Reason", reason.to_string())
            .with("Uniqueid", &p.key)
            .with("CallerIDNum", &p.caller_num)
            .with("CallerIDName", "<unknown>")
    }

    /// The agent answers (then the customer is dialed), or their ring ran
    /// out.
    pub(super) fn preview_agent(&mut self, n: u64, now: Instant, events: &mut Vec<Message>) {
        let Some(p) = self.previews.get(&n) else {
            return;
        };
        if self.cfg.agents_not_answering.contains(&p.interface) {
            let p = self.previews.remove(&n).expect("present");
            self.records.removed(&p.key);
            events.push(self.agent_hangup(&p, 19, 5));
            events.push(self.originate_reply(&p, false, 3));
            return;
        }
        events.push(self.agent_leg_event("Newstate", p, 6, "Up"));
        events.push(self.originate_reply(p, true, 4));
        // The trunk's ring time, as the dialplan reads it.
        let ring_timeout = self
            .db
            .get(&format!("OML/CAMP/{}", p.campaign), "RINGTIME")
            .and_then(|t| t.trim().parse::<f64>().ok())
            .unwrap_or(30.0);
        let forced = self.cfg.numbers.get(&p.number).copied();
        let number = p.number.clone();
        let sim_s = self.sim_secs(now);
        let (ring_s, outcome) = customers::draw(
            &self.cfg.customers,
            forced,
            ring_timeout,
            sim_s,
            &mut self.rng,
        );
        let (a, b) = (self.next_id(), self.next_id());
        let base = format!("Local/{number}@from-oml-{a:08x}");
        let cust = [
            (format!("{base};1"), format!("{}.{a}", self.epoch_at_start)),
            (format!("{base};2"), format!("{}.{b}", self.epoch_at_start)),
        ];
        let p = self.previews.get_mut(&n).expect("present");
        p.cust = Some(cust);
        p.outcome = outcome;
        let p = &self.previews[&n];
        events.extend(self.customer_event("Newchannel", p, 0, 0));
        events.extend(self.customer_event("Newchannel", p, 1, 4));
        events.extend(self.customer_event("Newstate", p, 0, 5));
        self.schedule(now, ring_s, Timer::PreviewCustomer(n));
    }

    /// The customer's ring ends: answered (connected to the agent at once),
    /// or the customer's leg fails and the dialplan hangs the agent up.
    pub(super) fn preview_customer(&mut self, n: u64, now: Instant, events: &mut Vec<Message>) {
        let Some(p) = self.previews.get(&n) else {
            return;
        };
        let cause = match p.outcome {
            NumberOutcome::Answer => {
                events.extend(self.customer_event("Newstate", p, 1, 6));
                events.extend(self.customer_event("Newstate", p, 0, 6));
                let family = self.records.family(&p.key);
                let at = self.sim_epoch(now).to_string();
                self.db.put(&family, "ANSWERED", &at);
                self.db.put(&family, "CONNECTED", &at);
                self.stats.answered += 1;
                self.stats.connected += 1;
                self.previews.get_mut(&n).expect("present").answered = true;
                let talk = self.cfg.talk_time.sample(&mut self.rng);
                self.schedule(now, talk, Timer::PreviewEnd(n));
                return;
            }
            NumberOutcome::Busy => {
                self.stats.busy += 1;
                17
            }
            NumberOutcome::Congestion => {
                self.stats.congestion += 1;
                34
            }
            NumberOutcome::NoAnswer => {
                self.stats.no_answer += 1;
                19
            }
            NumberOutcome::Fail => {
                self.stats.failed += 1;
                1
            }
        };
        self.preview_end(n, cause, events);
    }

    /// The call ends: the customer's halves with `cause`, then the agent.
    pub(super) fn preview_end(&mut self, n: u64, cause: u32, events: &mut Vec<Message>) {
        let Some(p) = self.previews.remove(&n) else {
            return;
        };
        let state = if p.answered { 6 } else { 5 };
        for half in [1, 0] {
            if let Some(e) = self.customer_event("Hangup", &p, half, state) {
                events.push(
                    e.with("Cause", cause.to_string())
                        .with("Cause-txt", cause_text(cause)),
                );
            }
        }
        if p.answered {
            self.stats.completed += 1;
        }
        self.records.removed(&p.key);
        events.push(self.agent_hangup(&p, 16, 6));
    }

    /// The preview calls in progress.
    pub(super) fn preview_calls(&self) -> usize {
        self.previews.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Dist, SimConfig};

    fn world(not_answering: &[&str]) -> World {
        let mut cfg = SimConfig::new("oml", "s".to_owned().into(), 1);
        cfg.agent_answer_time = Dist::Fixed(1.0);
        cfg.talk_time = Dist::Fixed(10.0);
        cfg.agents_not_answering = not_answering.iter().map(|s| s.to_string()).collect();
        cfg.numbers.insert("5550001".into(), NumberOutcome::Answer);
        cfg.numbers.insert("5550002".into(), NumberOutcome::Busy);
        cfg.customers.time_to_answer = Dist::Fixed(3.0);
        World::new(cfg, Instant::now())
    }

    fn originate(w: &mut World, number: &str, t0: Instant) -> Vec<Message> {
        let mut o = oml_ami::Originate::to_extension("PJSIP/1001", PREVIEW_CONTEXT, "s")
            .variable("__OMLCAMPID", "1")
            .variable(DIAL_VAR, &format!("Local/{number}@from-oml/n"));
        o.channel_id = Some("oml-1-2-1-p".into());
        let m = o.to_message();
        let mut ev = Vec::new();
        let r = w.originate(&m, t0, &mut ev);
        assert_eq!(r[0].get("Response"), Some("Success"));
        ev
    }

    fn run(w: &mut World, t0: Instant, secs: u64) -> Vec<Message> {
        let mut ev = Vec::new();
        for s in 0..=secs {
            w.advance(t0 + std::time::Duration::from_secs(s), &mut ev);
        }
        ev
    }

    fn names(ev: &[Message]) -> Vec<String> {
        ev.iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    e.event_name().unwrap_or(""),
                    e.get("Uniqueid").unwrap_or(""),
                    e.get("Cause").or(e.get("ChannelState")).unwrap_or("")
                )
            })
            .collect()
    }

    #[test]
    fn the_agent_answers_then_the_customer_then_the_talk_ends() {
        let t0 = Instant::now();
        let mut w = world(&[]);
        let ev = originate(&mut w, "5550001", t0);
        assert_eq!(ev[0].get("Uniqueid"), Some("oml-1-2-1-p"));
        let ev = run(&mut w, t0, 20);
        let n = names(&ev);
        assert!(n[0].starts_with("Newstate oml-1-2-1-p 6"), "{n:?}");
        assert!(n[1].starts_with("OriginateResponse oml-1-2-1-p"), "{n:?}");
        // Every customer event is linked to the agent's channel id.
        assert!(ev[2..]
            .iter()
            .all(|e| e.get("Linkedid") == Some("oml-1-2-1-p")));
        let ups = ev
            .iter()
            .filter(|e| e.event_name() == Some("Newstate") && e.get("ChannelState") == Some("6"))
            .count();
        assert_eq!(ups, 3, "{n:?}");
        assert_eq!(ev.last().unwrap().get("Uniqueid"), Some("oml-1-2-1-p"));
        assert_eq!(w.stats().connected, 1);
        assert_eq!(w.preview_calls(), 0);
    }

    #[test]
    fn a_busy_customer_and_an_agent_who_does_not_answer() {
        let t0 = Instant::now();
        let mut w = world(&[]);
        originate(&mut w, "5550002", t0);
        let ev = run(&mut w, t0, 5);
        let causes: Vec<_> = ev
            .iter()
            .filter(|e| e.event_name() == Some("Hangup"))
            .map(|e| e.get("Cause").unwrap().to_owned())
            .collect();
        assert_eq!(causes, ["17", "17", "16"]);
        assert_eq!(w.stats().busy, 1);

        let mut w = world(&["PJSIP/1001"]);
        originate(&mut w, "5550001", t0);
        let ev = run(&mut w, t0, 40);
        let n = names(&ev);
        assert_eq!(n.len(), 2, "{n:?}");
        assert_eq!(ev[1].get("Response"), Some("Failure"));
        assert_eq!(ev[1].get("Reason"), Some("3"));
        assert_eq!(w.stats().answered, 0);
    }
}
