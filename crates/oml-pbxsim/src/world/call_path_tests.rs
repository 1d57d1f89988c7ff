//! Tests of a campaign's context in pbxsim (`call_path.rs`): machines found
//! by `AMD()` hang up, people are recorded and queued, a queue that times
//! out plays the abandon message; the events and AstDB records as the
//! rendered dialplan gives them on Asterisk.

use std::time::Duration;

use oml_ami::{Message, Originate};

use crate::config::Dist;
use crate::world::testkit::{logged_in, names, world};
use crate::World;

/// Sets campaign 5's call path in AstDB as `oml regenerate-asterisk` does.
fn settings(w: &mut World, pairs: &[(&str, &str)]) {
    for (k, v) in pairs {
        w.db.put("OML/CAMP/5", k, v);
    }
}

fn dial(w: &mut World, number: &str, at: std::time::Instant, ev: &mut Vec<Message>) {
    let mut s = logged_in();
    let m = Originate::to_extension(&format!("Local/{number}@from-oml/n"), "oml-campaign-5", "s")
        .to_message()
        .with("ChannelId", format!("oml-5-{number}-1"));
    w.handle(&mut s, &m, at, ev);
}

fn user_events(ev: &[Message]) -> Vec<(String, String)> {
    ev.iter()
        .filter(|e| e.event_name() == Some("UserEvent"))
        .map(|e| {
            let name = e.get("UserEvent").unwrap_or("").to_owned();
            let detail = e.get("Status").or(e.get("File")).unwrap_or("").to_owned();
            (name, detail)
        })
        .collect()
}

fn record(w: &World, key: &str, field: &str) -> Option<String> {
    w.db.get(&format!("OML/CALL/{key}"), field)
        .map(str::to_owned)
}

#[test]
fn a_machine_found_by_amd_is_hung_up_by_the_context() {
    let (mut w, t0) = world(1);
    w.cfg.customers.answer_rate = 1.0;
    w.cfg.machines.rate = 1.0;
    w.cfg.machines.amd_time = Dist::Fixed(3.0);
    settings(&mut w, &[("AMD", "yes"), ("AMDPLAY", "")]);
    let mut ev = Vec::new();
    dial(&mut w, "1", t0, &mut ev);
    w.advance(t0 + Duration::from_secs(10), &mut ev);
    assert!(user_events(&ev).is_empty(), "AMD still listening");
    ev.clear();
    w.advance(t0 + Duration::from_secs(13), &mut ev);
    assert_eq!(
        user_events(&ev),
        [("OmlAmd".to_string(), "MACHINE".to_string())]
    );
    assert_eq!(names(&ev), ["UserEvent", "Hangup", "Hangup"]);
    assert_eq!(w.stats().machines, 1);
    assert_eq!(w.active_calls(), 0);
    assert_eq!(record(&w, "oml-5-1-1", "AMD").as_deref(), Some("MACHINE"));
    assert_eq!(record(&w, "oml-5-1-1", "CAUSE").as_deref(), Some("16"));
    assert!(
        !names(&ev).contains(&"QueueCallerJoin"),
        "a machine never reaches the queue"
    );
}

#[test]
fn a_person_is_recorded_queued_and_hears_the_abandon_message() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, t0) = world(0);
    w.cfg.customers.answer_rate = 1.0;
    w.cfg.machines.amd_time = Dist::Fixed(2.0);
    w.cfg.machines.message_time = Dist::Fixed(4.0);
    w.cfg.recordings = Some(dir.path().to_path_buf());
    settings(
        &mut w,
        &[
            ("AMD", "yes"),
            ("REC", "yes"),
            ("RECFORMAT", "wav"),
            ("ABANDONPLAY", "custom/abandon"),
            ("QUEUETIME", "2"),
        ],
    );
    let mut ev = Vec::new();
    dial(&mut w, "5557001", t0, &mut ev);
    w.advance(t0 + Duration::from_secs(12), &mut ev);
    let got = user_events(&ev);
    assert_eq!(got[0], ("OmlAmd".to_string(), "HUMAN".to_string()));
    assert_eq!(got[1].0, "OmlRecording");
    let file = &got[1].1;
    assert!(
        file.starts_with("dialer-5-") && file.ends_with("-5557001-oml-5-5557001-1.wav"),
        "{file}"
    );
    assert!(dir.path().join(file).exists(), "the empty recording file");
    assert_eq!(
        record(&w, "oml-5-5557001-1", "RECFILE").as_ref(),
        Some(file)
    );
    assert!(names(&ev).contains(&"QueueCallerJoin"));
    ev.clear();
    // QUEUETIME 2 s after the join at 12 s: the message starts at 14 s.
    w.advance(t0 + Duration::from_secs(14), &mut ev);
    assert_eq!(names(&ev), ["QueueCallerLeave", "UserEvent"]);
    assert_eq!(user_events(&ev)[0].0, "OmlAbandonMessage");
    assert!(record(&w, "oml-5-5557001-1", "ABANDONMSG").is_some());
    ev.clear();
    w.advance(t0 + Duration::from_secs(18), &mut ev);
    assert_eq!(names(&ev), ["Hangup", "Hangup"]);
    assert_eq!(w.stats().abandon_messages, 1);
    assert_eq!(w.stats().abandoned, 0, "no customer hung up in the queue");
}

#[test]
fn without_settings_the_call_goes_straight_to_its_queue() {
    let (mut w, t0) = world(1);
    w.cfg.customers.answer_rate = 1.0;
    w.cfg.machines.rate = 1.0;
    let mut ev = Vec::new();
    dial(&mut w, "1", t0, &mut ev);
    w.advance(t0 + Duration::from_secs(10), &mut ev);
    assert!(user_events(&ev).is_empty());
    assert!(names(&ev).contains(&"AgentConnect"), "{:?}", names(&ev));
}

#[test]
fn days_as_strftime_gives_them() {
    assert_eq!(super::yyyymmdd(0), "19700101");
    assert_eq!(super::yyyymmdd(1_796_669_526), "20261207");
    assert_eq!(super::yyyymmdd(951_782_400), "20000229");
}
