//! Tests of the outcomes the campaign's call path adds to a call (issue 18):
//! `machine` from `AMD()`'s `OmlAmd` event or the record's `AMD`, and
//! `abandoned_message_played` from `OmlAbandonMessage` or `ABANDONMSG`.

use super::*;
use CallEvent::*;

fn cust(cause: u32) -> CallEvent {
    Hangup {
        cause,
        leg: Leg::Customer,
    }
}

fn run(events: &[(CallEvent, i64)]) -> Call {
    let mut c = Call::new(0);
    for &(e, t) in events {
        c.on_event(e, t);
    }
    c
}

#[test]
fn a_machine_is_no_live_answer() {
    let c = run(&[(Created, 1), (Up, 1000), (Amd { machine: true }, 4000)]);
    assert!(c.is_machine());
    assert!(!c.is_waiting_for_agent(), "a machine waits for no agent");
    let mut c = c;
    c.on_event(cust(16), 9000);
    let f = c.finish().unwrap();
    assert_eq!((f.outcome, f.answered_at), (Outcome::Machine, Some(1000)));
    assert_eq!(c.counts_as_abandoned(2000), None, "outside the rate");
}

#[test]
fn a_person_after_amd_is_followed_as_before() {
    let human = run(&[
        (Up, 1000),
        (Amd { machine: false }, 2500),
        (QueueJoin, 2501),
        (AgentConnect, 3000),
        (cust(16), 60_000),
    ]);
    assert_eq!(human.finish().unwrap().outcome, Outcome::Connected);
    assert_eq!(human.counts_as_abandoned(2000), Some(false));
    let unsure = run(&[(Up, 1000), (Amd { machine: false }, 6000), (cust(16), 9000)]);
    assert_eq!(unsure.finish().unwrap().outcome, Outcome::Abandoned);
    assert_eq!(unsure.counts_as_abandoned(2000), Some(true));
}

#[test]
fn the_abandon_message_is_its_own_outcome_and_still_abandoned() {
    let mut c = run(&[(Up, 1000), (QueueJoin, 1001), (AbandonMessage, 3000)]);
    assert_eq!(c.abandon_message_at, Some(3000));
    assert!(!c.is_waiting_for_agent(), "out of the queue");
    c.on_event(cust(16), 8000);
    let f = c.finish().unwrap();
    assert_eq!(f.outcome, Outcome::AbandonedMessagePlayed);
    assert_eq!(c.counts_as_abandoned(2000), Some(true));
}

#[test]
fn the_record_keeps_machines_and_messages_across_a_restart() {
    let rec = |machine, msg: Option<i64>| PbxRecord {
        answered_s: Some(1003),
        ended_s: Some(1009),
        cause: Some(16),
        machine,
        abandon_message_s: msg,
        ..PbxRecord::default()
    };
    let mut m = Call::new(1_000_000);
    m.recorded(&rec(true, None), 1_100_000);
    assert_eq!(m.finish().unwrap().outcome, Outcome::Machine);
    assert_eq!(m.counts_as_abandoned(2000), None);
    let mut a = Call::new(1_000_000);
    a.recorded(&rec(false, Some(1005)), 1_100_000);
    assert_eq!(a.finish().unwrap().outcome, Outcome::AbandonedMessagePlayed);
    assert_eq!(a.abandon_message_at, Some(1_005_000));
    let mut p = Call::new(1_000_000);
    p.recorded(&rec(false, None), 1_100_000);
    assert_eq!(p.finish().unwrap().outcome, Outcome::Abandoned);
    // Followed live up to the verdict, then the channel vanished unseen.
    let mut v = run(&[(Up, 10), (Amd { machine: true }, 20)]);
    v.vanished(100);
    assert_eq!(v.finish().unwrap().outcome, Outcome::Machine);
}

#[test]
fn outcome_names() {
    assert_eq!(Outcome::Machine.as_str(), "machine");
    assert_eq!(
        Outcome::AbandonedMessagePlayed.to_string(),
        "abandoned_message_played"
    );
    assert_eq!(Outcome::ALL.len(), 10);
}
