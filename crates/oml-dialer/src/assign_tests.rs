//! The assignment's promises, as properties over random node lists: the
//! same answer whatever the order, minimal movement when a node joins,
//! leaves or changes capacity, and shares that follow capacity.

use proptest::prelude::*;

use super::*;

fn node(name: &str, capacity: u32) -> Node {
    Node {
        name: name.into(),
        capacity,
    }
}

fn campaigns(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("campaign:{i}")).collect()
}

fn refs(c: &[String]) -> Vec<&str> {
    c.iter().map(String::as_str).collect()
}

/// 1 to 6 nodes with distinct names and capacities 1 to 8.
fn nodes() -> impl Strategy<Value = Vec<Node>> {
    proptest::collection::btree_map("[a-z][a-z0-9-]{0,11}", 1u32..=8, 1..=6)
        .prop_map(|m| m.into_iter().map(|(n, c)| node(&n, c)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_same_answer_whatever_the_order(ns in nodes(), rot in 0usize..6) {
        let cs = campaigns(200);
        let a = assign(&refs(&cs), &ns);
        let mut turned = ns.clone();
        turned.rotate_left(rot % ns.len());
        turned.reverse();
        prop_assert_eq!(&a, &assign(&refs(&cs), &turned));
        prop_assert_eq!(a.len(), cs.len());
    }

    #[test]
    fn a_joining_node_only_takes_campaigns(ns in nodes(), cap in 1u32..=8) {
        let cs = campaigns(300);
        let before = assign(&refs(&cs), &ns);
        let mut more = ns.clone();
        more.push(node("joining.node", cap));
        let after = assign(&refs(&cs), &more);
        for c in refs(&cs) {
            prop_assert!(after[c] == before[c] || after[c] == "joining.node",
                "{} moved from {} to {}", c, before[c], after[c]);
        }
    }

    #[test]
    fn a_leaving_node_only_gives_up_its_own(ns in nodes(), which in 0usize..6) {
        prop_assume!(ns.len() > 1);
        let cs = campaigns(300);
        let before = assign(&refs(&cs), &ns);
        let gone = ns[which % ns.len()].name.clone();
        let rest: Vec<Node> = ns.iter().filter(|n| n.name != gone).cloned().collect();
        let after = assign(&refs(&cs), &rest);
        for c in refs(&cs) {
            if before[c] != gone {
                prop_assert_eq!(&after[c], &before[c], "{} moved", c);
            } else {
                prop_assert_ne!(&after[c], &gone);
            }
        }
    }

    #[test]
    fn more_capacity_only_draws_campaigns_in(ns in nodes(), which in 0usize..6, add in 1u32..=8) {
        let cs = campaigns(300);
        let before = assign(&refs(&cs), &ns);
        let mut bigger = ns.clone();
        let i = which % ns.len();
        bigger[i].capacity += add;
        let grown = bigger[i].name.clone();
        let after = assign(&refs(&cs), &bigger);
        for c in refs(&cs) {
            prop_assert!(after[c] == before[c] || after[c] == grown, "{} moved", c);
        }
    }

    #[test]
    fn shares_follow_capacity(ns in nodes()) {
        let cs = campaigns(4000);
        let a = assign(&refs(&cs), &ns);
        let total: u32 = ns.iter().map(|n| n.capacity).sum();
        for n in &ns {
            let got = a.values().filter(|v| **v == n.name).count() as f64 / cs.len() as f64;
            let want = f64::from(n.capacity) / f64::from(total);
            // 4,000 draws: one standard deviation is at most 0.8 points.
            prop_assert!((got - want).abs() < 0.04,
                "{} (capacity {} of {}) has {:.3} of the campaigns, expected {:.3}",
                n.name, n.capacity, total, got, want);
        }
    }
}

#[test]
fn no_capacity_takes_nothing_and_the_reason_names_the_next_node() {
    let ns = [node("a", 0), node("b", 3), node("c", 1)];
    let cs = campaigns(100);
    assert!(assign(&refs(&cs), &ns).values().all(|n| n != "a"));
    assert_eq!(choose("campaign:1", &[node("a", 0)]), None);
    let ch = choose("campaign:1", &ns).unwrap();
    assert_eq!(ch.candidates, 2);
    let other = if ch.node == "b" { "c" } else { "b" };
    assert_eq!(ch.next.as_ref().map(|(n, _)| n.as_str()), Some(other));
    assert!(ch.next.as_ref().unwrap().1 <= ch.score);
    assert_eq!(
        ch.reason(),
        format!("highest capacity-weighted score of 2 live nodes; {other} if it leaves")
    );
}

#[test]
fn the_hash_is_fixed_across_builds() {
    // Nodes built by different compilers must agree: these values are the
    // algorithm's, not the standard library's (whose hasher may change).
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(finish(0), 0xe220_a839_7b1d_cdaf);
}
