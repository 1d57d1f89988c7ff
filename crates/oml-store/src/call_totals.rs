//! Each campaign's calls since it was created, counted from the attempts
//! stored (every node's): the Prometheus counters `oml_calls_*_total` of
//! issue 20 item 6. Counting what is stored keeps them right across
//! restarts and nodes; they only fall if attempts are deleted.

use serde::Serialize;

use crate::{on_pool, Result, Store};

/// One campaign's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
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

impl Store {
    /// Every campaign's totals, by name (campaigns without attempts too).
    pub async fn call_totals(&self) -> Result<Vec<CallTotals>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, CallTotals>(
            "SELECT c.name AS campaign,
                    COUNT(a.id) AS placed,
                    COUNT(a.answered_at) AS answered,
                    COALESCE(SUM(CASE WHEN a.outcome = 'abandoned' THEN 1 ELSE 0 END), 0) AS abandoned,
                    COALESCE(SUM(CASE WHEN a.outcome = 'failed' THEN 1 ELSE 0 END), 0) AS originate_errors
               FROM campaigns c LEFT JOIN call_attempts a ON a.campaign_id = c.id
              GROUP BY c.id, c.name ORDER BY c.name"
        )
        .fetch_all(p)
        .await?
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{backends, execute};
    use crate::{CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};

    #[tokio::test]
    async fn totals_count_every_attempt_by_campaign() {
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
            let a = s
                .create_campaign(&CampaignSpec::new("a", "t1"))
                .await
                .unwrap();
            s.create_campaign(&CampaignSpec::new("b", "t1"))
                .await
                .unwrap();
            s.seed_contacts(a.id, &["+15550001".into(), "+15550002".into()])
                .await
                .unwrap();
            for (no, answered, outcome) in [
                (1, "NULL", "'failed'"),
                (2, "5", "'abandoned'"),
                (3, "5", "'connected'"),
                (4, "NULL", "NULL"),
            ] {
                execute(
                    s,
                    &format!(
                        "INSERT INTO call_attempts (campaign_id, contact_id, attempt_no, channel_id, placed_at, answered_at, outcome)
                         SELECT {}, MIN(id), {no}, 'c{no}', 1, {answered}, {outcome} FROM contacts",
                        a.id
                    ),
                )
                .await
                .unwrap();
            }
            let got = s.call_totals().await.unwrap();
            let names: Vec<&str> = got.iter().map(|t| t.campaign.as_str()).collect();
            assert_eq!(names, ["a", "b"], "{}", t.label);
            let a = &got[0];
            assert_eq!(
                (a.placed, a.answered, a.abandoned, a.originate_errors),
                (4, 2, 1, 1),
                "{}",
                t.label
            );
            assert_eq!(got[1].placed, 0, "{}", t.label);
        }
    }
}
