//! Pacing in the decision core: for each campaign this node paces, keep
//! its hopper stocked, ask its pacer how many calls to place on each
//! server (agents, ringing and waiting calls, statistics), and turn that
//! many hopper contacts into attempts to commit and `Originate`s to send.
//! Never two calls in memory for one channel id.

use std::collections::hash_map::Entry;
use std::time::Duration;

use oml_ami::Originate;
use oml_pacing::{PacingLimits, Snapshot};
use oml_store::dialing::NewAttempt;
use oml_store::CampaignState;

use super::{Action, Core, Live, Now};
use crate::call::Call;

/// The channel id of an attempt: unique per (campaign, contact, attempt).
pub fn channel_id(campaign: i64, contact: i64, attempt_no: i64) -> String {
    format!("oml-{campaign}-{contact}-{attempt_no}")
}

impl Core {
    /// Paces every campaign; call after each batch of inputs and each tick.
    pub fn pace_all(&mut self, now: Now) {
        // Nothing is claimed before the configuration is known and what a
        // previous run under this name left behind is released.
        if !self.loaded || !self.recovered {
            return;
        }
        let mut ids: Vec<i64> = self.campaigns.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.pace(id, now);
        }
    }

    fn pace(&mut self, id: i64, now: Now) {
        let play = self.play;
        let leading = self.leading.contains(&id);
        let Some(c) = self.campaigns.get_mut(&id) else {
            return;
        };
        if !play || !leading || c.conf.state != CampaignState::Running || c.problem.is_some() {
            c.trigger = None;
            return;
        }
        if !c.window.is_some_and(|w| w.is_open(now.ms)) {
            c.trigger = None;
            return;
        }
        let Some(trunk) = self.trunks.get(&c.conf.trunk_id).cloned() else {
            return;
        };
        // Keep the hopper stocked.
        if c.hopper.len() < (self.cfg.hopper_batch as usize / 2).max(1)
            && !c.claiming
            && c.idle_until.is_none_or(|t| now.at >= t)
        {
            c.claiming = true;
            c.idle_until = None;
            self.actions.push(Action::Claim {
                campaign: id,
                now_ms: now.ms,
                limit: self.cfg.hopper_batch,
            });
        }
        if c.hopper.is_empty() {
            return;
        }
        let limits = PacingLimits {
            max_abandon_rate: c.conf.max_abandon_rate,
            abandon_after_s: c.conf.abandon_seconds as f64,
            max_lines: 0,
        };
        let mut servers: Vec<i64> = self
            .servers
            .iter()
            .filter(|(sid, s)| s.up && !s.reconciling && trunk.server_id.is_none_or(|t| t == **sid))
            .map(|(sid, _)| *sid)
            .collect();
        servers.sort_unstable();
        for sid in servers {
            let s = &self.servers[&sid];
            let counts = s.agents.counts(&c.conf.queue_name, now.at);
            let mut ringing = Vec::new();
            let mut waiting = 0u32;
            for l in self.calls.values() {
                if l.campaign == id && l.server == sid {
                    if l.call.is_ringing() {
                        ringing.push((now.ms - l.call.placed_at).max(0) as f64 / 1000.0);
                    } else if l.call.is_waiting_for_agent() {
                        waiting += 1;
                    }
                }
            }
            let snap = Snapshot {
                now_s: now.ms as f64 / 1000.0,
                agents_logged_in: counts.logged_in,
                agents_ready: counts.ready,
                talking_elapsed_s: &counts.talking_elapsed_s,
                wrap_up_elapsed_s: &counts.wrap_up_elapsed_s,
                ringing_elapsed_s: &ringing,
                answered_waiting: waiting,
                stats: &c.stats,
                abandons: c.abandons,
            };
            let mode = c.mode;
            let pacer = c.pacers.entry(sid).or_insert_with(|| mode.build(limits));
            let want = pacer.calls_to_place(&snap) as i64;
            let busy = self.trunk_busy.get(&trunk.id).copied().unwrap_or(0);
            let n = want
                .min(trunk.max_channels - busy)
                .min(c.hopper.len() as i64);
            if n <= 0 {
                continue;
            }
            let mut trigger = c.trigger.take();
            let mut items = Vec::with_capacity(n as usize);
            while (items.len() as i64) < n {
                let Some(d) = c.hopper.pop_front() else {
                    break;
                };
                let attempt_no = d.attempts + 1;
                let key = channel_id(id, d.id, attempt_no);
                let Entry::Vacant(slot) = self.calls.entry(key.clone()) else {
                    // Already dialed under this channel id (the contact came
                    // back through a release in the store): the live call
                    // keeps its place.
                    tracing::warn!(channel = %key, "dialer: contact already being dialed; not placed twice");
                    continue;
                };
                slot.insert(Live {
                    campaign: id,
                    server: sid,
                    trunk: trunk.id,
                    contact_id: d.id,
                    attempt_no,
                    call: Call::new(now.ms),
                    originated: false,
                    placed: now.at,
                });
                let mut o = Originate::to_extension(
                    &trunk.dial(&d.phone),
                    &c.conf.delivery_context,
                    &c.conf.delivery_exten,
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
                o = o
                    .variable("OML_CAMPAIGN_ID", &id.to_string())
                    .variable("OML_CONTACT_ID", &d.id.to_string())
                    .variable("OML_ATTEMPT", &attempt_no.to_string());
                let a = NewAttempt {
                    campaign_id: id,
                    contact_id: d.id,
                    attempt_no,
                    server_id: Some(sid),
                    channel_id: key,
                    placed_at: now.ms,
                    node: self.cfg.node.clone(),
                };
                items.push((a, o, trigger.take()));
            }
            if items.is_empty() {
                continue;
            }
            *self.trunk_busy.entry(trunk.id).or_insert(0) += items.len() as i64;
            self.actions.push(Action::Place { server: sid, items });
        }
    }
}
