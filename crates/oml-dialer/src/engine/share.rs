//! Which of the campaigns this node's core wants it should try to lead,
//! given what the lease rows say (live nodes with their capacity, each
//! campaign's leader): the campaigns `assign` gives it, the ones it holds
//! until their assigned node asks for them, and, as runner-up, those whose
//! assigned node has left them unled for a lease time. Pure: the
//! leadership task (`leadership.rs`) reads the rows and carries out the
//! plan; the reasons go on the lease rows for `oml dialer status`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use oml_store::campaign_key;

use crate::assign::{choose, Node};

/// What the lease rows say now.
#[derive(Debug, Default, Clone)]
pub(super) struct Seen {
    /// The live nodes (this one included once it holds its name).
    pub nodes: Vec<Node>,
    /// Campaign id -> the node leading it, and whether it is this engine.
    pub leaders: HashMap<i64, (String, bool)>,
}

/// The leases to hold (key -> reason) and the ones to ask for.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Plan {
    pub hold: BTreeMap<String, String>,
    pub ask: Vec<String>,
}

/// The sharing state of one node: since when each unled campaign it is not
/// assigned has been seen without a leader.
#[derive(Debug)]
pub(super) struct Sharing {
    me: String,
    /// How long a campaign stays unled before a runner-up takes it.
    wait: Duration,
    free_since: HashMap<i64, Instant>,
}

/// The reason of a campaign led by the node `assign` gives it.
fn assigned_reason(candidates: usize, next: Option<&str>) -> String {
    match (candidates, next) {
        (1, _) | (_, None) => "only live node".into(),
        (n, Some(next)) => format!(
            "assigned by weight (highest capacity-weighted score of {n} live nodes; {next} next)"
        ),
    }
}

impl Sharing {
    pub(super) fn new(me: &str, wait: Duration) -> Sharing {
        Sharing {
            me: me.to_owned(),
            wait,
            free_since: HashMap::new(),
        }
    }

    /// The plan for the campaigns `wanted` at `now`; `asked(key)` is the
    /// node that asked for a campaign this engine holds.
    pub(super) fn plan<'a>(
        &mut self,
        seen: &Seen,
        wanted: &BTreeSet<i64>,
        asked: impl Fn(&str) -> Option<&'a str>,
        now: Instant,
    ) -> Plan {
        let mut plan = Plan::default();
        self.free_since.retain(|c, _| wanted.contains(c));
        for &c in wanted {
            let key = campaign_key(c);
            let leader = seen.leaders.get(&c);
            if leader.is_some() {
                self.free_since.remove(&c);
            }
            let Some(choice) = choose(&key, &seen.nodes) else {
                // No live node has capacity (not even this one yet).
                if leader.is_none_or(|(_, mine)| *mine) {
                    plan.hold.insert(key, "no live node has capacity".into());
                }
                continue;
            };
            if choice.node == self.me {
                let next = choice.next.as_ref().map(|(n, _)| n.as_str());
                plan.hold
                    .insert(key.clone(), assigned_reason(choice.candidates, next));
                if leader.is_some_and(|(_, mine)| !mine) {
                    plan.ask.push(key);
                }
                continue;
            }
            match leader {
                Some((_, true)) => {
                    // Held here: handed over once its assigned node asks.
                    if asked(&key) != Some(choice.node.as_str()) {
                        let why = format!(
                            "kept until {} asks for it (assigned by weight)",
                            choice.node
                        );
                        plan.hold.insert(key, why);
                    }
                }
                Some((_, false)) => {}
                None => {
                    let since = *self.free_since.entry(c).or_insert(now);
                    if now.saturating_duration_since(since) >= self.wait {
                        let why = format!(
                            "runner-up: {} (assigned by weight) left it unled for {} s",
                            choice.node,
                            self.wait.as_secs()
                        );
                        plan.hold.insert(key, why);
                    }
                }
            }
        }
        plan
    }
}

#[cfg(test)]
#[path = "share_tests.rs"]
mod tests;
