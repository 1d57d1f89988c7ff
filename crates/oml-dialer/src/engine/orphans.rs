//! What stopped engines left behind: the open attempts of nodes that no
//! longer run (followed by the node that paces their campaign now), and,
//! when this node takes its name, the hopper and open attempts a previous
//! run under the same name left. Nothing is redialed blindly: open calls
//! are reconciled with their server's channels by the core.

use std::collections::{HashMap, HashSet};

use oml_store::dialing::OpenAttempt;
use oml_store::Store;
use tokio::sync::mpsc;

use super::core::Input;
use super::msg::Msg;

/// Open attempts, in campaigns this node paces, of nodes that no longer
/// run (their node lease is free), and not handed over yet (`adopted`).
pub(super) async fn orphans(
    store: &Store,
    leadership: &mut oml_store::Leadership,
    node: &str,
    leading: &HashSet<i64>,
    adopted: &mut HashSet<String>,
) -> oml_store::Result<Vec<OpenAttempt>> {
    let all = store.open_attempts_of_others(node).await?;
    // Forget adopted calls that have ended.
    let still_open: HashSet<&str> = all.iter().map(|a| a.channel_id.as_str()).collect();
    adopted.retain(|c| still_open.contains(c.as_str()));
    let open: Vec<_> = all
        .into_iter()
        .filter(|a| leading.contains(&a.campaign_id) && !adopted.contains(&a.channel_id))
        .collect();
    let mut alive: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for a in open {
        let running = match alive.get(&a.node) {
            Some(r) => *r,
            None => {
                let r = leadership
                    .held_elsewhere(&format!("node:{}", a.node))
                    .await?;
                alive.insert(a.node.clone(), r);
                r
            }
        };
        if !running {
            out.push(a);
        }
    }
    Ok(out)
}

/// This node now holds its name: contacts a previous run under it left in
/// the hopper go back to pending, and the attempts it left open go to the
/// core. The core claims nothing until this answers (always, errors
/// logged), so the release can never undo a claim of this run.
pub(super) fn recover_name(store: Store, node: String, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        if let Err(e) = store.release_hopper(&node, None).await {
            tracing::error!(error = %e, "dialer: cannot release the previous hopper");
        }
        let open = match store.open_attempts(Some(&node)).await {
            Ok(open) => open,
            Err(e) => {
                tracing::error!(error = %e, "dialer: cannot read open attempts");
                Vec::new()
            }
        };
        let _ = tx.send(Msg::Input(Input::NameRecovered(open)));
    });
}
