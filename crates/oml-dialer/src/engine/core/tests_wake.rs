//! Waking from a freeze, driven by the core's test harness: the jump is
//! seen, the stale events are dropped, nothing is placed or timed out
//! until the PBX was read again, and a call that ended during the freeze
//! keeps the times the PBX recorded, not the wake moment.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use oml_store::dialing::DialingWrite;

use super::super::tests::{contact, hangup, member, placed, Harness, CAMPAIGN, SERVER};
use super::*;
use crate::pbx_record::PbxRecord;

#[test]
fn a_late_turn_or_a_wall_clock_step_is_a_jump() {
    let t0 = Instant::now();
    let mut w = Waking::new(Duration::from_millis(200));
    assert_eq!(w.turn(t0, 1_000_000), None, "the first turn");
    // Regular turns, and a loaded machine's late one, are not.
    let mut at = t0;
    let mut ms = 1_000_000;
    for step in [200, 200, 1_500, 200] {
        at += Duration::from_millis(step);
        ms += step as i64;
        assert_eq!(w.turn(at, ms), None, "after {step} ms");
    }
    // Stopped for 20 s: both clocks moved on.
    at += Duration::from_secs(20);
    ms += 20_000;
    let j = w.turn(at, ms).expect("a freeze");
    assert_eq!(j.gap, Duration::from_secs(20));
    assert_eq!(j.wall_step_ms, 0);
    // The wall clock set 10 s back within one turn.
    at += Duration::from_millis(200);
    ms += 200 - 10_000;
    let j = w.turn(at, ms).expect("a step");
    assert_eq!(j.wall_step_ms, -10_000);
    assert!(j.to_string().contains("-10.0 s apart"), "{j}");
}

#[test]
fn after_a_freeze_the_pbx_is_read_again_before_times_are_recorded_or_calls_placed() {
    let mut h = Harness::new(10);
    let mut w = Waking::new(Duration::from_millis(200));
    w.turn(h.now.at, h.now.ms);
    h.feed(member("PJSIP/a1", "1"));
    let a = h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: vec![contact(1), contact(2)],
        left: 1,
    });
    assert_eq!(placed(&a), ["oml-7-1-1"]);
    h.feed(Input::Originated {
        key: "oml-7-1-1".into(),
        result: Ok("a1".into()),
    });
    let placed_ms = h.now.ms;

    // Frozen 60 s; meanwhile the call was answered, talked and hung up.
    h.advance(Duration::from_secs(60));
    let jump = w.turn(h.now.at, h.now.ms).expect("the freeze is seen");
    let servers = h.core.on_wake(jump);
    assert_eq!(servers, [SERVER]);
    let a: Vec<Action> = h.core.actions().collect();
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::Connect { server, .. } if *server == SERVER)),
        "the link is opened again: {a:?}"
    );
    w.woke(h.now.at, servers);

    // What the old link queued during the freeze is dropped.
    assert!(w.drops(&hangup("oml-7-1-1", 16)));
    assert!(w.drops(&member("PJSIP/a1", "1")));
    assert!(w.holds(&h.core, h.now.at), "ticks wait for the PBX");
    // Even an agent seen free places nothing before the server is read.
    assert!(placed(&h.feed(member("PJSIP/a1", "1"))).is_empty());

    // The new link is up: the channels and the records are read.
    w.link_up(SERVER);
    assert!(!w.drops(&member("PJSIP/a1", "1")));
    let a = h.feed(Input::LinkUp { server: SERVER });
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::QueryChannels { server } if *server == SERVER)));
    assert!(w.holds(&h.core, h.now.at), "not reconciled yet");
    let s = placed_ms / 1000;
    let record = PbxRecord {
        answered_s: Some(s + 2),
        queued_s: Some(s + 2),
        connected_s: Some(s + 3),
        ended_s: Some(s + 40),
        cause: Some(16),
        ..PbxRecord::default()
    };
    let a = h.feed(Input::Channels {
        server: SERVER,
        asked_at: h.now.at,
        channels: Vec::new(),
        records: HashMap::from([("oml-7-1-1".to_string(), record)]),
    });
    let end = a
        .iter()
        .find_map(|a| match a {
            Action::Write(DialingWrite::End(r)) => Some(r),
            _ => None,
        })
        .expect("the call ends");
    assert_eq!(end.outcome, "connected");
    assert_eq!(end.hangup_cause, Some(16));
    assert_eq!(end.answered_at, Some((s + 2) * 1000));
    assert_eq!(end.connected_at, Some((s + 3) * 1000));
    assert_eq!(end.ended_at, (s + 40) * 1000, "not the wake moment");
    assert!(!w.holds(&h.core, h.now.at), "read again: ticks resume");
}

#[test]
fn ticks_are_held_at_most_thirty_seconds() {
    let mut h = Harness::new(10);
    let mut w = Waking::new(Duration::from_millis(200));
    w.turn(h.now.at, h.now.ms);
    h.advance(Duration::from_secs(30));
    let jump = w.turn(h.now.at, h.now.ms).expect("a freeze");
    let servers = h.core.on_wake(jump);
    w.woke(h.now.at, servers);
    assert!(w.holds(&h.core, h.now.at + Duration::from_secs(29)));
    // The server never comes back: the others' time-outs go on.
    assert!(!w.holds(&h.core, h.now.at + Duration::from_secs(31)));
    assert!(!w.drops(&hangup("oml-7-1-1", 16)));
}
