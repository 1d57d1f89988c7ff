//! Reconciliation with the PBX's attempt records, driven by the harness of
//! `tests.rs`: calls that ended while no engine watched end as the PBX
//! recorded them (outcome, times, the customer leg's cause), `unknown` only
//! without a record; every record read is forgotten once handled.

use std::collections::HashMap;

use oml_store::dialing::{DialingWrite, OpenAttempt};

use super::tests::{Harness, CAMPAIGN, SERVER};
use super::{Action, Input};
use crate::pbx_record::PbxRecord;

fn open(contact: i64, placed_at: i64) -> OpenAttempt {
    OpenAttempt {
        id: contact,
        campaign_id: CAMPAIGN,
        contact_id: contact,
        attempt_no: 1,
        server_id: Some(SERVER),
        channel_id: crate::channel_id(CAMPAIGN, contact, 1),
        placed_at,
        answered_at: None,
        connected_at: None,
        node: "oml".into(),
    }
}

#[test]
fn calls_that_ended_unseen_end_as_the_pbx_recorded_them() {
    let mut h = Harness::new(10);
    let t0 = h.now.ms - 60_000;
    let s = t0 / 1000;
    let a = h.feed(Input::Adopt(vec![open(1, t0), open(2, t0), open(3, t0)]));
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::QueryChannels { server: SERVER })));
    let mut records = HashMap::new();
    // Connected to an agent and ended during the gap.
    records.insert(
        crate::channel_id(CAMPAIGN, 1, 1),
        PbxRecord {
            answered_s: Some(s + 5),
            queued_s: Some(s + 5),
            connected_s: Some(s + 6),
            ended_s: Some(s + 30),
            cause: Some(16),
            ..PbxRecord::default()
        },
    );
    // Busy: the customer leg's cause.
    records.insert(
        crate::channel_id(CAMPAIGN, 2, 1),
        PbxRecord {
            ended_s: Some(s + 2),
            cause: Some(17),
            ..PbxRecord::default()
        },
    );
    // A record of an attempt this engine does not follow.
    records.insert("oml-9-9-1".into(), PbxRecord::default());
    let a = h.feed(Input::Channels {
        server: SERVER,
        asked_at: h.now.at,
        channels: Vec::new(),
        records,
    });
    let ends: HashMap<i64, (String, Option<i64>, Option<i64>, i64)> = a
        .iter()
        .filter_map(|a| match a {
            Action::Write(DialingWrite::End(r)) => Some((
                r.contact_id,
                (
                    r.outcome.clone(),
                    r.hangup_cause,
                    r.connected_at,
                    r.ended_at,
                ),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        ends[&1],
        ("connected".into(), Some(16), Some(t0 + 6000), t0 + 30_000)
    );
    assert_eq!((ends[&2].0.as_str(), ends[&2].1), ("busy", Some(17)));
    // No record: unknown, as before.
    assert_eq!(ends[&3].0, "unknown");
    let mut forgotten: Vec<&str> = a
        .iter()
        .filter_map(|a| match a {
            Action::Forget { server, key } if *server == SERVER => Some(key.as_str()),
            _ => None,
        })
        .collect();
    forgotten.sort_unstable();
    assert_eq!(
        forgotten,
        ["oml-7-1-1", "oml-7-2-1", "oml-7-3-1", "oml-9-9-1"]
    );
}

/// A call can end before the reply to its `Originate` comes back (busy or
/// congestion at once: the events overtake the reply). Its record is
/// forgotten all the same, or it would stay in AstDB for ever.
#[test]
fn a_call_that_ends_before_its_originate_reply_is_forgotten() {
    let mut h = Harness::new(5);
    h.feed(super::tests::member("PJSIP/a1", "1"));
    let a = h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: vec![super::tests::contact(1)],
        left: 0,
    });
    assert_eq!(super::tests::placed(&a), ["oml-7-1-1"]);
    // As pbxsim sends a congestion: the response, then both halves' ends.
    let key = "oml-7-1-1";
    let ev = |name: &str| oml_ami::Message::event(name).with("Linkedid", key);
    let mut a = h.feed(super::tests::ami(
        ev("OriginateResponse")
            .with("ActionID", "a1")
            .with("Response", "Failure")
            .with("Reason", "8")
            .with("Uniqueid", key),
    ));
    for (half, id, cause) in [
        (";1", key.to_string(), "0"),
        (";2", format!("{key};2"), "34"),
    ] {
        a.extend(
            h.feed(super::tests::ami(
                ev("Hangup")
                    .with("Channel", format!("Local/5551@from-oml-00000001{half}"))
                    .with("Uniqueid", id)
                    .with("Cause", cause),
            )),
        );
    }
    h.advance(std::time::Duration::from_secs(3));
    a.extend(h.feed(Input::Tick));
    assert_eq!(
        super::tests::ends(&a),
        [(1, "congestion".to_string())],
        "{a:?}"
    );
    a.extend(h.feed(Input::Originated {
        key: "oml-7-1-1".into(),
        result: Ok("a1".into()),
    }));
    let forgotten: Vec<&str> = a
        .iter()
        .filter_map(|a| match a {
            Action::Forget { key, .. } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(forgotten, ["oml-7-1-1"], "{a:?}");
}
