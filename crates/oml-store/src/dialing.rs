//! What the running dialer writes and reads while it dials: claiming due
//! contacts into its hopper, recording each call attempt before the
//! `Originate` leaves (so a crash can never dial the same attempt twice:
//! `UNIQUE (contact_id, attempt_no)`), outcomes with the contact's next
//! attempt or final state, reconciling attempts left open by a crash, and
//! the figures `oml campaign stats` / `oml dialer status` show.
//!
//! Contact states: `pending` (due at `next_attempt_at`), `hopper` (claimed by
//! an engine node, held in memory), `dialing` (an attempt in flight), and the
//! final `done` (reached an agent), `exhausted` (no attempts left), `dnc`
//! (on the do-not-call list when its turn came).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{now_ms, on_pool, Backend, Result, Store};
mod apply;
mod begin;
mod outcome;

/// Contact states the dialer uses.
pub mod contact_state {
    pub const PENDING: &str = "pending";
    pub const HOPPER: &str = "hopper";
    pub const DIALING: &str = "dialing";
    pub const DONE: &str = "done";
    pub const EXHAUSTED: &str = "exhausted";
    pub const DNC: &str = "dnc";
}

/// A contact claimed for dialing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueContact {
    pub id: i64,
    pub campaign_id: i64,
    pub phone: String,
    /// Attempts made so far (the next one is `attempts + 1`).
    pub attempts: i64,
    /// Claimed for a due callback (issue 19): the hopper dials it before
    /// the ordinary contacts it already holds. Queries that do not return
    /// it read `false`.
    #[sqlx(default)]
    pub callback: bool,
}

/// An attempt about to be originated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAttempt {
    pub campaign_id: i64,
    pub contact_id: i64,
    pub attempt_no: i64,
    pub server_id: Option<i64>,
    pub channel_id: String,
    pub placed_at: i64,
    pub node: String,
}

/// The end of an attempt and what becomes of its contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptResult {
    pub contact_id: i64,
    pub attempt_no: i64,
    pub answered_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub ended_at: i64,
    pub outcome: String,
    pub hangup_cause: Option<i64>,
    /// The agent who took the call (kept when the attempt has one already).
    pub agent: Option<String>,
    /// The contact's new state (`pending` or a final state).
    pub contact_state: String,
    /// When `pending`: when it is due again.
    pub next_attempt_at: i64,
}

/// One write of the dialer; [`Store::apply_dialing_writes`] applies a batch
/// of them in one transaction, in order. Serializable: the engine keeps
/// the writes the database could not take in a local journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DialingWrite {
    /// Records the attempt and moves its contact from `hopper` to `dialing`.
    /// Refused (returns `false`) when the contact is no longer in this
    /// node's hopper or the attempt number exists already.
    Begin(NewAttempt),
    /// The call was answered / connected to an agent (kept so a crash does
    /// not lose it).
    Progress {
        contact_id: i64,
        attempt_no: i64,
        answered_at: Option<i64>,
        connected_at: Option<i64>,
        /// The agent who took the call, once connected.
        agent: Option<String>,
    },
    /// The attempt ended. Idempotent: an attempt that has an outcome keeps it.
    End(AttemptResult),
}

/// An attempt with no outcome yet (in flight, or left open by a crash).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenAttempt {
    pub id: i64,
    pub campaign_id: i64,
    pub contact_id: i64,
    pub attempt_no: i64,
    pub server_id: Option<i64>,
    pub channel_id: String,
    pub placed_at: i64,
    pub answered_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub node: String,
}

/// One finished or open attempt, for tests and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AttemptRow {
    pub contact_id: i64,
    pub attempt_no: i64,
    pub channel_id: String,
    pub placed_at: i64,
    pub answered_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub outcome: Option<String>,
    pub hangup_cause: Option<i64>,
    /// The dialer node that placed it.
    pub node: String,
}

/// One contact's dialing state, for tests and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ContactDialState {
    pub id: i64,
    pub phone: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_outcome: Option<String>,
}

/// Abandoned and live-answered calls over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AbandonTally {
    /// Calls answered by a person.
    pub live_answered: i64,
    /// Of those, not connected to an agent within the campaign's abandon seconds.
    pub abandoned: i64,
}

impl AbandonTally {
    pub fn rate(&self) -> f64 {
        if self.live_answered == 0 {
            0.0
        } else {
            self.abandoned as f64 / self.live_answered as f64
        }
    }
}

/// The figures of one campaign.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CampaignStats {
    pub campaign_id: i64,
    /// Contacts by state.
    pub contacts: BTreeMap<String, i64>,
    pub contacts_total: i64,
    /// Pending, in the hopper or dialing.
    pub contacts_left: i64,
    /// Pending contacts due now.
    pub due_now: i64,
    pub attempts_total: i64,
    /// Attempts without outcome.
    pub in_flight: i64,
    /// Attempts by outcome.
    pub outcomes: BTreeMap<String, i64>,
    pub window_start_ms: i64,
    pub abandon: AbandonTally,
}

const OPEN_COLUMNS: &str = "id, campaign_id, contact_id, attempt_no, server_id, channel_id, placed_at, answered_at, connected_at, node";

impl Store {
    /// Claims up to `limit` due contacts of a campaign for `node`'s hopper
    /// (state `pending` → `hopper`), oldest due first. Due contacts whose
    /// number is on the do-not-call list (the campaign's or the global one)
    /// are set to `dnc` instead. PostgreSQL skips rows another node is
    /// claiming (`FOR UPDATE SKIP LOCKED`); SQLite runs it in one writer
    /// transaction. The running engine's store (with a fence) claims only
    /// while it holds the campaign's lease, checked in the same transaction
    /// ([`crate::StoreError::NotLeader`] otherwise, nothing changed).
    pub async fn claim_due_contacts(
        &self,
        campaign_id: i64,
        node: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<DueContact>> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // Two passes: contacts with a due callback first (issue 19), then
        // the others; each pass's contacts by id.
        let passes: Vec<(String, String)> = [crate::callbacks::DUE_CALLBACKS_FILTER, ""]
            .iter()
            .map(|filter| {
                let candidates = format!(
                    "SELECT id FROM contacts WHERE campaign_id = $1 AND state = 'pending' AND next_attempt_at <= $2{filter}
                     ORDER BY next_attempt_at, id LIMIT $3{lock}"
                );
                let dnc_sql = format!(
                    "UPDATE contacts SET state = 'dnc', claimed_by = NULL, updated_at = $4
                     WHERE id IN ({candidates})
                       AND EXISTS (SELECT 1 FROM dnc_numbers d WHERE {}
                                   AND (d.campaign_id IS NULL OR d.campaign_id = contacts.campaign_id))",
                    crate::phone::dnc_match_sql("contacts.phone")
                );
                let callback = if filter.is_empty() { "FALSE" } else { "TRUE" };
                let claim_sql = format!(
                    "UPDATE contacts SET state = 'hopper', claimed_by = $4, updated_at = $5
                     WHERE id IN ({candidates})
                     RETURNING id, campaign_id, phone, attempts, {callback} AS callback"
                );
                (dnc_sql, claim_sql)
            })
            .collect();
        // The running engine claims only under its campaign's lease.
        let key = crate::leader::campaign_key(campaign_id);
        let fence = match self.fence() {
            Some(f) => match f.epoch(&key) {
                Some(epoch) => Some((f.holder(), epoch)),
                None => return Err(crate::StoreError::NotLeader { key }),
            },
            None => None,
        };
        let fence_sql = format!(
            "SELECT 1 FROM dialer_leases WHERE key = $1 AND holder = $2 AND epoch = $3
               AND expires_at > {}{lock}",
            crate::leader::db_now(self.backend()),
            lock = lock.replace("UPDATE SKIP LOCKED", "SHARE")
        );
        let rows = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let mut rows: Vec<DueContact> = Vec::new();
            for (i, (dnc_sql, claim_sql)) in passes.iter().enumerate() {
                let left = limit - rows.len() as i64;
                if left <= 0 {
                    break;
                }
                sqlx::query(dnc_sql)
                    .bind(campaign_id)
                    .bind(now)
                    .bind(left)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if let Some((holder, epoch)) = fence.filter(|_| i == 0) {
                    let valid: Option<i32> = sqlx::query_scalar(&fence_sql)
                        .bind(&key)
                        .bind(holder)
                        .bind(epoch)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if valid.is_none() {
                        return Err(crate::StoreError::NotLeader { key });
                    }
                }
                let mut pass: Vec<DueContact> = sqlx::query_as(claim_sql)
                    .bind(campaign_id)
                    .bind(now)
                    .bind(left)
                    .bind(node)
                    .bind(now)
                    .fetch_all(&mut *tx)
                    .await?;
                pass.sort_by_key(|r| r.id);
                rows.extend(pass);
            }
            tx.commit().await?;
            rows
        });
        Ok(rows)
    }

    /// Adds contacts (already normalised numbers, no attributes) in a new
    /// list, `pending` and due now; duplicates are skipped. For tests, demos
    /// and benchmarks: people import with `oml campaign import`.
    pub async fn seed_contacts(&self, campaign_id: i64, phones: &[String]) -> Result<u64> {
        let now = now_ms();
        let mut n = 0;
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let list: i64 = sqlx::query_scalar(
                "INSERT INTO contact_lists (campaign_id, name, imported_at) VALUES ($1, 'seed', $2) RETURNING id",
            )
            .bind(campaign_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for ph in phones {
                n += sqlx::query(
                    "INSERT INTO contacts (campaign_id, list_id, phone, updated_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (campaign_id, phone) DO NOTHING",
                )
                .bind(campaign_id)
                .bind(list)
                .bind(ph)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
        });
        Ok(n)
    }

    /// Puts the contacts in `node`'s hopper back to `pending` (all
    /// campaigns, or one). Returns how many.
    pub async fn release_hopper(&self, node: &str, campaign_id: Option<i64>) -> Result<u64> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE contacts SET state = 'pending', claimed_by = NULL, updated_at = $1
             WHERE state = 'hopper' AND claimed_by = $2 AND ($3 IS NULL OR campaign_id = $3)"
        )
        .bind(now_ms())
        .bind(node)
        .bind(campaign_id)
        .execute(p)
        .await?
        .rows_affected());
        Ok(n)
    }

    /// Releases the hopper contacts of campaign `campaign_id` claimed by any
    /// node but `node` (the new pacing leader takes over: what another node
    /// claimed and did not dial goes back to `pending`; what it is dialing
    /// stays `dialing` and keeps its outcome).
    pub async fn release_hopper_except(&self, node: &str, campaign_id: i64) -> Result<u64> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE contacts SET state = 'pending', claimed_by = NULL, updated_at = $1
             WHERE state = 'hopper' AND claimed_by <> $2 AND campaign_id = $3"
        )
        .bind(now_ms())
        .bind(node)
        .bind(campaign_id)
        .execute(p)
        .await?
        .rows_affected());
        Ok(n)
    }

    /// Releases specific hopper contacts back to `pending`.
    pub async fn release_contacts(&self, node: &str, ids: &[i64]) -> Result<u64> {
        let mut n = 0;
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            for id in ids {
                n += sqlx::query(
                    "UPDATE contacts SET state = 'pending', claimed_by = NULL, updated_at = $1
                     WHERE id = $2 AND state = 'hopper' AND claimed_by = $3",
                )
                .bind(now_ms())
                .bind(id)
                .bind(node)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
        });
        Ok(n)
    }

    /// Attempts without an outcome recorded by `node` (all nodes with `None`).
    pub async fn open_attempts(&self, node: Option<&str>) -> Result<Vec<OpenAttempt>> {
        let sql = format!(
            "SELECT {OPEN_COLUMNS} FROM call_attempts WHERE outcome IS NULL AND ($1 IS NULL OR node = $1)
             ORDER BY id"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, OpenAttempt>(&sql)
            .bind(node)
            .fetch_all(p)
            .await?))
    }

    /// Open attempts (no outcome yet) placed by nodes other than `node`.
    pub async fn open_attempts_of_others(&self, node: &str) -> Result<Vec<OpenAttempt>> {
        let sql = format!(
            "SELECT {OPEN_COLUMNS} FROM call_attempts WHERE outcome IS NULL AND node <> $1 ORDER BY id"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, OpenAttempt>(&sql)
            .bind(node)
            .fetch_all(p)
            .await?))
    }

    /// Every attempt of a campaign, oldest first.
    pub async fn campaign_attempts(&self, campaign_id: i64) -> Result<Vec<AttemptRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, AttemptRow>(
            "SELECT contact_id, attempt_no, channel_id, placed_at, answered_at, connected_at, ended_at,
                    outcome, hangup_cause, node
             FROM call_attempts WHERE campaign_id = $1 ORDER BY contact_id, attempt_no"
        )
        .bind(campaign_id)
        .fetch_all(p)
        .await?
        }))
    }

    /// Every contact of a campaign with its dialing state.
    pub async fn campaign_contact_states(&self, campaign_id: i64) -> Result<Vec<ContactDialState>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, ContactDialState>(
            "SELECT id, phone, state, attempts, next_attempt_at, last_outcome
             FROM contacts WHERE campaign_id = $1 ORDER BY id"
        )
        .bind(campaign_id)
        .fetch_all(p)
        .await?))
    }

    /// Abandoned and live-answered calls of a campaign answered since
    /// `since_ms`. Abandoned = answered and not connected to an agent
    /// within `abandon_ms`. Machines (outcome `machine`) are no live
    /// answers: they count in neither.
    pub async fn abandon_tally(
        &self,
        campaign_id: i64,
        since_ms: i64,
        abandon_ms: i64,
    ) -> Result<AbandonTally> {
        let (live, abandoned): (i64, Option<i64>) = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*), SUM(CASE WHEN connected_at IS NULL OR connected_at - answered_at > $3
                                       THEN 1 ELSE 0 END)
             FROM call_attempts
             WHERE campaign_id = $1 AND answered_at IS NOT NULL AND answered_at >= $2
               AND (outcome IS NOT NULL OR connected_at IS NOT NULL)
               AND COALESCE(outcome, '') <> 'machine'"
        )
        .bind(campaign_id)
        .bind(since_ms)
        .bind(abandon_ms)
        .fetch_one(p)
        .await?
        });
        Ok(AbandonTally {
            live_answered: live,
            abandoned: abandoned.unwrap_or(0),
        })
    }

    /// Contacts of a campaign still to be dialed or in flight.
    pub async fn contacts_left(&self, campaign_id: i64) -> Result<i64> {
        Ok(on_pool!(self, |p| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM contacts WHERE campaign_id = $1 AND state IN ('pending', 'hopper', 'dialing')"
        )
        .bind(campaign_id)
        .fetch_one(p)
        .await?
        }))
    }

    /// The figures of campaign `c` at `now`, the abandon rate over its own
    /// regulatory window and abandon seconds.
    pub async fn stats_of(&self, c: &crate::Campaign, now: i64) -> Result<CampaignStats> {
        self.campaign_stats(
            c.id,
            now,
            c.abandon_window.millis(),
            c.abandon_seconds * 1000,
        )
        .await
    }

    /// The figures of a campaign at `now`, the abandon rate over the window
    /// `[now - window_ms, now]`.
    pub async fn campaign_stats(
        &self,
        campaign_id: i64,
        now: i64,
        window_ms: i64,
        abandon_ms: i64,
    ) -> Result<CampaignStats> {
        let by_state: Vec<(String, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT state, COUNT(*) FROM contacts WHERE campaign_id = $1 GROUP BY state"
        )
        .bind(campaign_id)
        .fetch_all(p)
        .await?);
        let due_now: i64 = on_pool!(self, |p| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM contacts WHERE campaign_id = $1 AND state = 'pending' AND next_attempt_at <= $2"
        )
        .bind(campaign_id)
        .bind(now)
        .fetch_one(p)
        .await?
        });
        let by_outcome: Vec<(Option<String>, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT outcome, COUNT(*) FROM call_attempts WHERE campaign_id = $1 GROUP BY outcome"
        )
        .bind(campaign_id)
        .fetch_all(p)
        .await?
        });
        let mut s = CampaignStats {
            campaign_id,
            due_now,
            window_start_ms: now - window_ms,
            ..Default::default()
        };
        for (state, n) in by_state {
            s.contacts_total += n;
            if matches!(state.as_str(), "pending" | "hopper" | "dialing") {
                s.contacts_left += n;
            }
            s.contacts.insert(state, n);
        }
        for (outcome, n) in by_outcome {
            s.attempts_total += n;
            match outcome {
                Some(o) => {
                    s.outcomes.insert(o, n);
                }
                None => s.in_flight += n,
            }
        }
        s.abandon = self
            .abandon_tally(campaign_id, now - window_ms, abandon_ms)
            .await?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::backends;
    use crate::*;

    async fn setup(store: &Store, phones: &[&str]) -> i64 {
        store
            .create_trunk(&TrunkSpec {
                name: "t1".into(),
                dial_string: DEFAULT_DIAL_STRING.into(),
                max_channels: 10,
                server: None,
                caller_id: String::new(),
            })
            .await
            .unwrap();
        let c = store
            .create_campaign(&CampaignSpec::new("sales", "t1"))
            .await
            .unwrap();
        on_pool!(store, |p| {
            sqlx::query(
                "INSERT INTO contact_lists (campaign_id, name, imported_at) VALUES ($1, 'l', 0)",
            )
            .bind(c.id)
            .execute(p)
            .await
            .unwrap();
            for ph in phones {
                sqlx::query(
                    "INSERT INTO contacts (campaign_id, list_id, phone, updated_at) VALUES ($1, 1, $2, 0)",
                )
                .bind(c.id)
                .bind(ph)
                .execute(p)
                .await
                .unwrap();
            }
            sqlx::query(
                "INSERT INTO dnc_numbers (campaign_id, phone, added_at) VALUES (NULL, '555', 0)",
            )
            .execute(p)
            .await
            .unwrap();
        });
        c.id
    }

    fn begin(c: &DueContact, node: &str) -> DialingWrite {
        DialingWrite::Begin(NewAttempt {
            campaign_id: c.campaign_id,
            contact_id: c.id,
            attempt_no: c.attempts + 1,
            server_id: None,
            channel_id: format!("ch-{}-{}", c.id, c.attempts + 1),
            placed_at: 1000,
            node: node.into(),
        })
    }

    #[tokio::test]
    async fn claim_begin_end_is_idempotent_and_skips_dnc() {
        for t in backends().await {
            let s = &t.store;
            let cid = setup(s, &["111", "222", "555"]).await;
            let got = s.claim_due_contacts(cid, "n1", now_ms(), 10).await.unwrap();
            assert_eq!(got.len(), 2, "{}: dnc number must not be claimed", t.label);
            // Nothing left to claim twice.
            assert!(s
                .claim_due_contacts(cid, "n2", now_ms(), 10)
                .await
                .unwrap()
                .is_empty());
            let w: Vec<_> = got.iter().map(|c| begin(c, "n1")).collect();
            assert_eq!(s.apply_dialing_writes(&w).await.unwrap(), vec![true, true]);
            // The same attempt again is refused: never dialed twice.
            assert_eq!(
                s.apply_dialing_writes(&w).await.unwrap(),
                vec![false, false]
            );
            assert_eq!(s.open_attempts(Some("n1")).await.unwrap().len(), 2);
            let end = DialingWrite::End(AttemptResult {
                contact_id: got[0].id,
                attempt_no: 1,
                answered_at: None,
                connected_at: None,
                ended_at: 2000,
                outcome: "busy".into(),
                hangup_cause: Some(17),
                agent: None,
                contact_state: "pending".into(),
                next_attempt_at: 5000,
            });
            assert_eq!(
                s.apply_dialing_writes(std::slice::from_ref(&end))
                    .await
                    .unwrap(),
                vec![true]
            );
            assert_eq!(s.apply_dialing_writes(&[end]).await.unwrap(), vec![false]);
            let states = s.campaign_contact_states(cid).await.unwrap();
            let st: Vec<&str> = states.iter().map(|c| c.state.as_str()).collect();
            assert_eq!(st, ["pending", "dialing", "dnc"], "{}", t.label);
            assert_eq!(states[0].next_attempt_at, 5000);
            let stats = s
                .campaign_stats(cid, now_ms(), 86_400_000, 2000)
                .await
                .unwrap();
            assert_eq!(stats.in_flight, 1);
            assert_eq!(stats.contacts_left, 2);
            assert_eq!(stats.outcomes.get("busy"), Some(&1));
            // Not due before 5000: the retry is claimed only then.
            assert!(s
                .claim_due_contacts(cid, "n1", 4000, 10)
                .await
                .unwrap()
                .is_empty());
            let again = s.claim_due_contacts(cid, "n1", 5000, 10).await.unwrap();
            assert_eq!(again.len(), 1);
            assert_eq!(again[0].attempts, 1);
            assert_eq!(s.release_hopper("n1", None).await.unwrap(), 1);
        }
    }

    #[tokio::test]
    async fn abandon_tally_counts_late_connects() {
        for t in backends().await {
            let s = &t.store;
            let cid = setup(s, &["1", "2", "3", "4", "5"]).await;
            let got = s.claim_due_contacts(cid, "n", now_ms(), 10).await.unwrap();
            let w: Vec<_> = got.iter().map(|c| begin(c, "n")).collect();
            s.apply_dialing_writes(&w).await.unwrap();
            let now = now_ms();
            // Connected in time, connected late, abandoned, a machine, the
            // abandon message played.
            let ends: Vec<_> = got
                .iter()
                .zip([
                    (Some(now + 500), "connected"),
                    (Some(now + 5000), "connected"),
                    (None, "abandoned"),
                    (None, "machine"),
                    (None, "abandoned_message_played"),
                ])
                .map(|(c, (conn, outcome))| {
                    DialingWrite::End(AttemptResult {
                        contact_id: c.id,
                        attempt_no: 1,
                        answered_at: Some(now),
                        connected_at: conn,
                        ended_at: now + 9000,
                        outcome: outcome.into(),
                        hangup_cause: Some(16),
                        agent: None,
                        contact_state: "done".into(),
                        next_attempt_at: 0,
                    })
                })
                .collect();
            s.apply_dialing_writes(&ends).await.unwrap();
            // The machine is no live answer: in neither count.
            let a = s.abandon_tally(cid, now - 1000, 2000).await.unwrap();
            assert_eq!((a.live_answered, a.abandoned), (4, 3), "{}", t.label);
            let rows = s.answers_since(cid, now - 1000, 2000).await.unwrap();
            let abandoned = rows.iter().filter(|r| r.abandoned).count();
            assert_eq!((rows.len(), abandoned), (4, 3), "{}", t.label);
        }
    }
}
