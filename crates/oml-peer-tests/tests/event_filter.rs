//! The dialer's links ask the PBX only for the events the engine reads
//! (issue 17 item 5): `Events: call,agent,user` at login and the engine's
//! two `Filter`s. On both peers, an answered campaign call seen through
//! such a session brings its OriginateResponse, Newchannel, Newstate and
//! the Hangups of both halves, and no event the engine does not read,
//! while an unfiltered session beside it receives more (on Asterisk 22:
//! VarSet, Newexten, DialBegin...; on pbxsim: AgentCalled, QueueCallerLeave).

use std::collections::BTreeSet;
use std::time::Duration;

use oml_ami::{AmiClient, AuthKind, Originate};
use oml_dialer::engine::{AMI_EVENT_CLASSES, AMI_EVENT_FILTERS};
use oml_peer_tests::{peer_tests, Peer, Watch, ANSWER, CAMPAIGN_CONTEXT};

peer_tests!(filtered_session_gets_only_the_engines_events);

/// The events the engine reads (`calls.rs`, `agents.rs`).
const READ: &[&str] = &[
    "Newchannel",
    "Newstate",
    "Hangup",
    "OriginateResponse",
    "QueueCallerJoin",
    "QueueCallerAbandon",
    "AgentConnect",
    "UserEvent",
    "QueueMemberStatus",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
];

async fn filtered_session_gets_only_the_engines_events(peer: &Peer) {
    let mut cfg = peer.config(AuthKind::Md5);
    cfg.events = Some(AMI_EVENT_CLASSES.into());
    cfg.filters = AMI_EVENT_FILTERS.iter().map(|f| f.to_string()).collect();
    let filtered = AmiClient::connect(cfg)
        .await
        .unwrap_or_else(|e| panic!("[{}] filtered login: {e}", peer.name()));
    let plain = peer.connect().await;
    let chan = peer.unique("filter");
    let other = format!("{chan}-2");
    let (mut wf, mut wp) = (Watch::new(&filtered), Watch::new(&plain));
    let mut o =
        Originate::to_extension(&format!("Local/{ANSWER}@from-oml/n"), CAMPAIGN_CONTEXT, "1");
    o.timeout = Some(Duration::from_secs(10));
    o.channel_id = Some(chan.clone());
    o.other_channel_id = Some(other.clone());
    filtered
        .originate(&o)
        .await
        .unwrap_or_else(|e| panic!("[{}] Originate: {e}", peer.name()));
    let ours = |m: &oml_ami::Message| {
        ["Uniqueid", "Linkedid", "ChannelId"]
            .iter()
            .any(|h| m.get(h).is_some_and(|v| v == chan || v == other))
            || m.event_name() == Some("OriginateResponse")
    };
    let hung_up = |evs: &[std::sync::Arc<oml_ami::Message>]| {
        evs.iter()
            .filter(|m| m.event_name() == Some("Hangup"))
            .filter(|m| m.get("Uniqueid").is_some_and(|u| u == chan || u == other))
            .count()
            >= 2
    };
    let got = wf.collect(Duration::from_secs(30), ours, hung_up).await;
    let all = wp.collect(Duration::from_secs(5), ours, hung_up).await;
    let names = |evs: &[std::sync::Arc<oml_ami::Message>]| -> BTreeSet<String> {
        evs.iter()
            .filter_map(|m| m.event_name().map(str::to_owned))
            .collect()
    };
    let (got_names, all_names) = (names(&got), names(&all));
    println!(
        "[{}] filtered session: {} events of the call ({got_names:?}); unfiltered: {} ({all_names:?})",
        peer.name(),
        got.len(),
        all.len()
    );
    assert!(
        hung_up(&got),
        "[{}] both Hangups through the filter: {got_names:?}",
        peer.name()
    );
    for want in ["OriginateResponse", "Newchannel", "Hangup"] {
        assert!(
            got_names.contains(want),
            "[{}] {want} missing: {got_names:?}",
            peer.name()
        );
    }
    let unread: Vec<&String> = got_names
        .iter()
        .filter(|n| !READ.contains(&n.as_str()))
        .collect();
    assert!(
        unread.is_empty(),
        "[{}] events the engine does not read came through: {unread:?}",
        peer.name()
    );
    assert!(
        all.len() > got.len(),
        "[{}] the unfiltered session should see more of the call ({} vs {})",
        peer.name(),
        all.len(),
        got.len()
    );
    let _ = filtered.logoff().await;
    let _ = plain.logoff().await;
}
