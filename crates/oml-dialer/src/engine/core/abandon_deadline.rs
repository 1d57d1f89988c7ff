//! The abandon message within the FCC's 2 s (47 CFR 64.1200(a)(7), issue
//! 18). The rendered dialplan's `Queue()` gives up after the campaign's
//! abandon seconds counted in whole seconds from the queue join, which on
//! a real Asterisk starts the message ~3.3 s after the person's greeting
//! ended (AMD() needs its after-greeting silence before it says HUMAN).
//! The engine knows better when the clock started: at AMD()'s HUMAN (or
//! NOTSURE) verdict, `UserEvent` `OmlAmd`, the greeting ended the
//! campaign's after-greeting silence earlier; with AMD off, at the answer.
//! So it sends AMI `Redirect` of the campaign context's channel to the
//! context's `abandon` extension (the message, `OmlAbandonMessage`, then
//! the hang-up) at
//!
//! ```text
//! verdict + abandon_seconds - after_greeting_silence - REDIRECT_MARGIN
//! answer  + abandon_seconds                          - REDIRECT_MARGIN   (AMD off)
//! ```
//!
//! when the call is still waiting for an agent then. The queue's own
//! time-out stays in the dialplan for when no engine watches.
//!
//! The race with an agent: a call already connected (`AgentConnect` seen)
//! is never redirected. An `AgentConnect` on its way while the `Redirect`
//! is sent can still lose the agent the call: Asterisk then takes the
//! customer out of the bridge into the message, and the `OmlAbandonMessage`
//! that follows makes the call `abandoned_message_played` (see
//! [`crate::call::Call`]): the person heard the message, not an agent.
//!
//! Only campaigns whose rendered context has the `abandon` extension (an
//! abandon message set, no delivery context of the administrator's) are
//! watched.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use oml_ami::Message;
use oml_store::{amd_false_positives, dialplan, CallPath, Campaign, CampaignMode, MachineHandling};

use super::{Action, Core, Key, Now};
use crate::call::Phase;

/// How long before the deadline the `Redirect` leaves: AMD()'s lag (it
/// says HUMAN later than the greeting's end + its after-greeting silence:
/// on the Asterisk 22 bench the verdict came 1.68-1.78 s after the answer
/// for a 0.5 s hello and 800 ms of silence, with `Cause` HUMAN-800-800,
/// so ~0.4-0.5 s late) plus the time from the action to the message's
/// start (AMI, Asterisk leaving `Queue()`, the `abandon` extension's first
/// step: 20-70 ms with two busy loops beside it). Measured with
/// `cargo test -p oml --test rendered_machines -- --nocapture`: the
/// message starts 1.70-1.75 s after the greeting ended.
pub const REDIRECT_MARGIN: Duration = Duration::from_millis(750);

/// The extension of a campaign's context that plays the abandon message.
pub const ABANDON_EXTEN: &str = "abandon";

/// What the engine needs of a campaign's call path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Plan {
    /// `AMD()` runs: the clock starts at its verdict.
    amd: bool,
    /// AMD()'s after-greeting silence (ms): the greeting ended this long
    /// before a HUMAN verdict.
    after_greeting_ms: u64,
}

/// One answered call waiting for its deadline.
#[derive(Debug, Default)]
struct Watch {
    /// The campaign context's channel (`Local/...;1`), from `Newchannel`.
    channel: Option<String>,
    answered: Option<Instant>,
    /// AMD()'s verdict: when, and whether a machine.
    verdict: Option<(Instant, bool)>,
    /// The `Redirect` was sent.
    sent: bool,
}

/// The deadlines of the calls of watched campaigns.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    plans: HashMap<i64, Plan>,
    calls: HashMap<Key, Watch>,
    /// Ofcom: the AMD false positive rate of each campaign under the `uk`
    /// rule set with AMD on (`oml_store::amd_false_positives`).
    ofcom: HashMap<i64, f64>,
    /// The estimate's fraction not yet counted, by campaign.
    carry: HashMap<i64, f64>,
}

impl Deadlines {
    /// The campaigns' call paths, as loaded.
    pub(super) fn configure<'a>(
        &mut self,
        campaigns: impl Iterator<Item = &'a Campaign> + Clone,
        paths: &HashMap<i64, CallPath>,
        rates: &HashMap<i64, f64>,
    ) {
        self.ofcom = campaigns
            .clone()
            .filter(|c| {
                paths
                    .get(&c.id)
                    .is_some_and(|p| amd_false_positives::applies(c.abandon_window, p.machine))
            })
            .map(|c| {
                let r = rates.get(&c.id).copied();
                (
                    c.id,
                    r.unwrap_or(amd_false_positives::DEFAULT_AMD_FALSE_POSITIVE_RATE),
                )
            })
            .collect();
        self.carry.retain(|id, _| self.ofcom.contains_key(id));
        self.plans = campaigns
            .filter_map(|c| {
                let p = paths.get(&c.id)?;
                // Preview calls reach their agent first: never abandoned.
                let watched = !p.abandon_sound.trim().is_empty()
                    && c.delivery_context.trim().is_empty()
                    && c.mode != CampaignMode::Preview;
                watched.then(|| {
                    (
                        c.id,
                        Plan {
                            amd: p.machine != MachineHandling::Off,
                            after_greeting_ms: u64::from(p.amd.after_greeting_silence),
                        },
                    )
                })
            })
            .collect();
    }
}

impl Core {
    /// Notes what an AMI event tells of a watched call's clock: its
    /// channel, its answer, AMD()'s verdict. Received at `at`. A machine
    /// verdict of a campaign under Ofcom's rules adds its share of the AMD
    /// false positive estimate to the abandon ledger: each whole estimated
    /// call is recorded as an abandoned live answer at `now`.
    pub(super) fn watch_abandon(&mut self, m: &Message, at: Instant, now: Now) {
        let Some(key) = self.key_of_call(m) else {
            return;
        };
        let Some(campaign) = self.calls.get(&key).map(|l| l.campaign) else {
            return;
        };
        if !self.deadlines.plans.contains_key(&campaign)
            && !self.deadlines.ofcom.contains_key(&campaign)
        {
            return;
        }
        let own = m.get("Uniqueid") == Some(key.as_str());
        let w = self.deadlines.calls.entry(key).or_default();
        match m.event_name().unwrap_or("") {
            e if e.eq_ignore_ascii_case("Newchannel") && own => {
                w.channel = m.get("Channel").map(str::to_owned);
            }
            e if e.eq_ignore_ascii_case("Newstate") && m.get("ChannelState") == Some("6") => {
                w.answered.get_or_insert(at);
            }
            e if e.eq_ignore_ascii_case("OriginateResponse")
                && m.get("Response")
                    .is_some_and(|r| r.eq_ignore_ascii_case("Success")) =>
            {
                w.answered.get_or_insert(at);
                if own || w.channel.is_none() {
                    w.channel = m.get("Channel").map(str::to_owned);
                }
            }
            e if e.eq_ignore_ascii_case("QueueCallerJoin") => {
                w.answered.get_or_insert(at);
            }
            e if e.eq_ignore_ascii_case("UserEvent")
                && m.get("UserEvent") == Some(dialplan::AMD_EVENT) =>
            {
                let machine = m.get("Status").map(str::trim) == Some("MACHINE");
                w.answered.get_or_insert(at);
                let first = w.verdict.is_none();
                w.verdict.get_or_insert((at, machine));
                if first && machine {
                    self.estimate_false_positive(campaign, now);
                }
            }
            _ => {}
        }
    }

    /// Ofcom: one machine answer adds the campaign's AMD false positive
    /// rate to its estimate; each whole call of it is an abandoned live
    /// answer in the ledger (the pacer's input), so `rate` x machines are
    /// counted, rounded down to whole calls.
    fn estimate_false_positive(&mut self, campaign: i64, now: Now) {
        let Some(&rate) = self.deadlines.ofcom.get(&campaign) else {
            return;
        };
        let carry = self.deadlines.carry.entry(campaign).or_default();
        *carry += rate;
        let mut whole = 0;
        while *carry >= 1.0 - 1e-9 {
            *carry -= 1.0;
            whole += 1;
        }
        for _ in 0..whole {
            self.record_answer(campaign, now.ms, true, now);
        }
    }

    /// The call `m` is about (by `Uniqueid`, else `Linkedid`).
    fn key_of_call(&self, m: &Message) -> Option<Key> {
        ["Uniqueid", "Linkedid"]
            .iter()
            .filter_map(|f| m.get(f))
            .find(|u| self.calls.contains_key(*u))
            .map(str::to_owned)
    }

    /// When the call's message must be asked for, if it must.
    fn due(&self, key: &str, w: &Watch) -> Option<Instant> {
        let l = self.calls.get(key)?;
        let plan = self.deadlines.plans.get(&l.campaign)?;
        let c = self.campaigns.get(&l.campaign)?;
        let scale = self.servers.get(&l.server).map_or(1.0, |s| s.clock.scale());
        // Durations in the PBX's seconds (pbxsim may run faster).
        let abandon = Duration::from_secs_f64(c.conf.abandon_seconds.max(0) as f64 / scale);
        let (start, before) = if plan.amd {
            match w.verdict? {
                (_, true) => return None,
                (at, false) => (
                    at,
                    Duration::from_secs_f64(plan.after_greeting_ms as f64 / 1000.0 / scale),
                ),
            }
        } else {
            (w.answered?, Duration::ZERO)
        };
        let wait = abandon
            .saturating_sub(before)
            .saturating_sub(REDIRECT_MARGIN);
        Some(start + wait)
    }

    /// The next moment a `Redirect` may be due (the shell wakes then).
    pub fn next_abandon_deadline(&self) -> Option<Instant> {
        self.deadlines
            .calls
            .iter()
            .filter(|(_, w)| !w.sent && w.channel.is_some())
            .filter_map(|(k, w)| self.due(k, w))
            .min()
    }

    /// Sends the `Redirect` of each watched call whose deadline passed and
    /// which still waits for an agent; forgets calls that ended.
    pub fn on_abandon_deadlines(&mut self, now: Now) {
        let calls = &self.calls;
        self.deadlines.calls.retain(|k, _| calls.contains_key(k));
        let mut due: Vec<Key> = self
            .deadlines
            .calls
            .iter()
            .filter(|(_, w)| !w.sent)
            .filter(|(k, w)| self.due(k, w).is_some_and(|d| d <= now.at))
            .map(|(k, _)| k.clone())
            .collect();
        due.sort_unstable();
        for key in due {
            let l = &self.calls[&key];
            // Connected, ended, a machine, or the message already playing:
            // nothing to send (never take a call from its agent).
            let waiting = l.call.phase == Phase::Answered && l.call.is_waiting_for_agent();
            let w = self.deadlines.calls.get_mut(&key).expect("present");
            w.sent = true;
            let Some(channel) = w.channel.clone().filter(|_| waiting) else {
                continue;
            };
            let (server, campaign) = (l.server, l.campaign);
            self.metrics
                .abandon_redirects
                .fetch_add(1, Ordering::Relaxed);
            self.act(Action::Redirect {
                server,
                key,
                channel,
                context: dialplan::campaign_context(campaign),
                exten: ABANDON_EXTEN.to_owned(),
            });
        }
    }
}

#[cfg(test)]
#[path = "tests_abandon_deadline.rs"]
mod tests;
