//! A campaign's per-minute history (table `campaign_minutes`, schema 12):
//! written by the engine that paces the campaign, read by the console's
//! charts, the exports and the compliance report, pruned daily after
//! [`KEEP_DAYS_KEY`] days.

use serde::Serialize;

use crate::{on_pool, Result, Store, StoreError};

/// The settings key holding how many days of history are kept.
pub const KEEP_DAYS_KEY: &str = "history.keep_days";
/// Days of history kept when [`KEEP_DAYS_KEY`] is not set.
pub const DEFAULT_KEEP_DAYS: i64 = 400;
/// One minute in milliseconds.
pub const MINUTE_MS: i64 = 60_000;

/// One campaign's minute. Counts are the minute's events; gauges are
/// averages of one-second samples; rates are fractions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, sqlx::FromRow)]
pub struct CampaignMinute {
    pub campaign_id: i64,
    /// The minute's start (epoch ms, UTC, a multiple of [`MINUTE_MS`]).
    pub minute_at: i64,
    pub calls_placed: i64,
    pub live_answers: i64,
    /// Answering machines, when known.
    pub machines: Option<i64>,
    pub abandons: i64,
    pub connected: i64,
    /// Attempts that ended in the minute.
    pub ended: i64,
    pub agents_logged_in: f64,
    pub agents_ready: f64,
    pub agents_talking: f64,
    pub agents_paused: f64,
    pub agents_wrap_up: f64,
    pub occupancy: f64,
    pub answer_rate: Option<f64>,
    pub avg_talk_s: Option<f64>,
    pub avg_wait_s: Option<f64>,
    pub calls_in_flight: f64,
    pub dial_ahead: f64,
    pub risk_threshold: Option<f64>,
    pub window_abandon_rate: f64,
    pub max_abandon_rate: f64,
    /// Its gauges were sampled (a node paced the campaign in the minute);
    /// a row of counts only does not replace a stored minute's gauges.
    #[sqlx(skip)]
    #[serde(skip)]
    pub sampled: bool,
}

/// Every column of `campaign_minutes`, in [`CampaignMinute`]'s order.
pub(crate) const MINUTE_COLUMNS: &str =
    "campaign_id, minute_at, calls_placed, live_answers, machines, abandons, \
     connected, ended, agents_logged_in, agents_ready, agents_talking, agents_paused, \
     agents_wrap_up, occupancy, answer_rate, avg_talk_s, avg_wait_s, calls_in_flight, \
     dial_ahead, risk_threshold, window_abandon_rate, max_abandon_rate";

/// A second writer of the same minute (another node paced part of it, or
/// ended calls it adopted) adds its counts; the answer rate and the
/// average times are those of the sum; the gauges are the last writer's
/// that sampled them (`$23`: a node that paced the campaign in the minute).
const UPSERT: &str = "INSERT INTO campaign_minutes (campaign_id, minute_at, calls_placed, \
     live_answers, machines, abandons, connected, ended, agents_logged_in, agents_ready, \
     agents_talking, agents_paused, agents_wrap_up, occupancy, answer_rate, avg_talk_s, \
     avg_wait_s, calls_in_flight, dial_ahead, risk_threshold, window_abandon_rate, \
     max_abandon_rate) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
     $19, $20, $21, $22) \
     ON CONFLICT (campaign_id, minute_at) DO UPDATE SET \
     calls_placed = campaign_minutes.calls_placed + excluded.calls_placed, \
     live_answers = campaign_minutes.live_answers + excluded.live_answers, \
     machines = COALESCE(campaign_minutes.machines + excluded.machines, campaign_minutes.machines, excluded.machines), \
     abandons = campaign_minutes.abandons + excluded.abandons, \
     connected = campaign_minutes.connected + excluded.connected, \
     ended = campaign_minutes.ended + excluded.ended, \
     answer_rate = CASE WHEN campaign_minutes.ended + excluded.ended > 0 THEN \
       CAST(campaign_minutes.live_answers + excluded.live_answers AS DOUBLE PRECISION) \
       / (campaign_minutes.ended + excluded.ended) END, \
     avg_talk_s = COALESCE((campaign_minutes.avg_talk_s * campaign_minutes.connected \
       + excluded.avg_talk_s * excluded.connected) \
       / NULLIF(campaign_minutes.connected + excluded.connected, 0), \
       campaign_minutes.avg_talk_s, excluded.avg_talk_s), \
     avg_wait_s = COALESCE((campaign_minutes.avg_wait_s * campaign_minutes.connected \
       + excluded.avg_wait_s * excluded.connected) \
       / NULLIF(campaign_minutes.connected + excluded.connected, 0), \
       campaign_minutes.avg_wait_s, excluded.avg_wait_s), \
     agents_logged_in = CASE WHEN $23 THEN excluded.agents_logged_in ELSE campaign_minutes.agents_logged_in END, \
     agents_ready = CASE WHEN $23 THEN excluded.agents_ready ELSE campaign_minutes.agents_ready END, \
     agents_talking = CASE WHEN $23 THEN excluded.agents_talking ELSE campaign_minutes.agents_talking END, \
     agents_paused = CASE WHEN $23 THEN excluded.agents_paused ELSE campaign_minutes.agents_paused END, \
     agents_wrap_up = CASE WHEN $23 THEN excluded.agents_wrap_up ELSE campaign_minutes.agents_wrap_up END, \
     occupancy = CASE WHEN $23 THEN excluded.occupancy ELSE campaign_minutes.occupancy END, \
     calls_in_flight = CASE WHEN $23 THEN excluded.calls_in_flight ELSE campaign_minutes.calls_in_flight END, \
     dial_ahead = CASE WHEN $23 THEN excluded.dial_ahead ELSE campaign_minutes.dial_ahead END, \
     risk_threshold = CASE WHEN $23 THEN excluded.risk_threshold ELSE campaign_minutes.risk_threshold END, \
     window_abandon_rate = CASE WHEN $23 THEN excluded.window_abandon_rate ELSE campaign_minutes.window_abandon_rate END, \
     max_abandon_rate = CASE WHEN $23 THEN excluded.max_abandon_rate ELSE campaign_minutes.max_abandon_rate END";

impl Store {
    /// Stores these minutes in one transaction (see [`UPSERT`] for a
    /// minute stored already).
    pub async fn record_minutes(&self, rows: &[CampaignMinute]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            for r in rows {
                sqlx::query(UPSERT)
                    .bind(r.campaign_id)
                    .bind(r.minute_at)
                    .bind(r.calls_placed)
                    .bind(r.live_answers)
                    .bind(r.machines)
                    .bind(r.abandons)
                    .bind(r.connected)
                    .bind(r.ended)
                    .bind(r.agents_logged_in)
                    .bind(r.agents_ready)
                    .bind(r.agents_talking)
                    .bind(r.agents_paused)
                    .bind(r.agents_wrap_up)
                    .bind(r.occupancy)
                    .bind(r.answer_rate)
                    .bind(r.avg_talk_s)
                    .bind(r.avg_wait_s)
                    .bind(r.calls_in_flight)
                    .bind(r.dial_ahead)
                    .bind(r.risk_threshold)
                    .bind(r.window_abandon_rate)
                    .bind(r.max_abandon_rate)
                    .bind(r.sampled)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A campaign's minutes with `from_ms <= minute_at < to_ms`, oldest first.
    pub async fn campaign_minutes(
        &self,
        campaign_id: i64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<CampaignMinute>> {
        let sql = format!(
            "SELECT {MINUTE_COLUMNS} FROM campaign_minutes \
             WHERE campaign_id = $1 AND minute_at >= $2 AND minute_at < $3 ORDER BY minute_at"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, CampaignMinute>(
            &sql
        )
        .bind(campaign_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(p)
        .await?))
    }

    /// Days of history kept ([`KEEP_DAYS_KEY`], else [`DEFAULT_KEEP_DAYS`]).
    pub async fn history_keep_days(&self) -> Result<i64> {
        match self.setting(KEEP_DAYS_KEY).await? {
            None => Ok(DEFAULT_KEEP_DAYS),
            Some(v) => parse_keep_days(&v),
        }
    }

    /// Sets the days of history kept; refuses anything but a whole number
    /// of days from 1 to 36500.
    pub async fn set_history_keep_days(&self, value: &str) -> Result<i64> {
        let days = parse_keep_days(value)?;
        self.set_setting(KEEP_DAYS_KEY, &days.to_string()).await?;
        Ok(days)
    }

    /// Deletes the minutes older than the kept days before `now_ms`;
    /// returns how many went.
    pub async fn prune_minutes(&self, now_ms: i64) -> Result<u64> {
        let days = self.history_keep_days().await?;
        let before = now_ms - days * 24 * 3600 * 1000;
        Ok(on_pool!(self, |p| sqlx::query(
            "DELETE FROM campaign_minutes WHERE minute_at < $1"
        )
        .bind(before)
        .execute(p)
        .await?
        .rows_affected()))
    }
}

/// A kept-days value as stored or typed.
fn parse_keep_days(v: &str) -> Result<i64> {
    match v.trim().parse::<i64>() {
        Ok(d) if (1..=36_500).contains(&d) => Ok(d),
        _ => Err(StoreError::invalid(
            KEEP_DAYS_KEY,
            format!(
                "{v:?}: give a whole number of days from 1 to 36500 (default {DEFAULT_KEEP_DAYS})"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::backends;
    use crate::{CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};

    async fn campaign(s: &Store) -> i64 {
        s.create_trunk(&TrunkSpec {
            name: "t1".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
        s.create_campaign(&CampaignSpec::new("hist", "t1"))
            .await
            .unwrap()
            .id
    }

    fn minute(campaign_id: i64, minute_at: i64, placed: i64) -> CampaignMinute {
        CampaignMinute {
            campaign_id,
            minute_at,
            calls_placed: placed,
            live_answers: 3,
            abandons: 1,
            connected: 2,
            ended: 6,
            agents_logged_in: 4.0,
            occupancy: 0.75,
            answer_rate: Some(0.5),
            window_abandon_rate: 0.02,
            max_abandon_rate: 0.03,
            ..Default::default()
        }
    }

    #[test]
    fn keep_days_refuses_what_is_not_days() {
        assert_eq!(parse_keep_days(" 30 ").unwrap(), 30);
        for bad in ["0", "-1", "36501", "1.5", "forever", ""] {
            let e = parse_keep_days(bad).unwrap_err().to_string();
            assert!(e.contains(KEEP_DAYS_KEY) && e.contains("1 to 36500"), "{e}");
        }
    }

    #[tokio::test]
    async fn minutes_are_stored_added_read_and_pruned() {
        for t in backends().await {
            let s = &t.store;
            let c = campaign(s).await;
            let day = 24 * 3600 * 1000;
            let now = 1000 * day;
            s.record_minutes(&[minute(c, now - MINUTE_MS, 5), minute(c, now - 10 * day, 7)])
                .await
                .unwrap();
            // A second node's part of the same minute adds its counts.
            s.record_minutes(&[minute(c, now - MINUTE_MS, 2)])
                .await
                .unwrap();
            let got = s.campaign_minutes(c, now - day, now).await.unwrap();
            assert_eq!(got.len(), 1, "{}", t.label);
            assert_eq!(got[0].calls_placed, 7, "{}", t.label);
            assert_eq!(got[0].abandons, 2, "{}", t.label);
            assert_eq!(got[0].occupancy, 0.75, "{}", t.label);
            assert_eq!(got[0].machines, None, "{}", t.label);
            // Counts only (a node ending calls it adopted): the answer rate
            // is the sum's, the gauges stay; a node that paced replaces them.
            let mut counts = minute(c, now - MINUTE_MS, 0);
            (counts.occupancy, counts.live_answers, counts.ended) = (0.0, 0, 2);
            let mut paced = minute(c, now - MINUTE_MS, 0);
            (paced.occupancy, paced.ended, paced.sampled) = (0.5, 0, true);
            for (row, occupancy, answer_rate) in
                [(counts, 0.75, 6.0 / 14.0), (paced, 0.5, 9.0 / 14.0)]
            {
                s.record_minutes(&[row]).await.unwrap();
                let got = &s.campaign_minutes(c, now - day, now).await.unwrap()[0];
                assert_eq!(got.occupancy, occupancy, "{}", t.label);
                assert_eq!(got.answer_rate, Some(answer_rate), "{}", t.label);
            }
            assert_eq!(s.history_keep_days().await.unwrap(), DEFAULT_KEEP_DAYS);
            assert_eq!(s.prune_minutes(now).await.unwrap(), 0, "{}", t.label);
            s.set_history_keep_days("5").await.unwrap();
            assert_eq!(s.prune_minutes(now).await.unwrap(), 1, "{}", t.label);
            let left = s.campaign_minutes(c, 0, now).await.unwrap();
            assert_eq!(left.len(), 1, "{}", t.label);
            assert!(s.set_history_keep_days("0").await.is_err());
            assert_eq!(s.history_keep_days().await.unwrap(), 5);
        }
    }
}
