//! What stopped engines left behind: the open attempts of nodes that no
//! longer run, in every campaign state (running, paused, stopped,
//! finished), and, when this node takes its name, the hopper and open
//! attempts a previous run under the same name left. A running campaign's
//! orphans go to the node that paces it; those of a campaign nobody paces
//! go to any live node. Adoption is a compare-and-set in the database
//! (`Store::adopt_attempts`), so each call gets exactly one follower.
//! Nothing is redialed blindly: open calls are reconciled with their
//! server's channels by the core.

use std::collections::{HashMap, HashSet};

use oml_store::dialing::OpenAttempt;
use oml_store::{campaign_key, Store};
use tokio::sync::mpsc;

use super::core::Input;
use super::msg::Msg;

/// Open attempts this node now follows: those of nodes that no longer run
/// (their node lease lapsed past the take-over margin), in campaigns this
/// node paces or nobody paces.
pub(super) async fn orphans(
    store: &Store,
    leadership: &oml_store::Leadership,
    node: &str,
    leading: &HashSet<i64>,
) -> oml_store::Result<Vec<OpenAttempt>> {
    let others = store.open_attempts_followed_by_others(node).await?;
    let mut node_alive: HashMap<String, bool> = HashMap::new();
    let mut led_elsewhere: HashMap<i64, bool> = HashMap::new();
    let mut take = Vec::new();
    for a in others {
        let alive = match node_alive.get(&a.node) {
            Some(r) => *r,
            None => {
                let r = leadership
                    .held_elsewhere(&format!("node:{}", a.node))
                    .await?;
                node_alive.insert(a.node.clone(), r);
                r
            }
        };
        if alive {
            continue;
        }
        if !leading.contains(&a.campaign_id) {
            let elsewhere = match led_elsewhere.get(&a.campaign_id) {
                Some(r) => *r,
                None => {
                    let r = leadership
                        .held_elsewhere(&campaign_key(a.campaign_id))
                        .await?;
                    led_elsewhere.insert(a.campaign_id, r);
                    r
                }
            };
            if elsewhere {
                continue; // its leader adopts them
            }
        }
        take.push(a);
    }
    if take.is_empty() {
        return Ok(take);
    }
    store.adopt_attempts(node, &take).await
}

/// This node now holds its name: contacts a previous run under it left in
/// the hopper go back to pending, and the attempts it left open (and no
/// other node adopted meanwhile) go to the core. The core claims nothing
/// until this answers (always, errors logged), so the release can never
/// undo a claim of this run.
pub(super) fn recover_name(store: Store, node: String, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        if let Err(e) = store.release_hopper(&node, None).await {
            tracing::error!(error = %e, "dialer: cannot release the previous hopper");
        }
        let open = match store.open_attempts_followed_by(&node).await {
            Ok(open) => open,
            Err(e) => {
                tracing::error!(error = %e, "dialer: cannot read open attempts");
                Vec::new()
            }
        };
        let _ = tx.send(Msg::Input(Input::NameRecovered(open)));
    });
}
