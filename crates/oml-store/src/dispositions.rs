//! A campaign's dispositions (issue 19 item 5): what an agent says of a call
//! in the wrap-up form, and what that does to the contact (done, tried
//! again later, called back at a chosen time, put on a do-not-call list);
//! and how long the wrap-up may last. Administrators manage them from
//! `oml campaign disposition`, the console and the API; applying one to an
//! attempt is [`crate::dispose`].

use serde::Serialize;

use crate::{now_ms, on_pool, Result, Store, StoreError};

/// The wrap-up limit of a campaign that was given none, in seconds.
pub const DEFAULT_WRAPUP_S: i64 = 60;
/// The longest wrap-up limit a campaign may have, in seconds (one hour).
pub const MAX_WRAPUP_S: i64 = 3600;
/// The longest a non-final disposition may wait before the next try (30 days).
pub const MAX_RETRY_AFTER_S: i64 = 30 * 86_400;
/// The longest disposition name.
pub const MAX_NAME_LEN: usize = 40;

/// Which do-not-call list a disposition adds the number to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DncTarget {
    /// None: the number stays callable.
    No,
    /// The campaign's own list.
    Campaign,
    /// The global list (every campaign).
    Global,
}

impl DncTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            DncTarget::No => "no",
            DncTarget::Campaign => "campaign",
            DncTarget::Global => "global",
        }
    }
}

impl std::str::FromStr for DncTarget {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "no" => Ok(DncTarget::No),
            "campaign" => Ok(DncTarget::Campaign),
            "global" => Ok(DncTarget::Global),
            _ => Err(StoreError::invalid(
                "do-not-call list",
                format!("`{s}`: write no, campaign or global"),
            )),
        }
    }
}

/// One disposition of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disposition {
    pub name: String,
    /// The contact is done: never called again.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The agent gives a date and time to call the contact back.
    pub callback: bool,
    /// The number goes on this do-not-call list (the contact ends).
    pub dnc: DncTarget,
    /// Not final, no callback: tried again this many seconds later.
    pub retry_after_s: i64,
}

impl Disposition {
    /// Checks the settings together, naming what to change.
    pub fn validate(&self) -> Result<()> {
        let name = self.name.as_str();
        if name.trim() != name || name.is_empty() || name.chars().count() > MAX_NAME_LEN {
            return Err(StoreError::invalid(
                "disposition name",
                format!(
                    "{name:?}: give 1-{MAX_NAME_LEN} characters without leading or trailing spaces"
                ),
            ));
        }
        if name.chars().any(|c| c.is_control() || c == ',') {
            return Err(StoreError::invalid(
                "disposition name",
                format!("{name:?}: no commas or control characters"),
            ));
        }
        if self.callback && self.is_final {
            return Err(StoreError::invalid(
                "disposition",
                format!("`{name}` cannot both be final and schedule a callback: choose one"),
            ));
        }
        if self.callback && self.dnc != DncTarget::No {
            return Err(StoreError::invalid(
                "disposition",
                format!("`{name}` cannot both schedule a callback and add the number to a do-not-call list"),
            ));
        }
        if !(0..=MAX_RETRY_AFTER_S).contains(&self.retry_after_s) {
            return Err(StoreError::invalid(
                "retry after",
                format!(
                    "{} s: give 0 to {MAX_RETRY_AFTER_S} seconds",
                    self.retry_after_s
                ),
            ));
        }
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct DispositionRow {
    name: String,
    is_final: bool,
    callback: bool,
    dnc: String,
    retry_after_s: i64,
}

impl TryFrom<DispositionRow> for Disposition {
    type Error = StoreError;
    fn try_from(r: DispositionRow) -> Result<Self> {
        Ok(Disposition {
            name: r.name,
            is_final: r.is_final,
            callback: r.callback,
            dnc: r.dnc.parse()?,
            retry_after_s: r.retry_after_s,
        })
    }
}

const COLUMNS: &str = "name, is_final, callback, dnc, retry_after_s";

impl Store {
    /// Adds a disposition to the campaign; refused when its settings
    /// contradict each other or the campaign has one of that name.
    pub async fn add_disposition(&self, campaign_id: i64, d: &Disposition) -> Result<()> {
        d.validate()?;
        if self.disposition(campaign_id, &d.name).await?.is_some() {
            return Err(StoreError::AlreadyExists {
                what: "disposition",
                name: d.name.clone(),
            });
        }
        on_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO campaign_dispositions (campaign_id, name, is_final, callback, dnc, retry_after_s, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(campaign_id)
        .bind(&d.name)
        .bind(d.is_final)
        .bind(d.callback)
        .bind(d.dnc.as_str())
        .bind(d.retry_after_s)
        .bind(now_ms())
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(())
    }

    /// The campaign's dispositions, by name.
    pub async fn dispositions(&self, campaign_id: i64) -> Result<Vec<Disposition>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM campaign_dispositions WHERE campaign_id = $1 ORDER BY name"
        );
        let rows = on_pool!(self, |p| sqlx::query_as::<_, DispositionRow>(&sql)
            .bind(campaign_id)
            .fetch_all(p)
            .await?);
        rows.into_iter().map(Disposition::try_from).collect()
    }

    /// One disposition of the campaign by name.
    pub async fn disposition(&self, campaign_id: i64, name: &str) -> Result<Option<Disposition>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM campaign_dispositions WHERE campaign_id = $1 AND name = $2"
        );
        let row = on_pool!(self, |p| sqlx::query_as::<_, DispositionRow>(&sql)
            .bind(campaign_id)
            .bind(name)
            .fetch_optional(p)
            .await?);
        row.map(Disposition::try_from).transpose()
    }

    /// Removes a disposition; attempts that were given it keep its name.
    /// False when the campaign has none of that name.
    pub async fn remove_disposition(&self, campaign_id: i64, name: &str) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "DELETE FROM campaign_dispositions WHERE campaign_id = $1 AND name = $2"
        )
        .bind(campaign_id)
        .bind(name)
        .execute(p)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// The disposition stored with an attempt (`call_attempts.id`) and who
    /// gave it; `None` when it has none.
    pub async fn attempt_disposition(&self, attempt_id: i64) -> Result<Option<(String, String)>> {
        let row: Option<(Option<String>, Option<String>)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT disposition, disposed_by FROM call_attempts WHERE id = $1"
        )
        .bind(attempt_id)
        .fetch_optional(p)
        .await?);
        Ok(row.and_then(|(d, by)| Some((d?, by.unwrap_or_default()))))
    }

    /// The note stored with an attempt's disposition; `None` without one.
    pub async fn attempt_disposition_note(&self, attempt_id: i64) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT disposition_note FROM call_attempts WHERE id = $1"
        )
        .bind(attempt_id)
        .fetch_optional(p)
        .await?);
        Ok(row.and_then(|(n,)| n))
    }

    /// The agent who took an attempt (`call_attempts.agent`: the queue
    /// member's name or interface); `None` when there is no such attempt.
    pub async fn attempt_agent(&self, attempt_id: i64) -> Result<Option<Option<String>>> {
        let row: Option<(Option<String>,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT agent FROM call_attempts WHERE id = $1"
        )
        .bind(attempt_id)
        .fetch_optional(p)
        .await?);
        Ok(row.map(|(a,)| a))
    }

    /// How long an agent may stay in wrap-up after a call of the campaign.
    pub async fn wrapup_limit_s(&self, campaign_id: i64) -> Result<i64> {
        let v: Option<i64> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT limit_s FROM campaign_wrapup WHERE campaign_id = $1"
        )
        .bind(campaign_id)
        .fetch_optional(p)
        .await?);
        Ok(v.unwrap_or(DEFAULT_WRAPUP_S))
    }

    /// Sets the campaign's wrap-up limit (1 to [`MAX_WRAPUP_S`] seconds).
    pub async fn set_wrapup_limit_s(&self, campaign_id: i64, limit_s: i64) -> Result<()> {
        if !(1..=MAX_WRAPUP_S).contains(&limit_s) {
            return Err(StoreError::invalid(
                "wrap-up limit",
                format!("{limit_s} s: give 1 to {MAX_WRAPUP_S} seconds"),
            ));
        }
        on_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO campaign_wrapup (campaign_id, limit_s, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (campaign_id) DO UPDATE SET limit_s = excluded.limit_s, updated_at = excluded.updated_at"
        )
        .bind(campaign_id)
        .bind(limit_s)
        .bind(now_ms())
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(name: &str) -> Disposition {
        Disposition {
            name: name.into(),
            is_final: false,
            callback: false,
            dnc: DncTarget::No,
            retry_after_s: 3600,
        }
    }

    #[test]
    fn contradictions_are_named() {
        assert!(d("sale").validate().is_ok());
        let both = Disposition {
            is_final: true,
            callback: true,
            ..d("x")
        };
        assert!(both.validate().unwrap_err().to_string().contains("final"));
        let cb_dnc = Disposition {
            callback: true,
            dnc: DncTarget::Global,
            ..d("x")
        };
        assert!(cb_dnc
            .validate()
            .unwrap_err()
            .to_string()
            .contains("do-not-call"));
        for bad in ["", " sale", "a,b", &"x".repeat(41)] {
            assert!(d(bad).validate().is_err(), "{bad:?}");
        }
        let long = Disposition {
            retry_after_s: -1,
            ..d("x")
        };
        assert!(long.validate().unwrap_err().to_string().contains("retry"));
        assert_eq!(
            "campaign".parse::<DncTarget>().unwrap(),
            DncTarget::Campaign
        );
        assert!("yes".parse::<DncTarget>().is_err());
    }
}
