//! The survey on both databases: nodes with their capacity, campaigns with
//! their leader and reason, and a hand-over asked for and seen.

use std::collections::BTreeMap;

use crate::testing::backends;
use crate::DEFAULT_CAPACITY;

fn want(k: &[(&str, &str)]) -> BTreeMap<String, String> {
    k.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn nodes_capacities_reasons_and_a_hand_over_asked_for() {
    for t in backends().await {
        let mut a = t.store.leadership("a").with_capacity(50);
        let mut b = t.store.leadership("b");
        a.hold_for(&want(&[("node:a", ""), ("campaign:1", "assigned")]))
            .await
            .unwrap();
        b.hold_for(&want(&[("node:b", ""), ("campaign:1", "mine too")]))
            .await
            .unwrap();
        let rows = b.survey().await.unwrap();
        let row = |k: &str| rows.iter().find(|r| r.key == k).unwrap().clone();
        assert_eq!(row("node:a").capacity, Some(50), "{}", t.label);
        assert_eq!(row("node:b").capacity, Some(DEFAULT_CAPACITY));
        assert_eq!(row("node:b").node_name(), Some("b"));
        assert!(row("node:b").mine && !row("node:a").mine);
        let c = row("campaign:1");
        assert_eq!((c.node.as_str(), c.campaign()), ("a", Some(1)));
        assert_eq!(c.reason.as_deref(), Some("assigned"), "{}", t.label);
        assert_eq!((c.capacity, c.asked_by), (None, None));
        // b asks; a sees it at its next renewal, and lets go.
        b.ask_for("campaign:1").await.unwrap();
        a.hold_for(&want(&[("node:a", ""), ("campaign:1", "assigned")]))
            .await
            .unwrap();
        assert_eq!(a.asked_by("campaign:1"), Some("b"), "{}", t.label);
        a.hold_for(&want(&[("node:a", "")])).await.unwrap();
        let held = b
            .hold_for(&want(&[("node:b", ""), ("campaign:1", "assigned to b")]))
            .await
            .unwrap();
        assert!(held.contains("campaign:1"), "{}", t.label);
        assert_eq!(b.asked_by("campaign:1"), None, "cleared for the new holder");
        let rows = t.store.live_leases().await.unwrap();
        let c = rows.iter().find(|r| r.key == "campaign:1").unwrap();
        assert_eq!(c.node, "b");
        assert_eq!(c.reason.as_deref(), Some("assigned to b"));
        assert_eq!(c.asked_by, None, "{}", t.label);
        // A node that stops is no longer listed.
        a.release_all().await;
        let rows = t.store.live_leases().await.unwrap();
        assert!(rows.iter().all(|r| r.node != "a"), "{}", t.label);
    }
}
