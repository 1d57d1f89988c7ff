//! Channels: what an Originate creates (one channel, or the `;1`/`;2`
//! pair of a `Local/NUMBER@CONTEXT` dial string as Asterisk makes it),
//! how it ends (the `Hangup` action, the end of a call), the channel lists
//! (`CoreShowChannels`, `Status`) and the channel events with their
//! snapshot fields (`Newchannel`, `Newstate`, `OriginateResponse`,
//! `Hangup`). Dial-string parsing is pure and tested alone.

use std::time::Instant;

use oml_ami::Message;

use super::reply::{complete, list_event, reply};
use super::{customers, Timer, World};
use crate::config::NumberOutcome;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CallState {
    Ringing,
    Queued,
    Talking,
    /// Answered and in the campaign's context outside the queue: `AMD()`
    /// listening, or a machine or abandon message playing.
    InContext,
}

/// A channel's state as AMI reports it (`ChannelState`,
/// `ChannelStateDesc`). Asterisk's Local pair: `;1` starts `Down` and turns
/// `Ringing` when the customer rings; `;2` starts `Ring`, turns `Busy` on
/// `Busy()`/`Congestion()`; both turn `Up` on answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ChanState {
    Down,
    Ring,
    Ringing,
    Up,
    Busy,
}

impl ChanState {
    pub(super) fn code(self) -> u8 {
        match self {
            ChanState::Down => 0,
            ChanState::Ring => 4,
            ChanState::Ringing => 5,
            ChanState::Up => 6,
            ChanState::Busy => 7,
        }
    }

    pub(super) fn desc(self) -> &'static str {
        match self {
            ChanState::Down => "Down",
            ChanState::Ring => "Ring",
            ChanState::Ringing => "Ringing",
            ChanState::Up => "Up",
            ChanState::Busy => "Busy",
        }
    }
}

#[derive(Debug)]
pub(super) struct Call {
    pub(super) channel: String,
    pub(super) uniqueid: String,
    pub(super) number: String,
    /// The Originate's `Context` / `Exten`: where the call goes once
    /// answered.
    pub(super) context: String,
    pub(super) exten: String,
    /// Where the `;1` channel is in the dialplan now, as its events show:
    /// a Local channel starts at its own `NUMBER@CONTEXT` and moves to the
    /// Originate's context and extension when answered.
    pub(super) at_context: String,
    pub(super) at_exten: String,
    /// State of the `;1` channel.
    pub(super) chan_state: ChanState,
    /// Whether the `Newchannel` events went out (an immediate failure
    /// sends them with its end, in the order Asterisk does).
    pub(super) announced: bool,
    pub(super) application: String,
    pub(super) data: String,
    pub(super) caller_num: String,
    pub(super) caller_name: String,
    pub(super) action_id: Option<String>,
    pub(super) state: CallState,
    pub(super) queue: Option<String>,
    /// Position when it joined its queue.
    pub(super) original_position: usize,
    /// Sim time (s) when it joined the queue / was connected.
    pub(super) joined_at: f64,
    pub(super) connected_at: f64,
    pub(super) agent: Option<usize>,
    /// Outcome drawn at Originate, applied when the ring timer fires.
    pub(super) ring_outcome: NumberOutcome,
    /// The `Channel` of the Originate as given (a failed OriginateResponse
    /// names it).
    pub(super) dial: String,
    /// Whether the Originate gave a `ChannelId`.
    pub(super) chan_id_given: bool,
    /// The `;2` half of a `Local/` channel: the customer's side.
    pub(super) other: Option<Half>,
    /// Answered by an answering machine (`machines.rs`).
    pub(super) machine: bool,
}

/// The `;2` half of a Local channel pair: the side that runs the dial
/// context (the customer). It carries the customer's hangup cause.
#[derive(Debug)]
pub(super) struct Half {
    pub(super) channel: String,
    pub(super) uniqueid: String,
    /// The context of the Local channel (`from-oml` in `Local/5551@from-oml/n`).
    pub(super) context: String,
    /// Its state.
    pub(super) state: ChanState,
}

/// The number in a dial string: `Local/5551234@from-oml/n` → `5551234`,
/// `PJSIP/5551234@trunk` → `5551234`, `SIP/trunk/5551234` → `5551234`.
pub fn number_of(channel: &str) -> String {
    let before_at = channel.split('@').next().unwrap_or(channel);
    let last = before_at.rsplit('/').next().unwrap_or(before_at);
    last.to_owned()
}

impl World {
    pub(super) fn originate(
        &mut self,
        m: &Message,
        now: Instant,
        events: &mut Vec<Message>,
    ) -> Vec<Message> {
        let id = m.action_id();
        let Some(dial) = m.get("Channel").filter(|c| !c.is_empty()) else {
            return vec![reply("Error", id).with("Message", "Channel not specified")];
        };
        let has_exten = m.get("Exten").is_some();
        let has_app = m.get("Application").is_some();
        if !has_exten && !has_app {
            return vec![reply("Error", id).with("Message", "Exten not specified")];
        }
        if has_exten {
            let ctx = m.get("Context").unwrap_or("default");
            // A preview call rings the agent first (`agent_first.rs`).
            if ctx == super::agent_first::PREVIEW_CONTEXT {
                return self.originate_agent_first(m, now, events);
            }
            if !self.context_exists(ctx) {
                return vec![reply("Error", id).with("Message", "Extension does not exist.")];
            }
        }
        self.stats.originates += 1;
        let n = self.next_id();
        let number = number_of(dial);
        let local_ctx = local_context(dial);
        let (caller_num, caller_name) = split_caller_id(m.get("CallerID").unwrap_or(""));
        let uniqueid = m
            .get("ChannelId")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}.{n}", self.epoch_at_start));
        let base = dial.rsplit_once('/').map_or(dial, |(b, tail)| {
            // `Local/555@ctx/n`: drop the `/n` option.
            if tail.len() <= 2 && b.contains('@') {
                b
            } else {
                dial
            }
        });
        let channel = format!("{base}-{n:08x};1");
        let other = match &local_ctx {
            Some(ctx) => {
                let m2 = self.next_id();
                Some(Half {
                    channel: format!("{base}-{n:08x};2"),
                    // Asterisk names the ;2 half `<ChannelId>;2` when only
                    // the ;1's id is given.
                    uniqueid: match (m.get("OtherChannelId"), m.get("ChannelId")) {
                        (Some(o), _) => o.to_owned(),
                        (None, Some(c)) => format!("{c};2"),
                        (None, None) => format!("{}.{m2}", self.epoch_at_start),
                    },
                    context: ctx.clone(),
                    state: ChanState::Ring,
                })
            }
            None => None,
        };
        // A Local channel into a context the dialplan lacks cannot be
        // placed: Asterisk queues the Originate, then reports Reason 0.
        let channel_ok = local_ctx.as_deref().is_none_or(|c| self.context_exists(c));
        let timeout_s = m
            .get("Timeout")
            .and_then(|t| t.trim().parse::<f64>().ok())
            .map_or(30.0, |ms| ms / 1000.0);

        let forced = self.cfg.numbers.get(&number).copied();
        let forced = if channel_ok {
            forced
        } else {
            Some(NumberOutcome::Fail)
        };
        let sim_s = self.sim_secs(now);
        let (ring_s, outcome) =
            customers::draw(&self.cfg.customers, forced, timeout_s, sim_s, &mut self.rng);
        let context = m.get("Context").unwrap_or("").to_owned();
        let exten = m.get("Exten").unwrap_or("").to_owned();
        // Asterisk: a Local channel's events name its own context and the
        // number until it is answered; other channels show the Originate's.
        let (at_context, at_exten) = match &local_ctx {
            Some(ctx) => (ctx.clone(), number.clone()),
            None => (context.clone(), exten.clone()),
        };
        // Busy and congestion come at once (Busy()/Congestion(), a trunk's
        // 486/503): their Newchannels go out with the rest of the call.
        let immediate = matches!(outcome, NumberOutcome::Busy | NumberOutcome::Congestion);
        self.records.placed(&uniqueid, m);
        let mut call = Call {
            channel: channel.clone(),
            uniqueid,
            number,
            context,
            exten,
            at_context,
            at_exten,
            chan_state: ChanState::Down,
            announced: false,
            application: m.get("Application").unwrap_or("").to_owned(),
            data: m.get("Data").unwrap_or("").to_owned(),
            caller_num,
            caller_name,
            action_id: id.map(str::to_owned),
            state: CallState::Ringing,
            queue: None,
            original_position: 0,
            joined_at: 0.0,
            connected_at: 0.0,
            agent: None,
            ring_outcome: outcome,
            dial: dial.to_owned(),
            chan_id_given: m.get("ChannelId").is_some(),
            other,
            machine: false,
        };
        if outcome != NumberOutcome::Fail && !immediate {
            call.announced = true;
            events.push(self.channel_event("Newchannel", &call));
            events.extend(self.half2_event("Newchannel", &call));
            // The customer rings: the ;1 half turns Ringing at once.
            call.chan_state = ChanState::Ringing;
            events.push(self.channel_event("Newstate", &call));
        }
        self.by_channel.insert(channel, n);
        self.calls.insert(n, call);
        self.schedule(now, ring_s, Timer::Ring(n));
        vec![reply("Success", id).with("Message", "Originate successfully queued")]
    }

    /// `Hangup`: ends the call whose `;1` channel is named, with `Cause`
    /// (16 when absent).
    pub(super) fn hangup_action(
        &mut self,
        m: &Message,
        now: Instant,
        events: &mut Vec<Message>,
    ) -> Vec<Message> {
        let id = m.action_id();
        let Some(ch) = m.get("Channel") else {
            return vec![reply("Error", id).with("Message", "No channel specified")];
        };
        let cause = m
            .get("Cause")
            .and_then(|c| c.trim().parse().ok())
            .unwrap_or(16);
        match self.by_channel.get(ch).copied() {
            Some(call) => {
                self.end_by_hangup(call, cause, now, events);
                vec![reply("Success", id).with("Message", "Channel Hungup")]
            }
            None => vec![reply("Error", id).with("Message", "No such channel")],
        }
    }

    pub(super) fn end_by_hangup(
        &mut self,
        c: u64,
        cause: u32,
        now: Instant,
        events: &mut Vec<Message>,
    ) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        match call.state {
            CallState::Ringing => {
                // Asterisk: Reason 0, the action's cause on both halves.
                let call = self.remove_call(c).expect("present");
                self.stats.failed += 1;
                self.failed_end(call, 0, (cause, cause), ChanState::Ring, events);
            }
            CallState::Queued => self.abandon_queued(c, cause, false, now, events),
            CallState::Talking => self.talk_end(c, cause, false, now, events),
            CallState::InContext => self.context_hangup_with(c, cause, events),
        }
    }

    pub(super) fn remove_call(&mut self, c: u64) -> Option<Call> {
        let call = self.calls.remove(&c)?;
        self.by_channel.remove(&call.channel);
        self.records.removed(&call.uniqueid);
        Some(call)
    }

    pub(super) fn channels_list(
        &self,
        action: &str,
        id: Option<&str>,
        now: Instant,
    ) -> Vec<Message> {
        let (ev, done, msg) = if action == "status" {
            ("Status", "StatusComplete", "Channel status will follow")
        } else {
            (
                "CoreShowChannel",
                "CoreShowChannelsComplete",
                "Channels will follow",
            )
        };
        let mut out = vec![reply("Success", id)
            .with("EventList", "start")
            .with("Message", msg)];
        let sim_now = self.sim_secs(now);
        let mut calls: Vec<(&u64, &Call)> = self.calls.iter().collect();
        calls.sort_by_key(|(k, _)| **k);
        for (_, call) in calls {
            let mut e = self.channel_fields(list_event(ev, id), call);
            let app = match call.state {
                CallState::Ringing => "AppDial",
                CallState::Queued | CallState::Talking => "Queue",
                CallState::InContext => "Playback",
            };
            e.push("Application", app);
            e.push("ApplicationData", call.queue.as_deref().unwrap_or(""));
            let dur = if call.state == CallState::Talking {
                sim_now - call.connected_at
            } else {
                sim_now - call.joined_at
            };
            let secs = dur.max(0.0) as i64;
            e.push(
                "Duration",
                &format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60),
            );
            e.push(
                "BridgeId",
                if call.state == CallState::Talking {
                    "sim-bridge"
                } else {
                    ""
                },
            );
            out.push(e);
        }
        let n = out.len() - 1;
        out.push(complete(done, id, n));
        out
    }

    pub(super) fn channel_fields(&self, m: Message, call: &Call) -> Message {
        m.with("Channel", &call.channel)
            .with("ChannelState", call.chan_state.code().to_string())
            .with("ChannelStateDesc", call.chan_state.desc())
            .with("CallerIDNum", &call.number)
            .with("CallerIDName", "<unknown>")
            .with("ConnectedLineNum", &call.caller_num)
            .with("ConnectedLineName", &call.caller_name)
            .with("Language", "en")
            .with("AccountCode", "")
            .with("Context", &call.at_context)
            .with("Exten", &call.at_exten)
            .with("Priority", "1")
            .with("Uniqueid", &call.uniqueid)
            .with("Linkedid", &call.uniqueid)
    }

    pub(super) fn channel_event(&self, name: &str, call: &Call) -> Message {
        self.channel_fields(Message::event(name).with("Privilege", "call,all"), call)
    }

    pub(super) fn originate_response(&self, call: &Call, success: bool, reason: u32) -> Message {
        let mut m = Message::event("OriginateResponse").with("Privilege", "call,all");
        if let Some(a) = &call.action_id {
            m.push("ActionID", a);
        }
        // Asterisk names the created channel on success, the requested
        // dial string on failure.
        let channel = if success { &call.channel } else { &call.dial };
        let uniqueid = if success || call.chan_id_given {
            call.uniqueid.as_str()
        } else {
            "<unknown>"
        };
        m.with("Response", if success { "Success" } else { "Failure" })
            .with("Channel", channel)
            .with("Context", &call.context)
            .with("Exten", &call.exten)
            .with("Application", &call.application)
            .with("Data", &call.data)
            .with("Reason", reason.to_string())
            .with("Uniqueid", uniqueid)
            .with("CallerIDNum", &call.caller_num)
            .with("CallerIDName", &call.caller_name)
    }

    /// An event of the ;2 half of a Local call (none for other channels).
    pub(super) fn half2_event(&self, name: &str, call: &Call) -> Option<Message> {
        let h = call.other.as_ref()?;
        Some(
            Message::event(name)
                .with("Privilege", "call,all")
                .with("Channel", &h.channel)
                .with("ChannelState", h.state.code().to_string())
                .with("ChannelStateDesc", h.state.desc())
                .with("CallerIDNum", &call.caller_num)
                .with("CallerIDName", &call.caller_name)
                .with("ConnectedLineNum", &call.number)
                .with("ConnectedLineName", "<unknown>")
                .with("Language", "en")
                .with("AccountCode", "")
                .with("Context", &h.context)
                .with("Exten", &call.number)
                .with("Priority", "1")
                .with("Uniqueid", &h.uniqueid)
                .with("Linkedid", &call.uniqueid),
        )
    }

    pub(super) fn half2_hangup(&self, call: &Call, cause: u32) -> Option<Message> {
        Some(
            self.half2_event("Hangup", call)?
                .with("Cause", cause.to_string())
                .with("Cause-txt", cause_text(cause)),
        )
    }

    /// Whether the simulated dialplan has `ctx`. With no routes configured
    /// every context exists (all calls go to the default queue); with
    /// routes, only the routed contexts and `SimConfig::dial_contexts`.
    pub(super) fn context_exists(&self, ctx: &str) -> bool {
        self.cfg.routes.is_empty()
            || self.cfg.routes.contains_key(ctx)
            || self.cfg.dial_contexts.iter().any(|c| c == ctx)
    }

    pub(super) fn hangup_event(&self, call: &Call, cause: u32) -> Message {
        self.channel_event("Hangup", call)
            .with("Cause", cause.to_string())
            .with("Cause-txt", cause_text(cause))
    }
}

pub(super) fn cause_text(cause: u32) -> &'static str {
    match cause {
        0 => "Unknown",
        16 => "Normal Clearing",
        17 => "User busy",
        19 => "No answer",
        21 => "Call Rejected",
        34 => "Circuit/channel congestion",
        _ => "Unknown",
    }
}

/// The context of a Local channel: `Local/5551@from-oml/n` → `from-oml`;
/// `None` for other channel technologies.
pub(super) fn local_context(dial: &str) -> Option<String> {
    let rest = dial
        .get(..6)
        .filter(|t| t.eq_ignore_ascii_case("Local/"))
        .map(|_| &dial[6..])?;
    let after = rest.split_once('@').map_or("default", |(_, c)| c);
    Some(after.split('/').next().unwrap_or(after).to_owned())
}

/// `"Name" <123>` → (`123`, `Name`); `123` → (`123`, ``).
pub(super) fn split_caller_id(s: &str) -> (String, String) {
    match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if b > a => (
            s[a + 1..b].trim().to_owned(),
            s[..a].trim().trim_matches('"').to_owned(),
        ),
        _ => (s.trim().to_owned(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use oml_ami::Message;

    use super::number_of;
    use crate::world::testkit::{logged_in, world};

    #[test]
    fn number_extraction() {
        assert_eq!(number_of("Local/5551234@from-oml/n"), "5551234");
        assert_eq!(number_of("PJSIP/5551234@trunk"), "5551234");
        assert_eq!(number_of("SIP/trunk/5551234"), "5551234");
    }

    #[test]
    fn the_second_half_is_named_after_the_channel_id() {
        let (mut w, t0) = world(1);
        w.cfg.routes.insert("camp".into(), "oml-default".into());
        let (mut s, mut ev) = (logged_in(), Vec::new());
        let m = oml_ami::Originate::to_extension("Local/7@from-oml/n", "camp", "1")
            .to_message()
            .with("ChannelId", "oml-1-2-1");
        w.handle(&mut s, &m, t0, &mut ev);
        w.advance(t0 + Duration::from_secs(1), &mut ev);
        let ids: Vec<(&str, &str)> = ev
            .iter()
            .filter(|e| e.event_name() == Some("Newchannel"))
            .map(|e| (e.get("Uniqueid").unwrap(), e.get("Linkedid").unwrap()))
            .collect();
        // As Asterisk 22 does without an OtherChannelId.
        assert_eq!(
            ids,
            [("oml-1-2-1", "oml-1-2-1"), ("oml-1-2-1;2", "oml-1-2-1")]
        );
    }

    #[test]
    fn unknown_contexts_and_hangup_cause() {
        let (mut w, t0) = world(1);
        w.cfg.routes.insert("camp".into(), "oml-default".into());
        w.cfg.customers.answer_rate = 1.0;
        let mut s = logged_in();
        let mut ev = Vec::new();
        // A Context the dialplan lacks: refused at once.
        let m = oml_ami::Originate::to_extension("Local/5@from-oml/n", "nowhere", "1").to_message();
        let r = w.handle(&mut s, &m, t0, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Extension does not exist."));
        assert!(ev.is_empty());
        // A Local channel into a missing context: queued, then Reason 0.
        let m = oml_ami::Originate::to_extension("Local/5@nowhere/n", "camp", "1")
            .to_message()
            .with("ActionID", "x");
        let r = w.handle(&mut s, &m, t0, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Originate successfully queued"));
        w.advance(t0 + Duration::from_secs(1), &mut ev);
        let or = ev
            .iter()
            .find_map(oml_ami::OriginateResponse::from_message)
            .unwrap();
        assert_eq!((or.success, or.reason, or.uniqueid), (false, 0, None));
        // A Hangup action's Cause reaches both halves.
        ev.clear();
        let m = oml_ami::Originate::to_extension("Local/6@from-oml/n", "camp", "1")
            .to_message()
            .with("ChannelId", "A")
            .with("OtherChannelId", "B");
        w.handle(&mut s, &m, t0, &mut ev);
        w.advance(t0 + Duration::from_secs(11), &mut ev);
        let ch = ev
            .iter()
            .find_map(oml_ami::OriginateResponse::from_message)
            .unwrap()
            .channel;
        ev.clear();
        let h = Message::action("Hangup")
            .with("Channel", &ch)
            .with("Cause", "21");
        let r = w.handle(&mut s, &h, t0 + Duration::from_secs(12), &mut ev);
        assert_eq!(r[0].response_status(), Some("Success"));
        let hups: Vec<(String, u32)> = ev
            .iter()
            .filter_map(oml_ami::Hangup::from_message)
            .map(|h| (h.uniqueid, h.cause))
            .collect();
        assert_eq!(hups, [("A".into(), 21), ("B".into(), 21)]);
    }
}
