//! Following calls in the decision core: AMI events reach the call they
//! concern (by channel id or `Originate` action id), each call's state
//! machine ([`crate::call`]) says when it is over, and its end becomes an
//! attempt result with the contact's next state. Calls the engine lost
//! track of are reconciled with the server's channels, never redialed
//! blindly; calls left open by a previous run or a stopped node are
//! adopted.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use oml_ami::Message;
use oml_store::dialing::{AttemptResult, DialingWrite, OpenAttempt};
use oml_store::dialplan;

use super::{Action, Core, Key, Live, Now};
use crate::agent_name::agent_name;
use crate::call::{leg_of, Call, CallEvent, Change, Outcome, Phase};
use crate::pbx_record::PbxRecord;
use crate::reschedule;

#[cfg(test)]
#[path = "tests_machine.rs"]
mod tests_machine;

#[cfg(test)]
#[path = "tests_learn.rs"]
mod tests_learn;

impl Core {
    pub(super) fn on_ami(&mut self, server: i64, m: &Message, at: Instant, now: Now) {
        let Some(name) = m.event_name() else {
            return;
        };
        let lname = name.to_ascii_lowercase();
        if let Some(s) = self.servers.get_mut(&server) {
            let change = s.agents.on_event(m, at);
            let scale = s.clock.scale();
            let q = m.get("Queue").unwrap_or("");
            for c in self.campaigns.values_mut() {
                if dialplan::queue(&c.conf) != q {
                    continue;
                }
                if let Some(w) = change.wrap_up_ended_s {
                    c.memory.wrap_up(&mut c.stats, w * scale);
                }
                // An agent is free: campaigns on its queue react now.
                if change.became_ready && c.trigger.is_none() {
                    c.trigger = Some(at);
                }
            }
        }
        // Preview calls (agent-first) read their legs apart (preview.rs).
        if let Some(k) = self.key_of(m) {
            if lname != "originateresponse" && self.on_preview_ami(&k, &lname, m, now) {
                return;
            }
        }
        let ev = match lname.as_str() {
            "newchannel" => CallEvent::Created,
            "newstate" if m.get("ChannelState") == Some("6") => CallEvent::Up,
            "originateresponse" => {
                let success = m
                    .get("Response")
                    .is_some_and(|r| r.eq_ignore_ascii_case("Success"));
                let reason = m
                    .get("Reason")
                    .and_then(|r| r.trim().parse().ok())
                    .unwrap_or(0);
                let ev = CallEvent::OriginateResponse { success, reason };
                let key = self
                    .key_of(m)
                    .or_else(|| m.action_id().and_then(|a| self.by_action.get(a).cloned()));
                match key {
                    Some(k) => {
                        if let Some(a) = m.action_id() {
                            self.by_action.remove(a);
                        }
                        self.apply(&k, ev, now);
                    }
                    None => {
                        if let Some(a) = m.action_id() {
                            self.orphans.insert(a.to_owned(), (success, reason, now.at));
                        }
                    }
                }
                return;
            }
            "queuecallerjoin" => CallEvent::QueueJoin,
            "agentconnect" => {
                let Some(k) = self.key_of(m) else {
                    return;
                };
                let agent = agent_name(m.get("MemberName"), m.get("Interface"));
                if let (Some(l), Some(a)) = (self.calls.get_mut(&k), agent) {
                    l.call.taken_by(a);
                }
                self.apply(&k, CallEvent::AgentConnect, now);
                return;
            }
            "queuecallerabandon" => CallEvent::QueueAbandon,
            // The campaign's call path (rendered dialplan, pbxsim alike).
            "userevent" => match m.get("UserEvent") {
                Some(dialplan::AMD_EVENT) => CallEvent::Amd {
                    machine: m.get("Status").map(str::trim) == Some("MACHINE"),
                },
                Some(dialplan::ABANDON_MESSAGE_EVENT) => CallEvent::AbandonMessage,
                _ => return,
            },
            "hangup" => {
                let Some(k) = self.key_of(m) else {
                    return;
                };
                // Only the call's own legs: agents' channels share its
                // Linkedid but their end is not the customer's.
                let leg = leg_of(
                    &k,
                    m.get("Uniqueid").unwrap_or(""),
                    m.get("Channel").unwrap_or(""),
                );
                let Some(leg) = leg else {
                    return;
                };
                let cause = m
                    .get("Cause")
                    .and_then(|c| c.trim().parse().ok())
                    .unwrap_or(0);
                self.apply(&k, CallEvent::Hangup { cause, leg }, now);
                return;
            }
            _ => return,
        };
        if let Some(k) = self.key_of(m) {
            self.apply(&k, ev, now);
        }
    }

    fn key_of(&self, m: &Message) -> Option<Key> {
        for f in ["Uniqueid", "Linkedid"] {
            if let Some(u) = m.get(f) {
                if self.calls.contains_key(u) {
                    return Some(u.to_owned());
                }
            }
        }
        None
    }

    pub(super) fn apply(&mut self, key: &str, ev: CallEvent, now: Now) {
        if super::preview::is_preview(key) {
            return self.preview_response(key, ev, now);
        }
        let Some(l) = self.calls.get_mut(key) else {
            return;
        };
        let change = l.call.on_event(ev, now.ms);
        // Who answered is known once the AMD spoke or the call reached the
        // queue (without AMD, right after the answer): the pacer learns the
        // attempt now, as the simulator does, not when the call ends.
        if matches!(
            ev,
            CallEvent::Amd { .. }
                | CallEvent::QueueJoin
                | CallEvent::AgentConnect
                | CallEvent::AbandonMessage
        ) {
            self.learn_answer(key);
        }
        let Some(l) = self.calls.get_mut(key) else {
            return;
        };
        if let Change::Answered | Change::Connected = change {
            let w = DialingWrite::Progress {
                contact_id: l.contact_id,
                attempt_no: l.attempt_no,
                answered_at: l.call.answered_at,
                connected_at: l.call.connected_at,
                agent: l.call.agent.clone(),
            };
            self.act(Action::Write(w));
        }
        self.finish_if_over(key, now);
    }

    /// The pacer learns an answered attempt (a live answer or a machine,
    /// with its ring time in the PBX's seconds) once, when who answered is
    /// known; [`Core::finish_if_over`] then adds only the talk.
    fn learn_answer(&mut self, key: &str) {
        let Some(l) = self.calls.get_mut(key) else {
            return;
        };
        let Some(answered_at) = l.call.answered_at else {
            return;
        };
        if l.learned || l.call.phase == Phase::Ended {
            return;
        }
        let Some(c) = self.campaigns.get_mut(&l.campaign) else {
            return;
        };
        l.learned = true;
        let scale = self.servers.get(&l.server).map_or(1.0, |s| s.clock.scale());
        let ring_s = (answered_at - l.call.placed_at).max(0) as f64 / 1000.0 * scale;
        if l.call.is_machine() {
            c.memory.machine(&mut c.stats, ring_s);
        } else {
            c.memory.attempt(&mut c.stats, true, ring_s);
        }
    }

    /// A call that is over leaves memory; its result and the contact's next
    /// state are written.
    pub(super) fn finish_if_over(&mut self, key: &str, now: Now) {
        if !self.calls.get(key).is_some_and(|l| l.call.is_over()) {
            return;
        }
        let l = self.calls.remove(key).expect("present");
        self.release_trunk(l.trunk);
        let Some(f) = l.call.finish() else {
            return;
        };
        self.metrics.ended.fetch_add(1, Ordering::Relaxed);
        // Durations in the PBX's seconds (see `clock.rs`).
        let scale = self.servers.get(&l.server).map_or(1.0, |s| s.clock.scale());
        let mut answer = None;
        // A preview call (agent-first) is never an abandon and teaches the
        // pacer nothing: outside the ledger and the statistics.
        let preview = super::preview::is_preview(key);
        let (state, next) = match self.campaigns.get_mut(&l.campaign) {
            Some(c) if preview => {
                let d = reschedule::decide(f.outcome, l.attempt_no, &c.rules, now.ms);
                (d.state, d.next_attempt_at)
            }
            Some(c) => {
                let d = reschedule::decide(f.outcome, l.attempt_no, &c.rules, now.ms);
                let secs = |ms: i64| ms.max(0) as f64 / 1000.0 * scale;
                let ring_s = secs(f.answered_at.unwrap_or(f.ended_at) - l.call.placed_at);
                // A machine is no live answer: the pacer learns the
                // machine share apart from the live answer rate. Attempts
                // learned at their answer are not learned again.
                match f.outcome {
                    _ if l.learned => {}
                    Outcome::Failed | Outcome::Unknown | Outcome::Congestion => {}
                    Outcome::Machine => c.memory.machine(&mut c.stats, ring_s),
                    _ => c
                        .memory
                        .attempt(&mut c.stats, f.answered_at.is_some(), ring_s),
                }
                if let (Some(conn), Outcome::Connected) = (f.connected_at, f.outcome) {
                    c.memory.talk(&mut c.stats, secs(f.ended_at - conn));
                }
                // An agent within the abandon seconds of the PBX's time.
                let abandon_ms = (c.conf.abandon_seconds as f64 * 1000.0 / scale) as i64;
                if let (Some(at), Some(ab)) =
                    (f.answered_at, l.call.counts_as_abandoned(abandon_ms))
                {
                    answer = Some((at, ab));
                }
                (d.state, d.next_attempt_at)
            }
            // Campaign deleted meanwhile: close the attempt, nothing to plan.
            None => ("exhausted", 0),
        };
        if let Some((at, abandoned)) = answer {
            self.record_answer(l.campaign, at, abandoned, now);
        }
        self.act(Action::Write(DialingWrite::End(AttemptResult {
            contact_id: l.contact_id,
            attempt_no: l.attempt_no,
            answered_at: f.answered_at,
            connected_at: f.connected_at,
            ended_at: f.ended_at,
            outcome: f.outcome.as_str().into(),
            hangup_cause: f.hangup_cause.map(i64::from),
            agent: f.agent,
            contact_state: state.into(),
            next_attempt_at: next,
        })));
        // Its record goes once the outcome is stored, also when the call
        // ended before its Originate's reply came back (busy and
        // congestion often do): it reached the PBX all the same.
        self.act(Action::Forget {
            server: l.server,
            key: key.to_owned(),
        });
    }

    /// The server's channels and attempt records, asked at `asked_at`: the
    /// calls placed before that which are alive catch up on what was
    /// missed, the others ended unseen and end as the PBX recorded them
    /// (outcome `unknown` only when it has no record, or `connected` if an
    /// agent had them). Records of no call followed here are forgotten
    /// (the forgetting keeps those whose attempt is still open).
    pub(super) fn reconcile(
        &mut self,
        server: i64,
        asked_at: Instant,
        channels: &[Message],
        records: &HashMap<String, PbxRecord>,
        now: Now,
    ) {
        let alive: HashMap<&str, &Message> = channels
            .iter()
            .filter_map(|c| c.get("Uniqueid").map(|u| (u, c)))
            .collect();
        let keys: Vec<Key> = self
            .calls
            .iter()
            .filter(|(_, l)| l.server == server && l.originated && l.placed <= asked_at)
            .map(|(k, _)| k.clone())
            .collect();
        // Records of calls not followed here (ended and stored, or another
        // node's): candidates for forgetting.
        let mut stale: Vec<&String> = records
            .keys()
            .filter(|k| !self.calls.contains_key(k.as_str()))
            .collect();
        stale.sort_unstable();
        // Before the calls ended here: the newest records are deleted
        // first, so those of these calls do not wait behind a backlog.
        for key in stale {
            self.act(Action::Forget {
                server,
                key: key.clone(),
            });
        }
        let (mut vanished, mut from_record) = (0, 0);
        for k in keys {
            let l = self.calls.get_mut(&k).expect("present");
            match alive.get(k.as_str()) {
                Some(ch) if super::preview::is_preview(&k) => {
                    let bridged = ch.get("BridgeId").is_some_and(|b| !b.is_empty());
                    let up = ch.get("ChannelState") == Some("6");
                    self.preview_alive(&k, up, bridged, now);
                }
                Some(ch) => {
                    // Catch up on what was missed while the link was down.
                    let app = ch.get("Application").unwrap_or("");
                    let bridged = ch.get("BridgeId").is_some_and(|b| !b.is_empty());
                    if app.eq_ignore_ascii_case("Queue") || ch.get("ChannelState") == Some("6") {
                        l.call.on_event(CallEvent::Up, now.ms);
                        if bridged {
                            l.call.on_event(CallEvent::AgentConnect, now.ms);
                        }
                    }
                }
                None => match records.get(k.as_str()) {
                    Some(r) if super::preview::is_preview(&k) => {
                        l.call.recorded(&super::preview::as_preview(r), now.ms);
                        from_record += 1;
                    }
                    Some(r) => {
                        l.call.recorded(r, now.ms);
                        from_record += 1;
                    }
                    None => {
                        l.call.vanished(now.ms);
                        vanished += 1;
                    }
                },
            }
            self.finish_if_over(&k, now);
        }
        if let Some(s) = self.servers.get_mut(&server) {
            s.reconciling = false;
            if from_record > 0 {
                tracing::info!(server = %s.conf.name, calls = from_record, "dialer: calls ended while no engine watched; outcome and cause read from the PBX's record");
            }
            if vanished > 0 {
                tracing::warn!(server = %s.conf.name, vanished, "dialer: calls ended while the link was down and the PBX has no record of them; recorded as unknown (not redialed as the same attempt)");
            }
        }
    }

    /// Follows attempts placed earlier (by this node before a restart, or by
    /// a node that stopped): each is reconciled with its server's channels.
    pub(super) fn adopt(&mut self, open: Vec<OpenAttempt>, now: Now) {
        let servers: HashSet<i64> = open.iter().filter_map(|a| a.server_id).collect();
        let n = open.len();
        for a in open {
            if self.calls.contains_key(&a.channel_id) {
                continue;
            }
            let phase = if a.connected_at.is_some() {
                Phase::Connected
            } else if a.answered_at.is_some() {
                Phase::Answered
            } else {
                Phase::Placed
            };
            let key = a.channel_id.clone();
            self.calls.insert(
                key,
                Live {
                    campaign: a.campaign_id,
                    server: a.server_id.unwrap_or(0),
                    trunk: 0,
                    contact_id: a.contact_id,
                    attempt_no: a.attempt_no,
                    call: Call::adopted(a.placed_at, phase, a.answered_at, a.connected_at),
                    originated: true,
                    placed: now.at,
                    learned: false,
                },
            );
        }
        tracing::info!(calls = n, "dialer: following calls left open by a node that stopped (or this node's previous run)");
        let mut servers: Vec<i64> = servers.into_iter().collect();
        servers.sort_unstable();
        for id in servers {
            if let Some(s) = self.servers.get_mut(&id) {
                s.reconciling = true;
                if s.up {
                    self.act(Action::QueryChannels { server: id });
                }
            }
        }
    }

    /// Ring time-outs, stale orphans, and now and then a queue poll to
    /// correct missed events.
    pub(super) fn on_tick(&mut self, now: Now) {
        let keys: Vec<Key> = self.calls.keys().cloned().collect();
        for k in keys {
            let timeout = {
                let l = &self.calls[&k];
                self.campaigns
                    .get(&l.campaign)
                    .map_or(60_000, |c| c.conf.ring_timeout_s * 1000)
            };
            if let Some(l) = self.calls.get_mut(&k) {
                if l.originated {
                    l.call.on_tick(now.ms, timeout);
                }
            }
            self.finish_if_over(&k, now);
        }
        let stale = now.at.checked_sub(Duration::from_secs(120));
        self.orphans
            .retain(|_, (_, _, t)| stale.is_none_or(|s| *t > s));
        let every = self.cfg.queue_poll_every;
        let mut due: Vec<i64> = Vec::new();
        for (id, s) in self.servers.iter_mut() {
            if s.up && now.at.saturating_duration_since(s.last_poll) >= every {
                s.last_poll = now.at;
                due.push(*id);
            }
        }
        due.sort_unstable();
        for server in due {
            self.act(Action::QueryMembers { server });
        }
    }
}
