//! Campaign leadership: one engine per campaign paces it, even with several
//! engines on one database (`oml serve` nodes on one PostgreSQL, or
//! `oml serve` next to `oml dialer run`). A task renews, every `every` or
//! when the core's wishes change, the lease of this node's name and of the
//! campaigns the core wants (`oml_store::Leadership`), and tells the core
//! which it holds — also the moment a lease reaches this engine's own
//! deadline unrenewed (the database is unreachable or too slow): the
//! engine then stops pacing that campaign by itself, before any other node
//! may take it. It also hands the core the open calls of nodes that
//! stopped (see `orphans.rs`).
//!
//! Several nodes share the campaigns: each period the task reads the live
//! lease rows and tries to lead only the campaigns the weighted assignment
//! gives this node among the live ones (`share.rs`): one it holds for
//! another node is let go when that node asks for it (the core then stops
//! placing its calls; the calls already up end here), and one whose
//! assigned node leaves it unled for a lease time is taken as runner-up.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use oml_store::Store;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::core::Input;
use super::msg::Msg;
use super::orphans::orphans;
use super::share::{Plan, Seen, Sharing};
use crate::assign::Node;

/// What the lease rows say, for the plan.
fn seen_of(rows: &[oml_store::LeaseRow]) -> Seen {
    let mut seen = Seen::default();
    for r in rows {
        if let (Some(name), Some(capacity)) = (r.node_name(), r.capacity) {
            seen.nodes.push(Node {
                name: name.to_owned(),
                capacity,
            });
        } else if let Some(c) = r.campaign() {
            seen.leaders.insert(c, (r.node.clone(), r.mine));
        }
    }
    seen
}

/// The campaign ids of the core's wishes.
fn ids(wanted: &BTreeSet<String>) -> BTreeSet<i64> {
    wanted
        .iter()
        .filter_map(|k| k.strip_prefix("campaign:")?.parse().ok())
        .collect()
}

/// The leadership task. A lease this node cannot get is another node's: it
/// paces that campaign and this one does not dial for it. First of all it
/// holds its node name's lease: two engines under one name would release
/// each other's claims, so the second one paces nothing until it has a
/// name of its own.
pub(super) async fn lead(
    store: Store,
    mut leadership: oml_store::Leadership,
    node: String,
    mut want: watch::Receiver<BTreeSet<String>>,
    tx: mpsc::UnboundedSender<Msg>,
    cancel: CancellationToken,
    every: Duration,
) {
    let mut last: Option<(bool, HashSet<i64>)> = None;
    let mut last_error: Option<String> = None;
    let node_key = format!("node:{node}");
    let mut name_taken_logged = false;
    let mut sharing = Sharing::new(&node, leadership.ttl());
    // The last plan, kept while the lease rows cannot be read.
    let mut last_plan = Plan::default();
    loop {
        let had_name = leadership.held().contains(&node_key);
        let wanted = if had_name {
            want.borrow_and_update().clone()
        } else {
            BTreeSet::new()
        };
        let plan = match leadership.survey().await {
            Ok(rows) if had_name => {
                let asked = |k: &str| leadership.asked_by(k);
                sharing.plan(
                    &seen_of(&rows),
                    &ids(&wanted),
                    asked,
                    std::time::Instant::now(),
                )
            }
            Ok(_) => Plan::default(),
            Err(_) => Plan {
                hold: last_plan
                    .hold
                    .iter()
                    .filter(|(k, _)| wanted.contains(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                ask: Vec::new(),
            },
        };
        let mut hold: BTreeMap<String, String> = plan.hold.clone();
        hold.insert(node_key.clone(), String::new());
        let held = match leadership.hold_for(&hold).await {
            Ok(held) => {
                if last_error.take().is_some() {
                    tracing::info!("dialer: campaign leadership works again");
                }
                held
            }
            Err(e) => {
                let text = e.to_string();
                if last_error.as_deref() != Some(text.as_str()) {
                    tracing::warn!(error = %text, "dialer: cannot renew campaign leadership; pacing goes on only until each lease's deadline");
                    last_error = Some(text);
                }
                // What is still held until its deadline.
                leadership.held()
            }
        };
        for key in plan.ask.iter().filter(|k| !held.contains(*k)) {
            if let Err(e) = leadership.ask_for(key).await {
                tracing::warn!(error = %e, %key, "dialer: cannot ask for an assigned campaign");
            }
        }
        last_plan = plan;
        let named = held.contains(&node_key);
        if !named && last_error.is_none() && !name_taken_logged {
            tracing::error!(%node, "dialer: another engine runs as node {node} on this database; this one paces nothing until it has a name of its own (`oml dialer run --node NAME` or `[dialer] node_name` in oml.toml)");
            name_taken_logged = true;
        }
        if named && !had_name {
            // The name is ours: ask for the campaigns right away.
            name_taken_logged = false;
            continue;
        }
        let campaigns: HashSet<i64> = if named {
            held.iter()
                .filter_map(|k| k.strip_prefix("campaign:")?.parse().ok())
                .collect()
        } else {
            HashSet::new()
        };
        if last.as_ref() != Some(&(named, campaigns.clone())) {
            let msg = Input::Leading {
                named,
                campaigns: campaigns.clone(),
            };
            if tx.send(Msg::Input(msg)).is_err() {
                break;
            }
            last = Some((named, campaigns.clone()));
        }
        if named {
            match orphans(&store, &leadership, &node, &campaigns).await {
                Ok(open) if !open.is_empty() => {
                    if tx.send(Msg::Input(Input::Adopt(open))).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "dialer: cannot look for calls of stopped nodes")
                }
            }
        }
        // Wake at the next period, or when a lease reaches its deadline
        // first (the core must stop pacing that campaign then).
        let mut wake = Instant::now() + every;
        if let Some(d) = leadership.next_deadline() {
            wake = wake.min(Instant::from_std(d));
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            r = want.changed() => if r.is_err() { break },
            _ = tokio::time::sleep_until(wake) => {}
        }
    }
    leadership.release_all().await;
}
