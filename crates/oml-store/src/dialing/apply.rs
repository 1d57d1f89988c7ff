//! Applying a batch of dialer writes in one transaction: the batch is cut
//! into runs in which no contact appears twice, and each run goes to the
//! database as at most three batched statements (attempts begun, calls
//! answered or connected, attempts ended) — the order that matters, a
//! contact's own writes, is kept because a contact seen again starts the
//! next run.

use std::ops::Range;

use super::begin::BeginBatch;
use super::outcome::{OutcomeBatch, Progress};
use super::DialingWrite;
use crate::{on_pool, Result, Store};

/// `writes` cut into consecutive runs where each contact appears once.
fn runs(writes: &[DialingWrite]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut start = 0;
    for (i, w) in writes.iter().enumerate() {
        if !seen.insert(contact_of(w)) {
            out.push(start..i);
            seen.clear();
            seen.insert(contact_of(w));
            start = i;
        }
    }
    if start < writes.len() {
        out.push(start..writes.len());
    }
    out
}

fn contact_of(w: &DialingWrite) -> i64 {
    match w {
        DialingWrite::Begin(a) => a.contact_id,
        DialingWrite::Progress { contact_id, .. } => *contact_id,
        DialingWrite::End(r) => r.contact_id,
    }
}

impl Store {
    /// Applies dialer writes in one transaction, in order for each contact.
    /// The result has one flag per write: `false` for a refused
    /// [`DialingWrite::Begin`] (do not originate it), a
    /// [`DialingWrite::Progress`] of no known attempt, or an
    /// [`DialingWrite::End`] of an attempt that already had an outcome.
    /// Nothing is stored when it fails.
    pub async fn apply_dialing_writes(&self, writes: &[DialingWrite]) -> Result<Vec<bool>> {
        let mut out = vec![false; writes.len()];
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            for run in runs(writes) {
                let (mut begins, mut progress, mut ends) = (Vec::new(), Vec::new(), Vec::new());
                for i in run {
                    match &writes[i] {
                        DialingWrite::Begin(a) => begins.push((i, a)),
                        DialingWrite::Progress {
                            contact_id,
                            attempt_no,
                            answered_at,
                            connected_at,
                            agent,
                        } => progress.push((
                            i,
                            Progress {
                                contact_id: *contact_id,
                                attempt_no: *attempt_no,
                                answered_at: *answered_at,
                                connected_at: *connected_at,
                                agent: agent.as_deref(),
                            },
                        )),
                        DialingWrite::End(r) => ends.push((i, r)),
                    }
                }
                if !begins.is_empty() {
                    let rows: Vec<_> = begins.iter().map(|(_, a)| *a).collect();
                    let flags = tx.begin_batch(&rows, self.fence()).await?;
                    for ((i, _), f) in begins.iter().zip(flags) {
                        out[*i] = f;
                    }
                }
                if !progress.is_empty() {
                    let (idx, rows): (Vec<usize>, Vec<Progress>) = progress.into_iter().unzip();
                    let flags = tx.progress_batch(&rows).await?;
                    for (i, f) in idx.into_iter().zip(flags) {
                        out[i] = f;
                    }
                }
                if !ends.is_empty() {
                    let rows: Vec<_> = ends.iter().map(|(_, r)| *r).collect();
                    let flags = tx.end_batch(&rows).await?;
                    for ((i, _), f) in ends.iter().zip(flags) {
                        out[*i] = f;
                    }
                }
            }
            tx.commit().await?;
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialing::{AttemptResult, NewAttempt};

    fn begin(contact: i64) -> DialingWrite {
        DialingWrite::Begin(NewAttempt {
            campaign_id: 1,
            contact_id: contact,
            attempt_no: 1,
            server_id: None,
            channel_id: String::new(),
            placed_at: 0,
            node: String::new(),
        })
    }

    fn progress(contact: i64) -> DialingWrite {
        DialingWrite::Progress {
            contact_id: contact,
            attempt_no: 1,
            answered_at: Some(1),
            connected_at: None,
            agent: None,
        }
    }

    fn end(contact: i64) -> DialingWrite {
        DialingWrite::End(AttemptResult {
            contact_id: contact,
            attempt_no: 1,
            answered_at: None,
            connected_at: None,
            ended_at: 2,
            outcome: "busy".into(),
            hangup_cause: Some(17),
            agent: None,
            contact_state: "pending".into(),
            next_attempt_at: 0,
        })
    }

    #[test]
    fn a_contact_seen_again_starts_the_next_run() {
        assert!(runs(&[]).is_empty());
        let w = [begin(1), end(2), progress(3), progress(1), end(1), begin(4)];
        assert_eq!(runs(&w), vec![0..3, 3..4, 4..6]);
        let w = [end(1), end(2), end(3), begin(4), begin(5)];
        assert_eq!(runs(&w), vec![0..5], "distinct contacts: one run");
    }
}
