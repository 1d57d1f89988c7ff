//! Which live dialer node should lead each campaign: rendezvous (highest
//! random weight) hashing, weighted by each node's capacity. Every node
//! computes the same answer from the same list of live nodes, with no
//! coordination; a node joining takes only the campaigns it now wins, a
//! node leaving gives up only its own, and a node with twice the capacity
//! wins about twice the campaigns. Pure: names and capacities in, owners
//! out. The hash is spelled out here (FNV-1a, then a SplitMix64 finish) so
//! that nodes built by different compilers agree.

use std::collections::BTreeMap;

/// A live node as the assignment sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// Its share of the work (e.g. its agents or CPU cores); 0 takes none.
    pub capacity: u32,
}

/// Why a node leads a campaign, for `oml dialer status`, the console and
/// the API.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub node: String,
    /// Its score for the campaign (the highest).
    pub score: f64,
    /// The node that would lead it if this one left, and its score.
    pub next: Option<(String, f64)>,
    /// Live nodes that could take campaigns.
    pub candidates: usize,
}

impl Choice {
    /// One line saying why.
    pub fn reason(&self) -> String {
        let next = match &self.next {
            Some((n, _)) => format!("; {n} if it leaves"),
            None => String::new(),
        };
        format!(
            "highest capacity-weighted score of {} live node{}{next}",
            self.candidates,
            if self.candidates == 1 { "" } else { "s" }
        )
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn finish(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Node `node`'s score for `campaign`: `capacity / -ln(u)` with `u` in
/// (0, 1) drawn from both names — the weighted rendezvous score, whose
/// winner is each node with probability capacity / total.
pub fn score(campaign: &str, node: &Node) -> f64 {
    if node.capacity == 0 {
        return 0.0;
    }
    let h = finish(fnv1a(campaign.as_bytes()) ^ finish(fnv1a(node.name.as_bytes())));
    let u = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    f64::from(node.capacity) / -u.ln()
}

/// The nodes that can take `campaign`, best first (ties by name).
fn ranking<'a>(campaign: &str, nodes: &'a [Node]) -> Vec<(&'a Node, f64)> {
    let mut r: Vec<(&Node, f64)> = nodes
        .iter()
        .filter(|n| n.capacity > 0)
        .map(|n| (n, score(campaign, n)))
        .collect();
    r.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.name.cmp(&b.0.name)));
    r
}

/// The node that should lead `campaign`, and why; `None` when no live
/// node has capacity.
pub fn choose(campaign: &str, nodes: &[Node]) -> Option<Choice> {
    let r = ranking(campaign, nodes);
    let (best, score) = r.first()?;
    Some(Choice {
        node: best.name.clone(),
        score: *score,
        next: r.get(1).map(|(n, s)| (n.name.clone(), *s)),
        candidates: r.len(),
    })
}

/// Every campaign's node (campaigns no node can take are left out).
pub fn assign<'c>(campaigns: &[&'c str], nodes: &[Node]) -> BTreeMap<&'c str, String> {
    campaigns
        .iter()
        .filter_map(|c| choose(c, nodes).map(|ch| (*c, ch.node)))
        .collect()
}

#[cfg(test)]
#[path = "assign_tests.rs"]
mod tests;
