//! Reconnect after a dropped connection, against both peers. The drop is
//! made by a loopback proxy between client and peer, so both peers see
//! exactly the same fault: the client must report `Disconnected`, log in
//! again by itself, report `Reconnected`, and actions must work again.
//! The second scenario has the SERVER close the session (pbxsim's fault
//! injection, Asterisk's `manager kick session`).
//! (Its own test binary: cargo runs test binaries one after the other.)

use std::time::Duration;

use oml_ami::{AmiClient, AuthKind, Event};
use oml_peer_tests::{peer_tests, DropProxy, Peer, Watch};

peer_tests!(
    reconnect_after_dropped_connection,
    reconnect_after_server_closes
);

async fn reconnect_after_dropped_connection(peer: &Peer) {
    let proxy = DropProxy::start(&peer.addr).await.expect("proxy");
    let mut cfg = peer.config(AuthKind::Md5);
    cfg.addr = proxy.addr().to_owned();
    let client = AmiClient::connect(cfg)
        .await
        .unwrap_or_else(|e| panic!("[{}] login through the proxy: {e}", peer.name()));
    client.ping().await.expect("ping before the drop");
    let mut watch = Watch::new(&client);

    assert_eq!(proxy.drop_all(), 1, "one connection to cut");
    match watch.next_link_event(Duration::from_secs(5)).await {
        Some(Event::Disconnected { reason }) => assert!(!reason.is_empty()),
        other => panic!("[{}] expected Disconnected, got {other:?}", peer.name()),
    }
    match watch.next_link_event(Duration::from_secs(10)).await {
        Some(Event::Reconnected) => {}
        other => panic!("[{}] expected Reconnected, got {other:?}", peer.name()),
    }
    client
        .ping()
        .await
        .unwrap_or_else(|e| panic!("[{}] Ping after reconnect: {e}", peer.name()));
    let lines = client
        .command("core show version")
        .await
        .expect("Command after reconnect");
    assert!(
        lines.first().is_some_and(|l| l.starts_with("Asterisk ")),
        "{lines:?}"
    );
    client.logoff().await.expect("logoff");
}

async fn reconnect_after_server_closes(peer: &Peer) {
    let Some(who) = &peer.droppable else {
        eprintln!(
            "SKIPPED: reconnect_after_server_closes on {}: no OML_TEST_ASTERISK_DROP_USER/_SECRET \
             (the bench's env file sets them)",
            peer.name()
        );
        return;
    };
    let client = AmiClient::connect(peer.config_for(who, AuthKind::Md5))
        .await
        .unwrap_or_else(|e| panic!("[{}] login as {}: {e}", peer.name(), who.user));
    client.ping().await.expect("ping before the drop");
    let mut watch = Watch::new(&client);

    assert!(
        peer.server_drop().await >= 1,
        "[{}] no session was closed",
        peer.name()
    );
    match watch.next_link_event(Duration::from_secs(5)).await {
        Some(Event::Disconnected { .. }) => {}
        other => panic!("[{}] expected Disconnected, got {other:?}", peer.name()),
    }
    match watch.next_link_event(Duration::from_secs(10)).await {
        Some(Event::Reconnected) => {}
        other => panic!("[{}] expected Reconnected, got {other:?}", peer.name()),
    }
    client
        .ping()
        .await
        .unwrap_or_else(|e| panic!("[{}] Ping after reconnect: {e}", peer.name()));
    client.logoff().await.expect("logoff");
}
