//! The decision core driven by a test harness: inputs and a clock go in,
//! actions come out — no runtime, no sockets, no database.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oml_ami::Message;
use oml_store::dialing::{DialingWrite, DueContact};
use oml_store::{
    AbandonWindow, AsteriskServer, Campaign, CampaignMode, CampaignState, Trunk,
    DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;

use super::{Action, Core, Input, Loaded, Lost, Now};
use crate::engine::{EngineConfig, Metrics};

pub(super) const CAMPAIGN: i64 = 7;
pub(super) const SERVER: i64 = 1;
const RING_TIMEOUT_S: i64 = 8;

fn server() -> AsteriskServer {
    AsteriskServer {
        id: SERVER,
        name: "pbx1".into(),
        host: "127.0.0.1".into(),
        ami_port: 5038,
        ami_user: "oml".into(),
        ami_secret: SecretString::from("s"),
        enabled: true,
    }
}

fn trunk(max_channels: i64) -> Trunk {
    Trunk {
        id: 3,
        name: "t1".into(),
        dial_string: DEFAULT_DIAL_STRING.into(),
        max_channels,
        server_id: None,
        caller_id: String::new(),
    }
}

/// The harness's server and trunk, for a `Loaded` of a test's own.
pub(super) fn server_and_trunk(max_channels: i64) -> (Vec<AsteriskServer>, Vec<Trunk>) {
    (vec![server()], vec![trunk(max_channels)])
}

pub(super) fn campaign(state: CampaignState) -> Campaign {
    Campaign {
        id: CAMPAIGN,
        name: "sales".into(),
        mode: CampaignMode::Progressive,
        trunk_id: 3,
        delivery_context: "oml-campaign".into(),
        delivery_exten: "100".into(),
        queue_name: "q1".into(),
        max_abandon_rate: 0.03,
        abandon_window: AbandonWindow::Uk,
        abandon_seconds: 2,
        ring_timeout_s: RING_TIMEOUT_S,
        non_compliant: false,
        caller_id: String::new(),
        time_zone: "UTC".into(),
        window_start_minute: 0,
        window_end_minute: 24 * 60,
        days_mask: 127,
        priority: 0,
        state,
        created_at: 0,
        updated_at: 0,
    }
}

fn loaded(play: bool, state: CampaignState, max_channels: i64) -> Input {
    Input::Config(Box::new(Loaded {
        play,
        servers: vec![server()],
        trunks: vec![trunk(max_channels)],
        campaigns: vec![(campaign(state), Vec::new())],
        call_paths: Default::default(),
        amd_false_positive_rates: Default::default(),
    }))
}

pub(super) fn contact(id: i64) -> DueContact {
    DueContact {
        id,
        campaign_id: CAMPAIGN,
        phone: format!("555{id:04}"),
        attempts: 0,
        callback: false,
    }
}

pub(super) fn member(iface: &str, status: &str) -> Input {
    let m = Message::event("QueueMemberStatus")
        .with("Queue", "q1")
        .with("Interface", iface)
        .with("Status", status)
        .with("Paused", "0");
    ami(m)
}

pub(super) fn ami(m: Message) -> Input {
    Input::Ami {
        server: SERVER,
        msg: Arc::new(m),
        at: Instant::now(),
    }
}

pub(super) fn hangup(key: &str, cause: u32) -> Input {
    ami(Message::event("Hangup")
        .with("Uniqueid", key)
        .with("Cause", cause.to_string()))
}

/// The core and its clock.
pub(super) struct Harness {
    pub(super) core: Core,
    pub(super) now: Now,
}

impl Harness {
    /// A core that knows one server (link up), one running campaign it
    /// leads under its own name, and no agents yet.
    pub(super) fn new(max_channels: i64) -> Harness {
        Harness::with(vec![campaign(CampaignState::Running)], max_channels)
    }

    /// The same with these campaigns (all led here, their history loaded empty).
    pub(super) fn with(campaigns: Vec<Campaign>, max_channels: i64) -> Harness {
        let cfg = EngineConfig {
            hopper_batch: 10,
            ..EngineConfig::default()
        };
        let mut h = Harness {
            core: Core::new(cfg, Arc::new(Metrics::default())),
            now: Now {
                ms: 1_800_000_000_000,
                at: Instant::now(),
            },
        };
        let ids: HashSet<i64> = campaigns.iter().map(|c| c.id).collect();
        h.feed(Input::Config(Box::new(Loaded {
            play: true,
            servers: vec![server()],
            trunks: vec![trunk(max_channels)],
            campaigns: campaigns.into_iter().map(|c| (c, Vec::new())).collect(),
            call_paths: Default::default(),
            amd_false_positive_rates: Default::default(),
        })));
        // Leading first: a node links only to the servers its campaigns use.
        h.feed(Input::Leading {
            named: true,
            campaigns: ids.clone(),
        });
        h.feed(Input::LinkUp { server: SERVER });
        h.feed(Input::Channels {
            server: SERVER,
            asked_at: h.now.at,
            channels: Vec::new(),
            records: Default::default(),
        });
        let a = h.feed(Input::NameRecovered(Vec::new()));
        for id in ids {
            assert!(
                a.iter()
                    .any(|a| matches!(a, Action::LoadHistory { campaign, .. } if *campaign == id)),
                "{a:?}"
            );
            h.feed(Input::History {
                campaign: id,
                answers: Vec::new(),
                memory: None,
            });
        }
        h
    }

    /// Feeds one input, paces, and returns the actions decided.
    pub(super) fn feed(&mut self, input: Input) -> Vec<Action> {
        // Events made with the real clock arrive at the harness's time
        // (they did not wait in a queue).
        let input = match input {
            Input::Ami { server, msg, at } => Input::Ami {
                server,
                msg,
                at: at.max(self.now.at),
            },
            other => other,
        };
        self.core.handle(input, self.now);
        self.core.pace_all(self.now);
        self.core.actions().collect()
    }

    pub(super) fn advance(&mut self, d: Duration) {
        self.now.ms += d.as_millis() as i64;
        self.now.at += d;
    }

    fn claimed(&mut self, ids: &[i64]) -> Vec<Action> {
        self.feed(Input::Claimed {
            campaign: CAMPAIGN,
            contacts: ids.iter().map(|i| contact(*i)).collect(),
            left: 1,
        })
    }
}

/// The channel ids of the calls placed in `actions`.
pub(super) fn placed(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Place { items, .. } => Some(items),
            _ => None,
        })
        .flatten()
        .map(|(a, o, _)| {
            assert_eq!(o.channel_id.as_deref(), Some(a.channel_id.as_str()));
            a.channel_id.clone()
        })
        .collect()
}

pub(super) fn ends(actions: &[Action]) -> Vec<(i64, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Write(DialingWrite::End(r)) => Some((r.contact_id, r.outcome.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn nothing_is_claimed_before_the_previous_run_is_released() {
    let mut core = Core::new(EngineConfig::default(), Arc::new(Metrics::default()));
    let now = Now::system();
    let step = |core: &mut Core, i: Input| {
        core.handle(i, now);
        core.pace_all(now);
        core.actions().collect::<Vec<_>>()
    };
    step(&mut core, loaded(true, CampaignState::Running, 5));
    let a = step(
        &mut core,
        Input::Leading {
            named: true,
            campaigns: HashSet::from([CAMPAIGN]),
        },
    );
    assert!(a.iter().any(|a| matches!(a, Action::RecoverName)));
    assert!(
        !a.iter().any(|a| matches!(a, Action::Claim { .. })),
        "claimed before the previous hopper was released: {a:?}"
    );
    let a = step(&mut core, Input::NameRecovered(Vec::new()));
    assert!(
        !a.iter().any(|a| matches!(a, Action::Claim { .. })),
        "claimed before the campaign's abandons were read: {a:?}"
    );
    let a = step(
        &mut core,
        Input::History {
            campaign: CAMPAIGN,
            answers: Vec::new(),
            memory: None,
        },
    );
    assert!(a.iter().any(|a| matches!(a, Action::Claim { .. })), "{a:?}");
}

#[test]
fn a_free_agent_gets_a_call_placed_at_once() {
    let mut h = Harness::new(10);
    h.feed(member("PJSIP/a1", "2")); // in use
    assert!(placed(&h.claimed(&[1, 2, 3])).is_empty(), "no free agent");
    let at = Instant::now();
    let a = h.feed(Input::Ami {
        server: SERVER,
        msg: Arc::new(
            Message::event("QueueMemberStatus")
                .with("Queue", "q1")
                .with("Interface", "PJSIP/a1")
                .with("Status", "1")
                .with("Paused", "0"),
        ),
        at,
    });
    let calls: Vec<_> = a
        .iter()
        .filter_map(|a| match a {
            Action::Place { items, .. } => Some(items),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(calls.len(), 1, "{a:?}");
    let (attempt, originate, trigger) = calls[0];
    assert_eq!(attempt.channel_id, "oml-7-1-1");
    assert_eq!(
        *trigger,
        Some(at),
        "the reaction is measured from the event"
    );
    assert_eq!(originate.timeout, Some(Duration::from_secs(8)));
}

/// Issue 19: a due callback claimed while the hopper holds ordinary
/// contacts is dialed before them.
#[test]
fn a_due_callback_goes_before_the_contacts_the_hopper_holds() {
    let mut h = Harness::new(10);
    h.feed(member("PJSIP/a1", "2")); // in use: nothing is placed yet
    assert!(placed(&h.claimed(&[1, 2, 3])).is_empty());
    let a = h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: vec![
            DueContact {
                callback: true,
                ..contact(9)
            },
            contact(4),
        ],
        left: 1,
    });
    assert!(placed(&a).is_empty(), "still no free agent");
    let a = h.feed(member("PJSIP/a1", "1"));
    assert_eq!(placed(&a), ["oml-7-9-1"], "the callback first: {a:?}");
}

/// Issue 19: a hopper that is not full claims again every CALLBACK_LOOK
/// (so a callback coming due is claimed although the hopper holds
/// contacts), for what it lacks only.
#[test]
fn a_hopper_not_full_tops_up_to_find_due_callbacks() {
    let mut h = Harness::new(10);
    h.feed(member("PJSIP/a1", "2")); // in use: nothing is placed
    h.claimed(&[1, 2, 3, 4, 5, 6]); // over half of the batch of 10
    let claims = |a: &[Action]| -> Vec<i64> {
        a.iter()
            .filter_map(|a| match a {
                Action::Claim { limit, .. } => Some(*limit),
                _ => None,
            })
            .collect()
    };
    h.advance(Duration::from_secs(5));
    assert!(
        claims(&h.feed(Input::Tick)).is_empty(),
        "stocked, looked just now"
    );
    h.advance(super::CALLBACK_LOOK);
    assert_eq!(claims(&h.feed(Input::Tick)), [4], "the 4 it lacks");
}

/// The core never sends an `Originate` itself: each comes with its attempt
/// row in one `Place`, which the writer commits before sending it. A call
/// the store refuses is dropped and frees its trunk line.
#[test]
fn originate_only_with_its_attempt_and_refusals_free_the_line() {
    let mut h = Harness::new(1);
    h.feed(member("PJSIP/a1", "1"));
    h.feed(member("PJSIP/a2", "1"));
    let a = h.claimed(&[1, 2]);
    assert_eq!(placed(&a), ["oml-7-1-1"], "one line on the trunk");
    assert!(placed(&h.feed(Input::Tick)).is_empty(), "the line is busy");
    let a = h.feed(Input::Refused(vec!["oml-7-1-1".into()]));
    assert_eq!(placed(&a), ["oml-7-2-1"], "the refused call freed the line");
    // Never acknowledged, never originated: no ring time-out, no outcome.
    assert!(ends(&a).is_empty());
}

#[test]
fn a_call_without_any_answer_ends_after_its_ring_timeout() {
    let mut h = Harness::new(5);
    h.feed(member("PJSIP/a1", "1"));
    assert_eq!(placed(&h.claimed(&[1])), ["oml-7-1-1"]);
    h.feed(Input::Originated {
        key: "oml-7-1-1".into(),
        result: Ok("a1".into()),
    });
    h.advance(Duration::from_secs(RING_TIMEOUT_S as u64 + 59));
    assert!(ends(&h.feed(Input::Tick)).is_empty(), "too early");
    h.advance(Duration::from_secs(2));
    assert_eq!(ends(&h.feed(Input::Tick)), [(1, "unknown".to_string())]);
}

/// Issue 15 item 1: a release in the store lets a claim return a contact
/// the hopper holds or is dialing. It is neither held twice nor placed
/// twice, and a late refusal never drops the live call: its events still
/// end it.
#[test]
fn a_contact_returned_twice_is_dialed_once_and_followed_to_its_end() {
    let mut h = Harness::new(5);
    h.feed(member("PJSIP/a1", "1"));
    assert_eq!(placed(&h.claimed(&[1, 2])), ["oml-7-1-1"]);
    h.feed(Input::Originated {
        key: "oml-7-1-1".into(),
        result: Ok("a1".into()),
    });
    // The store released the hopper; the next claim returns 1 and 2 again.
    assert!(placed(&h.claimed(&[1, 2, 3])).is_empty());
    // A refusal for the live call's channel id (a duplicate the writer
    // refused) does not drop it.
    let mut a = h.feed(Input::Refused(vec!["oml-7-1-1".into()]));
    // Each agent that comes free is paced for at once.
    a.extend(h.feed(member("PJSIP/a2", "1")));
    a.extend(h.feed(member("PJSIP/a3", "1")));
    a.extend(h.feed(Input::Tick));
    assert_eq!(placed(&a), ["oml-7-2-1", "oml-7-3-1"], "2 and 3 once each");
    let a = h.feed(hangup("oml-7-1-1", 17));
    h.advance(Duration::from_secs(3));
    let mut all = a;
    all.extend(h.feed(Input::Tick));
    assert_eq!(ends(&all), [(1, "busy".to_string())], "{all:?}");
}

/// Issue 15 item 9: a campaign this node lets go of itself is not "taken
/// over by another node".
#[test]
fn letting_go_of_a_campaign_says_why() {
    // Finished: nothing left to dial.
    let mut h = Harness::new(5);
    let a = h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: Vec::new(),
        left: 0,
    });
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::FinishCampaign(n) if n == "sales")));
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::WantLeadership(w) if w.is_empty())));
    let a = h.feed(Input::Leading {
        named: true,
        campaigns: HashSet::new(),
    });
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::PacingLost(CAMPAIGN, Lost::Stopped))),
        "{a:?}"
    );
    // The dialer stopped (play off).
    let mut h = Harness::new(5);
    h.feed(loaded(false, CampaignState::Running, 5));
    let a = h.feed(Input::Leading {
        named: true,
        campaigns: HashSet::new(),
    });
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::PacingLost(CAMPAIGN, Lost::Stopped))));
    // Still wanted here: another node holds it.
    let mut h = Harness::new(5);
    let a = h.feed(Input::Leading {
        named: true,
        campaigns: HashSet::new(),
    });
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::PacingLost(CAMPAIGN, Lost::TakenOver))));
}
