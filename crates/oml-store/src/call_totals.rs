//! Each campaign's calls since it was created, counted from the attempts
//! stored (every node's): the Prometheus counters `oml_calls_*_total` of
//! issue 20 item 6. Counting what is stored keeps them right across
//! restarts and nodes. A scrape does not count every attempt again: a
//! [`TotalsCache`] keeps the counts of the attempts that are over (their
//! outcome never changes once set) and reads only those placed after them
//! and those still open.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use crate::{on_pool, Result, Store};

/// Attempts placed this recently are read again at the next count: a
/// transaction that took a lower id may not have committed yet.
pub const SETTLE_MS: i64 = 120_000;

/// One campaign's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallTotals {
    pub campaign: String,
    /// Attempts recorded (each before its `Originate`).
    pub placed: i64,
    /// Answered by the far end.
    pub answered: i64,
    pub abandoned: i64,
    /// Attempts that could not be placed (outcome `failed`).
    pub originate_errors: i64,
}

/// Counts of some attempts of one campaign.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    placed: i64,
    answered: i64,
    abandoned: i64,
    failed: i64,
}

impl Counts {
    fn add_row(&mut self, r: &AttemptRow) {
        self.placed += 1;
        self.answered += i64::from(r.answered_at.is_some());
        // A call that heard the abandon message is abandoned all the same.
        self.abandoned += i64::from(matches!(
            r.outcome.as_deref(),
            Some("abandoned" | "abandoned_message_played")
        ));
        self.failed += i64::from(r.outcome.as_deref() == Some("failed"));
    }

    fn plus(self, o: Counts) -> Counts {
        Counts {
            placed: self.placed + o.placed,
            answered: self.answered + o.answered,
            abandoned: self.abandoned + o.abandoned,
            failed: self.failed + o.failed,
        }
    }
}

/// An attempt as the counters read it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct AttemptRow {
    id: i64,
    campaign_id: i64,
    placed_at: i64,
    answered_at: Option<i64>,
    outcome: Option<String>,
}

/// What the counters keep between scrapes (one per database).
#[derive(Debug, Default)]
pub struct TotalsCache {
    filled: bool,
    /// Every attempt with an id up to this one is counted in `done` or
    /// listed in `open`.
    seen_to: i64,
    /// Attempts up to `seen_to` without an outcome yet.
    open: BTreeSet<i64>,
    /// The counts of the attempts over, by campaign id.
    done: HashMap<i64, Counts>,
}

impl TotalsCache {
    /// Takes the attempts read at `now_ms` (those listed open and those
    /// after `seen_to`, by id); returns the counts of those it does not
    /// keep (still open, or placed too recently to move `seen_to` over).
    fn absorb(&mut self, mut rows: Vec<AttemptRow>, now_ms: i64) -> HashMap<i64, Counts> {
        rows.sort_by_key(|r| r.id);
        let mut loose: HashMap<i64, Counts> = HashMap::new();
        let mut open = BTreeSet::new();
        let mut settling = true;
        for r in rows {
            let known = r.id <= self.seen_to;
            if !known && settling && r.placed_at < now_ms - SETTLE_MS {
                self.seen_to = r.id;
            } else if !known {
                // Read again next time, with whatever committed before it.
                settling = false;
                loose.entry(r.campaign_id).or_default().add_row(&r);
                continue;
            }
            if r.outcome.is_some() {
                self.done.entry(r.campaign_id).or_default().add_row(&r);
            } else {
                open.insert(r.id);
                loose.entry(r.campaign_id).or_default().add_row(&r);
            }
        }
        // An open attempt not read back was deleted.
        self.open = open;
        loose
    }
}

const COLUMNS: &str = "id, campaign_id, placed_at, answered_at, outcome";

impl Store {
    /// Every campaign's totals, by name (campaigns without attempts too),
    /// reading only what changed since `cache` was last used.
    pub async fn call_totals(
        &self,
        cache: &mut TotalsCache,
        now_ms: i64,
    ) -> Result<Vec<CallTotals>> {
        if !cache.filled {
            self.fill_totals(cache, now_ms).await?;
        }
        let mut sql = format!("SELECT {COLUMNS} FROM call_attempts WHERE id > $1");
        if !cache.open.is_empty() {
            sql.push_str(" OR id IN (");
            for (i, id) in cache.open.iter().enumerate() {
                let _ = write!(sql, "{}{id}", if i == 0 { "" } else { "," });
            }
            sql.push(')');
        }
        let rows = on_pool!(self, |p| sqlx::query_as::<_, AttemptRow>(&sql)
            .bind(cache.seen_to)
            .fetch_all(p)
            .await?);
        let loose = cache.absorb(rows, now_ms);
        let campaigns: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, name FROM campaigns ORDER BY name"
        )
        .fetch_all(p)
        .await?);
        Ok(campaigns
            .into_iter()
            .map(|(id, campaign)| {
                let c = cache
                    .done
                    .get(&id)
                    .copied()
                    .unwrap_or_default()
                    .plus(loose.get(&id).copied().unwrap_or_default());
                CallTotals {
                    campaign,
                    placed: c.placed,
                    answered: c.answered,
                    abandoned: c.abandoned,
                    originate_errors: c.failed,
                }
            })
            .collect())
    }

    /// The first count: the attempts over, grouped in the database, and
    /// the ids of those still open, up to the last attempt placed before
    /// [`SETTLE_MS`].
    async fn fill_totals(&self, cache: &mut TotalsCache, now_ms: i64) -> Result<()> {
        let seen_to: i64 = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT COALESCE(MAX(id), 0) FROM call_attempts WHERE placed_at < $1"
        )
        .bind(now_ms - SETTLE_MS)
        .fetch_one(p)
        .await?);
        let done: Vec<(i64, i64, i64, i64, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT campaign_id, COUNT(*), COUNT(answered_at),
                    COALESCE(SUM(CASE WHEN outcome IN ('abandoned', 'abandoned_message_played')
                                      THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END), 0)
               FROM call_attempts WHERE id <= $1 AND outcome IS NOT NULL
              GROUP BY campaign_id"
        )
        .bind(seen_to)
        .fetch_all(p)
        .await?);
        let open: Vec<i64> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT id FROM call_attempts WHERE outcome IS NULL AND id <= $1"
        )
        .bind(seen_to)
        .fetch_all(p)
        .await?);
        *cache = TotalsCache {
            filled: true,
            seen_to,
            open: open.into_iter().collect(),
            done: done
                .into_iter()
                .map(|(c, placed, answered, abandoned, failed)| {
                    (
                        c,
                        Counts {
                            placed,
                            answered,
                            abandoned,
                            failed,
                        },
                    )
                })
                .collect(),
        };
        Ok(())
    }
}

#[cfg(test)]
#[path = "call_totals_tests.rs"]
mod tests;
