//! What the database has not taken yet, in order: the writer's backlog.
//! Entries go to the journal (fsynced) while it has room, to memory once it
//! is full or cannot be written (never dropped); they are replayed, oldest
//! first, before any newer write, so the database sees the engine's writes
//! in the order they were decided. Replaying twice is harmless: an ended
//! attempt keeps its first outcome, progress only touches open attempts,
//! a release only pending-s this node's hopper contacts.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use oml_store::dialing::DialingWrite;
use oml_store::Store;

use super::journal::{Entry, Journal};
use super::Metrics;

/// Writes replayed in one transaction at most.
const CHUNK: usize = 2000;

pub(super) struct Backlog {
    journal: Option<Journal>,
    node: String,
    /// Every entry not yet stored, oldest first; the first `on_disk` are in
    /// the journal (and were there before the rest).
    entries: Vec<Entry>,
    on_disk: usize,
    /// Entries already stored in this run (the journal keeps them until it
    /// is emptied; replaying them again after a crash is harmless).
    done: usize,
    metrics: Arc<Metrics>,
}

impl Backlog {
    /// The backlog over `journal` (none: memory only), starting with what
    /// a previous run left in it.
    pub(super) fn new(
        mut journal: Option<Journal>,
        node: String,
        metrics: Arc<Metrics>,
    ) -> Backlog {
        let mut entries = Vec::new();
        if let Some(j) = journal.as_mut() {
            match j.read() {
                Ok(e) => entries = e,
                Err(e) => {
                    // Its entries cannot be read back: keep the file as it
                    // is (nothing appended to it) and say what to do.
                    tracing::error!(error = %e, "dialer: cannot read the journal; outcomes the database did not take are kept in memory only");
                    journal = None;
                }
            }
        }
        if !entries.is_empty() {
            tracing::warn!(
                entries = entries.len(),
                "dialer: the journal holds what the database did not take in the last run; storing it before anything else"
            );
        }
        let on_disk = entries.len();
        let b = Backlog {
            journal,
            node,
            entries,
            on_disk,
            done: 0,
            metrics,
        };
        b.count();
        b
    }

    /// Whether everything decided so far is stored.
    pub(super) fn is_empty(&self) -> bool {
        self.done == self.entries.len()
    }

    fn count(&self) {
        let waiting = (self.entries.len() - self.done) as u64;
        self.metrics.unrecorded.store(waiting, Ordering::Relaxed);
    }

    /// Keeps entries the database did not take, after those kept before.
    pub(super) fn keep(&mut self, new: Vec<Entry>) {
        if new.is_empty() {
            return;
        }
        let in_order = self.on_disk == self.entries.len();
        if let (Some(j), true) = (self.journal.as_mut(), in_order) {
            match j.append(&new) {
                Ok(()) => self.on_disk += new.len(),
                Err(e) => {
                    tracing::error!(error = %e, kept_in_memory = new.len(), "dialer: cannot journal what the database did not take; kept in memory, no new calls until it is stored")
                }
            }
        }
        self.entries.extend(new);
        self.count();
    }

    /// Stores the backlog, oldest first; true once it is all stored. Stops
    /// at the first failure (what is left is tried again later).
    pub(super) async fn replay(&mut self, store: &Store) -> bool {
        while !self.is_empty() {
            let rest = &self.entries[self.done..];
            let (n, result) = match &rest[0] {
                Entry::Release(ids) => (1, store.release_contacts(&self.node, ids).await.map(drop)),
                Entry::Write(_) => {
                    let writes: Vec<DialingWrite> = rest
                        .iter()
                        .take(CHUNK)
                        .map_while(|e| match e {
                            Entry::Write(w) => Some(w.clone()),
                            Entry::Release(_) => None,
                        })
                        .collect();
                    let r = store.apply_dialing_writes(&writes).await.map(drop);
                    (writes.len(), r)
                }
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, waiting = rest.len(), "dialer: the database does not take the backlog yet; no new calls until it does");
                return false;
            }
            self.done += n;
            self.count();
        }
        if !self.entries.is_empty() {
            tracing::info!(
                entries = self.entries.len(),
                "dialer: the database took every outcome it had missed; dialing again"
            );
        }
        if let Some(j) = self.journal.as_mut() {
            if j.bytes() > 0 {
                if let Err(e) = j.clear() {
                    tracing::warn!(error = %e, "dialer: cannot empty the journal (its entries, already stored, are stored again at the next start)");
                }
            }
        }
        self.entries.clear();
        self.on_disk = 0;
        self.done = 0;
        self.count();
        true
    }

    /// At shutdown: what is still in memory only (not journaled).
    pub(super) fn in_memory_only(&self) -> usize {
        self.entries.len() - self.on_disk.max(self.done)
    }
}
