//! `Redirect` to a campaign context's `abandon` extension (`redirect.rs`):
//! from the queue, from an agent's bridge, and refused elsewhere; the
//! events as Asterisk 22 gives them on the rendered bench.

use std::time::{Duration, Instant};

use oml_ami::{Message, Originate};

use crate::config::Dist;
use crate::world::testkit::{logged_in, names, world};
use crate::World;

fn dial(w: &mut World, number: &str, at: Instant, ev: &mut Vec<Message>) {
    for (k, v) in [
        ("AMD", "yes"),
        ("ABANDONPLAY", "vm-goodbye"),
        ("QUEUETIME", "2"),
    ] {
        w.db.put("OML/CAMP/5", k, v);
    }
    let mut s = logged_in();
    let m = Originate::to_extension(&format!("Local/{number}@from-oml/n"), "oml-campaign-5", "s")
        .to_message()
        .with("ChannelId", format!("oml-5-{number}-1"));
    w.handle(&mut s, &m, at, ev);
}

fn redirect(
    w: &mut World,
    channel: &str,
    exten: &str,
    at: Instant,
    ev: &mut Vec<Message>,
) -> Message {
    let mut s = logged_in();
    let m = Message::action("Redirect")
        .with("ActionID", "r1")
        .with("Channel", channel)
        .with("Context", "oml-campaign-5")
        .with("Exten", exten)
        .with("Priority", "1");
    w.handle(&mut s, &m, at, ev).remove(0)
}

/// The ;1 channel of the call to `number`.
fn channel(ev: &[Message]) -> String {
    ev.iter()
        .find(|e| e.event_name() == Some("Newchannel"))
        .and_then(|e| e.get("Channel"))
        .expect("Newchannel")
        .to_owned()
}

fn people(w: &mut World) {
    w.cfg.customers.answer_rate = 1.0;
    w.cfg.machines.rate = 0.0;
    w.cfg.machines.false_positive = 0.0;
    w.cfg.machines.amd_time = Dist::Fixed(1.0);
}

#[test]
fn a_queued_call_redirected_hears_the_abandon_message_before_the_queue_time_out() {
    let (mut w, t0) = world(0); // no agent: the call waits
    people(&mut w);
    let mut ev = Vec::new();
    dial(&mut w, "1", t0, &mut ev);
    w.advance(t0 + Duration::from_secs(12), &mut ev);
    let ch = channel(&ev);
    assert!(names(&ev).contains(&"QueueCallerJoin"), "{:?}", names(&ev));
    ev.clear();
    let r = redirect(
        &mut w,
        &ch,
        "abandon",
        t0 + Duration::from_millis(12_500),
        &mut ev,
    );
    assert_eq!(r.get("Response"), Some("Success"), "{r:?}");
    assert_eq!(
        names(&ev),
        ["QueueCallerAbandon", "QueueCallerLeave", "UserEvent"]
    );
    assert_eq!(ev[2].get("UserEvent"), Some("OmlAbandonMessage"));
    assert!(w.db.get("OML/CALL/oml-5-1-1", "ABANDONMSG").is_some());
    ev.clear();
    // The queue's own time-out finds nothing to do; the message ends.
    w.advance(t0 + Duration::from_secs(30), &mut ev);
    assert_eq!(names(&ev), ["Hangup", "Hangup"]);
    assert_eq!(w.stats().abandon_messages, 1);
}

#[test]
fn a_bridged_call_redirected_leaves_its_agent_and_other_places_are_refused() {
    let (mut w, t0) = world(1);
    people(&mut w);
    let mut ev = Vec::new();
    dial(&mut w, "1", t0, &mut ev);
    w.advance(t0 + Duration::from_secs(12), &mut ev);
    assert!(names(&ev).contains(&"AgentConnect"), "{:?}", names(&ev));
    let ch = channel(&ev);
    ev.clear();
    let r = redirect(&mut w, &ch, "s", t0 + Duration::from_secs(12), &mut ev);
    assert_eq!(r.get("Response"), Some("Error"));
    assert!(ev.is_empty());
    let r = redirect(
        &mut w,
        "Local/nobody;1",
        "abandon",
        t0 + Duration::from_secs(12),
        &mut ev,
    );
    assert_eq!(
        r.get("Message"),
        Some("Channel does not exist: Local/nobody;1")
    );
    let r = redirect(
        &mut w,
        &ch,
        "abandon",
        t0 + Duration::from_secs(12),
        &mut ev,
    );
    assert_eq!(r.get("Response"), Some("Success"), "{r:?}");
    let n = names(&ev);
    assert_eq!(n[0], "AgentComplete", "{n:?}");
    assert_eq!(n.last(), Some(&"UserEvent"), "{n:?}");
    ev.clear();
    w.advance(t0 + Duration::from_secs(60), &mut ev);
    let hangups = names(&ev).iter().filter(|n| **n == "Hangup").count();
    assert_eq!(hangups, 2, "{:?}", names(&ev));
}
