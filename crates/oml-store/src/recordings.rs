//! Call recordings in the database (issue 18 item 4): the file of each
//! recorded attempt (set by the engine from the PBX's record of the call),
//! the agent a reconciled call's record names, the recordings a campaign
//! report and a download look up, and how many days recordings are kept.
//! The files themselves live in the configured recordings folder; this
//! module only checks that a stored name can never leave it.

use crate::{on_pool, Result, Store, StoreError};
use serde::Serialize;

/// The setting holding how many days recordings are kept (absent: for ever).
pub const KEEP_DAYS_KEY: &str = "recordings.keep_days";

/// Longest file name the dialplan can make (prefix, ids, number, uniqueid).
const MAX_NAME: usize = 200;

/// `name` if it is a bare recording file name as the rendered dialplan makes
/// it (`dialer-<campaign>-<YYYYMMDD>-<number>-<uniqueid>.<format>`): no
/// folder, no `..`, only letters, digits and `- _ . +`. Anything else is
/// refused, so a stored or requested name never reaches outside the
/// recordings folder.
pub fn check_name(name: &str) -> Result<&str> {
    let ok = name.starts_with(crate::dialplan::RECORDING_PREFIX)
        && name.len() <= MAX_NAME
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    if ok {
        Ok(name)
    } else {
        Err(StoreError::invalid(
            "recording",
            format!(
                "{:?} is not a recording file name: a bare name starting with `{}` (letters, digits, - _ . +), no folder",
                name.chars().take(80).collect::<String>(),
                crate::dialplan::RECORDING_PREFIX
            ),
        ))
    }
}

/// The contact and attempt number of a dialer channel id
/// (`oml-<campaign>-<contact>-<attempt>`), to find its row by the unique
/// (contact, attempt) key.
fn attempt_of(channel_id: &str) -> Option<(i64, i64)> {
    let mut parts = channel_id.strip_prefix("oml-")?.split('-');
    let (_campaign, contact, attempt) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((contact.parse().ok()?, attempt.parse().ok()?))
}

/// What the PBX's record of an ended attempt should still give the
/// database before it is deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordNeeds {
    /// Connected, and no agent stored (the call ended unseen).
    pub agent: bool,
    /// Answered in a campaign that records, and no file stored yet.
    pub recording: bool,
}

/// One recorded attempt, as a campaign report or a download shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RecordingRow {
    /// The attempt's id (its download: `/dialer/attempts/{id}/recording`).
    pub attempt_id: i64,
    pub campaign: String,
    pub contact_id: i64,
    pub phone: String,
    pub attempt_no: i64,
    pub placed_at: i64,
    pub outcome: Option<String>,
    pub agent: Option<String>,
    /// The file's name in the recordings folder.
    pub file: String,
    /// When retention deleted the file (Unix ms); `None` while kept.
    pub deleted_at: Option<i64>,
}

const ROW_SELECT: &str = "SELECT a.id AS attempt_id, c.name AS campaign, a.contact_id, k.phone,
        a.attempt_no, a.placed_at, a.outcome, a.agent, a.recording AS file,
        a.recording_deleted_at AS deleted_at
    FROM call_attempts a JOIN campaigns c ON c.id = a.campaign_id
    JOIN contacts k ON k.id = a.contact_id";

impl Store {
    /// What the record of the ended attempt `channel_id` should still give
    /// ([`RecordNeeds`]); `None` when no such attempt is stored.
    pub async fn record_needs(&self, channel_id: &str) -> Result<Option<RecordNeeds>> {
        let Some((contact, attempt)) = attempt_of(channel_id) else {
            return Ok(None);
        };
        let row: Option<(i64, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT CAST(CASE WHEN a.outcome = 'connected' AND a.agent IS NULL THEN 1 ELSE 0 END AS BIGINT),
                    CAST(CASE WHEN cp.recording = 'all' AND a.recording IS NULL
                              AND a.answered_at IS NOT NULL THEN 1 ELSE 0 END AS BIGINT)
             FROM call_attempts a LEFT JOIN campaign_call_path cp ON cp.campaign_id = a.campaign_id
             WHERE a.contact_id = $1 AND a.attempt_no = $2 AND a.channel_id = $3"
        )
        .bind(contact)
        .bind(attempt)
        .bind(channel_id)
        .fetch_optional(p)
        .await?
        });
        Ok(row.map(|(agent, recording)| RecordNeeds {
            agent: agent == 1,
            recording: recording == 1,
        }))
    }

    /// Stores `file` as the recording of attempt `channel_id` (a name
    /// [`check_name`] accepts; anything else is refused and nothing
    /// stored). False when no such attempt exists.
    pub async fn set_attempt_recording(&self, channel_id: &str, file: &str) -> Result<bool> {
        let file = check_name(file)?;
        self.set_attempt_column(channel_id, "recording", file).await
    }

    /// Stores `agent` as the agent of attempt `channel_id` unless one is
    /// stored already (the engine's own, from `AgentConnect`, wins).
    pub async fn fill_attempt_agent(&self, channel_id: &str, agent: &str) -> Result<bool> {
        self.set_attempt_column(channel_id, "agent", agent).await
    }

    async fn set_attempt_column(
        &self,
        channel_id: &str,
        column: &str,
        value: &str,
    ) -> Result<bool> {
        let Some((contact, attempt)) = attempt_of(channel_id) else {
            return Ok(false);
        };
        let sql = format!(
            "UPDATE call_attempts SET {column} = $1
             WHERE contact_id = $2 AND attempt_no = $3 AND channel_id = $4 AND {column} IS NULL"
        );
        let n = on_pool!(self, |p| sqlx::query(&sql)
            .bind(value)
            .bind(contact)
            .bind(attempt)
            .bind(channel_id)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// The newest `limit` recorded attempts of campaign `campaign_id`.
    pub async fn campaign_recordings(
        &self,
        campaign_id: i64,
        limit: i64,
    ) -> Result<Vec<RecordingRow>> {
        let sql = format!(
            "{ROW_SELECT} WHERE a.campaign_id = $1 AND a.recording IS NOT NULL
             ORDER BY a.placed_at DESC, a.id DESC LIMIT $2"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, RecordingRow>(&sql)
            .bind(campaign_id)
            .bind(limit)
            .fetch_all(p)
            .await?))
    }

    /// The attempt whose recording is `file`: only a stored name is ever
    /// served. `None` when no attempt has it.
    pub async fn recording(&self, file: &str) -> Result<Option<RecordingRow>> {
        let file = check_name(file)?;
        // The name carries the campaign: look it up by campaign (indexed)
        // and name.
        let campaign = campaign_of_recording(file).unwrap_or(-1);
        let sql = format!("{ROW_SELECT} WHERE a.campaign_id = $1 AND a.recording = $2");
        Ok(on_pool!(self, |p| sqlx::query_as::<_, RecordingRow>(&sql)
            .bind(campaign)
            .bind(file)
            .fetch_optional(p)
            .await?))
    }

    /// Days recordings are kept ([`KEEP_DAYS_KEY`]); `None`: for ever.
    pub async fn recordings_keep_days(&self) -> Result<Option<i64>> {
        match self.setting(KEEP_DAYS_KEY).await? {
            None => Ok(None),
            Some(v) => parse_keep_days(&v),
        }
    }

    /// Sets the days recordings are kept: a whole number from 1 to 36500,
    /// or `forever` (also `0`). Refused values store nothing.
    pub async fn set_recordings_keep_days(&self, value: &str) -> Result<Option<i64>> {
        let days = parse_keep_days(value)?;
        let text = days.map_or("forever".to_string(), |d| d.to_string());
        self.set_setting(KEEP_DAYS_KEY, &text).await?;
        Ok(days)
    }
}

/// The campaign id in a recording's name (`dialer-<campaign>-...`).
fn campaign_of_recording(file: &str) -> Option<i64> {
    file.strip_prefix(crate::dialplan::RECORDING_PREFIX)?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// A kept-days value as stored or typed: `forever` or 1 to 36500.
fn parse_keep_days(v: &str) -> Result<Option<i64>> {
    let t = v.trim();
    if t.eq_ignore_ascii_case("forever") || t == "0" {
        return Ok(None);
    }
    match t.parse::<i64>() {
        Ok(d) if (1..=36_500).contains(&d) => Ok(Some(d)),
        _ => Err(StoreError::invalid(
            KEEP_DAYS_KEY,
            format!("{v:?}: give a whole number of days from 1 to 36500, or `forever` (or 0)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{backends, execute};
    use crate::{CallPath, CampaignSpec, Recording, TrunkSpec, DEFAULT_DIAL_STRING};

    #[test]
    fn only_bare_dialplan_names_pass() {
        let good = "dialer-3-20261207-+5491140000001-1796655514.12.wav";
        assert_eq!(check_name(good).unwrap(), good);
        for bad in [
            "../etc/passwd",
            "dialer-3/../../x.wav",
            "/var/spool/asterisk/monitor/dialer-1.wav",
            "dialer-..wav",
            "other-1.wav",
            "dialer-1 x.wav",
            "",
        ] {
            let e = check_name(bad).unwrap_err().to_string();
            assert!(e.contains("not a recording file name"), "{bad}: {e}");
        }
        assert_eq!(attempt_of("oml-3-42-2"), Some((42, 2)));
        assert_eq!(attempt_of("oml-3-42"), None);
        assert_eq!(attempt_of("x-3-42-2"), None);
        assert_eq!(campaign_of_recording(good), Some(3));
    }

    #[test]
    fn keep_days_are_days_or_forever() {
        assert_eq!(parse_keep_days(" 30 ").unwrap(), Some(30));
        assert_eq!(parse_keep_days("Forever").unwrap(), None);
        assert_eq!(parse_keep_days("0").unwrap(), None, "0 keeps for ever");
        for bad in ["-1", "36501", "1.5", "never", ""] {
            let e = parse_keep_days(bad).unwrap_err().to_string();
            assert!(e.contains(KEEP_DAYS_KEY) && e.contains("1 to 36500"), "{e}");
        }
    }

    #[tokio::test]
    async fn recordings_and_agents_are_stored_once_and_found_by_name() {
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
            let c = s
                .create_campaign(&CampaignSpec::new("rec", "t1"))
                .await
                .unwrap();
            s.seed_contacts(c.id, &["+15550001".into()]).await.unwrap();
            let key = |n: i64| format!("oml-{}-{{k}}-{n}", c.id);
            for (n, outcome) in [(1, "connected"), (2, "busy")] {
                let answered = if n == 1 { "5" } else { "NULL" };
                execute(
                    s,
                    &format!(
                        "INSERT INTO call_attempts (campaign_id, contact_id, attempt_no, channel_id, placed_at, answered_at, outcome)
                         SELECT {cid}, id, {n}, 'oml-{cid}-' || id || '-{n}', {n}, {answered}, '{outcome}' FROM contacts",
                        cid = c.id
                    ),
                )
                .await
                .unwrap();
            }
            let k: i64 = s.campaign_contacts(c.id, None, 0, 10).await.unwrap()[0].id;
            let ch = |n| key(n).replace("{k}", &k.to_string());
            // Not recording: only the connected call's missing agent is asked.
            let need = s.record_needs(&ch(1)).await.unwrap().unwrap();
            assert_eq!(
                need,
                RecordNeeds {
                    agent: true,
                    recording: false
                },
                "{}",
                t.label
            );
            assert_eq!(s.record_needs("oml-9-9-9").await.unwrap(), None);
            s.update_campaign_with(
                "rec",
                &CampaignSpec::new("rec", "t1"),
                Some(&CallPath {
                    recording: Recording::All,
                    abandon_sound: "custom/sorry".into(),
                    ..CallPath::default()
                }),
            )
            .await
            .unwrap();
            let need = s.record_needs(&ch(1)).await.unwrap().unwrap();
            assert!(need.recording, "{}", t.label);
            assert!(!s.record_needs(&ch(2)).await.unwrap().unwrap().recording);
            let file = format!("dialer-{}-20261207-15550001-1796655514.12.wav", c.id);
            assert!(s.set_attempt_recording(&ch(1), "../x.wav").await.is_err());
            assert!(s.set_attempt_recording(&ch(1), &file).await.unwrap());
            assert!(
                !s.set_attempt_recording(&ch(1), &file).await.unwrap(),
                "stored once"
            );
            assert!(s.fill_attempt_agent(&ch(1), "PJSIP/1001").await.unwrap());
            assert!(!s.fill_attempt_agent(&ch(1), "PJSIP/1002").await.unwrap());
            assert_eq!(
                s.record_needs(&ch(1)).await.unwrap().unwrap(),
                RecordNeeds::default()
            );
            let rows = s.campaign_recordings(c.id, 10).await.unwrap();
            assert_eq!(rows.len(), 1, "{}", t.label);
            assert_eq!(rows[0].agent.as_deref(), Some("PJSIP/1001"));
            assert_eq!(rows[0].phone, "+15550001");
            assert_eq!(s.recording(&file).await.unwrap(), Some(rows[0].clone()));
            let other = format!("dialer-{}-20261207-1-2.wav", c.id);
            assert_eq!(s.recording(&other).await.unwrap(), None);
            let h = s.contact_history(k).await.unwrap().unwrap();
            assert_eq!(h.history[0].recording.as_deref(), Some(file.as_str()));
            assert_eq!(s.recordings_keep_days().await.unwrap(), None);
            assert_eq!(s.set_recordings_keep_days("30").await.unwrap(), Some(30));
            assert!(s.set_recordings_keep_days("-1").await.is_err());
            assert_eq!(s.recordings_keep_days().await.unwrap(), Some(30));
        }
    }
}
