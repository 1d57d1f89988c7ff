//! Recording what became of calls in batches (the dialer's group commit of
//! outcomes): the progress of answered and connected calls, and each
//! attempt's end with its contact's next state. PostgreSQL applies a whole
//! batch in one statement (arrays unnested), so a burst of ended calls costs
//! one round trip, not two statements per call; SQLite, in the process, runs
//! the same rules row by row with prepared statements in the caller's
//! transaction. The contacts of one batch must differ.

use std::collections::HashSet;

use sqlx::{Postgres, Sqlite, Transaction};

use super::AttemptResult;
use crate::Result;

/// A call answered or connected to an agent (a borrowed
/// [`super::DialingWrite::Progress`]).
pub(crate) struct Progress<'a> {
    pub contact_id: i64,
    pub attempt_no: i64,
    pub answered_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub agent: Option<&'a str>,
}

/// Applies progress and ends inside the caller's transaction; one flag per
/// write (`true`: the attempt was found / closed now).
pub(crate) trait OutcomeBatch {
    async fn progress_batch(&mut self, rows: &[Progress<'_>]) -> Result<Vec<bool>>;
    async fn end_batch(&mut self, rows: &[&AttemptResult]) -> Result<Vec<bool>>;
}

const PROGRESS: &str = "UPDATE call_attempts SET answered_at = COALESCE(answered_at, $1),
       connected_at = COALESCE(connected_at, $2), agent = COALESCE(agent, $3)
     WHERE contact_id = $4 AND attempt_no = $5";

/// Closes the attempt; an attempt that has an outcome keeps it.
const END: &str = "UPDATE call_attempts SET answered_at = COALESCE(answered_at, $1),
       connected_at = COALESCE(connected_at, $2), ended_at = $3, outcome = $4,
       hangup_cause = $5, agent = COALESCE(agent, $6)
     WHERE contact_id = $7 AND attempt_no = $8 AND outcome IS NULL";

/// The contact of a closed attempt takes its next state.
const NEXT_STATE: &str = "UPDATE contacts SET state = $1, next_attempt_at = $2, last_outcome = $3,
       claimed_by = NULL, updated_at = $4
     WHERE id = $5 AND attempts = $6 AND state = 'dialing'";

impl OutcomeBatch for Transaction<'_, Sqlite> {
    async fn progress_batch(&mut self, rows: &[Progress<'_>]) -> Result<Vec<bool>> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let n = sqlx::query(PROGRESS)
                .bind(r.answered_at)
                .bind(r.connected_at)
                .bind(r.agent)
                .bind(r.contact_id)
                .bind(r.attempt_no)
                .execute(&mut **self)
                .await?
                .rows_affected();
            out.push(n == 1);
        }
        Ok(out)
    }

    async fn end_batch(&mut self, rows: &[&AttemptResult]) -> Result<Vec<bool>> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let ended = sqlx::query(END)
                .bind(r.answered_at)
                .bind(r.connected_at)
                .bind(r.ended_at)
                .bind(&r.outcome)
                .bind(r.hangup_cause)
                .bind(&r.agent)
                .bind(r.contact_id)
                .bind(r.attempt_no)
                .execute(&mut **self)
                .await?
                .rows_affected()
                == 1;
            if ended {
                sqlx::query(NEXT_STATE)
                    .bind(&r.contact_state)
                    .bind(r.next_attempt_at)
                    .bind(&r.outcome)
                    .bind(r.ended_at)
                    .bind(r.contact_id)
                    .bind(r.attempt_no)
                    .execute(&mut **self)
                    .await?;
            }
            out.push(ended);
        }
        Ok(out)
    }
}

const PG_PROGRESS: &str = "
UPDATE call_attempts a SET answered_at = COALESCE(a.answered_at, r.answered_at),
       connected_at = COALESCE(a.connected_at, r.connected_at), agent = COALESCE(a.agent, r.agent)
FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::text[])
     AS r(contact_id, attempt_no, answered_at, connected_at, agent)
WHERE a.contact_id = r.contact_id AND a.attempt_no = r.attempt_no
RETURNING a.contact_id";

/// Closes the attempts still open and moves their contacts; returns the
/// contacts whose attempt it closed.
const PG_END: &str = "
WITH r AS (
    SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::text[],
                         $7::int8[], $8::text[], $9::text[], $10::int8[])
        AS t(contact_id, attempt_no, answered_at, connected_at, ended_at, outcome,
             hangup_cause, agent, contact_state, next_attempt_at)
), ended AS (
    UPDATE call_attempts a SET answered_at = COALESCE(a.answered_at, r.answered_at),
           connected_at = COALESCE(a.connected_at, r.connected_at), ended_at = r.ended_at,
           outcome = r.outcome, hangup_cause = r.hangup_cause, agent = COALESCE(a.agent, r.agent)
    FROM r
    WHERE a.contact_id = r.contact_id AND a.attempt_no = r.attempt_no AND a.outcome IS NULL
    RETURNING a.contact_id
), moved AS (
    UPDATE contacts c SET state = r.contact_state, next_attempt_at = r.next_attempt_at,
           last_outcome = r.outcome, claimed_by = NULL, updated_at = r.ended_at
    FROM r JOIN ended ON ended.contact_id = r.contact_id
    WHERE c.id = r.contact_id AND c.attempts = r.attempt_no AND c.state = 'dialing'
)
SELECT contact_id FROM ended";

/// One flag per row: whether its contact is among those the statement
/// returned.
fn flags(contacts: impl Iterator<Item = i64>, returned: Vec<i64>) -> Vec<bool> {
    let hit: HashSet<i64> = returned.into_iter().collect();
    contacts.map(|c| hit.contains(&c)).collect()
}

impl OutcomeBatch for Transaction<'_, Postgres> {
    async fn progress_batch(&mut self, rows: &[Progress<'_>]) -> Result<Vec<bool>> {
        let col = |f: fn(&Progress) -> i64| rows.iter().map(f).collect::<Vec<_>>();
        let opt = |f: fn(&Progress) -> Option<i64>| rows.iter().map(f).collect::<Vec<_>>();
        let returned: Vec<i64> = sqlx::query_scalar(PG_PROGRESS)
            .bind(col(|r| r.contact_id))
            .bind(col(|r| r.attempt_no))
            .bind(opt(|r| r.answered_at))
            .bind(opt(|r| r.connected_at))
            .bind(rows.iter().map(|r| r.agent).collect::<Vec<_>>())
            .fetch_all(&mut **self)
            .await?;
        Ok(flags(rows.iter().map(|r| r.contact_id), returned))
    }

    async fn end_batch(&mut self, rows: &[&AttemptResult]) -> Result<Vec<bool>> {
        let col = |f: fn(&AttemptResult) -> i64| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
        let opt =
            |f: fn(&AttemptResult) -> Option<i64>| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
        let text = |f: fn(&AttemptResult) -> &str| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
        let returned: Vec<i64> = sqlx::query_scalar(PG_END)
            .bind(col(|r| r.contact_id))
            .bind(col(|r| r.attempt_no))
            .bind(opt(|r| r.answered_at))
            .bind(opt(|r| r.connected_at))
            .bind(col(|r| r.ended_at))
            .bind(text(|r| &r.outcome))
            .bind(opt(|r| r.hangup_cause))
            .bind(rows.iter().map(|r| r.agent.as_deref()).collect::<Vec<_>>())
            .bind(text(|r| &r.contact_state))
            .bind(col(|r| r.next_attempt_at))
            .fetch_all(&mut **self)
            .await?;
        Ok(flags(rows.iter().map(|r| r.contact_id), returned))
    }
}
