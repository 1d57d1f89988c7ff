//! Applying a disposition to an attempt (issue 19 items 5 and 6): the
//! attempt row gets it, and its contact moves as the disposition says
//! (done, tried again later, called back at the chosen time, or on a
//! do-not-call list), all in one transaction: nothing is half-changed.
//!
//! The contact moves only when the attempt is its latest and no other
//! attempt of it is under way; otherwise only the attempt is marked.

mod effect;

pub use effect::{effect, Effect, MAX_CALLBACK_AHEAD_MS};

use serde::Serialize;

use crate::callbacks::{contact_time_zone, local_to_utc};
use crate::dispositions::DncTarget;
use crate::{on_pool, Result, Store, StoreError};

/// An agent's (or supervisor's) disposition of one attempt.
#[derive(Debug, Clone)]
pub struct DisposeRequest<'a> {
    /// `call_attempts.id`.
    pub attempt_id: i64,
    pub disposition: &'a str,
    /// Who gives it (a username), stored with it.
    pub by: &'a str,
    /// For a callback: its date and time in the contact's time zone (the
    /// campaign's when the contact has none), e.g. `2026-12-09 10:30`.
    pub callback_local: Option<&'a str>,
    /// For a callback: the agent (user id) it is for; `None`: anyone.
    pub callback_for: Option<i64>,
    /// The agent's note (up to [`MAX_NOTE_LEN`] characters); blank: none.
    pub note: Option<&'a str>,
    pub now: i64,
}

/// The longest note a disposition may carry, in characters.
pub const MAX_NOTE_LEN: usize = 1000;

/// What the disposition did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disposed {
    pub campaign_id: i64,
    pub contact_id: i64,
    pub attempt_no: i64,
    /// The contact's state afterwards (unchanged when it did not move).
    pub contact_state: String,
    /// A callback opened: its time (epoch ms) and the zone it was read in.
    pub callback_at: Option<i64>,
    pub callback_zone: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Target {
    campaign_id: i64,
    contact_id: i64,
    attempt_no: i64,
    ended_at: Option<i64>,
    disposition: Option<String>,
    state: String,
    attempts: i64,
    phone: String,
    attributes: String,
    time_zone: String,
}

const TARGET: &str = "SELECT a.campaign_id, a.contact_id, a.attempt_no, a.ended_at, a.disposition,
       k.state, k.attempts, k.phone, k.attributes, c.time_zone
  FROM call_attempts a JOIN contacts k ON k.id = a.contact_id
  JOIN campaigns c ON c.id = a.campaign_id WHERE a.id = $1";

/// States a disposition may move a contact out of (not while it is being
/// dialed or reserved, and a do-not-call contact stays so).
const MOVABLE: [&str; 3] = ["done", "pending", "exhausted"];

impl Store {
    /// The attempt as the disposition will find it (for the check before
    /// the transaction); `None` when there is no such attempt.
    async fn dispose_target(&self, attempt_id: i64) -> Result<Option<Target>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Target>(TARGET)
            .bind(attempt_id)
            .fetch_optional(p)
            .await?))
    }

    /// Gives attempt `r.attempt_id` its disposition and moves its contact.
    /// Refused, with nothing changed, when the attempt is unknown, has not
    /// ended, already has one, the campaign has no such disposition, or the
    /// callback time is missing, not wanted or not valid.
    pub async fn dispose(&self, r: &DisposeRequest<'_>) -> Result<Disposed> {
        let t = self
            .dispose_target(r.attempt_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "attempt",
                name: r.attempt_id.to_string(),
            })?;
        if t.ended_at.is_none() {
            return Err(StoreError::invalid(
                "attempt",
                format!(
                    "call {} has not ended yet: submit when it has",
                    r.attempt_id
                ),
            ));
        }
        let note = r.note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > MAX_NOTE_LEN) {
            return Err(StoreError::invalid(
                "note",
                format!("the note is longer than {MAX_NOTE_LEN} characters: shorten it"),
            ));
        }
        if let Some(had) = &t.disposition {
            return Err(StoreError::invalid(
                "attempt",
                format!("call {} already has the disposition `{had}`", r.attempt_id),
            ));
        }
        let Some(d) = self.disposition(t.campaign_id, r.disposition).await? else {
            let names: Vec<String> = self
                .dispositions(t.campaign_id)
                .await?
                .into_iter()
                .map(|d| d.name)
                .collect();
            return Err(StoreError::invalid(
                "disposition",
                format!(
                    "the campaign has no disposition `{}` (it has: {})",
                    r.disposition,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        };
        let zone = contact_time_zone(&t.attributes, &t.time_zone);
        let callback_at = r
            .callback_local
            .map(|l| local_to_utc(l, &zone))
            .transpose()?;
        let e = effect(&d, callback_at, r.now)?;
        let moves = t.attempts == t.attempt_no && MOVABLE.contains(&t.state.as_str());
        let dnc_scope = match e.dnc {
            DncTarget::No => None,
            DncTarget::Campaign => Some(t.campaign_id),
            DncTarget::Global => Some(0),
        };
        let marked = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE call_attempts SET disposition = $1, disposed_by = $2, disposed_at = $3,
                        disposition_note = $5
                 WHERE id = $4 AND disposition IS NULL",
            )
            .bind(&d.name)
            .bind(r.by)
            .bind(r.now)
            .bind(r.attempt_id)
            .bind(note)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query("UPDATE callbacks SET closed_at = $1 WHERE contact_id = $2 AND closed_at IS NULL")
                    .bind(r.now)
                    .bind(t.contact_id)
                    .execute(&mut *tx)
                    .await?;
                if moves {
                    sqlx::query(
                        "UPDATE contacts SET state = $1, next_attempt_at = $2, claimed_by = NULL, updated_at = $3
                         WHERE id = $4",
                    )
                    .bind(e.state)
                    .bind(e.next_attempt_at)
                    .bind(r.now)
                    .bind(t.contact_id)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(at) = e.callback_at.filter(|_| moves) {
                    sqlx::query(
                        "INSERT INTO callbacks (campaign_id, contact_id, user_id, due_at, time_zone, created_by, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(t.campaign_id)
                    .bind(t.contact_id)
                    .bind(r.callback_for)
                    .bind(at)
                    .bind(&zone)
                    .bind(r.by)
                    .bind(r.now)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(scope) = dnc_scope {
                    sqlx::query(
                        "INSERT INTO dnc_numbers (campaign_id, phone, added_at) VALUES ($1, $2, $3)
                         ON CONFLICT DO NOTHING",
                    )
                    .bind((scope != 0).then_some(scope))
                    .bind(&t.phone)
                    .bind(r.now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            n == 1
        });
        if !marked {
            return Err(StoreError::invalid(
                "attempt",
                format!("call {} was given a disposition meanwhile", r.attempt_id),
            ));
        }
        Ok(Disposed {
            campaign_id: t.campaign_id,
            contact_id: t.contact_id,
            attempt_no: t.attempt_no,
            contact_state: if moves { e.state.to_string() } else { t.state },
            callback_at: e.callback_at.filter(|_| moves),
            callback_zone: e.callback_at.filter(|_| moves).map(|_| zone),
        })
    }
}
