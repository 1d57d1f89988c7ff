//! The abandon message's deadline in the decision core (issue 18): the
//! `Redirect` leaves at AMD()'s HUMAN verdict + abandon seconds - the
//! after-greeting silence - [`REDIRECT_MARGIN`] (at the answer + abandon
//! seconds - the margin with AMD off), only for a call still waiting for an
//! agent, and a `Redirect` that crossed an agent's answer counts the call
//! as abandoned.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use oml_ami::Message;
use oml_store::{dialplan, AbandonWindow, CallPath, CampaignState, MachineHandling};

use super::{ABANDON_EXTEN, REDIRECT_MARGIN};
use crate::engine::core::tests::{
    campaign, contact, ends, hangup, member, placed, server_and_trunk, Harness, CAMPAIGN, SERVER,
};
use crate::engine::core::{Action, Input, Loaded};

fn path(machine: MachineHandling, abandon: &str) -> CallPath {
    CallPath {
        machine,
        abandon_sound: abandon.into(),
        ..CallPath::default()
    }
}

/// A harness whose campaign runs in its own context with this call path,
/// one free agent, and one call placed: its channel id.
fn one_call(cp: CallPath) -> (Harness, String) {
    let (h, mut keys) = calls(cp, HashMap::new(), 1);
    (h, keys.remove(0))
}

/// The same with `n` free agents and `n` calls placed, and these AMD
/// false positive rates.
fn calls(cp: CallPath, rates: HashMap<i64, f64>, n: i64) -> (Harness, Vec<String>) {
    let mut c = campaign(CampaignState::Running);
    c.delivery_context = String::new();
    c.delivery_exten = String::new();
    let mut h = Harness::with(vec![c.clone()], 30);
    let (servers, trunks) = server_and_trunk(30);
    h.feed(Input::Config(Box::new(Loaded {
        play: true,
        servers,
        trunks,
        campaigns: vec![(c, Vec::new())],
        call_paths: HashMap::from([(CAMPAIGN, cp)]),
        amd_false_positive_rates: rates,
    })));
    for i in 1..=n {
        h.feed(member(&format!("PJSIP/a{i}"), "1"));
    }
    let a = h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: (1..=n).map(contact).collect(),
        left: 0,
    });
    let keys = placed(&a);
    assert_eq!(keys.len(), n as usize, "{a:?}");
    (h, keys)
}

/// An event about call `key` received at the harness's time.
fn ev(h: &mut Harness, key: &str, m: Message) -> Vec<Action> {
    let m = m.with("Uniqueid", key).with("Linkedid", key);
    let at = h.now.at;
    h.feed(Input::Ami {
        server: SERVER,
        msg: Arc::new(m),
        at,
    })
}

fn newchannel(h: &mut Harness, key: &str) {
    ev(
        h,
        key,
        Message::event("Newchannel").with("Channel", "Local/5550001@from-oml-00000001;1"),
    );
}

fn up(h: &mut Harness, key: &str) {
    ev(h, key, Message::event("Newstate").with("ChannelState", "6"));
}

fn amd(h: &mut Harness, key: &str, status: &str) {
    ev(
        h,
        key,
        Message::event("UserEvent")
            .with("UserEvent", dialplan::AMD_EVENT)
            .with("Status", status)
            .with("Cause", "HUMAN-1-1"),
    );
}

fn redirects(a: &[Action]) -> Vec<(String, String, String)> {
    a.iter()
        .filter_map(|a| match a {
            Action::Redirect {
                channel,
                context,
                exten,
                ..
            } => Some((channel.clone(), context.clone(), exten.clone())),
            _ => None,
        })
        .collect()
}

/// Advances the clock by `ms` and runs the deadlines (the shell's timer).
fn wait(h: &mut Harness, ms: u64) -> Vec<Action> {
    h.advance(Duration::from_millis(ms));
    h.feed(Input::Tick)
}

#[test]
fn the_redirect_leaves_at_the_verdict_plus_the_abandon_seconds_minus_the_silence_and_margin() {
    let (mut h, key) = one_call(path(MachineHandling::Hangup, "custom/abandon"));
    newchannel(&mut h, &key);
    up(&mut h, &key);
    wait(&mut h, 1500); // AMD() listens: no clock yet
    assert_eq!(h.core.next_abandon_deadline(), None, "no verdict yet");
    amd(&mut h, &key, "HUMAN");
    let verdict = h.now.at;
    ev(
        &mut h,
        &key,
        Message::event("QueueCallerJoin").with("Queue", "q1"),
    );
    // 2 s - 800 ms of silence - the margin after the verdict.
    let due = verdict + Duration::from_millis(2000 - 800) - REDIRECT_MARGIN;
    assert_eq!(h.core.next_abandon_deadline(), Some(due));
    let before = (due - verdict).as_millis() as u64 - 1;
    assert!(redirects(&wait(&mut h, before)).is_empty(), "too early");
    let a = wait(&mut h, 1);
    assert_eq!(
        redirects(&a),
        [(
            "Local/5550001@from-oml-00000001;1".to_string(),
            dialplan::campaign_context(CAMPAIGN),
            ABANDON_EXTEN.to_string()
        )]
    );
    // Sent once.
    assert!(redirects(&wait(&mut h, 500)).is_empty());
    assert_eq!(h.core.next_abandon_deadline(), None);
    ev(
        &mut h,
        &key,
        Message::event("UserEvent").with("UserEvent", dialplan::ABANDON_MESSAGE_EVENT),
    );
    let a = h.feed(hangup(&key, 16));
    assert_eq!(ends(&a), [(1, "abandoned_message_played".to_string())]);
}

#[test]
fn with_amd_off_the_clock_starts_at_the_answer() {
    let (mut h, key) = one_call(path(MachineHandling::Off, "custom/abandon"));
    newchannel(&mut h, &key);
    up(&mut h, &key);
    let due = h.now.at + Duration::from_secs(2) - REDIRECT_MARGIN;
    assert_eq!(h.core.next_abandon_deadline(), Some(due));
    let a = wait(&mut h, 2000 - REDIRECT_MARGIN.as_millis() as u64);
    assert_eq!(redirects(&a).len(), 1, "{a:?}");
}

#[test]
fn machines_connected_calls_and_campaigns_without_message_get_no_redirect() {
    // A machine: no deadline.
    let (mut h, key) = one_call(path(MachineHandling::Hangup, "custom/abandon"));
    newchannel(&mut h, &key);
    up(&mut h, &key);
    amd(&mut h, &key, "MACHINE");
    assert_eq!(h.core.next_abandon_deadline(), None);
    assert!(redirects(&wait(&mut h, 5000)).is_empty());
    // A person an agent took before the deadline: never redirected.
    let (mut h, key) = one_call(path(MachineHandling::Hangup, "custom/abandon"));
    newchannel(&mut h, &key);
    up(&mut h, &key);
    amd(&mut h, &key, "HUMAN");
    wait(&mut h, 500);
    ev(
        &mut h,
        &key,
        Message::event("AgentConnect").with("Queue", "q1"),
    );
    assert!(redirects(&wait(&mut h, 5000)).is_empty());
    let a = h.feed(hangup(&key, 16));
    assert_eq!(ends(&a), [(1, "connected".to_string())]);
    // No abandon message: the dialplan just hangs up; nothing to redirect.
    let (mut h, key) = one_call(path(MachineHandling::Off, ""));
    newchannel(&mut h, &key);
    up(&mut h, &key);
    assert_eq!(h.core.next_abandon_deadline(), None);
    assert!(redirects(&wait(&mut h, 5000)).is_empty());
}

#[test]
fn an_agent_connect_after_the_redirect_counts_the_call_as_abandoned() {
    let (mut h, key) = one_call(path(MachineHandling::Off, "custom/abandon"));
    newchannel(&mut h, &key);
    up(&mut h, &key);
    let a = wait(&mut h, 2000);
    assert_eq!(redirects(&a).len(), 1);
    // The agent answered as the Redirect left: Asterisk bridged, then the
    // Redirect took the person into the message.
    ev(
        &mut h,
        &key,
        Message::event("AgentConnect").with("Queue", "q1"),
    );
    ev(
        &mut h,
        &key,
        Message::event("UserEvent").with("UserEvent", dialplan::ABANDON_MESSAGE_EVENT),
    );
    let a = h.feed(hangup(&key, 16));
    assert_eq!(ends(&a), [(1, "abandoned_message_played".to_string())]);
    let c = &h.core.campaigns[&CAMPAIGN];
    assert_eq!((c.abandons.live_answered, c.abandons.abandoned), (1, 1));
    assert_eq!(
        h.core
            .metrics
            .abandon_redirects
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

/// Ofcom (issue 18 item 2): under the `uk` rule set with AMD on, the
/// campaign's AMD false positive rate x its machine answers count as
/// abandoned live answers in the ledger (the pacer's input), in whole
/// calls; the `us` rule set counts none.
#[test]
fn ofcom_counts_the_estimated_amd_false_positives_as_abandoned() {
    let cp = path(MachineHandling::Hangup, "custom/abandon");
    let (mut h, keys) = calls(cp.clone(), HashMap::from([(CAMPAIGN, 0.25)]), 5);
    let mut counts = Vec::new();
    for k in &keys {
        newchannel(&mut h, k);
        up(&mut h, k);
        amd(&mut h, k, "MACHINE");
        // The same verdict seen twice counts once.
        amd(&mut h, k, "MACHINE");
        h.feed(hangup(k, 16));
        let c = &h.core.campaigns[&CAMPAIGN];
        counts.push((c.abandons.live_answered, c.abandons.abandoned));
    }
    // 0.25 a machine: one estimated person at the 4th machine.
    assert_eq!(counts, [(0, 0), (0, 0), (0, 0), (1, 1), (1, 1)]);
    // The default rate (5 %) when none is configured: 20 machines, 1 call.
    let (mut h, keys) = calls(cp.clone(), HashMap::new(), 20);
    for k in &keys {
        up(&mut h, k);
        amd(&mut h, k, "MACHINE");
    }
    let c = &h.core.campaigns[&CAMPAIGN];
    assert_eq!((c.abandons.live_answered, c.abandons.abandoned), (1, 1));
    // The FCC's rule set: no estimate.
    let mut us = campaign(CampaignState::Running);
    us.abandon_window = AbandonWindow::Us;
    let mut h = Harness::with(vec![us.clone()], 10);
    let (servers, trunks) = server_and_trunk(10);
    h.feed(Input::Config(Box::new(Loaded {
        play: true,
        servers,
        trunks,
        campaigns: vec![(us, Vec::new())],
        call_paths: HashMap::from([(CAMPAIGN, cp)]),
        amd_false_positive_rates: HashMap::from([(CAMPAIGN, 0.5)]),
    })));
    for i in 1..=4 {
        h.feed(member(&format!("PJSIP/a{i}"), "1"));
    }
    let a = h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: (1..=4).map(contact).collect(),
        left: 0,
    });
    for k in &placed(&a) {
        up(&mut h, k);
        amd(&mut h, k, "MACHINE");
    }
    let c = &h.core.campaigns[&CAMPAIGN];
    assert_eq!((c.abandons.live_answered, c.abandons.abandoned), (0, 0));
}
