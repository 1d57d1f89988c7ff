//! Leases on both databases: one holder per key, take-over only after the
//! expiry plus the margin, the holder's own deadline before that, the
//! writes of a former leader refused, one engine on a network file system,
//! and adoption of a dead node's calls by exactly one node.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::*;
use crate::dialing::{DialingWrite, NewAttempt};
use crate::testing::backends;
use crate::{now_ms, CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};

fn keys(k: &[&str]) -> BTreeSet<String> {
    k.iter().map(|s| s.to_string()).collect()
}

// Short leases for quick tests, but not so short that a database call
// misses its time limit (a third of the lease) on a loaded machine: at
// 600 ms (200 ms per call) the tests failed with two `yes` beside them.
const TTL: Duration = Duration::from_millis(3000);
const MARGIN: Duration = Duration::from_millis(1000);

fn quick(store: &Store, node: &str) -> Leadership {
    store.leadership(node).with_times(TTL, MARGIN)
}

#[tokio::test]
async fn one_holder_per_key_and_release_hands_over() {
    for t in backends().await {
        let mut a = t.store.leadership("a");
        let mut b = t.store.leadership("b");
        let both = keys(&["campaign:1", "campaign:2"]);
        assert_eq!(
            a.hold(&keys(&["campaign:1"])).await.unwrap(),
            keys(&["campaign:1"])
        );
        assert_eq!(
            b.hold(&both).await.unwrap(),
            keys(&["campaign:2"]),
            "{}",
            t.label
        );
        assert!(b.held_elsewhere("campaign:1").await.unwrap(), "a holds it");
        assert!(!b.held_elsewhere("campaign:9").await.unwrap(), "nobody");
        assert!(!a.held_elsewhere("campaign:1").await.unwrap(), "a itself");
        // Renewing keeps the epoch; asking again changes nothing.
        let epoch = a.fence().epoch("campaign:1").unwrap();
        assert_eq!(a.hold(&both).await.unwrap(), keys(&["campaign:1"]));
        assert_eq!(a.fence().epoch("campaign:1"), Some(epoch));
        // a lets go of 1: b takes it at once, under a new epoch.
        assert!(a.hold(&BTreeSet::new()).await.unwrap().is_empty());
        assert_eq!(a.fence().epoch("campaign:1"), None);
        assert_eq!(b.hold(&both).await.unwrap(), both, "{}", t.label);
        assert_eq!(b.fence().epoch("campaign:1"), Some(epoch + 1));
        b.release_all().await;
        assert!(b.held().is_empty());
        assert!(!a.held_elsewhere("campaign:2").await.unwrap());
    }
}

/// A holder that stops renewing (frozen, partitioned, dead) loses the key
/// by its own deadline, and nobody else gets it before expiry + margin.
#[tokio::test]
async fn a_silent_holder_stops_before_anyone_takes_over() {
    for t in backends().await {
        let mut a = quick(&t.store, "a");
        let mut b = quick(&t.store, "b");
        let k = keys(&["campaign:1"]);
        let sent = Instant::now();
        a.hold(&k).await.unwrap();
        let fence = a.fence();
        // a renews no more; b tries all along.
        let mut b_took = None;
        while b_took.is_none() && sent.elapsed() < Duration::from_secs(20) {
            if b.hold(&k).await.unwrap() == k {
                b_took = Some(sent.elapsed());
                assert_eq!(
                    fence.epoch("campaign:1"),
                    None,
                    "{}: a had stopped",
                    t.label
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let b_took = b_took.expect("b took over");
        assert!(
            b_took >= TTL + MARGIN,
            "{}: b took over after {b_took:?}",
            t.label
        );
        assert!(!b.held_elsewhere("campaign:1").await.unwrap());
        assert!(a.held_elsewhere("campaign:1").await.unwrap(), "{}", t.label);
        // a wakes up: it cannot take it back while b renews.
        assert!(a.hold(&k).await.unwrap().is_empty(), "{}", t.label);
        // Someone else's lease never counts as a's.
        drop(b);
        assert!(
            a.held_elsewhere("campaign:1").await.unwrap(),
            "until it expires"
        );
    }
}

async fn campaign(store: &Store) -> i64 {
    store
        .create_trunk(&TrunkSpec {
            name: "t1".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let id = store
        .create_campaign(&CampaignSpec::new("sales", "t1"))
        .await
        .unwrap()
        .id;
    let phones: Vec<String> = (1..=6).map(|i| format!("+5411400000{i:02}")).collect();
    store.seed_contacts(id, &phones).await.unwrap();
    store
        .set_campaign_state("sales", crate::CampaignState::Running)
        .await
        .unwrap();
    id
}

fn begin(campaign: i64, contact: i64, node: &str) -> DialingWrite {
    DialingWrite::Begin(NewAttempt {
        campaign_id: campaign,
        contact_id: contact,
        attempt_no: 1,
        server_id: Some(1),
        channel_id: format!("ch-{contact}"),
        placed_at: 1000,
        node: node.into(),
    })
}

/// The old leader's clock says it still holds the lease (it does not know
/// yet); the database says another node took it: its claim and its attempt
/// insert fail, nothing changed. Its own deadline refuses without asking.
#[tokio::test]
async fn a_former_leaders_writes_fail() {
    for t in backends().await {
        let cid = campaign(&t.store).await;
        let key = campaign_key(cid);
        let k = keys(&[key.as_str()]);
        let mut a = quick(&t.store, "a");
        let a_store = t.store.with_fence(a.fence());
        assert!(
            matches!(
                a_store.claim_due_contacts(cid, "a", now_ms(), 2).await,
                Err(StoreError::NotLeader { .. })
            ),
            "{}: no lease, no claim",
            t.label
        );
        a.hold(&k).await.unwrap();
        let mine = a_store
            .claim_due_contacts(cid, "a", now_ms(), 4)
            .await
            .unwrap();
        assert_eq!(mine.len(), 4, "{}", t.label);
        let flags = a_store
            .apply_dialing_writes(&[begin(cid, mine[0].id, "a")])
            .await
            .unwrap();
        assert_eq!(flags, vec![true], "{}: under its lease", t.label);
        // Paused in the database: refused under the lease too, whatever
        // the engine's own view of the campaign says.
        t.store
            .set_campaign_state("sales", crate::CampaignState::Paused)
            .await
            .unwrap();
        let flags = a_store
            .apply_dialing_writes(&[begin(cid, mine[2].id, "a")])
            .await
            .unwrap();
        assert_eq!(flags, vec![false], "{}: the campaign is paused", t.label);
        t.store
            .set_campaign_state("sales", crate::CampaignState::Running)
            .await
            .unwrap();
        // a is frozen past its lease; b takes over.
        let epoch = a.fence().epoch(&key).unwrap();
        let mut b = quick(&t.store, "b");
        let start = Instant::now();
        while b.hold(&k).await.unwrap().is_empty() {
            assert!(start.elapsed() < Duration::from_secs(15), "{}", t.label);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Its own deadline has passed: refused without the database.
        assert_eq!(
            a_store
                .apply_dialing_writes(&[begin(cid, mine[1].id, "a")])
                .await
                .unwrap(),
            vec![false],
            "{}",
            t.label
        );
        // Even when its clock lies, the database refuses.
        a.fence()
            .set(&key, epoch, Instant::now() + Duration::from_secs(60));
        let writes = [begin(cid, mine[1].id, "a"), begin(cid, mine[2].id, "a")];
        assert_eq!(
            a_store.apply_dialing_writes(&writes).await.unwrap(),
            vec![false, false],
            "{}: a former leader's attempts",
            t.label
        );
        let err = a_store.claim_due_contacts(cid, "a", now_ms(), 2).await;
        assert!(
            matches!(&err, Err(StoreError::NotLeader { key: k }) if *k == key),
            "{}: {err:?}",
            t.label
        );
        let attempts = t.store.campaign_attempts(cid).await.unwrap();
        assert_eq!(
            attempts.len(),
            1,
            "{}: only the attempt under the lease",
            t.label
        );
        let states = t.store.campaign_contact_states(cid).await.unwrap();
        let pending = states.iter().filter(|c| c.state == "pending").count();
        assert_eq!(pending, 2, "{}: the refused claim changed nothing", t.label);
        // The new leader's writes go in.
        let b_store = t.store.with_fence(b.fence());
        t.store.release_hopper("a", Some(cid)).await.unwrap();
        let got = b_store
            .claim_due_contacts(cid, "b", now_ms(), 1)
            .await
            .unwrap();
        let flags = b_store
            .apply_dialing_writes(&[begin(cid, got[0].id, "b")])
            .await
            .unwrap();
        assert_eq!(flags, vec![true], "{}", t.label);
    }
}

#[tokio::test]
async fn a_network_file_system_takes_one_engine() {
    for t in backends().await {
        let mut a = quick(&t.store, "a");
        let mut b = quick(&t.store, "b");
        for l in [&mut a, &mut b] {
            l.network_fs = Some(("/srv/oml".into(), "nfs4".into()));
        }
        let k = keys(&["campaign:1"]);
        assert_eq!(a.hold(&k).await.unwrap(), k, "{}", t.label);
        let err = b.hold(&k).await.unwrap_err().to_string();
        assert!(
            err.contains("/srv/oml") && err.contains("network file system (nfs4)"),
            "{}: {err}",
            t.label
        );
        assert!(b.held().is_empty());
        // The first one stops: the next may run.
        a.release_all().await;
        assert_eq!(b.hold(&k).await.unwrap(), k, "{}", t.label);
    }
}

/// The calls of a dead node get exactly one new follower.
#[tokio::test]
async fn a_dead_nodes_calls_are_adopted_once() {
    for t in backends().await {
        let cid = campaign(&t.store).await;
        let mine = t
            .store
            .claim_due_contacts(cid, "a", now_ms(), 3)
            .await
            .unwrap();
        let writes: Vec<_> = mine.iter().map(|c| begin(cid, c.id, "a")).collect();
        t.store.apply_dialing_writes(&writes).await.unwrap();
        let open = t.store.open_attempts_followed_by_others("b").await.unwrap();
        assert_eq!(open.len(), 3, "{}", t.label);
        assert!(open.iter().all(|o| o.node == "a"));
        let won_b = t.store.adopt_attempts("b", &open[..2]).await.unwrap();
        let won_c = t.store.adopt_attempts("c", &open).await.unwrap();
        assert_eq!(won_b.len(), 2, "{}", t.label);
        assert_eq!(won_c.len(), 1, "{}: only the one b left", t.label);
        assert_eq!(won_c[0].id, open[2].id);
        let by = |n: &'static str| {
            let s = t.store.clone();
            async move { s.open_attempts_followed_by(n).await.unwrap().len() }
        };
        assert_eq!((by("a").await, by("b").await, by("c").await), (0, 2, 1));
        // The row still names the node that placed the call.
        let rows = t.store.campaign_attempts(cid).await.unwrap();
        assert!(rows.iter().all(|r| r.node == "a"), "{}", t.label);
    }
}

/// A lease whose holder died on this machine (kill -9) is taken at once;
/// one held by a process elsewhere waits for its expiry.
#[tokio::test]
async fn a_lease_of_a_dead_local_process_is_taken_at_once() {
    let scope = local::scope().unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let gone = child.id();
    child.wait().unwrap();
    for t in backends().await {
        let far = now_ms() + 3_600_000;
        for (key, holder) in [
            ("node:dead", format!("a#{scope}#{gone}#01")),
            ("node:remote", format!("b#other-host/1#{gone}#02")),
        ] {
            crate::testing::execute(
                &t.store,
                &format!("INSERT INTO dialer_leases (key, holder, node, epoch, expires_at) VALUES ('{key}', '{holder}', 'x', 5, {far})"),
            )
            .await
            .unwrap();
        }
        let mut b = t.store.leadership("b");
        assert!(!b.held_elsewhere("node:dead").await.unwrap(), "{}", t.label);
        assert!(
            b.held_elsewhere("node:remote").await.unwrap(),
            "{}",
            t.label
        );
        let got = b.hold(&keys(&["node:dead", "node:remote"])).await.unwrap();
        assert_eq!(got, keys(&["node:dead"]), "{}", t.label);
        assert_eq!(b.fence().epoch("node:dead"), Some(6), "{}", t.label);
    }
}
