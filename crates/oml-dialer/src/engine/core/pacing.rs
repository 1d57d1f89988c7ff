//! Pacing in the decision core. For each campaign this node paces, keep
//! its hopper stocked; then, per server and queue, the campaigns dialing
//! for the same agents are paced together: one view of the queue's agents,
//! handed to the campaigns by priority and then in turn through
//! [`oml_pacing::allocate`] (the simulator's allocation), so that the sum
//! of their calls is paced against the agents once. Durations go to the
//! pacers in the PBX's seconds (see `clock.rs`); while the engine cannot
//! keep up (see `overload.rs`) they pace progressively. The granted calls
//! become attempts to commit and `Originate`s to send. Never two calls in
//! memory for one channel id.

use std::collections::hash_map::Entry;
use std::collections::BTreeMap;
use std::time::Duration;

use oml_ami::Originate;
use oml_pacing::{allocate, AbandonCounts, ModeSpec, Pacer, PacingLimits, Snapshot};
use oml_store::dialing::NewAttempt;
use oml_store::{dialplan, CampaignState, Trunk};

use super::{Action, CampaignRt, Core, History, Live, Now};
use crate::call::Call;

/// The channel id of an attempt: unique per (campaign, contact, attempt).
/// Asterisk 22 refuses an assigned id that is a case-insensitive prefix of
/// a live channel's Uniqueid; two ids of this form are prefixes of each
/// other only for the same contact's attempts N and N·10+k, which never
/// run at once.
pub fn channel_id(campaign: i64, contact: i64, attempt_no: i64) -> String {
    format!("oml-{campaign}-{contact}-{attempt_no}")
}

/// The limits a campaign's pacers obey.
pub(super) fn limits_of(c: &CampaignRt) -> PacingLimits {
    PacingLimits {
        max_abandon_rate: c.conf.max_abandon_rate,
        abandon_after_s: c.conf.abandon_seconds as f64,
        max_lines: 0,
    }
}

/// One campaign's share of a pacing round on one server.
struct Seat {
    id: i64,
    priority: i32,
    ringing: Vec<f64>,
    waiting: u32,
    abandons: AbandonCounts,
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
        // The campaigns ready to place calls, by server and queue.
        let mut groups: BTreeMap<(i64, String), Vec<i64>> = BTreeMap::new();
        for id in ids {
            let Some(trunk) = self.prepare(id, now) else {
                continue;
            };
            let queue = dialplan::queue(&self.campaigns[&id].conf).into_owned();
            for sid in self.servers_for(&trunk) {
                groups.entry((sid, queue.clone())).or_default().push(id);
            }
        }
        for ((sid, queue), members) in groups {
            self.pace_group(sid, &queue, &members, now);
        }
    }

    /// The servers a trunk's calls may go through now, in order.
    pub(super) fn servers_for(&self, trunk: &Trunk) -> Vec<i64> {
        let mut servers: Vec<i64> = self
            .servers
            .iter()
            .filter(|(sid, s)| s.up && !s.reconciling && trunk.server_id.is_none_or(|t| t == **sid))
            .map(|(sid, _)| *sid)
            .collect();
        servers.sort_unstable();
        servers
    }

    /// Whether campaign `id` may place calls now, keeping its hopper
    /// stocked and its history loaded on the way; its trunk if so.
    fn prepare(&mut self, id: i64, now: Now) -> Option<Trunk> {
        let play = self.play;
        let leading = self.leading.contains(&id);
        let c = self.campaigns.get_mut(&id)?;
        if !play || !leading || c.conf.state != CampaignState::Running || c.problem.is_some() {
            c.trigger = None;
            return None;
        }
        if !c.window.is_some_and(|w| w.is_open(now.ms)) {
            c.trigger = None;
            return None;
        }
        // Preview campaigns are not paced: their agents ask for each call.
        if c.conf.mode == oml_store::CampaignMode::Preview {
            self.prepare_preview(id, now);
            return None;
        }
        // The abandons of the window and what was learned come first.
        match c.history {
            History::Loaded => {}
            History::Pending => return None,
            History::Needed => {
                if c.idle_until.is_some_and(|t| now.at < t) {
                    return None;
                }
                c.history = History::Pending;
                let (since_ms, abandon_ms) = (
                    now.ms - c.conf.abandon_window.millis(),
                    c.conf.abandon_seconds * 1000,
                );
                self.actions.push(Action::LoadHistory {
                    campaign: id,
                    since_ms,
                    abandon_ms,
                });
                return None;
            }
        }
        let trunk = self.trunks.get(&c.conf.trunk_id).cloned()?;
        // Keep the hopper stocked; a hopper that is not full tops up every
        // CALLBACK_LOOK too, which brings due callbacks in (they are
        // claimed first and put before the contacts it holds).
        let held = c.hopper.len() as i64;
        let low = held < (self.cfg.hopper_batch / 2).max(1);
        let look = held < self.cfg.hopper_batch
            && c.claimed_at
                .is_none_or(|t| now.at >= t + super::CALLBACK_LOOK);
        if (low || look) && !c.claiming && c.idle_until.is_none_or(|t| now.at >= t) {
            c.claiming = true;
            c.idle_until = None;
            c.claimed_at = Some(now.at);
            self.actions.push(Action::Claim {
                campaign: id,
                now_ms: now.ms,
                limit: if low {
                    self.cfg.hopper_batch
                } else {
                    self.cfg.hopper_batch - held
                },
            });
        }
        c.abandons = c.ledger.counts(now.ms);
        let busy = self.trunk_busy.get(&trunk.id).copied().unwrap_or(0);
        (!c.hopper.is_empty() && busy < trunk.max_channels).then_some(trunk)
    }

    /// Paces the campaigns `ids` dialing for the agents of `queue` on
    /// server `sid` together.
    fn pace_group(&mut self, sid: i64, queue: &str, ids: &[i64], now: Now) {
        let Some(s) = self.servers.get_mut(&sid) else {
            return;
        };
        let scale = s.clock.scale();
        let now_s = s.clock.now_s(now.at);
        let mut counts = s.agents.counts(queue, now.at);
        for x in counts
            .talking_elapsed_s
            .iter_mut()
            .chain(counts.wrap_up_elapsed_s.iter_mut())
        {
            *x *= scale;
        }
        let behind = self.overload.behind().is_some();
        let mut seats: Vec<Seat> = Vec::with_capacity(ids.len());
        let mut pacers: Vec<Box<dyn Pacer>> = Vec::with_capacity(ids.len());
        for &id in ids {
            let mut ringing = Vec::new();
            let mut waiting = 0u32;
            for l in self.calls.values() {
                if l.campaign == id && l.server == sid {
                    if l.call.is_ringing() {
                        ringing.push((now.ms - l.call.placed_at).max(0) as f64 / 1000.0 * scale);
                    } else if l.call.is_waiting_for_agent() {
                        waiting += 1;
                    }
                }
            }
            let c = self
                .campaigns
                .get_mut(&id)
                .expect("grouped campaigns exist");
            let limits = limits_of(c);
            pacers.push(if behind {
                ModeSpec::Progressive.build(limits)
            } else {
                let mode = c.mode;
                c.pacers.remove(&sid).unwrap_or_else(|| mode.build(limits))
            });
            seats.push(Seat {
                id,
                priority: c.conf.priority.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                ringing,
                waiting,
                abandons: c.abandons,
            });
        }
        let granted = {
            let snaps: Vec<Snapshot<'_>> = seats
                .iter()
                .map(|seat| Snapshot {
                    now_s,
                    agents_logged_in: counts.logged_in,
                    agents_ready: counts.ready,
                    talking_elapsed_s: &counts.talking_elapsed_s,
                    wrap_up_elapsed_s: &counts.wrap_up_elapsed_s,
                    ringing_elapsed_s: &seat.ringing,
                    answered_waiting: seat.waiting,
                    stats: &self.campaigns[&seat.id].stats,
                    abandons: seat.abandons,
                })
                .collect();
            let priorities: Vec<i32> = seats.iter().map(|seat| seat.priority).collect();
            let mut each: Vec<&mut dyn Pacer> = Vec::with_capacity(pacers.len());
            for p in pacers.iter_mut() {
                each.push(p.as_mut());
            }
            self.turn = self.turn.wrapping_add(1);
            allocate(&mut each, &snaps, &priorities, self.turn)
        };
        for ((seat, pacer), n) in seats.into_iter().zip(pacers).zip(granted) {
            if !behind {
                if let Some(c) = self.campaigns.get_mut(&seat.id) {
                    c.pacers.insert(sid, pacer);
                }
            }
            if n > 0 {
                self.place(seat.id, sid, n as i64, now);
            } else if let Some(c) = self.campaigns.get_mut(&seat.id) {
                // The pacer chose, at once, to place nothing for the agent
                // who became free (calls already ringing will reach it): the
                // engine has reacted. A call placed later is the pacer's
                // choice, not the engine's lag, and must not count as its
                // reaction time (which makes the engine dial progressively).
                c.trigger = None;
            }
        }
    }

    /// Turns up to `n` hopper contacts of campaign `id` into calls on
    /// server `sid` (within its trunk's free lines).
    fn place(&mut self, id: i64, sid: i64, n: i64, now: Now) {
        let Some(c) = self.campaigns.get_mut(&id) else {
            return;
        };
        let Some(trunk) = self.trunks.get(&c.conf.trunk_id) else {
            return;
        };
        let busy = self.trunk_busy.get(&trunk.id).copied().unwrap_or(0);
        let n = n.min(trunk.max_channels - busy).min(c.hopper.len() as i64);
        if n <= 0 {
            return;
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
                learned: false,
            });
            let route = dialplan::route(&c.conf);
            let mut o =
                Originate::to_extension(&trunk.dial(&d.phone), &route.context, &route.exten);
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
            for (name, value) in dialplan::variables(id, d.id, attempt_no) {
                o = o.variable(name, &value);
            }
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
            return;
        }
        *self.trunk_busy.entry(trunk.id).or_insert(0) += items.len() as i64;
        self.actions.push(Action::Place { server: sid, items });
    }
}
