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

peer_tests!(
    each_attempt_leaves_its_record,
    each_instance_keeps_its_records
);

async fn record_of(peer: &Peer, id: &str) -> Option<PbxRecord> {
    record_in(peer, FAMILY, id).await
}

/// The record of `id` under `family` (`OML/CALL` or `OML/CALL/<instance>`).
async fn record_in(peer: &Peer, family: &str, id: &str) -> Option<PbxRecord> {
    let client = peer.connect().await;
    let r = client
        .send(actions::db_get_tree(&format!("{family}/{id}"), None))
        .await
        .expect("DBGetTree");
    assert!(r.is_success(), "[{}] DBGetTree: {r:?}", peer.name());
    parse_tree(&r.events).remove(id)
}

/// Two oml databases on one PBX (issue 15): a call placed with
/// `__OMLINSTANCE` keeps its whole record (milestones, cause, agent) under
/// `OML/CALL/<instance>/<channel id>`, apart from another instance's call
/// with the same channel id and from the older family without instance.
async fn each_instance_keeps_its_records(peer: &Peer) {
    let client = peer.connect().await;
    let who = peer.name();
    let id = peer.unique("inst");
    // Two instances of this run (the PBX may be shared with other runs).
    let (a, b) = (
        format!("a{}", &peer.unique("x").replace(['-', '.'], "")),
        format!("b{}", &peer.unique("y").replace(['-', '.'], "")),
    );
    for (instance, number) in [(&a, ANSWER), (&b, BUSY)] {
        let mut o =
            Originate::to_extension(&format!("Local/{number}@from-oml/n"), CAMPAIGN_CONTEXT, "1");
        o.timeout = Some(Duration::from_secs(10));
        o.channel_id = Some(id.clone());
        o = o.variable("__OMLINSTANCE", instance);
        client.originate(&o).await.expect("Originate");
        if instance == &a {
            // One channel with an id at a time on a real PBX: a's call
            // (ring 1 s, talk 4 s) ends before b's goes with the same id.
            let deadline = Instant::now() + Duration::from_secs(15);
            while record_in(peer, &format!("{FAMILY}/{a}"), &id)
                .await
                .and_then(|r| r.ended_s)
                .is_none()
                && Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let (ra, rb) = loop {
        let ra = record_in(peer, &format!("{FAMILY}/{a}"), &id)
            .await
            .unwrap_or_default();
        let rb = record_in(peer, &format!("{FAMILY}/{b}"), &id)
            .await
            .unwrap_or_default();
        let done = ra.ended_s.is_some() && ra.agent.is_some() && rb.ended_s.is_some();
        if done || Instant::now() > deadline {
            break (ra, rb);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(ra.cause, Some(16), "[{who}] instance a: {ra:?}");
    assert!(
        ra.answered_s.is_some() && ra.queued_s.is_some() && ra.connected_s.is_some(),
        "[{who}] instance a's milestones: {ra:?}"
    );
    assert!(
        ra.agent.as_deref().is_some_and(|x| x.starts_with("Agent ")),
        "[{who}] instance a's agent: {ra:?}"
    );
    assert_eq!(rb.cause, Some(17), "[{who}] instance b: {rb:?}");
    assert_eq!(rb.connected_s, None, "[{who}] {rb:?}");
    // Nothing under the older family for these calls.
    assert_eq!(record_of(peer, &id).await, None, "[{who}] {id}");
    // Deleting one instance's record leaves the other's.
    assert!(client
        .db_deltree(&format!("{FAMILY}/{a}"), Some(&id))
        .await
        .expect("DBDelTree"));
    assert_eq!(record_in(peer, &format!("{FAMILY}/{a}"), &id).await, None);
    assert_eq!(
        record_in(peer, &format!("{FAMILY}/{b}"), &id)
            .await
            .and_then(|r| r.cause),
        Some(17),
        "[{who}] b's record survives a's deletion"
    );
    client
        .db_deltree(&format!("{FAMILY}/{b}"), None)
        .await
        .expect("DBDelTree");
    client.logoff().await.expect("logoff");
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
    // The agent who took it, as the queue names its member (both peers'
    // queue oml-test: `Agent 1` or `Agent 2`).
    assert!(
        answered
            .agent
            .as_deref()
            .is_some_and(|a| a.starts_with("Agent ")),
        "[{who}] the agent of the connected call: {answered:?}"
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
