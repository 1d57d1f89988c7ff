//! The call path's outcomes in the decision core (issue 18), driven by the
//! harness of `tests.rs`: `OmlAmd` with `Status: MACHINE` ends a call
//! `machine` outside the abandon ledger, `OmlAbandonMessage` ends it
//! `abandoned_message_played` inside it.

use oml_ami::Message;
use oml_store::dialplan;

use crate::engine::core::tests::{ami, contact, ends, hangup, member, placed, Harness, CAMPAIGN};
use crate::engine::core::Input;

fn on(key: &str, event: &str) -> Input {
    ami(Message::event(event)
        .with("Uniqueid", key)
        .with("Linkedid", key))
}

fn user(key: &str, name: &str, status: Option<&str>) -> Input {
    let mut m = Message::event("UserEvent")
        .with("UserEvent", name)
        .with("Uniqueid", key)
        .with("Linkedid", key);
    if let Some(s) = status {
        m = m.with("Status", s).with("Cause", "LONGGREETING-1600-1500");
    }
    ami(m)
}

fn up(key: &str) -> Input {
    ami(Message::event("Newstate")
        .with("Uniqueid", key)
        .with("Linkedid", key)
        .with("ChannelState", "6"))
}

#[test]
fn machines_leave_the_abandon_rate_and_messages_stay_in_it() {
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
    assert_eq!(keys, ["oml-7-1-1", "oml-7-2-1", "oml-7-3-1"]);
    let mut out = Vec::new();
    // 1: a machine. 2: a person no agent took, the abandon message.
    // 3: a person connected.
    out.extend(h.feed(up(&keys[0])));
    out.extend(h.feed(user(&keys[0], dialplan::AMD_EVENT, Some("MACHINE"))));
    out.extend(h.feed(up(&keys[1])));
    out.extend(h.feed(user(&keys[1], dialplan::AMD_EVENT, Some("HUMAN"))));
    out.extend(h.feed(on(&keys[1], "QueueCallerJoin")));
    out.extend(h.feed(user(&keys[1], dialplan::ABANDON_MESSAGE_EVENT, None)));
    out.extend(h.feed(up(&keys[2])));
    out.extend(h.feed(user(&keys[2], dialplan::AMD_EVENT, Some("HUMAN"))));
    out.extend(h.feed(on(&keys[2], "AgentConnect")));
    for k in &keys {
        out.extend(h.feed(hangup(k, 16)));
    }
    let mut got = ends(&out);
    got.sort();
    assert_eq!(
        got,
        [
            (1, "machine".to_string()),
            (2, "abandoned_message_played".to_string()),
            (3, "connected".to_string())
        ]
    );
    let c = &h.core.campaigns[&CAMPAIGN];
    assert_eq!(
        (c.abandons.live_answered, c.abandons.abandoned),
        (2, 1),
        "the machine is no live answer"
    );
    // The pacer learned one machine in three attempts.
    let rate = c.stats.machine_rate();
    assert!((rate - 1.0 / 3.0).abs() < 0.01, "machine share {rate}");
}

#[test]
fn other_user_events_change_nothing() {
    let mut h = Harness::new(10);
    h.feed(member("PJSIP/a1", "1"));
    let a = h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: vec![contact(1)],
        left: 0,
    });
    let key = &placed(&a)[0];
    h.feed(up(key));
    h.feed(user(key, "SomethingElse", Some("MACHINE")));
    let a = h.feed(hangup(key, 16));
    assert_eq!(ends(&a), [(1, "abandoned".to_string())]);
}
