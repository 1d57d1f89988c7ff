//! Preview reservations (issue 19 item 4): an agent of a preview campaign
//! asks for the next contact and gets one no one else can have, from the
//! same due contacts the engine's hopper claims; it returns to them when the
//! agent skips it or when its time runs out (a closed browser).
//!
//! A reserved contact has state `reserved`, `claimed_by` `agent:<user id>`
//! and its expiry in `next_attempt_at`: the engine claims only `pending`
//! contacts, so it never dials a reserved one, and an expired reservation
//! put back to `pending` is due at once (its expiry has passed). No schema
//! change: the columns are the hopper's.
//!
//! One statement picks and reserves (PostgreSQL: `FOR UPDATE SKIP LOCKED`,
//! SQLite: one writer), so agents asking at the same moment never get the
//! same contact. Due callbacks come first: the agent's own (or anyone's)
//! callbacks due now, then the other due contacts.
//!
//! "Call" and the engine's side of it are in `preview_call.rs`.

use crate::dialing::DueContact;
use crate::{on_pool, Backend, Result, Store};

mod preview_call;

/// The state of a contact an agent is previewing.
pub const RESERVED: &str = "reserved";

/// What `claimed_by` holds for an agent's reservation.
pub fn reservation_owner(user_id: i64) -> String {
    format!("agent:{user_id}")
}

impl Store {
    /// The contact reserved for agent `user_id` in the campaign until
    /// `now + timeout_ms`: the one they already hold (a reloaded page), else
    /// the oldest due contact whose number is not on a do-not-call list.
    /// `None` when nothing is due. Expired reservations of the campaign go
    /// back first.
    pub async fn reserve_preview_contact(
        &self,
        campaign_id: i64,
        user_id: i64,
        now: i64,
        timeout_ms: i64,
    ) -> Result<Option<DueContact>> {
        self.expire_reservations(campaign_id, now).await?;
        let owner = reservation_owner(user_id);
        let held: Option<DueContact> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, campaign_id, phone, attempts, FALSE AS callback FROM contacts
             WHERE campaign_id = $1 AND state = 'reserved' AND claimed_by = $2
             ORDER BY id LIMIT 1"
        )
        .bind(campaign_id)
        .bind(&owner)
        .fetch_optional(p)
        .await?);
        if held.is_some() {
            return Ok(held);
        }
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // Two passes: the due callbacks for this agent or for anyone, then
        // every due contact.
        let callbacks = " AND id IN (SELECT contact_id FROM callbacks
             WHERE campaign_id = $1 AND closed_at IS NULL AND due_at <= $2
               AND (user_id IS NULL OR user_id = $5))";
        for filter in [callbacks, ""] {
            let callback = if filter.is_empty() { "FALSE" } else { "TRUE" };
            let sql = format!(
                "UPDATE contacts SET state = 'reserved', claimed_by = $3, next_attempt_at = $4, updated_at = $2
                 WHERE id = (
                   SELECT id FROM contacts
                   WHERE campaign_id = $1 AND state = 'pending' AND next_attempt_at <= $2{filter}
                     AND NOT EXISTS (SELECT 1 FROM dnc_numbers d WHERE {}
                                     AND (d.campaign_id IS NULL OR d.campaign_id = contacts.campaign_id))
                   ORDER BY next_attempt_at, id LIMIT 1{lock})
                   AND state = 'pending'
                 RETURNING id, campaign_id, phone, attempts, {callback} AS callback",
                crate::phone::dnc_match_sql("contacts.phone")
            );
            let got: Option<DueContact> = on_pool!(self, |p| {
                let q = sqlx::query_as(&sql)
                    .bind(campaign_id)
                    .bind(now)
                    .bind(&owner)
                    .bind(now + timeout_ms);
                // Only the callbacks' pass reads the agent ($5).
                let q = if filter.is_empty() {
                    q
                } else {
                    q.bind(user_id)
                };
                q.fetch_optional(p).await?
            });
            if got.is_some() {
                return Ok(got);
            }
        }
        Ok(None)
    }

    /// Gives a reserved contact back to the due contacts (the agent skipped
    /// it), due `due_at`. False when it is not this agent's reservation (it
    /// expired and went to someone else, or was never theirs).
    pub async fn release_preview_contact(
        &self,
        contact_id: i64,
        user_id: i64,
        due_at: i64,
        now: i64,
    ) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE contacts SET state = 'pending', claimed_by = NULL, next_attempt_at = $3, updated_at = $4
             WHERE id = $1 AND state = 'reserved' AND claimed_by = $2"
        )
        .bind(contact_id)
        .bind(reservation_owner(user_id))
        .bind(due_at)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(n == 1)
    }

    /// Puts the campaign's reservations whose time ran out back to
    /// `pending` (due at once), and the calls asked for that no engine took
    /// in time (state `preview_call`). Returns how many.
    pub async fn expire_reservations(&self, campaign_id: i64, now: i64) -> Result<u64> {
        Ok(on_pool!(self, |p| {
            sqlx::query(
            "UPDATE contacts SET state = 'pending', claimed_by = NULL, updated_at = $2
             WHERE campaign_id = $1 AND state IN ('reserved', 'preview_call') AND next_attempt_at <= $2"
        )
        .bind(campaign_id)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected()
        }))
    }
}
