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
        let mut pending: Pending<AmiClient> = Pending::default();
        let mut open = true;
        while open {
            let wait = tokio::time::sleep(FORGET_EVERY);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    m = rx.recv() => match m {
                        Some((client, key)) => pending.push(client, key),
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
            let mut gone = pending.closed(&still_open);
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
            pending.put_back(gone);
        }
    });
    tx
}

/// Records waiting to be deleted, each key once: every reconciliation
/// sends all the records it found again, and a backlog must not grow by
/// its own size each time.
struct Pending<C> {
    queue: Vec<(C, String)>,
    keys: HashSet<String>,
}

impl<C> Default for Pending<C> {
    fn default() -> Self {
        Pending {
            queue: Vec::new(),
            keys: HashSet::new(),
        }
    }
}

impl<C> Pending<C> {
    fn push(&mut self, client: C, key: String) {
        if self.keys.insert(key.clone()) {
            self.queue.push((client, key));
        }
    }

    fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Takes out the records whose attempts are closed (in arrival order:
    /// the last is the newest); the open ones stay.
    fn closed(&mut self, still_open: &HashSet<String>) -> Vec<(C, String)> {
        let (keep, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut self.queue)
            .into_iter()
            .partition(|(_, k)| still_open.contains(k));
        self.queue = keep;
        for (_, k) in &gone {
            self.keys.remove(k);
        }
        gone
    }

    /// The closed records not deleted this round, due next round.
    fn put_back(&mut self, rest: Vec<(C, String)>) {
        for (c, k) in rest {
            self.push(c, k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_sent_again_waits_once() {
        let mut p: Pending<()> = Pending::default();
        for _ in 0..3 {
            for k in ["a", "b", "c"] {
                p.push((), k.into());
            }
        }
        let open: HashSet<String> = ["b".to_string()].into();
        let gone = p.closed(&open);
        let keys: Vec<&str> = gone.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(keys, ["a", "c"]);
        // Not deleted this round and found again by a reconciliation: once.
        p.push((), "c".into());
        p.put_back(gone);
        p.push((), "a".into());
        let open = HashSet::new();
        let mut keys: Vec<String> = p.closed(&open).into_iter().map(|(_, k)| k).collect();
        keys.sort();
        assert_eq!(keys, ["a", "b", "c"]);
        assert!(p.is_empty());
    }
}
