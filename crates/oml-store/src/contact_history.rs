//! Reading what the dialer did with contacts: a campaign's contacts page by
//! page (keyset paging on the id, so a campaign of a million contacts is
//! never read at once), a contact found by id or by phone (a phone may be in
//! several campaigns), and every attempt of a contact with its times,
//! outcome, hangup cause, server and node. What `oml campaign contacts`,
//! `oml contact show` and the API's contact calls print.

use crate::dialing::contact_state;
use crate::phone::{Normalizer, PhoneError};
use crate::{on_pool, Result, Store, StoreError};
use serde::Serialize;

/// Every state a contact can be in, in the order a contact goes through them.
pub const CONTACT_STATES: [&str; 7] = [
    contact_state::PENDING,
    crate::reservations::RESERVED,
    contact_state::HOPPER,
    contact_state::DIALING,
    contact_state::DONE,
    contact_state::EXHAUSTED,
    contact_state::DNC,
];

/// Most contacts one page may hold.
pub const MAX_PAGE: i64 = 10_000;

/// The state named `text`, or an error naming the valid ones.
pub fn parse_state(text: &str) -> Result<&'static str> {
    let t = text.trim().to_ascii_lowercase();
    CONTACT_STATES
        .iter()
        .find(|s| **s == t)
        .copied()
        .ok_or_else(|| {
            StoreError::invalid(
                "state",
                format!(
                    "`{}` is not a contact state: use one of {}",
                    text.trim(),
                    CONTACT_STATES.join(", ")
                ),
            )
        })
}

/// One contact as listed: where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ContactSummary {
    pub id: i64,
    pub phone: String,
    pub state: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When it is due again (Unix ms); only for `pending` contacts.
    pub next_attempt_at: Option<i64>,
    pub last_outcome: Option<String>,
}

/// A contact with its campaign and the columns of its uploaded row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ContactRecord {
    pub id: i64,
    pub campaign: String,
    pub phone: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_outcome: Option<String>,
    /// The other columns of the uploaded row, a JSON object as text.
    pub attributes: String,
    /// The contact list (file name) it came from.
    pub list: String,
}

/// One attempt to call a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AttemptRecord {
    /// The attempt's id (`GET /api/v1/attempts/{id}/recording`).
    pub id: i64,
    pub attempt_no: i64,
    pub placed_at: i64,
    pub answered_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// `None` while the call is in flight.
    pub outcome: Option<String>,
    /// The Q.850 cause Asterisk gave when the call hung up.
    pub hangup_cause: Option<i64>,
    /// The Asterisk server it was placed on (`None` if since removed).
    pub server: Option<String>,
    /// The dialer node that placed it.
    pub node: String,
    pub channel_id: String,
    /// The agent who took the call (the queue member's name as Asterisk
    /// gave it); `None` when no agent took it.
    pub agent: Option<String>,
    /// The call's recording, a file name in the recordings folder (see
    /// [`crate::recordings`]); `None` when it was not recorded.
    pub recording: Option<String>,
    /// When retention deleted the recording (Unix ms); `None` while kept.
    pub recording_deleted_at: Option<i64>,
}

/// A contact and every attempt to call it, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactHistory {
    #[serde(flatten)]
    pub contact: ContactRecord,
    pub history: Vec<AttemptRecord>,
}

/// How `oml contact show KEY` looks a contact up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactKey {
    /// Written with digits only: it may be a contact id.
    pub id: Option<i64>,
    /// The number as stored, when the text is a valid phone number.
    pub phone: Option<String>,
}

impl ContactKey {
    /// Reads `text` as an id (digits only) and as a phone number (through
    /// the import's normaliser, so national forms match under the default
    /// country). Fails only when it is neither, saying why it is no phone.
    pub fn parse(text: &str, normalizer: &Normalizer) -> Result<ContactKey, PhoneError> {
        let t = text.trim();
        let id = (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<i64>().ok())
            .flatten();
        match normalizer.normalize(t) {
            Ok(phone) => Ok(ContactKey {
                id,
                phone: Some(phone),
            }),
            Err(_) if id.is_some() => Ok(ContactKey { id, phone: None }),
            Err(e) => Err(e),
        }
    }
}

const SUMMARY_COLUMNS: &str = "id, phone, state, attempts,
    CASE WHEN state = 'pending' THEN next_attempt_at END AS next_attempt_at, last_outcome";

const RECORD_SELECT: &str = "SELECT k.id, c.name AS campaign, k.phone, k.state, k.attempts,
    CASE WHEN k.state = 'pending' THEN k.next_attempt_at END AS next_attempt_at,
    k.last_outcome, k.attributes, l.name AS list
    FROM contacts k JOIN campaigns c ON c.id = k.campaign_id
    JOIN contact_lists l ON l.id = k.list_id";

impl Store {
    /// Up to `limit` (at most [`MAX_PAGE`]) contacts of the campaign with an
    /// id above `after_id`, by id, of one state or all. The next page starts
    /// after the last id returned.
    pub async fn campaign_contacts(
        &self,
        campaign_id: i64,
        state: Option<&str>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<ContactSummary>> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(StoreError::invalid(
                "limit",
                format!("{limit} is out of range: give 1 to {MAX_PAGE}"),
            ));
        }
        let state = state.map(parse_state).transpose()?;
        let filter = if state.is_some() {
            "AND state = $4"
        } else {
            ""
        };
        // `+campaign_id` keeps both planners off the campaign's indexes
        // (which would read every contact of the campaign and sort them,
        // per page): they walk the primary key from `after_id` and stop at
        // `limit`.
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM contacts
             WHERE id > $2 AND +campaign_id = $1 {filter} ORDER BY id LIMIT $3"
        );
        Ok(on_pool!(self, |p| {
            let mut q = sqlx::query_as::<_, ContactSummary>(&sql)
                .bind(campaign_id)
                .bind(after_id)
                .bind(limit);
            if let Some(s) = state {
                q = q.bind(s);
            }
            q.fetch_all(p).await?
        }))
    }

    /// The contact with this id and its attempts.
    pub async fn contact_history(&self, id: i64) -> Result<Option<ContactHistory>> {
        let sql = format!("{RECORD_SELECT} WHERE k.id = $1");
        let found = on_pool!(self, |p| sqlx::query_as::<_, ContactRecord>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await?);
        match found {
            Some(contact) => Ok(Some(self.with_attempts(contact).await?)),
            None => Ok(None),
        }
    }

    /// Every contact with this (normalised) phone, in any campaign, with
    /// its attempts; by campaign name. A `+` number also finds its digits
    /// stored without the `+` (how an import without a default country
    /// keeps a number written without it).
    pub async fn contact_histories_by_phone(&self, phone: &str) -> Result<Vec<ContactHistory>> {
        let sql = format!("{RECORD_SELECT} WHERE k.phone IN ($1, $2) ORDER BY c.name, k.id");
        let contacts = on_pool!(self, |p| sqlx::query_as::<_, ContactRecord>(&sql)
            .bind(phone)
            .bind(phone.trim_start_matches('+'))
            .fetch_all(p)
            .await?);
        let mut out = Vec::with_capacity(contacts.len());
        for c in contacts {
            out.push(self.with_attempts(c).await?);
        }
        Ok(out)
    }

    /// The contacts `key` names: by id and by phone, each once.
    pub async fn contact_histories(&self, key: &ContactKey) -> Result<Vec<ContactHistory>> {
        let mut out = match key.id {
            Some(id) => self.contact_history(id).await?.into_iter().collect(),
            None => Vec::new(),
        };
        if let Some(phone) = &key.phone {
            for h in self.contact_histories_by_phone(phone).await? {
                if !out
                    .iter()
                    .any(|o: &ContactHistory| o.contact.id == h.contact.id)
                {
                    out.push(h);
                }
            }
        }
        Ok(out)
    }

    /// How the database reads a lookup by phone (for the index test).
    #[cfg(test)]
    async fn phone_lookup_plan(&self) -> Result<String> {
        use sqlx::Row;
        let sql = format!("EXPLAIN QUERY PLAN {RECORD_SELECT} WHERE k.phone IN ($1, $2)");
        Ok(match &self.pool {
            crate::Pool::Sqlite(p) => sqlx::query(&sql)
                .bind("+1")
                .bind("1")
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| r.get::<String, _>("detail"))
                .collect::<Vec<_>>()
                .join("\n"),
            crate::Pool::Postgres(p) => {
                // A test table is small: ask for the plan a large one gets.
                let mut tx = p.begin().await?;
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut *tx)
                    .await?;
                let sql = sql.replace("EXPLAIN QUERY PLAN", "EXPLAIN");
                sqlx::query(&sql)
                    .bind("+1")
                    .bind("1")
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| r.get::<String, _>(0))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        })
    }

    async fn with_attempts(&self, contact: ContactRecord) -> Result<ContactHistory> {
        let history = on_pool!(self, |p| sqlx::query_as::<_, AttemptRecord>(
            "SELECT a.id, a.attempt_no, a.placed_at, a.answered_at, a.connected_at, a.ended_at,
                    a.outcome, a.hangup_cause, s.name AS server, a.node, a.channel_id, a.agent,
                    a.recording, a.recording_deleted_at
             FROM call_attempts a LEFT JOIN asterisk_servers s ON s.id = a.server_id
             WHERE a.contact_id = $1 ORDER BY a.attempt_no"
        )
        .bind(contact.id)
        .fetch_all(p)
        .await?);
        Ok(ContactHistory { contact, history })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lookup_by_phone_uses_the_phone_index() {
        for t in crate::testing::backends().await {
            let plan = t.store.phone_lookup_plan().await.unwrap();
            assert!(plan.contains("contacts_phone"), "{}: {plan}", t.label);
        }
    }

    #[test]
    fn a_bad_state_names_the_valid_ones() {
        assert_eq!(parse_state(" Pending ").unwrap(), "pending");
        let e = parse_state("finished").unwrap_err().to_string();
        assert!(e.contains("`finished`"), "{e}");
        for s in CONTACT_STATES {
            assert!(e.contains(s), "{e}");
        }
    }

    #[test]
    fn a_key_is_an_id_a_phone_or_both() {
        let ar = Normalizer::new(Some("54")).unwrap();
        let k = ContactKey::parse("42", &ar).unwrap();
        assert_eq!((k.id, k.phone), (Some(42), None), "too short for a phone");
        let k = ContactKey::parse("011 4000-0001", &ar).unwrap();
        assert_eq!(
            (k.id, k.phone.as_deref()),
            (None, Some("+541140000001")),
            "national form under the default country"
        );
        let k = ContactKey::parse("1140000001", &ar).unwrap();
        assert_eq!(
            (k.id, k.phone.as_deref()),
            (Some(1140000001), Some("+541140000001"))
        );
        let e = ContactKey::parse("4000-0001x", &ar).unwrap_err();
        assert!(e.to_string().contains("'x'"), "{e}");
    }
}
