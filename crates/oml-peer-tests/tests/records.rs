//! The record oml's dialplan keeps of each attempt in AstDB (issue 15,
//! item 2), read back the way the dialer reads it after a restart
//! (`DBGetTree OML/CALL/<channel id>`), on both peers: the bench's
//! dialplan (.ci/asterisk/extensions.conf, the same lines as the rendered
//! oml_extensions.conf) and pbxsim's emulation of it. An answered call has
//! its milestones and cause 16, busy and congestion the customer leg's
//! cause 17 and 34 (never the `;1` half's 0).

use std::time::{Duration, Instant};

use oml_ami::{actions, Originate};
use oml_dialer::pbx_record::{parse_tree, PbxRecord, FAMILY};
use oml_peer_tests::{peer_tests, Peer, ANSWER, BUSY, CAMPAIGN_CONTEXT, CONGESTION};

peer_tests!(each_attempt_leaves_its_record);

async fn record_of(peer: &Peer, id: &str) -> Option<PbxRecord> {
    let client = peer.connect().await;
    let r = client
        .send(actions::db_get_tree(&format!("{FAMILY}/{id}"), None))
        .await
        .expect("DBGetTree");
    assert!(r.is_success(), "[{}] DBGetTree: {r:?}", peer.name());
    parse_tree(&r.events).remove(id)
}

async fn each_attempt_leaves_its_record(peer: &Peer) {
    let client = peer.connect().await;
    let mut ids = Vec::new();
    for number in [ANSWER, BUSY, CONGESTION] {
        let id = peer.unique("rec");
        let mut o =
            Originate::to_extension(&format!("Local/{number}@from-oml/n"), CAMPAIGN_CONTEXT, "1");
        o.timeout = Some(Duration::from_secs(10));
        o.channel_id = Some(id.clone());
        client.originate(&o).await.expect("Originate");
        ids.push(id);
    }
    // The answered call talks 4 s after ringing 1 s; wait for every end.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut records = Vec::new();
    loop {
        records.clear();
        for id in &ids {
            records.push(record_of(peer, id).await.unwrap_or_default());
        }
        if records.iter().all(|r| r.ended_s.is_some()) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let who = peer.name();
    let causes: Vec<_> = records.iter().map(|r| r.cause).collect();
    assert_eq!(
        causes,
        [Some(16), Some(17), Some(34)],
        "[{who}] {records:?}"
    );
    let answered = &records[0];
    assert!(
        answered.answered_s.is_some()
            && answered.queued_s.is_some()
            && answered.connected_s.is_some(),
        "[{who}] milestones of the answered call: {answered:?}"
    );
    assert!(
        answered.ended_s >= answered.connected_s,
        "[{who}] {answered:?}"
    );
    for failed in &records[1..] {
        assert_eq!(
            (failed.answered_s, failed.connected_s),
            (None, None),
            "[{who}] a failed call has no milestones: {failed:?}"
        );
    }
    // What the dialer does once the outcome is stored.
    for id in &ids {
        assert!(client
            .db_deltree(FAMILY, Some(id))
            .await
            .expect("DBDelTree"));
        assert_eq!(record_of(peer, id).await, None, "[{who}] {id} deleted");
    }
    client.logoff().await.expect("logoff");
}
