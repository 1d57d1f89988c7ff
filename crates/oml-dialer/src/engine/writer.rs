//! The engine's database writer: one task applies the dialer's writes in
//! order and in batches (one transaction per batch), and sends each
//! `Originate` only after its attempt is committed — `UNIQUE (contact_id,
//! attempt_no)` then guarantees a crash never dials an attempt twice.
//! Attempts the store refuses come back to the core, never dialed. What
//! a batch whose commit fails had seen (outcomes, progress, and its
//! attempts' contacts to release) goes to the backlog (`backlog.rs`: the
//! journal on disk, fsynced) and is stored, in order, before any newer
//! write; while it waits no attempt is committed, so no call is placed. A
//! campaign's history is read in order with the writes (after all those
//! asked for before it), so the core can tell which calls it holds.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oml_ami::{AmiClient, AmiError, Originate};
use oml_store::dialing::DialingWrite;
use oml_store::dialplan::INSTANCE_VAR_INHERITED;
use oml_store::pacing_memory::PacingMemory;
use oml_store::Store;
use tokio::sync::mpsc;

use super::backlog::Backlog;
use super::core::{Input, Placement};
use super::journal::Entry;
use super::load;
use super::msg::Msg;
use super::Metrics;

/// What the writer is asked to do, in order.
pub(super) enum WriterOp {
    /// Commit the attempts, then originate the committed ones.
    Place {
        client: AmiClient,
        items: Vec<Placement>,
    },
    Write(DialingWrite),
    /// These hopper contacts of this node go back to `pending`.
    Release(Vec<i64>),
    /// Contacts of a campaign in the hopper of any node but this one.
    ReleaseOthers(i64),
    /// The live status (JSON) to publish.
    Status(String),
    /// Read a campaign's live answers since `since_ms` and its pacing
    /// memory, once the writes before are committed.
    LoadHistory {
        campaign: i64,
        since_ms: i64,
        abandon_ms: i64,
    },
    SaveMemory(PacingMemory),
}

/// A batch of calls to originate through one client once their attempts
/// (starting at the `usize` index of the batch's writes) are committed.
type Batch = (AmiClient, Vec<(Originate, Option<Instant>, i64)>, usize);

/// Applies database writes in order and in batches; sends each `Originate`
/// only once its attempt is committed.
pub(super) async fn writer(
    store: Store,
    node: String,
    mut rx: mpsc::UnboundedReceiver<WriterOp>,
    tx: mpsc::UnboundedSender<Msg>,
    metrics: Arc<Metrics>,
    status_key: String,
    mut backlog: Backlog,
) {
    // The Originates in flight: the writer ends only once each has been
    // answered or failed, so a shutdown never leaves a committed attempt
    // whose Originate was cut off with its link.
    let mut sending = tokio::task::JoinSet::new();
    let mut open = true;
    while open {
        let first = if backlog.is_empty() {
            match rx.recv().await {
                Some(op) => Some(op),
                None => break,
            }
        } else {
            match tokio::time::timeout(RETRY_EVERY, rx.recv()).await {
                Ok(Some(op)) => Some(op),
                // Closed: one last try for the backlog.
                Ok(None) => {
                    open = false;
                    None
                }
                Err(_) => None,
            }
        };
        while sending.try_join_next().is_some() {}
        // A history read ends the batch: it sees the writes before it only.
        let mut fenced = matches!(first, Some(WriterOp::LoadHistory { .. }));
        let mut ops: Vec<WriterOp> = first.into_iter().collect();
        while !ops.is_empty() && ops.len() < 2000 && !fenced {
            match rx.try_recv() {
                Ok(op) => {
                    fenced = matches!(op, WriterOp::LoadHistory { .. });
                    ops.push(op);
                }
                Err(_) => break,
            }
        }
        // The backlog goes first: nothing newer is stored before it.
        let stored = backlog.is_empty() || backlog.replay(&store).await;
        let mut writes = Vec::new();
        let mut places: Vec<Batch> = Vec::new();
        let mut status = None;
        let mut releases: Vec<Vec<i64>> = Vec::new();
        let mut release_others: Vec<i64> = Vec::new();
        let mut history = None;
        let mut memories = Vec::new();
        for op in ops {
            match op {
                WriterOp::Place { client, items } => {
                    let start = writes.len();
                    let mut origs = Vec::with_capacity(items.len());
                    for (a, o, trig) in items {
                        let server = a.server_id.unwrap_or(0);
                        writes.push(DialingWrite::Begin(a));
                        origs.push((o, trig, server));
                    }
                    places.push((client, origs, start));
                }
                WriterOp::Write(w) => writes.push(w),
                WriterOp::Release(ids) => releases.push(ids),
                WriterOp::ReleaseOthers(campaign) => release_others.push(campaign),
                WriterOp::Status(s) => status = Some(s),
                WriterOp::LoadHistory {
                    campaign,
                    since_ms,
                    abandon_ms,
                } => history = Some((campaign, since_ms, abandon_ms)),
                WriterOp::SaveMemory(m) => memories.push(m),
            }
        }
        if !writes.is_empty() {
            let committed = if stored {
                commit(&store, &writes).await
            } else {
                None
            };
            let flags = match committed {
                Some(flags) => flags,
                None => {
                    metrics.failed_commits.fetch_add(1, Ordering::Relaxed);
                    let flags = vec![false; writes.len()];
                    backlog.keep(unstored(writes));
                    flags
                }
            };
            let mut refused = Vec::new();
            let mut slowest: HashMap<i64, f64> = HashMap::new();
            for (client, origs, start) in places {
                for (i, (o, trig, server)) in origs.into_iter().enumerate() {
                    let key = o.channel_id.clone().unwrap_or_default();
                    if !flags.get(start + i).copied().unwrap_or(false) {
                        refused.push(key);
                        continue;
                    }
                    if let Some(t) = trig {
                        let took = t.elapsed();
                        metrics.push_reaction(took.as_micros() as u64);
                        let worst = slowest.entry(server).or_default();
                        *worst = worst.max(took.as_secs_f64());
                    }
                    // The call's PBX record goes under this database's
                    // instance (`OML/CALL/<instance>/<channel id>`).
                    let o = match store.instance() {
                        "" => o,
                        i => o.variable(INSTANCE_VAR_INHERITED, i),
                    };
                    sending.spawn(originate(client.clone(), o, key, tx.clone()));
                }
            }
            if !refused.is_empty() {
                let _ = tx.send(Msg::Input(Input::Refused(refused)));
            }
            // The core follows its reaction time (it dials less when slow).
            for (server, secs) in slowest {
                let _ = tx.send(Msg::Input(Input::Reacted { server, secs }));
            }
        }
        for ids in releases {
            let released = stored && store.release_contacts(&node, &ids).await.is_ok();
            if !released {
                backlog.keep(vec![Entry::Release(ids)]);
            }
        }
        for campaign in release_others {
            match store.release_hopper_except(&node, campaign).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    campaign,
                    contacts = n,
                    "dialer: contacts another node had claimed are pending again"
                ),
                Err(e) => tracing::warn!(error = %e, "dialer: cannot release other nodes' hopper"),
            }
        }
        for m in memories {
            if let Err(e) = store.save_pacing_memory(&m).await {
                tracing::warn!(error = %e, campaign = m.campaign_id, "dialer: cannot save what the pacer learned (saved again later)");
            }
        }
        if let Some((campaign, since_ms, abandon_ms)) = history {
            // The history must see every write before it: not yet.
            let read = if backlog.is_empty() {
                load::history(&store, campaign, since_ms, abandon_ms).await
            } else {
                Input::HistoryFailed { campaign }
            };
            let _ = tx.send(Msg::Input(read));
        }
        if let (Some(s), true) = (status, backlog.is_empty()) {
            let _ = store.set_setting(&status_key, &s).await;
        }
    }
    let in_memory = backlog.in_memory_only();
    if in_memory > 0 {
        tracing::error!(writes = in_memory, "dialer: stopped with call outcomes neither the database nor the journal took; the PBX's records keep them for the next start");
    }
    while sending.join_next().await.is_some() {}
}

/// How long writes carried over a failed commit wait when nothing else
/// comes to write.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// What a batch the database did not take leaves to store later: its
/// progress and outcomes in order, then its attempts' contacts to release
/// (those attempts were not recorded, so they are not dialed).
fn unstored(writes: Vec<DialingWrite>) -> Vec<Entry> {
    let mut kept = Vec::new();
    let mut released = Vec::new();
    for w in writes {
        match w {
            DialingWrite::Begin(a) => released.push(a.contact_id),
            w => kept.push(Entry::Write(w)),
        }
    }
    if !released.is_empty() {
        kept.push(Entry::Release(released));
    }
    kept
}

/// Commits a batch, trying again once at once (a connection cut under
/// it); one flag per write (`None` when the database is unreachable:
/// nothing is stored or originated, and what the batch saw is journaled
/// without waiting longer — each try may wait for a connection 10 s).
async fn commit(store: &Store, writes: &[DialingWrite]) -> Option<Vec<bool>> {
    let mut tries = 0;
    loop {
        match store.apply_dialing_writes(writes).await {
            Ok(f) => return Some(f),
            Err(e) => {
                tries += 1;
                tracing::error!(error = %e, tries, "dialer: cannot record calls; retrying");
                if tries >= 2 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Sends one committed call's `Originate`; the server's answer goes to the
/// core.
async fn originate(client: AmiClient, o: Originate, key: String, tx: mpsc::UnboundedSender<Msg>) {
    let result = match client.originate(&o).await {
        Ok(r) => Ok(r.action_id().unwrap_or_default().to_owned()),
        Err(AmiError::ActionFailed { message, .. }) => {
            tracing::warn!(channel = %o.channel, %message, "dialer: Originate refused");
            Err(true)
        }
        Err(_) => Err(false),
    };
    let _ = tx.send(Msg::Input(Input::Originated { key, result }));
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
