//! Preview calls in the decision core (issue 19 item 4). The engine never
//! dials a preview campaign's contacts from the hopper: an agent reserves
//! one on the agent page and presses Call, which leaves a request in the
//! store (`oml_store`'s `preview_call.rs` says why a request rather than an
//! `Originate` from the console). The node pacing the campaign takes the
//! requests about twice a second ([`Action::TakePreviews`], which also
//! returns expired reservations to `pending`: the periodic expiry), each
//! contact becoming a hopper contact of this node, and places them at once
//! like any call: the attempt is committed, then the `Originate` leaves.
//!
//! The call is agent-first: the `Originate` rings the agent's interface
//! (channel id [`preview_channel_id`]), and once the agent answers the
//! dialplan's `oml-preview` context dials the customer through the
//! campaign's trunk ([`crate::call::AgentFirst`] follows it). Its outcome
//! never counts as an abandon and never feeds the pacer's answer
//! statistics (preview campaigns are not paced); an agent who does not
//! answer ends the attempt as `agent_no_answer`, the contact due again.

use std::collections::hash_map::Entry;
use std::time::Duration;

use oml_ami::{Message, Originate};
use oml_store::dialing::{DialingWrite, DueContact, NewAttempt};
use oml_store::dialplan;

use super::pacing::channel_id;
use super::{Action, Core, Live, Now};
use crate::call::{AgentFirst, Call, CallEvent, Change};
use crate::pbx_record::PbxRecord;

/// How often the node pacing a preview campaign takes its agents' calls
/// (the delay between the agent's Call and their extension ringing).
pub const TAKE_EVERY: Duration = Duration::from_millis(500);

/// The channel id of a preview attempt: [`channel_id`] with `-p`, so a
/// preview call is known as one from its id alone (also when adopted after
/// a restart). No other attempt's id starts with it, and the attempt of
/// the same number with the plain id never runs at the same time.
pub fn preview_channel_id(campaign: i64, contact: i64, attempt_no: i64) -> String {
    format!("{}-p", channel_id(campaign, contact, attempt_no))
}

/// Whether the call of channel id `key` is a preview call.
pub fn is_preview(key: &str) -> bool {
    key.ends_with("-p")
}

/// What a preview call's record says, for an agent-first call: the
/// record's answer is the customer's only with a connect (the dialplan's
/// `oml-preview-answered` writes both; pbxsim also marks the agent's
/// answer as answered), so without one the call was never answered, and
/// never abandoned.
pub(super) fn as_preview(r: &PbxRecord) -> PbxRecord {
    let mut r = r.clone();
    if r.connected_s.is_none() {
        r.answered_s = None;
        r.queued_s = None;
        r.abandon_message_s = None;
        r.machine = false;
    } else {
        r.answered_s = r.connected_s;
    }
    r
}

impl Core {
    /// A preview campaign this node may dial for now: take its agents'
    /// calls (at most every [`TAKE_EVERY`]).
    pub(super) fn prepare_preview(&mut self, id: i64, now: Now) {
        let Some(c) = self.campaigns.get_mut(&id) else {
            return;
        };
        if c.claiming || c.idle_until.is_some_and(|t| now.at < t) {
            return;
        }
        c.claiming = true;
        c.idle_until = Some(now.at + TAKE_EVERY);
        self.actions.push(Action::TakePreviews {
            campaign: id,
            now_ms: now.ms,
        });
    }

    /// The calls agents asked for in `campaign`: placed at once, agent
    /// first (or given back when the campaign cannot dial now).
    pub(super) fn on_preview_calls(
        &mut self,
        campaign: i64,
        calls: Vec<(DueContact, i64, String)>,
        now: Now,
    ) {
        let play = self.play;
        let leading = self.leading.contains(&campaign);
        let Some(c) = self.campaigns.get_mut(&campaign) else {
            return;
        };
        c.claiming = false;
        if calls.is_empty() {
            return;
        }
        let trunk = self.trunks.get(&c.conf.trunk_id).cloned();
        let server = trunk
            .as_ref()
            .and_then(|t| self.servers_for(t).first().copied());
        let (Some(trunk), Some(sid), true, true) = (trunk, server, play, leading) else {
            tracing::warn!(campaign, calls = calls.len(), "dialer: preview calls asked for while the campaign cannot dial (no server up, paused or not paced here); the contacts go back to pending");
            self.act(Action::Release(
                calls.iter().map(|(d, _, _)| d.id).collect(),
            ));
            return;
        };
        let c = self.campaigns.get_mut(&campaign).expect("present");
        let mut items = Vec::with_capacity(calls.len());
        let mut back = Vec::new();
        for (d, _user, interface) in calls {
            let attempt_no = d.attempts + 1;
            let key = preview_channel_id(campaign, d.id, attempt_no);
            let Entry::Vacant(slot) = self.calls.entry(key.clone()) else {
                back.push(d.id);
                continue;
            };
            let mut call = Call::new(now.ms);
            // The agent who takes the call is the one it rings first.
            call.taken_by(interface.clone());
            slot.insert(Live {
                campaign,
                server: sid,
                trunk: trunk.id,
                contact_id: d.id,
                attempt_no,
                call,
                originated: false,
                placed: now.at,
                // Nothing for the pacer to learn from a preview call.
                learned: true,
            });
            let mut o = Originate::to_extension(
                &interface,
                dialplan::PREVIEW_CONTEXT,
                dialplan::ANSWER_EXTEN,
            );
            o.timeout = Some(Duration::from_secs(c.conf.ring_timeout_s.max(1) as u64));
            let cid = if c.conf.caller_id.is_empty() {
                &trunk.caller_id
            } else {
                &c.conf.caller_id
            };
            if !cid.is_empty() {
                o.caller_id = Some(cid.clone());
            }
            o.channel_id = Some(key.clone());
            // Inherited by the customer's channel (`__`), which the trunk's
            // dialplan reads the campaign from.
            for (name, value) in dialplan::variables(campaign, d.id, attempt_no) {
                o = match name.starts_with("__") {
                    true => o.variable(name, &value),
                    false => o.variable(&format!("__{name}"), &value),
                };
            }
            o = o.variable(dialplan::PREVIEW_DIAL_VAR, &trunk.dial(&d.phone));
            let a = NewAttempt {
                campaign_id: campaign,
                contact_id: d.id,
                attempt_no,
                server_id: Some(sid),
                channel_id: key,
                placed_at: now.ms,
                node: self.cfg.node.clone(),
            };
            items.push((a, o, None));
        }
        if !back.is_empty() {
            self.act(Action::Release(back));
        }
        if items.is_empty() {
            return;
        }
        *self.trunk_busy.entry(trunk.id).or_insert(0) += items.len() as i64;
        self.act(Action::Place { server: sid, items });
    }

    /// An AMI event of a preview call (`key`): true when it was one (and
    /// was applied). The agent's legs carry the channel id as `Uniqueid`
    /// (a `Local/` agent's `;2` half too); every other channel of the call
    /// (its `Linkedid` is the channel id) is the customer's.
    pub(super) fn on_preview_ami(&mut self, key: &str, lname: &str, m: &Message, now: Now) -> bool {
        if !is_preview(key) {
            return false;
        }
        let uid = m.get("Uniqueid").unwrap_or("");
        let agent_leg = uid == key || uid.strip_prefix(key).is_some_and(|r| r.starts_with(';'));
        let ev = match lname {
            "newchannel" if agent_leg => AgentFirst::AgentRinging,
            "newstate" if m.get("ChannelState") == Some("6") => {
                if agent_leg {
                    AgentFirst::AgentUp
                } else {
                    AgentFirst::CustomerUp
                }
            }
            "hangup" => {
                if agent_leg {
                    AgentFirst::AgentHangup
                } else {
                    let cause = m
                        .get("Cause")
                        .and_then(|c| c.trim().parse().ok())
                        .unwrap_or(0);
                    AgentFirst::CustomerHangup { cause }
                }
            }
            _ => return true,
        };
        self.apply_agent_first(key, ev, now);
        true
    }

    /// The `OriginateResponse` of a preview call: whether the agent
    /// answered.
    pub(super) fn preview_response(&mut self, key: &str, ev: CallEvent, now: Now) {
        if let CallEvent::OriginateResponse { success, reason } = ev {
            let ev = if success || reason == 4 {
                AgentFirst::AgentUp
            } else {
                AgentFirst::AgentFailed
            };
            self.apply_agent_first(key, ev, now);
        }
    }

    fn apply_agent_first(&mut self, key: &str, ev: AgentFirst, now: Now) {
        let Some(l) = self.calls.get_mut(key) else {
            return;
        };
        if l.call.on_agent_first(ev, now.ms) == Change::Connected {
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

    /// A preview call found alive when reconciling: the agent answered if
    /// its channel is up, connected if it is bridged (to the customer).
    pub(super) fn preview_alive(&mut self, key: &str, up: bool, bridged: bool, now: Now) {
        if let Some(l) = self.calls.get_mut(key) {
            if up {
                l.call.on_agent_first(AgentFirst::AgentUp, now.ms);
            }
            if bridged {
                l.call.on_agent_first(AgentFirst::CustomerUp, now.ms);
            }
        }
    }
}
