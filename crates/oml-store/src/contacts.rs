//! Contact lists and the do-not-call list.
//!
//! An import runs in one transaction ([`ContactImport`]): rows go in with
//! multi-row `INSERT`s of [`INSERT_CHUNK`] rows, duplicates are turned away
//! by the `(campaign_id, phone)` unique key rather than by a set held in
//! memory (so memory stays flat however long the file), and nothing of the
//! file remains when the import is dropped before [`ContactImport::commit`].
//! The same SQL runs on SQLite and PostgreSQL.

use crate::phone::{self, Phone};
use crate::{now_ms, on_pool, Pool, Result, Store};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Rows per multi-row `INSERT` (two bound values each, well under the
/// parameter limits of SQLite (32766) and PostgreSQL (65535)).
pub const INSERT_CHUNK: usize = 2000;

/// Numbers per transaction when adding to the do-not-call list.
pub const DNC_TRANSACTION_ROWS: usize = 5000;

/// One uploaded file of contacts.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ContactList {
    pub id: i64,
    pub campaign_id: i64,
    pub name: String,
    pub imported_at: i64,
    pub rows_total: i64,
    pub rows_imported: i64,
    pub rows_rejected: i64,
}

/// A contact of a campaign.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Contact {
    pub id: i64,
    pub campaign_id: i64,
    pub list_id: i64,
    pub phone: String,
    /// The other columns of the uploaded row, a JSON object.
    pub attributes: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_outcome: Option<String>,
}

const CONTACT_COLUMNS: &str =
    "id, campaign_id, list_id, phone, attributes, state, attempts, next_attempt_at, last_outcome";

/// A row to insert: the normalised phone and the attributes as JSON text.
#[derive(Debug, Clone, Copy)]
pub struct NewContact<'a> {
    pub phone: &'a str,
    pub attributes: &'a str,
}

/// Why [`ContactImport::insert`] did not store a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// An earlier row of the same import has this number.
    SameImport,
    /// The campaign had this number before the import began.
    AlreadyInCampaign,
}

/// Counts stored with the list when an import is committed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportTotals {
    pub rows_total: i64,
    pub rows_imported: i64,
    pub rows_rejected: i64,
}

enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

macro_rules! on_tx {
    ($tx:expr, |$t:ident| $body:expr) => {
        match $tx {
            Tx::Sqlite($t) => $body,
            Tx::Postgres($t) => $body,
        }
    };
}

/// An import in progress: one transaction holding a new contact list.
/// Dropping it without [`commit`](Self::commit) leaves no trace.
pub struct ContactImport {
    tx: Tx,
    campaign_id: i64,
    list_id: i64,
    /// Whether any do-not-call number concerns this campaign (if not, the
    /// per-batch look-up is skipped).
    dnc_possible: bool,
    started_at: i64,
}

impl Store {
    /// Begins importing a list called `list_name` into the campaign.
    pub async fn begin_contact_import(
        &self,
        campaign_id: i64,
        list_name: &str,
    ) -> Result<ContactImport> {
        let now = now_ms();
        let mut tx = match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        };
        let list_id: i64 = on_tx!(&mut tx, |t| {
            sqlx::query_scalar(
            "INSERT INTO contact_lists (campaign_id, name, imported_at) VALUES ($1, $2, $3) RETURNING id"
        )
        .bind(campaign_id)
        .bind(list_name)
        .bind(now)
        .fetch_one(&mut **t)
        .await?
        });
        let dnc: i64 = on_tx!(&mut tx, |t| sqlx::query_scalar(
            "SELECT COUNT(*) FROM dnc_numbers WHERE COALESCE(campaign_id, 0) IN (0, $1)"
        )
        .bind(campaign_id)
        .fetch_one(&mut **t)
        .await?);
        Ok(ContactImport {
            tx,
            campaign_id,
            list_id,
            dnc_possible: dnc > 0,
            started_at: now,
        })
    }

    /// The contact lists of a campaign, oldest first.
    pub async fn contact_lists(&self, campaign_id: i64) -> Result<Vec<ContactList>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, ContactList>(
            "SELECT id, campaign_id, name, imported_at, rows_total, rows_imported, rows_rejected
             FROM contact_lists WHERE campaign_id = $1 ORDER BY id"
        )
        .bind(campaign_id)
        .fetch_all(p)
        .await?))
    }

    /// How many contacts of the campaign are in each state, by state name.
    pub async fn contact_counts(&self, campaign_id: i64) -> Result<Vec<(String, i64)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, (String, i64)>(
            "SELECT state, COUNT(*) FROM contacts WHERE campaign_id = $1 GROUP BY state ORDER BY state"
        )
        .bind(campaign_id)
        .fetch_all(p)
        .await?
        }))
    }

    /// Up to `limit` contacts of the campaign after id `after_id`, by id.
    pub async fn contacts_page(
        &self,
        campaign_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<Contact>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE campaign_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Contact>(&sql)
            .bind(campaign_id)
            .bind(after_id)
            .bind(limit)
            .fetch_all(p)
            .await?))
    }

    // -------------------------------------------------------- do-not-call

    /// Adds numbers (already normalised, see [`crate::phone`]) to the
    /// do-not-call list of a campaign, or to the global one with `None`.
    /// Numbers already there are skipped; returns how many were added.
    /// Multi-row inserts, committed every [`DNC_TRANSACTION_ROWS`] numbers.
    pub async fn dnc_add<N: DncNumber>(
        &self,
        campaign_id: Option<i64>,
        phones: &[N],
    ) -> Result<u64> {
        let now = now_ms();
        let mut added = 0;
        for txn in phones.chunks(DNC_TRANSACTION_ROWS) {
            added += on_pool!(self, |p| {
                let mut tx = p.begin().await?;
                let mut n = 0;
                for chunk in txn.chunks(INSERT_CHUNK / 2) {
                    let sql = dnc_insert_sql(campaign_id, now, chunk.len());
                    let mut q = sqlx::query(&sql);
                    for phone in chunk {
                        q = q.bind(phone.number()).bind(phone.national());
                    }
                    n += q.execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                n
            });
        }
        Ok(added)
    }

    /// Removes a number from a campaign's do-not-call list (or the global
    /// one with `None`); false when it was not there.
    pub async fn dnc_remove(&self, campaign_id: Option<i64>, phone: &str) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "DELETE FROM dnc_numbers WHERE COALESCE(campaign_id, 0) = $1 AND phone = $2"
        )
        .bind(campaign_id.unwrap_or(0))
        .bind(phone)
        .execute(p)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// The do-not-call entries: of one scope, or all with `None`.
    pub async fn dnc_list(&self, scope: Option<DncScope>) -> Result<Vec<DncEntry>> {
        let base = "SELECT d.phone, d.national, c.name AS campaign, d.added_at
                    FROM dnc_numbers d LEFT JOIN campaigns c ON c.id = d.campaign_id";
        Ok(match scope {
            None => on_pool!(self, |p| sqlx::query_as::<_, DncEntry>(&format!(
                "{base} ORDER BY c.name NULLS FIRST, d.phone"
            ))
            .fetch_all(p)
            .await?),
            Some(s) => on_pool!(self, |p| sqlx::query_as::<_, DncEntry>(&format!(
                "{base} WHERE COALESCE(d.campaign_id, 0) = $1 ORDER BY d.phone"
            ))
            .bind(s.key())
            .fetch_all(p)
            .await?),
        })
    }

    /// Whether `phone` may not be called for this campaign (its own list or
    /// the global one).
    pub async fn dnc_contains(&self, campaign_id: i64, phone: &str) -> Result<bool> {
        let sql = format!(
            "SELECT COUNT(*) FROM dnc_numbers d WHERE COALESCE(d.campaign_id, 0) IN (0, $1) AND {}",
            phone::dnc_match_sql("$2")
        );
        let n: i64 = on_pool!(self, |p| {
            sqlx::query_scalar(&sql)
                .bind(campaign_id)
                .bind(phone)
                .fetch_one(p)
                .await?
        });
        Ok(n > 0)
    }
}

/// A number to put on the do-not-call list: its stored form, and its
/// national number when it was written without a country code.
pub trait DncNumber: Sync {
    fn number(&self) -> &str;
    fn national(&self) -> Option<&str>;
}

/// A number as given: it matches itself only.
impl DncNumber for String {
    fn number(&self) -> &str {
        self
    }
    fn national(&self) -> Option<&str> {
        None
    }
}

impl DncNumber for Phone {
    fn number(&self) -> &str {
        &self.number
    }
    fn national(&self) -> Option<&str> {
        self.national.as_deref()
    }
}

/// Which do-not-call list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DncScope {
    /// Applies to every campaign.
    Global,
    /// Applies to this campaign id only.
    Campaign(i64),
}

impl DncScope {
    fn key(self) -> i64 {
        match self {
            DncScope::Global => 0,
            DncScope::Campaign(id) => id,
        }
    }

    pub fn campaign_id(self) -> Option<i64> {
        match self {
            DncScope::Global => None,
            DncScope::Campaign(id) => Some(id),
        }
    }
}

/// A do-not-call number; `campaign` is `None` for the global list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DncEntry {
    pub phone: String,
    /// Set when the number was written without a country code: it then
    /// matches this national number under every country code.
    pub national: Option<String>,
    pub campaign: Option<String>,
    pub added_at: i64,
}

fn dnc_insert_sql(campaign_id: Option<i64>, now: i64, rows: usize) -> String {
    let campaign = campaign_id.map_or_else(|| "NULL".to_string(), |id| id.to_string());
    let mut sql = String::with_capacity(40 + rows * 30);
    sql.push_str("INSERT INTO dnc_numbers (campaign_id, phone, national, added_at) VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "({campaign}, ${}, ${}, {now})",
            2 * i + 1,
            2 * i + 2
        ));
    }
    sql.push_str(" ON CONFLICT DO NOTHING");
    sql
}

impl ContactImport {
    pub fn list_id(&self) -> i64 {
        self.list_id
    }

    /// The numbers among `phones` that are on the do-not-call list for this
    /// campaign ([`phone::dnc_matches`]): the entries that may match are
    /// fetched by number or national number, the rule is applied here.
    pub async fn dnc_among(&mut self, phones: &[&str]) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        if !self.dnc_possible {
            return Ok(out);
        }
        for chunk in phones.chunks(INSERT_CHUNK / 2) {
            let keys: Vec<&str> = chunk
                .iter()
                .map(|p| phone::national_key(p).unwrap_or(p))
                .collect();
            let mut sql = String::from(
                "SELECT phone, national FROM dnc_numbers WHERE COALESCE(campaign_id, 0) IN (0, $1) AND (phone IN (",
            );
            push_params(&mut sql, 2, chunk.len(), 1);
            sql.push_str(") OR national IN (");
            push_params(&mut sql, 2 + chunk.len(), keys.len(), 1);
            sql.push_str("))");
            let campaign_id = self.campaign_id;
            let found: Vec<(String, Option<String>)> = on_tx!(&mut self.tx, |t| {
                let mut q = sqlx::query_as(&sql).bind(campaign_id);
                for p in chunk.iter().chain(&keys) {
                    q = q.bind(*p);
                }
                q.fetch_all(&mut **t).await?
            });
            for p in chunk {
                if found
                    .iter()
                    .any(|(e, n)| phone::dnc_matches(e, n.as_deref(), p))
                {
                    out.insert(p.to_string());
                }
            }
        }
        Ok(out)
    }

    /// Inserts the rows (their phones distinct from each other). Returns,
    /// for each row not stored, its index in `rows` and why.
    pub async fn insert(&mut self, rows: &[NewContact<'_>]) -> Result<Vec<(usize, Conflict)>> {
        let mut conflicts = Vec::new();
        for (c, chunk) in rows.chunks(INSERT_CHUNK).enumerate() {
            let sql =
                contact_insert_sql(self.campaign_id, self.list_id, self.started_at, chunk.len());
            let inserted: Vec<String> = on_tx!(&mut self.tx, |t| {
                let mut q = sqlx::query_scalar(&sql);
                for r in chunk {
                    q = q.bind(r.phone).bind(r.attributes);
                }
                q.fetch_all(&mut **t).await?
            });
            if inserted.len() == chunk.len() {
                continue;
            }
            let inserted: HashSet<String> = inserted.into_iter().collect();
            let missing: Vec<(usize, &str)> = chunk
                .iter()
                .enumerate()
                .filter(|(_, r)| !inserted.contains(r.phone))
                .map(|(i, r)| (c * INSERT_CHUNK + i, r.phone))
                .collect();
            let owners = self.owners(&missing).await?;
            for (i, phone) in missing {
                let conflict = match owners.get(phone) {
                    Some(list) if *list == self.list_id => Conflict::SameImport,
                    _ => Conflict::AlreadyInCampaign,
                };
                conflicts.push((i, conflict));
            }
        }
        Ok(conflicts)
    }

    /// The list id holding each of these phones in the campaign.
    async fn owners(&mut self, phones: &[(usize, &str)]) -> Result<HashMap<String, i64>> {
        let mut out = HashMap::new();
        for chunk in phones.chunks(INSERT_CHUNK) {
            let mut sql = String::from(
                "SELECT phone, list_id FROM contacts WHERE campaign_id = $1 AND phone IN (",
            );
            push_params(&mut sql, 2, chunk.len(), 1);
            sql.push(')');
            let campaign_id = self.campaign_id;
            let rows: Vec<(String, i64)> = on_tx!(&mut self.tx, |t| {
                let mut q = sqlx::query_as(&sql).bind(campaign_id);
                for (_, p) in chunk {
                    q = q.bind(*p);
                }
                q.fetch_all(&mut **t).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Stores the counts on the list and makes the import visible.
    pub async fn commit(mut self, totals: ImportTotals) -> Result<ContactList> {
        let list_id = self.list_id;
        let list = on_tx!(&mut self.tx, |t| {
            sqlx::query_as::<_, ContactList>(
            "UPDATE contact_lists SET rows_total = $1, rows_imported = $2, rows_rejected = $3
             WHERE id = $4
             RETURNING id, campaign_id, name, imported_at, rows_total, rows_imported, rows_rejected"
        )
        .bind(totals.rows_total)
        .bind(totals.rows_imported)
        .bind(totals.rows_rejected)
        .bind(list_id)
        .fetch_one(&mut **t)
        .await?
        });
        match self.tx {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(list)
    }

    /// Undoes everything of this import (dropping it does the same).
    pub async fn rollback(self) -> Result<()> {
        match self.tx {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}

/// Appends `$first, $first+step, ...` `count` times, comma-separated.
fn push_params(sql: &mut String, first: usize, count: usize, step: usize) {
    for i in 0..count {
        if i > 0 {
            sql.push(',');
        }
        sql.push('$');
        sql.push_str(&(first + i * step).to_string());
    }
}

fn contact_insert_sql(campaign_id: i64, list_id: i64, now: i64, rows: usize) -> String {
    let mut sql = String::with_capacity(100 + rows * 40);
    sql.push_str(
        "INSERT INTO contacts (campaign_id, list_id, phone, attributes, updated_at) VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "({campaign_id}, {list_id}, ${}, ${}, {now})",
            2 * i + 1,
            2 * i + 2
        ));
    }
    sql.push_str(" ON CONFLICT DO NOTHING RETURNING phone");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_sql_numbers_parameters_in_pairs() {
        let sql = contact_insert_sql(7, 9, 100, 2);
        assert!(
            sql.contains("(7, 9, $1, $2, 100),(7, 9, $3, $4, 100)"),
            "{sql}"
        );
        assert!(sql.ends_with("ON CONFLICT DO NOTHING RETURNING phone"));
        let sql = dnc_insert_sql(None, 5, 2);
        assert!(sql.contains("(NULL, $1, $2, 5),(NULL, $3, $4, 5)"), "{sql}");
        let mut s = String::new();
        push_params(&mut s, 2, 3, 1);
        assert_eq!(s, "$2,$3,$4");
    }
}
