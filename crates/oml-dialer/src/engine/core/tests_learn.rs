//! When the pacer learns an attempt (issue 14): a live answer or a machine
//! at the answer (or the AMD's verdict), as the simulator does, with its
//! ring time; the talk when the call ends; each attempt once.

use std::time::Duration;

use oml_ami::Message;
use oml_store::dialplan;

use crate::engine::core::tests::{ami, contact, hangup, member, placed, Harness, CAMPAIGN};
use crate::engine::core::Input;

fn on(key: &str, event: &str) -> Input {
    ami(Message::event(event)
        .with("Uniqueid", key)
        .with("Linkedid", key))
}

fn up(key: &str) -> Input {
    ami(Message::event("Newstate")
        .with("Uniqueid", key)
        .with("Linkedid", key)
        .with("ChannelState", "6"))
}

fn amd(key: &str, status: &str) -> Input {
    ami(Message::event("UserEvent")
        .with("UserEvent", dialplan::AMD_EVENT)
        .with("Uniqueid", key)
        .with("Linkedid", key)
        .with("Status", status))
}

/// (attempts, talks) the campaign's statistics and its saved memory hold.
fn learned(h: &Harness) -> ((u64, usize), (usize, usize)) {
    let c = &h.core.campaigns[&CAMPAIGN];
    let m = c.memory.learned();
    (
        (c.stats.attempts_observed(), c.stats.talks_observed()),
        (m.attempts.len(), m.talks.len()),
    )
}

#[test]
fn an_answer_is_learned_at_the_answer_and_the_talk_at_the_end_once_each() {
    let mut h = Harness::new(10);
    for a in ["PJSIP/a1", "PJSIP/a2", "PJSIP/a3"] {
        h.feed(member(a, "1"));
    }
    let a = h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: (1..=3).map(contact).collect(),
        left: 0,
    });
    let keys = placed(&a);
    assert_eq!(keys.len(), 3);
    assert_eq!(learned(&h), ((0, 0), (0, 0)));
    for k in &keys {
        h.feed(on(k, "Newchannel"));
    }
    h.advance(Duration::from_secs(12));
    // 1: a person, into the queue: learned as soon as the call is queued,
    // with its 12 s of ringing, long before the call ends.
    h.feed(up(&keys[0]));
    assert_eq!(
        learned(&h).0,
        (0, 0),
        "answered, who answered not known yet"
    );
    h.feed(on(&keys[0], "QueueCallerJoin"));
    assert_eq!(learned(&h), ((1, 0), (1, 0)));
    assert_eq!(
        h.core.campaigns[&CAMPAIGN].memory.learned().attempts[0],
        (true, 12.0)
    );
    h.feed(on(&keys[0], "AgentConnect"));
    assert_eq!(learned(&h), ((1, 0), (1, 0)), "not learned twice");
    // 2: a machine, learned at the AMD's verdict.
    h.feed(up(&keys[1]));
    h.feed(amd(&keys[1], "MACHINE"));
    assert_eq!(learned(&h), ((2, 0), (2, 0)));
    let rate = h.core.campaigns[&CAMPAIGN].stats.machine_rate();
    assert!((rate - 0.5).abs() < 0.01, "machine share {rate}");
    h.advance(Duration::from_secs(30));
    // The talk of 1 (30 s) when it ends; the machine's end adds nothing.
    h.feed(hangup(&keys[0], 16));
    h.feed(hangup(&keys[1], 16));
    assert_eq!(learned(&h), ((2, 1), (2, 1)));
    let c = &h.core.campaigns[&CAMPAIGN];
    assert!(
        (c.stats.mean_talk() - 30.0).abs() < 0.01,
        "{}",
        c.stats.mean_talk()
    );
    // 3: never answered: learned when it ends, as before.
    h.feed(ami(Message::event("OriginateResponse")
        .with("Uniqueid", keys[2].as_str())
        .with("Response", "Failure")
        .with("Reason", "3")));
    assert_eq!(learned(&h).0, (2, 1), "still ringing out");
    h.feed(hangup(&keys[2], 19));
    assert_eq!(learned(&h), ((3, 1), (3, 1)));
    let m = h.core.campaigns[&CAMPAIGN].memory.learned();
    assert!(!m.attempts[2].0);
}

#[test]
fn a_person_who_hangs_up_before_the_queue_is_learned_at_the_end() {
    let mut h = Harness::new(10);
    h.feed(member("PJSIP/a1", "1"));
    let a = h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: vec![contact(1)],
        left: 0,
    });
    let key = &placed(&a)[0];
    h.advance(Duration::from_secs(5));
    h.feed(up(key));
    h.feed(amd(key, "HUMAN"));
    assert_eq!(learned(&h).0, (1, 0), "a person, at the verdict");
    h.feed(hangup(key, 16));
    assert_eq!(learned(&h), ((1, 0), (1, 0)), "abandoned: learned once");
    let mut h = Harness::new(10);
    h.feed(member("PJSIP/a1", "1"));
    let a = h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: vec![contact(1)],
        left: 0,
    });
    let key = &placed(&a)[0];
    h.feed(up(key));
    h.feed(hangup(key, 16));
    assert_eq!(learned(&h), ((1, 0), (1, 0)), "hung up before any verdict");
}
