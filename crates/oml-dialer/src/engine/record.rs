//! The PBX's attempt records (see [`crate::pbx_record`]) from the engine's
//! side: read with the channels when calls are reconciled, and deleted
//! once the attempt's outcome is stored. Deleting waits for the database:
//! every few seconds the attempts still open (on any node) are read and
//! only the records of closed ones go, so a record outlives a database
//! outage or a crash before the outcome was written. The newest go first.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use oml_ami::{actions, AmiClient};
use oml_store::Store;
use tokio::sync::mpsc;

use crate::pbx_record::{parse_tree, PbxRecord, FAMILY};

/// How often ended attempts' records are deleted.
const FORGET_EVERY: Duration = Duration::from_secs(5);

/// Every attempt record the server holds (empty when it cannot say: an
/// Asterisk before 16.28 has no `DBGetTree`, or the AMI user may not read).
pub(super) async fn read(client: &AmiClient) -> HashMap<String, PbxRecord> {
    match client.send(actions::db_get_tree(FAMILY, None)).await {
        Ok(r) if r.is_success() => parse_tree(&r.events),
        Ok(r) => {
            tracing::warn!(message = %r.text(), "dialer: the PBX did not list its attempt records (DBGetTree); calls that ended unseen count as unknown");
            HashMap::new()
        }
        Err(e) => {
            tracing::warn!(error = %e, "dialer: cannot read the PBX's attempt records (DBGetTree); calls that ended unseen count as unknown");
            HashMap::new()
        }
    }
}

/// Starts the task deleting records of ended attempts; send it
/// `(client, channel id)` for each. It ends when every sender is dropped,
/// after one last round.
pub(super) fn forgetter(store: Store) -> mpsc::UnboundedSender<(AmiClient, String)> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(AmiClient, String)>();
    tokio::spawn(async move {
        let mut pending: Vec<(AmiClient, String)> = Vec::new();
        let mut open = true;
        while open {
            let wait = tokio::time::sleep(FORGET_EVERY);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    m = rx.recv() => match m {
                        Some(p) => pending.push(p),
                        None => { open = false; break; }
                    },
                    _ = &mut wait => break,
                }
            }
            if pending.is_empty() {
                continue;
            }
            let still_open: HashSet<String> = match store.open_attempts(None).await {
                Ok(a) => a.into_iter().map(|a| a.channel_id).collect(),
                // The database cannot say: keep every record for now.
                Err(_) => continue,
            };
            let (keep, mut gone): (Vec<_>, Vec<_>) =
                pending.drain(..).partition(|(_, k)| still_open.contains(k));
            // Newest first, and for one period at most: a backlog of stale
            // records (thousands left by a crash or a benchmark, each
            // DBDelTree slow on a large AstDB) never holds up the records
            // of calls that just ended; what is left waits for next round.
            let until = tokio::time::Instant::now() + FORGET_EVERY;
            while tokio::time::Instant::now() < until {
                let Some((client, key)) = gone.pop() else {
                    break;
                };
                if let Err(e) = client.db_deltree(FAMILY, Some(&key)).await {
                    tracing::debug!(error = %e, channel = %key, "dialer: cannot delete the PBX's record of an ended attempt");
                }
            }
            pending = gone;
            pending.extend(keep);
        }
    });
    tx
}
