//! The decision core's pacing driven by the test harness of `tests.rs`:
//! campaigns sharing a queue's agents, the sliding abandon ledger and the
//! learned statistics loaded when pacing starts, the PBX's time, and
//! dialing less when the engine falls behind.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use oml_ami::Message;
use oml_store::dialing::DueContact;
use oml_store::pacing_memory::{AnswerRow, LearnedCalls, PacingMemory, StartingPoints};
use oml_store::{Campaign, CampaignMode, CampaignState};

use super::tests::{ami, campaign, contact, hangup, member, placed, Harness, CAMPAIGN, SERVER};
use super::{Action, Input};
use crate::engine::status::snapshot;

const OTHER: i64 = 8;
const HOUR_MS: i64 = 3_600_000;

fn other(priority: i64) -> Campaign {
    Campaign {
        id: OTHER,
        name: "promo".into(),
        priority,
        ..campaign(CampaignState::Running)
    }
}

fn contacts_of(campaign: i64, ids: &[i64]) -> Vec<DueContact> {
    ids.iter()
        .map(|i| DueContact {
            campaign_id: campaign,
            ..contact(*i)
        })
        .collect()
}

fn claimed(h: &mut Harness, campaign: i64, ids: &[i64]) -> Vec<Action> {
    h.feed(Input::Claimed {
        campaign,
        contacts: contacts_of(campaign, ids),
        left: 1,
    })
}

/// `n` members of q1 ready, as one `QueueStatus` answer.
fn ready_members(n: usize) -> Input {
    Input::Members {
        server: SERVER,
        members: (0..n)
            .map(|i| {
                Message::event("QueueMember")
                    .with("Queue", "q1")
                    .with("Interface", format!("PJSIP/a{i}"))
                    .with("Status", "1")
                    .with("Paused", "0")
            })
            .collect(),
    }
}

/// Calls placed per campaign (by the channel id's campaign).
fn per_campaign(keys: &[String]) -> (usize, usize) {
    let a = keys
        .iter()
        .filter(|k| k.starts_with(&format!("oml-{CAMPAIGN}-")))
        .count();
    (a, keys.len() - a)
}

/// Issue 14 item 3: two campaigns on one queue used to count every free
/// agent each, and placed a call per agent twice.
#[test]
fn campaigns_on_one_queue_share_its_free_agents_in_turn() {
    let mut h = Harness::with(vec![campaign(CampaignState::Running), other(0)], 50);
    assert!(placed(&claimed(&mut h, CAMPAIGN, &[1, 2, 3, 4, 5, 6])).is_empty());
    assert!(placed(&claimed(&mut h, OTHER, &[11, 12, 13, 14, 15, 16])).is_empty());
    let a = h.feed(ready_members(4));
    let keys = placed(&a);
    assert_eq!(keys.len(), 4, "one call per free agent in all: {keys:?}");
    assert_eq!(per_campaign(&keys), (2, 2), "in turn: {keys:?}");
    // Nothing more while those calls ring.
    assert!(placed(&h.feed(Input::Tick)).is_empty());
}

#[test]
fn the_campaign_of_higher_priority_is_served_first() {
    let mut h = Harness::with(vec![campaign(CampaignState::Running), other(5)], 50);
    claimed(&mut h, CAMPAIGN, &[1, 2, 3, 4, 5, 6]);
    claimed(&mut h, OTHER, &[11, 12, 13, 14, 15, 16]);
    let keys = placed(&h.feed(ready_members(4)));
    assert_eq!(per_campaign(&keys), (0, 4), "{keys:?}");
}

/// Loses and regains the campaign's leadership: its history is read again.
fn regain(h: &mut Harness, answers: Vec<AnswerRow>, memory: Option<PacingMemory>) {
    h.feed(Input::Leading {
        named: true,
        campaigns: HashSet::new(),
    });
    let a = h.feed(Input::Leading {
        named: true,
        campaigns: HashSet::from([CAMPAIGN]),
    });
    assert!(
        a.iter().any(|a| matches!(
            a,
            Action::LoadHistory {
                campaign: CAMPAIGN,
                ..
            }
        )),
        "{a:?}"
    );
    // Nothing is claimed (nor placed) for it before its history is back.
    let a = h.feed(Input::Tick);
    assert!(
        !a.iter()
            .any(|a| matches!(a, Action::Claim { .. } | Action::Place { .. })),
        "{a:?}"
    );
    h.feed(Input::History {
        campaign: CAMPAIGN,
        answers,
        memory: Some(StartingPoints {
            own: memory,
            lenders: Vec::new(),
        }),
    });
}

fn tally(h: &Harness) -> (u64, u64) {
    let c = &h.core.campaigns[&CAMPAIGN].abandons;
    (c.live_answered, c.abandoned)
}

/// Issue 14 item 4: the abandons of the regulatory window (24 h here)
/// expire as it slides, those read at the start and those of the engine's
/// own calls alike.
#[test]
fn the_abandon_tally_slides_with_the_regulatory_window() {
    let mut h = Harness::new(5);
    let now = h.now.ms;
    let mut answers: Vec<AnswerRow> = (0..10)
        .map(|i| AnswerRow {
            answered_at: now - 24 * HOUR_MS + 60_000 + i,
            abandoned: i < 4,
        })
        .collect();
    answers.extend((0..10).map(|i| AnswerRow {
        answered_at: now - HOUR_MS + i,
        abandoned: false,
    }));
    regain(&mut h, answers, None);
    assert_eq!(tally(&h), (20, 4));
    // One of the engine's own calls: answered, never connected.
    h.feed(member("PJSIP/a1", "1"));
    let keys = placed(&claimed(&mut h, CAMPAIGN, &[1]));
    assert_eq!(keys.len(), 1);
    h.feed(Input::Originated {
        key: keys[0].clone(),
        result: Ok("x".into()),
    });
    h.feed(ami(Message::event("Newstate")
        .with("Uniqueid", &keys[0])
        .with("ChannelState", "6")));
    h.advance(Duration::from_secs(1));
    h.feed(hangup(&keys[0], 16));
    assert_eq!(tally(&h), (21, 5));
    // Two minutes on, the oldest answers left the window.
    h.advance(Duration::from_secs(120));
    h.feed(Input::Tick);
    assert_eq!(tally(&h), (11, 1));
    let st = snapshot(&h.core, h.now.ms, h.now.at, false).expect("named");
    assert_eq!(
        (st.campaigns[0].live_answered, st.campaigns[0].abandoned),
        (11, 1)
    );
    // A day later, the engine's own abandon expired too.
    h.advance(Duration::from_secs(24 * 3600));
    h.feed(Input::Tick);
    assert_eq!(tally(&h), (0, 0));
}

fn memory(saved_at: i64) -> PacingMemory {
    PacingMemory {
        campaign_id: CAMPAIGN,
        saved_at,
        node: "n0".into(),
        learned: LearnedCalls {
            attempts: (0..400).map(|i| (i % 10 == 0, 6.0)).collect(),
            talks: vec![120.0; 100],
            wrap_ups: vec![10.0; 100],
            ..LearnedCalls::default()
        },
        started: None,
    }
}

/// Issue 14 item 4: what the pacer learned is reloaded (older weighs less)
/// and saved again as it learns.
#[test]
fn learned_statistics_are_reloaded_by_age_and_saved() {
    let mut h = Harness::new(5);
    let recent = memory(h.now.ms - 60_000);
    regain(&mut h, Vec::new(), Some(recent));
    assert_eq!(h.core.campaigns[&CAMPAIGN].stats.attempts_observed(), 400);
    let mut h = Harness::new(5);
    let old = memory(h.now.ms - 24 * HOUR_MS);
    regain(&mut h, Vec::new(), Some(old));
    assert_eq!(
        h.core.campaigns[&CAMPAIGN].stats.attempts_observed(),
        100,
        "a day old: two half-lives"
    );
    // A call ends: its observation is saved with the others.
    h.feed(member("PJSIP/a1", "1"));
    let keys = placed(&claimed(&mut h, CAMPAIGN, &[1]));
    h.feed(Input::Originated {
        key: keys[0].clone(),
        result: Ok("x".into()),
    });
    h.feed(hangup(&keys[0], 17));
    h.advance(Duration::from_secs(3));
    let a = h.feed(Input::Tick);
    let saved: Vec<&PacingMemory> = a
        .iter()
        .filter_map(|a| match a {
            Action::SaveMemory(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(saved.len(), 1, "{a:?}");
    assert_eq!(saved[0].learned.attempts.len(), 101);
    assert_eq!(saved[0].saved_at, h.now.ms);
    assert!(
        !h.feed(Input::Tick)
            .iter()
            .any(|a| matches!(a, Action::SaveMemory(_))),
        "nothing new: not saved again"
    );
}

/// Feeds `Ping` timestamps of a PBX running `scale` times faster.
fn pbx_runs_at(h: &mut Harness, scale: f64) {
    let t0 = h.now.at;
    for i in 0..=20u32 {
        let at = t0 + Duration::from_millis(250 * i as u64);
        let pbx_s = (1e9 + scale * 0.25 * i as f64).floor();
        h.feed(Input::PbxTime {
            server: SERVER,
            pbx_s,
            at,
        });
    }
}

/// A call answered and connected to an agent `after` later (real time).
fn connected_after(h: &mut Harness, contact: i64, after: Duration) {
    h.feed(member(&format!("PJSIP/c{contact}"), "1"));
    let keys = placed(&claimed(h, CAMPAIGN, &[contact]));
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    h.feed(Input::Originated {
        key: k.clone(),
        result: Ok(format!("x{contact}")),
    });
    h.feed(ami(Message::event("Newstate")
        .with("Uniqueid", k)
        .with("ChannelState", "6")));
    h.advance(after);
    h.feed(ami(Message::event("AgentConnect")
        .with("Queue", "q1")
        .with("Interface", format!("PJSIP/c{contact}"))
        .with("Uniqueid", k)));
    h.advance(Duration::from_secs(1));
    h.feed(hangup(k, 16));
}

/// Issue 14 item 4: against a PBX 20 times faster, 200 ms of real time
/// between answer and agent are 4 of its seconds: an abandon (limit 2 s).
#[test]
fn the_engine_judges_abandons_in_the_pbx_time() {
    let mut h = Harness::new(5);
    connected_after(&mut h, 1, Duration::from_millis(200));
    assert_eq!(tally(&h), (1, 0), "real time: in time");
    pbx_runs_at(&mut h, 20.0);
    let scale = h.core.servers[&SERVER].clock.scale();
    assert!((scale - 20.0).abs() < 1.5, "{scale}");
    connected_after(&mut h, 2, Duration::from_millis(200));
    assert_eq!(tally(&h), (2, 1), "20 times faster: 4 s, abandoned");
    let st = snapshot(&h.core, h.now.ms, h.now.at, false).expect("named");
    let note = st.campaigns[0].pacing_note.clone().unwrap_or_default();
    assert!(note.contains("PBX time"), "{note}");
}

/// A predictive campaign that learned a 10 % answer rate, with two agents
/// free: how many calls it places.
fn predictive_with_two_free(behind: bool) -> usize {
    let mut h = Harness::with(
        vec![Campaign {
            mode: CampaignMode::Predictive,
            ..campaign(CampaignState::Running)
        }],
        50,
    );
    let fresh = memory(h.now.ms);
    regain(&mut h, Vec::new(), Some(fresh));
    if behind {
        for _ in 0..50 {
            h.feed(Input::Reacted {
                server: SERVER,
                secs: 5.0,
            });
        }
        let st = snapshot(&h.core, h.now.ms, h.now.at, false).expect("named");
        let note = st.campaigns[0].pacing_note.clone().unwrap_or_default();
        assert!(note.contains("engine behind"), "{note}");
    }
    claimed(&mut h, CAMPAIGN, &(1..=30).collect::<Vec<_>>());
    placed(&h.feed(ready_members(2))).len()
}

/// Issue 14 item 4: an engine that cannot keep up dials no more than one
/// call per free agent, and says so.
#[test]
fn an_engine_that_falls_behind_dials_progressively() {
    let ahead = predictive_with_two_free(false);
    assert!(ahead > 2, "predictive dials ahead at 10 % answers: {ahead}");
    assert_eq!(predictive_with_two_free(true), 2);
}

/// Events that waited in the engine's queue count as falling behind too.
#[test]
fn events_that_wait_count_as_falling_behind() {
    let mut h = Harness::new(5);
    let sent = h.now.at;
    h.advance(Duration::from_secs(2));
    for _ in 0..50 {
        let waited = Input::Ami {
            server: SERVER,
            msg: Arc::new(Message::event("Noise")),
            at: sent,
        };
        h.core.handle(waited, h.now);
    }
    assert!(h.core.overload.behind().is_some());
}
