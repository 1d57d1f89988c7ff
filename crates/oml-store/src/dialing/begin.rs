//! Recording a batch of attempts before their `Originate`s leave (the
//! dialer's group commit): each attempt moves its contact from this node's
//! hopper to `dialing` and inserts its `call_attempts` row, refused when the
//! contact is no longer claimed or the attempt number exists already.
//! PostgreSQL does a whole batch in one statement (arrays unnested), so the
//! rule "committed before dialed" costs one round trip per batch, not two
//! per call; SQLite, in the process, runs the same rules row by row.
//!
//! With a [`Fence`] (the running engine's store), an attempt goes in only
//! while its engine holds its campaign's lease: by its own deadline, and in
//! the same statement against the lease row (holder, epoch, expiry; locked
//! `FOR SHARE` on PostgreSQL so no take-over commits in between), and only
//! while the campaign's stored state is `running`.

use sqlx::{Postgres, Sqlite, Transaction};

use super::NewAttempt;
use crate::leader::{campaign_key, lease_valid, Fence};
use crate::{Backend, Result};

/// Records attempts inside the caller's transaction; one flag per attempt
/// (`true`: recorded, originate it). The contacts of one call must differ.
pub(crate) trait BeginBatch {
    async fn begin_batch(
        &mut self,
        attempts: &[&NewAttempt],
        fence: Option<&Fence>,
    ) -> Result<Vec<bool>>;
}

/// The epoch of each attempt's campaign lease, `None` when the fence does
/// not hold it now (refused without asking the database); all `Some(0)`
/// without a fence.
fn epochs(attempts: &[&NewAttempt], fence: Option<&Fence>) -> Vec<Option<i64>> {
    attempts
        .iter()
        .map(|a| match fence {
            Some(f) => f.epoch(&campaign_key(a.campaign_id)),
            None => Some(0),
        })
        .collect()
}

/// A running engine's attempt goes in only while its campaign runs, read
/// in the same statement: a node that took a campaign over from a dead
/// one, before its own view of the campaign caught up with a pause, must
/// not place the call.
const RUNNING_SQLITE: &str =
    "EXISTS (SELECT 1 FROM campaigns k WHERE k.id = $7 AND k.state = 'running')";

/// The attempt number is taken: the counter was behind. Catch it up and let
/// the contact be claimed again with the next number.
const CATCH_UP: &str = "UPDATE contacts SET state = 'pending', claimed_by = NULL,
       attempts = (SELECT MAX(attempt_no) FROM call_attempts WHERE contact_id = $1)
     WHERE id = $1";

impl BeginBatch for Transaction<'_, Sqlite> {
    async fn begin_batch(
        &mut self,
        attempts: &[&NewAttempt],
        fence: Option<&Fence>,
    ) -> Result<Vec<bool>> {
        let mut out = Vec::with_capacity(attempts.len());
        let move_sql = format!(
            "UPDATE contacts SET state = 'dialing', attempts = $1, updated_at = $2
             WHERE id = $3 AND state = 'hopper' AND claimed_by = $4 AND attempts = $5
               AND ($6 IS NULL OR ({} AND {RUNNING_SQLITE}))",
            lease_valid(Backend::Sqlite, "$6", "'campaign:' || $7", "$8")
        );
        for (a, epoch) in attempts.iter().zip(epochs(attempts, fence)) {
            let Some(epoch) = epoch else {
                out.push(false);
                continue;
            };
            let moved = sqlx::query(&move_sql)
                .bind(a.attempt_no)
                .bind(a.placed_at)
                .bind(a.contact_id)
                .bind(&a.node)
                .bind(a.attempt_no - 1)
                .bind(fence.map(|f| f.holder()))
                .bind(a.campaign_id)
                .bind(epoch)
                .execute(&mut **self)
                .await?
                .rows_affected();
            if moved == 0 {
                out.push(false);
                continue;
            }
            let inserted = sqlx::query(
                "INSERT INTO call_attempts (campaign_id, contact_id, attempt_no, server_id, channel_id, placed_at, node)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (contact_id, attempt_no) DO NOTHING",
            )
            .bind(a.campaign_id)
            .bind(a.contact_id)
            .bind(a.attempt_no)
            .bind(a.server_id)
            .bind(&a.channel_id)
            .bind(a.placed_at)
            .bind(&a.node)
            .execute(&mut **self)
            .await?
            .rows_affected();
            if inserted == 0 {
                sqlx::query(CATCH_UP)
                    .bind(a.contact_id)
                    .execute(&mut **self)
                    .await?;
            }
            out.push(inserted == 1);
        }
        Ok(out)
    }
}

/// Moves the claimed contacts and inserts their attempts in one statement;
/// returns, per moved contact, whether its attempt row went in.
/// With a fence (`$8` the holder, `$9` the epochs), the leases this engine
/// holds are read and locked first (`FOR SHARE`: a take-over waits for this
/// transaction) and each attempt needs its campaign's.
fn pg_batch() -> String {
    let now = crate::leader::db_now(Backend::Postgres);
    format!("
WITH fence AS (
    SELECT key, epoch FROM dialer_leases
    WHERE $8::text IS NOT NULL AND holder = $8 AND expires_at > {now} FOR SHARE
), a AS (
    SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::text[], $6::int8[], $7::text[], $9::int8[])
        AS t(campaign_id, contact_id, attempt_no, server_id, channel_id, placed_at, node, epoch)
), moved AS (
    UPDATE contacts c SET state = 'dialing', attempts = a.attempt_no, updated_at = a.placed_at
    FROM a
    WHERE c.id = a.contact_id AND c.state = 'hopper' AND c.claimed_by = a.node
      AND c.attempts = a.attempt_no - 1
      AND ($8::text IS NULL OR (EXISTS (SELECT 1 FROM fence f
                                        WHERE f.key = 'campaign:' || a.campaign_id AND f.epoch = a.epoch)
                                AND EXISTS (SELECT 1 FROM campaigns k
                                            WHERE k.id = a.campaign_id AND k.state = 'running')))
    RETURNING c.id
), ins AS (
    INSERT INTO call_attempts (campaign_id, contact_id, attempt_no, server_id, channel_id, placed_at, node)
    SELECT a.campaign_id, a.contact_id, a.attempt_no, a.server_id, a.channel_id, a.placed_at, a.node
    FROM a JOIN moved ON moved.id = a.contact_id
    ON CONFLICT (contact_id, attempt_no) DO NOTHING
    RETURNING contact_id
)
SELECT moved.id, ins.contact_id IS NOT NULL FROM moved LEFT JOIN ins ON ins.contact_id = moved.id")
}

impl BeginBatch for Transaction<'_, Postgres> {
    async fn begin_batch(
        &mut self,
        all: &[&NewAttempt],
        fence: Option<&Fence>,
    ) -> Result<Vec<bool>> {
        let (attempts, epochs): (Vec<&NewAttempt>, Vec<i64>) = all
            .iter()
            .zip(epochs(all, fence))
            .filter_map(|(a, e)| Some((*a, e?)))
            .unzip();
        let col = |f: fn(&NewAttempt) -> i64| attempts.iter().map(|a| f(a)).collect::<Vec<_>>();
        let rows: Vec<(i64, bool)> = sqlx::query_as(&pg_batch())
            .bind(col(|a| a.campaign_id))
            .bind(col(|a| a.contact_id))
            .bind(col(|a| a.attempt_no))
            .bind(attempts.iter().map(|a| a.server_id).collect::<Vec<_>>())
            .bind(
                attempts
                    .iter()
                    .map(|a| a.channel_id.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(col(|a| a.placed_at))
            .bind(attempts.iter().map(|a| a.node.clone()).collect::<Vec<_>>())
            .bind(fence.map(|f| f.holder()))
            .bind(epochs)
            .fetch_all(&mut **self)
            .await?;
        let recorded: std::collections::HashMap<i64, bool> = rows.into_iter().collect();
        let mut out = Vec::with_capacity(all.len());
        for a in all {
            match recorded.get(&a.contact_id) {
                Some(true) => out.push(true),
                Some(false) => {
                    sqlx::query(CATCH_UP)
                        .bind(a.contact_id)
                        .execute(&mut **self)
                        .await?;
                    out.push(false);
                }
                None => out.push(false),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::dialing::{AttemptResult, DialingWrite, NewAttempt};
    use crate::testing::backends;
    use crate::{now_ms, on_pool, CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};

    fn begin(campaign: i64, contact: i64, attempt_no: i64, node: &str) -> DialingWrite {
        DialingWrite::Begin(NewAttempt {
            campaign_id: campaign,
            contact_id: contact,
            attempt_no,
            server_id: (contact % 2 == 0).then_some(7),
            channel_id: format!("ch-{contact}-{attempt_no}"),
            placed_at: 1000 + contact,
            node: node.into(),
        })
    }

    /// One batch mixing attempts that go in with every kind of refusal, and
    /// an outcome between them: each gets its own flag, in order, on both
    /// databases, and what was refused is left as the rules say.
    #[tokio::test]
    async fn a_batch_records_each_attempt_by_the_rules() {
        for t in backends().await {
            let s = &t.store;
            s.create_trunk(&TrunkSpec {
                name: "t1".into(),
                dial_string: DEFAULT_DIAL_STRING.into(),
                max_channels: 10,
                server: None,
                caller_id: String::new(),
            })
            .await
            .unwrap();
            let cid = s
                .create_campaign(&CampaignSpec::new("sales", "t1"))
                .await
                .unwrap()
                .id;
            let phones: Vec<String> = (1..=6).map(|i| format!("+5411400000{i:02}")).collect();
            s.seed_contacts(cid, &phones).await.unwrap();
            let mine = s.claim_due_contacts(cid, "n1", now_ms(), 5).await.unwrap();
            let theirs = s.claim_due_contacts(cid, "n2", now_ms(), 5).await.unwrap();
            let ids: Vec<i64> = mine.iter().map(|c| c.id).collect();
            // ids[0] is dialed first and ends; ids[4]'s counter is behind an
            // attempt row that exists already (the catch-up case).
            let first = [begin(cid, ids[0], 1, "n1")];
            let flags = s.apply_dialing_writes(&first).await.unwrap();
            assert_eq!(flags, vec![true], "{}", t.label);
            on_pool!(s, |p| {
                sqlx::query("INSERT INTO call_attempts (campaign_id, contact_id, attempt_no, channel_id, placed_at, node) VALUES ($1, $2, 1, 'old', 0, 'n0')")
                    .bind(cid)
                    .bind(ids[4])
                    .execute(p)
                    .await
                    .unwrap();
            });
            let end = DialingWrite::End(AttemptResult {
                contact_id: ids[0],
                attempt_no: 1,
                answered_at: None,
                connected_at: None,
                ended_at: 2000,
                outcome: "busy".into(),
                hangup_cause: Some(17),
                agent: None,
                contact_state: "exhausted".into(),
                next_attempt_at: 0,
            });
            let batch = vec![
                begin(cid, ids[1], 1, "n1"),
                begin(cid, ids[2], 1, "n1"),
                begin(cid, ids[1], 1, "n1"), // the same attempt twice
                end,
                begin(cid, ids[3], 2, "n1"),       // wrong attempt number
                begin(cid, theirs[0].id, 1, "n1"), // another node's contact
                begin(cid, ids[4], 1, "n1"),       // the number is taken
                begin(cid, ids[0], 2, "n1"),       // no longer in the hopper
            ];
            let flags = s.apply_dialing_writes(&batch).await.unwrap();
            assert_eq!(
                flags,
                vec![true, true, false, true, false, false, false, false],
                "{}",
                t.label
            );
            let rows = s.campaign_attempts(cid).await.unwrap();
            let got: Vec<(i64, i64, &str)> = rows
                .iter()
                .map(|r| (r.contact_id, r.attempt_no, r.channel_id.as_str()))
                .collect();
            let want_ch: Vec<String> = [ids[0], ids[1], ids[2]]
                .iter()
                .map(|i| format!("ch-{i}-1"))
                .collect();
            assert_eq!(
                got,
                vec![
                    (ids[0], 1, want_ch[0].as_str()),
                    (ids[1], 1, want_ch[1].as_str()),
                    (ids[2], 1, want_ch[2].as_str()),
                    (ids[4], 1, "old"),
                ],
                "{}",
                t.label
            );
            assert_eq!(rows[1].placed_at, 1000 + ids[1]);
            let open = s.open_attempts(Some("n1")).await.unwrap();
            let servers: Vec<Option<i64>> = open.iter().map(|o| o.server_id).collect();
            let want: Vec<Option<i64>> = [ids[1], ids[2]]
                .iter()
                .map(|i| (i % 2 == 0).then_some(7))
                .collect();
            assert_eq!(servers, want, "{}", t.label);
            let states = s.campaign_contact_states(cid).await.unwrap();
            let state = |id: i64| states.iter().find(|c| c.id == id).unwrap().clone();
            assert_eq!(state(ids[0]).state, "exhausted");
            assert_eq!(state(ids[1]).state, "dialing");
            assert_eq!(state(ids[3]).state, "hopper");
            assert_eq!(state(theirs[0].id).state, "hopper");
            let caught_up = state(ids[4]);
            assert_eq!(
                (caught_up.state.as_str(), caught_up.attempts),
                ("pending", 1),
                "{}: the counter catches up with the taken number",
                t.label
            );
        }
    }
}
