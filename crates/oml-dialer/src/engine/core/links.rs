//! Which Asterisk servers this node keeps an AMI link to (issue 17 item
//! 5): only those its work needs, not every enabled one. A server is
//! needed while a campaign this node paces dials through it (its trunk's
//! server; every enabled server for a trunk bound to none) or while this
//! node follows a call on it (its own, or one adopted from a node that
//! stopped). A link no longer needed is closed after [`LINGER`], so a
//! campaign handed back and forth does not log in and out each time. The
//! agent page's actions (QueueAdd, QueuePause...) are the console's own
//! connections and do not go through here.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use oml_store::AsteriskServer;

use super::{Action, Core, Now, ServerRt};
use crate::agents::Agents;

/// The event classes asked for at login (`Events:`): calls (Newchannel,
/// Newstate, Hangup, OriginateResponse), agents (the queue's events) and
/// user events (the call path's `UserEvent`s).
pub const EVENT_CLASSES: &str = "call,agent,user";

/// The events the core reads (`calls.rs`, `abandon_deadline.rs`,
/// `crate::agents`): a link asks Asterisk for these only (AMI `Filter`,
/// a regular expression on the event's text, Asterisk >= 10). An event the
/// core starts reading must be added here. Action answers (`QueueMember`,
/// `CoreShowChannel`, `DBGetResponse`...) are not filtered.
/// The second filter excludes what the first matches by its start only
/// (`HangupRequest`, `HangupHandlerPush`...: the expressions have no end
/// anchor).
pub const EVENT_FILTERS: [&str; 2] = [
    "Event: (Newchannel|Newstate|Hangup|OriginateResponse|QueueCallerJoin|QueueCallerAbandon|AgentConnect|UserEvent|QueueMemberStatus|QueueMemberAdded|QueueMemberRemoved|QueueMemberPause)",
    "!Event: Hangup[A-Za-z]",
];

/// How long a link stays up once nothing needs it.
pub(crate) const LINGER: Duration = Duration::from_secs(10);

/// The servers the configuration has (enabled ones) and since when a
/// linked one has not been needed.
#[derive(Default)]
pub(super) struct Links {
    /// Every enabled server, by id.
    pub(super) known: HashMap<i64, AsteriskServer>,
    idle_since: HashMap<i64, Instant>,
}

impl ServerRt {
    /// A server whose link was just asked for: down, to reconcile once up.
    pub(super) fn new(conf: AsteriskServer, now: Instant) -> ServerRt {
        ServerRt {
            conf,
            up: false,
            last_error: None,
            agents: Agents::default(),
            reconciling: true,
            last_poll: now,
            clock: Default::default(),
        }
    }
}

impl Core {
    /// The enabled servers this node's work needs now.
    pub(super) fn needed_servers(&self) -> BTreeSet<i64> {
        let mut need = BTreeSet::new();
        for id in &self.leading {
            let Some(c) = self.campaigns.get(id) else {
                continue;
            };
            if !c.wanted(self.play) {
                continue;
            }
            match self.trunks.get(&c.conf.trunk_id).map(|t| t.server_id) {
                Some(Some(sid)) => {
                    need.insert(sid);
                }
                Some(None) => need.extend(self.links.known.keys().copied()),
                None => {}
            }
        }
        need.extend(self.calls.values().map(|l| l.server));
        need.retain(|s| self.links.known.contains_key(s));
        need
    }

    /// Opens the links needed and not up yet, and closes those unneeded
    /// for [`LINGER`].
    pub(super) fn sync_links(&mut self, now: Now) {
        let need = self.needed_servers();
        for id in &need {
            self.links.idle_since.remove(id);
            if self.servers.contains_key(id) {
                continue;
            }
            let Some(conf) = self.links.known.get(id).cloned() else {
                continue;
            };
            tracing::info!(server = %conf.name, "dialer: connecting to the AMI server (a campaign this node paces, or a call it follows, uses it)");
            self.act(Action::Connect {
                server: *id,
                conf: conf.clone(),
            });
            self.servers.insert(*id, ServerRt::new(conf, now.at));
        }
        let mut unneeded: Vec<i64> = self
            .servers
            .keys()
            .filter(|id| !need.contains(id))
            .copied()
            .collect();
        unneeded.sort_unstable();
        for id in unneeded {
            let since = *self.links.idle_since.entry(id).or_insert(now.at);
            if now.at.saturating_duration_since(since) < LINGER {
                continue;
            }
            self.links.idle_since.remove(&id);
            if let Some(s) = self.servers.remove(&id) {
                tracing::info!(server = %s.conf.name, "dialer: closing the AMI link (no campaign this node paces and no call it follows uses the server)");
            }
            self.act(Action::Disconnect { server: id });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::time::Duration;

    use oml_store::dialing::OpenAttempt;

    use super::LINGER;
    use crate::engine::core::tests::{Harness, CAMPAIGN, SERVER};
    use crate::engine::core::{Action, Input};

    const OTHER: i64 = 2;

    fn connects(a: &[Action]) -> Vec<i64> {
        a.iter()
            .filter_map(|a| match a {
                Action::Connect { server, .. } => Some(*server),
                _ => None,
            })
            .collect()
    }

    fn disconnects(a: &[Action]) -> Vec<i64> {
        a.iter()
            .filter_map(|a| match a {
                Action::Disconnect { server } => Some(*server),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn links_follow_the_campaigns_led_and_the_calls_followed() {
        let mut h = Harness::new(10);
        // A second enabled server that no campaign of this node uses, and
        // the campaign's trunk bound to the first.
        let mut other = h.core.links.known[&SERVER].clone();
        other.id = OTHER;
        other.name = "pbx2".into();
        h.core.links.known.insert(OTHER, other);
        for t in h.core.trunks.values_mut() {
            t.server_id = Some(SERVER);
        }
        let a = h.feed(Input::Tick);
        assert!(connects(&a).is_empty(), "{a:?}");
        assert_eq!(h.core.servers.keys().copied().collect::<Vec<_>>(), [SERVER]);

        // The campaign goes to another node: the link stays for LINGER.
        h.feed(Input::Leading {
            named: true,
            campaigns: HashSet::new(),
        });
        h.advance(LINGER - Duration::from_secs(1));
        let a = h.feed(Input::Tick);
        assert!(disconnects(&a).is_empty(), "{a:?}");
        h.advance(Duration::from_secs(2));
        let a = h.feed(Input::Tick);
        assert_eq!(disconnects(&a), [SERVER], "{a:?}");
        assert!(h.core.servers.is_empty());

        // A stopped node's call on the other server, adopted: linked to it
        // (to reconcile and follow it) until it is over.
        let a = h.feed(Input::Adopt(vec![OpenAttempt {
            id: 1,
            campaign_id: CAMPAIGN,
            contact_id: 9,
            attempt_no: 1,
            server_id: Some(OTHER),
            channel_id: "oml-7-9-1".into(),
            placed_at: h.now.ms - 5_000,
            answered_at: None,
            connected_at: None,
            node: "gone".into(),
        }]));
        assert_eq!(connects(&a), [OTHER], "{a:?}");
        h.feed(Input::LinkUp { server: OTHER });
        h.feed(Input::Channels {
            server: OTHER,
            asked_at: h.now.at,
            channels: Vec::new(),
            records: Default::default(),
        });
        // Gone from the PBX: it ends, and the link closes after LINGER.
        assert!(h.core.calls.is_empty());
        let a = h.feed(Input::Tick);
        assert!(disconnects(&a).is_empty(), "{a:?}");
        h.advance(LINGER + Duration::from_secs(1));
        let a = h.feed(Input::Tick);
        assert_eq!(disconnects(&a), [OTHER], "{a:?}");
        assert!(h.core.servers.is_empty());
    }
}
