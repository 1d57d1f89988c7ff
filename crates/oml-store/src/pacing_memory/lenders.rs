//! Which campaigns a campaign may borrow a starting point from when it has
//! too little history of its own: those whose calls go out the same way (a
//! trunk with the same dial string and server) to the same agents (the same
//! queue), with the pacing memory each saved. Their customers answer, ring
//! and talk alike as far as anything can tell before the campaign's own
//! calls do; the engine weighs each by its age and picks one.

use crate::error::Result;
use crate::{on_pool, Store};

use super::{decode, PacingMemory};

/// Another campaign's saved pacing memory that a campaign may start from.
#[derive(Debug, Clone, PartialEq)]
pub struct Lender {
    /// The lending campaign's name.
    pub name: String,
    pub memory: PacingMemory,
}

impl Store {
    /// The pacing memories saved at or after `since_ms` by other campaigns
    /// dialing through a trunk with the same dial string and server as
    /// campaign `campaign_id`'s trunk, to the same queue; newest first, at
    /// most `limit`. None for a campaign without a queue (its calls reach
    /// agents no other campaign shares). A memory that cannot be read is
    /// left out.
    pub async fn pacing_lenders(
        &self,
        campaign_id: i64,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<Lender>> {
        let rows: Vec<(i64, String, i64, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT m.campaign_id, c.name, m.saved_at, m.node, m.data
                 FROM campaigns me
                 JOIN trunks mt ON mt.id = me.trunk_id
                 JOIN campaigns c ON c.queue_name = me.queue_name AND c.id <> me.id
                 JOIN trunks t ON t.id = c.trunk_id
                 JOIN pacing_memory m ON m.campaign_id = c.id
                 WHERE me.id = $1 AND me.queue_name <> ''
                   AND t.dial_string = mt.dial_string
                   AND (t.server_id = mt.server_id
                        OR (t.server_id IS NULL AND mt.server_id IS NULL))
                   AND m.saved_at >= $2
                 ORDER BY m.saved_at DESC, m.campaign_id
                 LIMIT $3",
            )
            .bind(campaign_id)
            .bind(since_ms)
            .bind(limit)
            .fetch_all(p)
            .await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for (id, name, saved_at, node, data) in rows {
            match decode(id, saved_at, node, &data) {
                Ok(memory) => out.push(Lender { name, memory }),
                Err(e) => {
                    tracing::warn!(error = %e, "a campaign's pacing memory is unreadable; not borrowed from")
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pacing_memory::LearnedCalls;
    use crate::testing::backends;
    use crate::{CampaignSpec, ServerSpec, TrunkSpec, DEFAULT_DIAL_STRING};
    use secrecy::SecretString;

    async fn trunk(s: &Store, name: &str, dial_string: &str, server: Option<&str>) {
        s.create_trunk(&TrunkSpec {
            name: name.into(),
            dial_string: dial_string.into(),
            max_channels: 10,
            server: server.map(Into::into),
            caller_id: String::new(),
        })
        .await
        .unwrap();
    }

    /// A campaign on `trunk` and `queue`, with a memory saved at `saved_at`
    /// (none when `None`).
    async fn campaign(
        s: &Store,
        name: &str,
        trunk: &str,
        queue: &str,
        saved_at: Option<i64>,
    ) -> i64 {
        let mut spec = CampaignSpec::new(name, trunk);
        spec.queue_name = queue.into();
        let id = s.create_campaign(&spec).await.unwrap().id;
        if let Some(saved_at) = saved_at {
            s.save_pacing_memory(&PacingMemory {
                campaign_id: id,
                saved_at,
                node: "n1".into(),
                learned: LearnedCalls {
                    attempts: vec![(true, 4.0); 3],
                    talks: vec![60.0],
                    wrap_ups: Vec::new(),
                    ..LearnedCalls::default()
                },
                started: None,
            })
            .await
            .unwrap();
        }
        id
    }

    #[tokio::test]
    async fn lenders_share_the_trunks_dial_string_server_and_queue() {
        for t in backends().await {
            let s = &t.store;
            s.create_server(&ServerSpec {
                name: "pbx2".into(),
                host: "127.0.0.2".into(),
                ami_port: 5038,
                ami_user: "oml".into(),
                ami_secret: SecretString::from("s"),
                enabled: true,
            })
            .await
            .unwrap();
            let other_dial = "PJSIP/${num}@carrier2";
            trunk(s, "t1", DEFAULT_DIAL_STRING, None).await;
            trunk(s, "t1b", DEFAULT_DIAL_STRING, None).await;
            trunk(s, "t2", other_dial, None).await;
            trunk(s, "t3", DEFAULT_DIAL_STRING, Some("pbx2")).await;
            let me = campaign(s, "sales", "t1", "q1", Some(9_000)).await;
            let twin = campaign(s, "twin", "t1b", "q1", Some(5_000)).await;
            let newer = campaign(s, "newer", "t1", "q1", Some(7_000)).await;
            campaign(s, "old", "t1", "q1", Some(500)).await;
            campaign(s, "unsaved", "t1", "q1", None).await;
            campaign(s, "queue2", "t1", "q2", Some(8_000)).await;
            campaign(s, "carrier2", "t2", "q1", Some(8_000)).await;
            campaign(s, "pbx2", "t3", "q1", Some(8_000)).await;

            let got = s.pacing_lenders(me, 1_000, 10).await.unwrap();
            let names: Vec<&str> = got.iter().map(|l| l.name.as_str()).collect();
            assert_eq!(names, ["newer", "twin"], "{}", t.label);
            assert_eq!(got[0].memory.campaign_id, newer);
            assert_eq!(got[1].memory.campaign_id, twin);
            assert_eq!(got[1].memory.saved_at, 5_000);
            assert_eq!(got[1].memory.learned.attempts.len(), 3);
            let one = s.pacing_lenders(me, 0, 1).await.unwrap();
            assert_eq!(one.len(), 1, "{}: the limit holds", t.label);
            assert_eq!(one[0].name, "newer");
            let all = s.pacing_lenders(me, 0, 10).await.unwrap();
            assert_eq!(all.len(), 3, "{}: with the old one", t.label);

            // The twin borrows from sales too: same dial string, no server.
            let back = s.pacing_lenders(twin, 0, 10).await.unwrap();
            assert!(back.iter().any(|l| l.memory.campaign_id == me));
            // A campaign without a queue shares no agents: nothing to borrow.
            let lone = campaign(s, "lone", "t1", "", None).await;
            campaign(s, "lone2", "t1", "", Some(8_000)).await;
            assert!(s.pacing_lenders(lone, 0, 10).await.unwrap().is_empty());
        }
    }
}
