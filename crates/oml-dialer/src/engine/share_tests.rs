//! The sharing plan: assigned campaigns taken (and asked for), held ones
//! handed over only to the assigned node that asked, runner-up after the
//! wait, nothing taken from a live leader.

use super::*;

const WAIT: Duration = Duration::from_secs(4);

fn nodes(names: &[&str]) -> Vec<Node> {
    names
        .iter()
        .map(|n| Node {
            name: n.to_string(),
            capacity: 100,
        })
        .collect()
}

/// A campaign id `assign` gives to `node` among `all`.
fn owned_by(node: &str, all: &[Node]) -> i64 {
    (1..1000)
        .find(|c| choose(&campaign_key(*c), all).unwrap().node == node)
        .unwrap()
}

#[test]
fn takes_its_share_and_asks_for_what_another_node_holds() {
    let all = nodes(&["a", "b", "c"]);
    let mine = owned_by("a", &all);
    let theirs = owned_by("b", &all);
    let mut s = Sharing::new("a", WAIT);
    let mut seen = Seen {
        nodes: all.clone(),
        ..Default::default()
    };
    let now = Instant::now();
    let wanted = BTreeSet::from([mine, theirs]);
    let p = s.plan(&seen, &wanted, |_| None, now);
    assert_eq!(p.hold.keys().collect::<Vec<_>>(), vec![&campaign_key(mine)]);
    assert!(p.hold[&campaign_key(mine)].starts_with("assigned by weight"));
    assert!(p.ask.is_empty());
    // c holds a's campaign (it led before a joined): a asks for it.
    seen.leaders.insert(mine, ("c".into(), false));
    let p = s.plan(&seen, &wanted, |_| None, now);
    assert_eq!(p.ask, vec![campaign_key(mine)]);
    // Alone, everything is a's.
    let alone = Seen {
        nodes: nodes(&["a"]),
        ..Default::default()
    };
    let p = s.plan(&alone, &wanted, |_| None, now);
    assert_eq!(p.hold.len(), 2);
    assert!(p.hold.values().all(|r| r == "only live node"));
}

#[test]
fn hands_over_only_to_the_assigned_node_that_asked() {
    let all = nodes(&["a", "b"]);
    let theirs = owned_by("b", &all);
    let key = campaign_key(theirs);
    let mut s = Sharing::new("a", WAIT);
    let seen = Seen {
        nodes: all,
        leaders: HashMap::from([(theirs, ("a".into(), true))]),
    };
    let wanted = BTreeSet::from([theirs]);
    let now = Instant::now();
    let p = s.plan(&seen, &wanted, |_| None, now);
    assert!(p.hold[&key].starts_with("kept until b asks"), "{p:?}");
    let p = s.plan(&seen, &wanted, |_| Some("z"), now);
    assert!(p.hold.contains_key(&key), "z is not assigned it");
    let p = s.plan(&seen, &wanted, |_| Some("b"), now);
    assert!(p.hold.is_empty(), "handed over to b");
}

#[test]
fn runner_up_after_the_wait_never_from_a_live_leader() {
    let all = nodes(&["a", "b"]);
    let theirs = owned_by("b", &all);
    let key = campaign_key(theirs);
    let mut s = Sharing::new("a", WAIT);
    let mut seen = Seen {
        nodes: all,
        ..Default::default()
    };
    let wanted = BTreeSet::from([theirs]);
    let t0 = Instant::now();
    assert!(s.plan(&seen, &wanted, |_| None, t0).hold.is_empty());
    let p = s.plan(
        &seen,
        &wanted,
        |_| None,
        t0 + WAIT - Duration::from_millis(1),
    );
    assert!(p.hold.is_empty(), "not before the wait");
    let p = s.plan(&seen, &wanted, |_| None, t0 + WAIT);
    assert!(p.hold[&key].starts_with("runner-up: b"), "{p:?}");
    // b leads it meanwhile: nothing taken, and the wait starts again.
    seen.leaders.insert(theirs, ("b".into(), false));
    assert!(s
        .plan(&seen, &wanted, |_| None, t0 + WAIT * 2)
        .hold
        .is_empty());
    seen.leaders.clear();
    assert!(s
        .plan(&seen, &wanted, |_| None, t0 + WAIT * 2)
        .hold
        .is_empty());
    // A campaign no longer wanted is forgotten.
    assert!(s
        .plan(&seen, &BTreeSet::new(), |_| None, t0)
        .hold
        .is_empty());
    assert!(s.free_since.is_empty());
}
