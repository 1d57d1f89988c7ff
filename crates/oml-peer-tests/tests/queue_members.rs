//! An agent logging in to a queue, pausing with a reason and logging out
//! (issue 19 items 2 and 8), on both peers: QueueAdd, QueuePause with
//! Reason and QueueRemove as the agent page sends them, their replies and
//! the QueueMember* events the dialer and the supervisor view read. The
//! member stays paused while in the bench's shared queue, so no call is
//! offered to it, and is removed at the end.

use std::time::Duration;

use oml_ami::Message;
use oml_peer_tests::{peer_tests, Peer, Watch, QUEUE};

peer_tests!(an_agent_logs_in_pauses_with_a_reason_and_logs_out);

const WAIT: Duration = Duration::from_secs(5);

fn action(name: &str, fields: &[(&str, &str)]) -> Message {
    let mut m = Message::action(name);
    for (k, v) in fields {
        m.set(k, v);
    }
    m
}

async fn an_agent_logs_in_pauses_with_a_reason_and_logs_out(peer: &Peer) {
    let who = peer.name();
    let client = peer.connect().await;
    let iface = format!("Local/{}@oml-agents/n", peer.unique("agent"));
    let mut watch = Watch::new(&client);
    let is_ours = |name: &'static str, iface: String| {
        move |m: &Message| {
            m.event_name() == Some(name) && m.get("Interface") == Some(iface.as_str())
        }
    };

    let add = action(
        "QueueAdd",
        &[
            ("Queue", QUEUE),
            ("Interface", &iface),
            ("MemberName", "peer agent"),
            ("Paused", "true"),
        ],
    );
    let r = client.send(add.clone()).await.expect("QueueAdd");
    assert!(r.is_success(), "[{who}] QueueAdd: {r:?}");
    assert_eq!(
        r.get("Message"),
        Some("Added interface to queue"),
        "[{who}]"
    );
    let added = watch
        .next_matching(WAIT, is_ours("QueueMemberAdded", iface.clone()))
        .await
        .unwrap_or_else(|| panic!("[{who}] no QueueMemberAdded"));
    assert_eq!(added.get("Queue"), Some(QUEUE), "[{who}] {added:?}");
    assert_eq!(
        added.get("MemberName"),
        Some("peer agent"),
        "[{who}] {added:?}"
    );
    assert_eq!(
        added.get("Membership"),
        Some("dynamic"),
        "[{who}] {added:?}"
    );
    assert_eq!(added.get("Paused"), Some("1"), "[{who}] {added:?}");
    let again = client.send(add).await.expect("QueueAdd again");
    assert!(!again.is_success(), "[{who}] {again:?}");
    assert_eq!(
        again.get("Message"),
        Some("Unable to add interface: Already there"),
        "[{who}]"
    );

    // Paused with a reason: the event says why.
    let pause = |paused: &str, reason: &str| {
        action(
            "QueuePause",
            &[
                ("Interface", &iface),
                ("Queue", QUEUE),
                ("Paused", paused),
                ("Reason", reason),
            ],
        )
    };
    let r = client
        .send(pause("true", "Lunch"))
        .await
        .expect("QueuePause");
    assert_eq!(
        r.get("Message"),
        Some("Interface paused successfully"),
        "[{who}] {r:?}"
    );
    let p = watch
        .next_matching(WAIT, is_ours("QueueMemberPause", iface.clone()))
        .await
        .unwrap_or_else(|| panic!("[{who}] no QueueMemberPause"));
    assert_eq!(p.get("Paused"), Some("1"), "[{who}] {p:?}");
    assert_eq!(p.get("PausedReason"), Some("Lunch"), "[{who}] {p:?}");

    // QueueStatus lists the member paused, with its reason.
    let st = client
        .send(action(
            "QueueStatus",
            &[("Queue", QUEUE), ("Member", &iface)],
        ))
        .await
        .expect("QueueStatus");
    let member = st
        .events
        .iter()
        .find(|e| {
            e.event_name() == Some("QueueMember")
                && e.get("Location").or(e.get("Interface")) == Some(iface.as_str())
        })
        .unwrap_or_else(|| panic!("[{who}] member not in QueueStatus: {:?}", st.events));
    assert_eq!(member.get("Paused"), Some("1"), "[{who}] {member:?}");
    assert_eq!(
        member.get("PausedReason"),
        Some("Lunch"),
        "[{who}] {member:?}"
    );

    // Logging out; then the interface is unknown.
    let remove = action("QueueRemove", &[("Queue", QUEUE), ("Interface", &iface)]);
    let r = client.send(remove.clone()).await.expect("QueueRemove");
    assert_eq!(
        r.get("Message"),
        Some("Removed interface from queue"),
        "[{who}] {r:?}"
    );
    watch
        .next_matching(WAIT, is_ours("QueueMemberRemoved", iface.clone()))
        .await
        .unwrap_or_else(|| panic!("[{who}] no QueueMemberRemoved"));
    let r = client.send(remove).await.expect("QueueRemove again");
    assert_eq!(
        r.get("Message"),
        Some("Unable to remove interface: Not there"),
        "[{who}] {r:?}"
    );
    let r = client
        .send(pause("false", ""))
        .await
        .expect("QueuePause unknown");
    assert_eq!(
        r.get("Message"),
        Some("Interface not found"),
        "[{who}] {r:?}"
    );
}
