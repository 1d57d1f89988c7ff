//! "Call" on a previewed contact (issue 19 item 4) and the engine's side of
//! it.
//!
//! Why a request row the engine takes, rather than an `Originate` sent by
//! the console: the call must be followed to its outcome from the AMI
//! events (the console's request ends long before the call), reconciled
//! after a reconnect or a restart like every other call, and its attempt
//! must be committed before the `Originate` leaves under the campaign's
//! lease (fencing). The engine pacing the campaign already does all three
//! for hopper contacts, so the request simply turns the reserved contact
//! into a hopper contact of that engine (`Store::take_preview_calls`),
//! which then places it agent-first through its ordinary writer.
//!
//! The page sets the contact from `reserved` to `preview_call` (still
//! `claimed_by` the agent, its expiry in `next_attempt_at`: a request no
//! engine takes in time goes back to `pending` with the reservations) and
//! stores the agent's interface in `preview_calls`.

use crate::dialing::DueContact;
use crate::{on_pool, Backend, Result, Store};

use super::reservation_owner;

/// A preview call taken by an engine: the contact (now in its hopper), the
/// agent's user id and the interface to ring first.
pub type PreviewCall = (DueContact, i64, String);

/// The agent's reserved (or asked-for) contact, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HeldContact {
    pub id: i64,
    pub campaign_id: i64,
    /// `reserved` or `preview_call`.
    pub state: String,
    /// When the reservation (or the request) returns to `pending`.
    pub until: i64,
}

impl Store {
    /// The agent's reserved contact asks for its call: the engine pacing
    /// the campaign rings `interface` first, then dials the contact. The
    /// request waits at most `timeout_ms` for an engine. False when the
    /// contact is not this agent's reservation (it expired).
    pub async fn request_preview_call(
        &self,
        contact_id: i64,
        user_id: i64,
        interface: &str,
        now: i64,
        timeout_ms: i64,
    ) -> Result<bool> {
        let owner = reservation_owner(user_id);
        let done = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let campaign: Option<i64> = sqlx::query_scalar(
                "UPDATE contacts SET state = 'preview_call', next_attempt_at = $3, updated_at = $4
                 WHERE id = $1 AND state = 'reserved' AND claimed_by = $2
                 RETURNING campaign_id",
            )
            .bind(contact_id)
            .bind(&owner)
            .bind(now + timeout_ms)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(campaign) = campaign {
                sqlx::query("DELETE FROM preview_calls WHERE contact_id = $1")
                    .bind(contact_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO preview_calls (contact_id, campaign_id, user_id, interface, requested_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(contact_id)
                .bind(campaign)
                .bind(user_id)
                .bind(interface)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            campaign.is_some()
        });
        Ok(done)
    }

    /// The engine `node` (pacing campaign `campaign_id`) takes the calls
    /// agents asked for, oldest first: each contact becomes a hopper
    /// contact of `node` (so its attempt is begun like any other). Expired
    /// reservations and requests of the campaign go back to `pending`
    /// first: the engine calls this every second or so, which is what
    /// returns a reservation abandoned by a closed browser.
    pub async fn take_preview_calls(
        &self,
        campaign_id: i64,
        node: &str,
        now: i64,
    ) -> Result<Vec<PreviewCall>> {
        self.expire_reservations(campaign_id, now).await?;
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE OF c SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let pick = format!(
            "SELECT p.contact_id, p.user_id, p.interface FROM preview_calls p
             JOIN contacts c ON c.id = p.contact_id
             WHERE p.campaign_id = $1 AND c.state = 'preview_call'
             ORDER BY p.requested_at, p.contact_id LIMIT 100{lock}"
        );
        let taken = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let rows: Vec<(i64, i64, String)> = sqlx::query_as(&pick)
                .bind(campaign_id)
                .fetch_all(&mut *tx)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for (contact_id, user_id, interface) in rows {
                let c: Option<DueContact> = sqlx::query_as(
                    "UPDATE contacts SET state = 'hopper', claimed_by = $2, updated_at = $3
                     WHERE id = $1 AND state = 'preview_call'
                     RETURNING id, campaign_id, phone, attempts, FALSE AS callback",
                )
                .bind(contact_id)
                .bind(node)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM preview_calls WHERE contact_id = $1")
                    .bind(contact_id)
                    .execute(&mut *tx)
                    .await?;
                if let Some(c) = c {
                    out.push((c, user_id, interface));
                }
            }
            tx.commit().await?;
            out
        });
        Ok(taken)
    }

    /// The contact agent `user_id` holds: reserved (previewing) or asked
    /// for (waiting for an engine), if any.
    pub async fn held_preview_contact(&self, user_id: i64) -> Result<Option<HeldContact>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, campaign_id, state, next_attempt_at AS until FROM contacts
             WHERE claimed_by = $1 AND state IN ('reserved', 'preview_call')
             ORDER BY id LIMIT 1"
        )
        .bind(reservation_owner(user_id))
        .fetch_optional(p)
        .await?))
    }
}

impl Store {
    /// How long each preview lasted (ms): the agents' closed `preview` state
    /// spans (from "Next contact" to Call, Skip or another state) that
    /// started at or after `since_ms`, oldest first. What the simulator's
    /// preview time (`oml dialer simulate --preview`) models.
    pub async fn preview_durations(&self, since_ms: i64) -> Result<Vec<i64>> {
        Ok(on_pool!(self, |p| sqlx::query_scalar(
            "SELECT ended_at - started_at FROM agent_states
             WHERE state = 'preview' AND ended_at IS NOT NULL AND started_at >= $1
             ORDER BY started_at, id"
        )
        .bind(since_ms)
        .fetch_all(p)
        .await?))
    }
}
