//! Campaign leadership: one engine per campaign paces it, even with several
//! engines on one database (`oml serve` nodes on one PostgreSQL, or
//! `oml serve` next to `oml dialer run`). A task holds, every `every` or
//! when the core's wishes change, the lease of this node's name and of the
//! campaigns the core wants, and tells the core which it holds; it also
//! hands the core the open calls of nodes that stopped (see `orphans.rs`).

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use oml_store::Store;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::core::Input;
use super::msg::Msg;
use super::orphans::orphans;

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
    // Open attempts already handed to the core, by channel id.
    let mut adopted: HashSet<String> = HashSet::new();
    loop {
        let had_name = leadership.held().contains(&node_key);
        let mut wanted = if had_name {
            want.borrow_and_update().clone()
        } else {
            BTreeSet::new()
        };
        wanted.insert(node_key.clone());
        let mut named = false;
        let held: HashSet<i64> = match leadership.hold(&wanted).await {
            Ok(held) if !held.contains(&node_key) => {
                if !name_taken_logged {
                    tracing::error!(%node, "dialer: another engine runs as node {node} on this database; this one paces nothing until it has a name of its own (`oml dialer run --node NAME` or `[dialer] node_name` in oml.toml)");
                    name_taken_logged = true;
                }
                HashSet::new()
            }
            Ok(held) => {
                if last_error.take().is_some() {
                    tracing::info!("dialer: campaign leadership works again");
                }
                if !had_name {
                    // The name is ours: ask for the campaigns right away.
                    name_taken_logged = false;
                    continue;
                }
                named = true;
                held.iter()
                    .filter_map(|k| k.strip_prefix("campaign:")?.parse().ok())
                    .collect()
            }
            Err(e) => {
                let text = e.to_string();
                if last_error.as_deref() != Some(text.as_str()) {
                    tracing::warn!(error = %text, "dialer: cannot hold campaign leadership; not pacing until it can");
                    last_error = Some(text);
                }
                HashSet::new()
            }
        };
        if last.as_ref() != Some(&(named, held.clone())) {
            let msg = Input::Leading {
                named,
                campaigns: held.clone(),
            };
            if tx.send(Msg::Input(msg)).is_err() {
                break;
            }
            last = Some((named, held.clone()));
        }
        if !held.is_empty() {
            match orphans(&store, &mut leadership, &node, &held, &mut adopted).await {
                Ok(open) if !open.is_empty() => {
                    adopted.extend(open.iter().map(|a| a.channel_id.clone()));
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
        tokio::select! {
            _ = cancel.cancelled() => break,
            r = want.changed() => if r.is_err() { break },
            _ = tokio::time::sleep(every) => {}
        }
    }
    leadership.release_all().await;
}
