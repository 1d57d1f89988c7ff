//! Recording retention and downloads by attempt (issue 18 item 4): the
//! recording of one attempt by its id (what a download serves), and the
//! deletion of recordings older than `recordings.keep_days`. A deleted
//! recording's attempt keeps its file name and gets the time it was deleted
//! (schema 18, `call_attempts.recording_deleted_at`), so the console says
//! when retention deleted it instead of showing a broken link.
//!
//! A recording's age is its attempt's `placed_at` (the call it recorded),
//! not the file's modification time: the database knows every recording it
//! links, and a file touched by a copy or a restore keeps its real age.

use crate::recordings::check_name;
use crate::{on_pool, Result, Store};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Attempts read per batch while pruning.
const BATCH: i64 = 500;

const DAY_MS: i64 = 86_400_000;

/// The recording of one attempt, as a download needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AttemptRecording {
    pub attempt_id: i64,
    pub campaign: String,
    pub contact_id: i64,
    pub placed_at: i64,
    /// The file's name in the recordings folder; `None`: not recorded.
    pub file: Option<String>,
    /// When retention deleted the file (Unix ms); `None`: kept.
    pub deleted_at: Option<i64>,
}

/// One recording retention would delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PruneItem {
    pub attempt_id: i64,
    pub file: String,
    pub placed_at: i64,
    /// The file's size; `None` when it is not in the folder (already gone).
    pub bytes: Option<u64>,
}

/// What a prune run found or did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrunePlan {
    /// Days kept; `None`: for ever (nothing is deleted).
    pub keep_days: Option<i64>,
    /// Recordings of calls placed before this (Unix ms) are deleted.
    pub cutoff_ms: Option<i64>,
    pub items: Vec<PruneItem>,
    /// Files deleted (or to delete, in a plan) that were in the folder.
    pub files: usize,
    pub bytes: u64,
    /// Listed recordings whose file was already gone (marked deleted too).
    pub missing: usize,
    /// The oldest recording kept after the run (its call's placed_at).
    pub oldest_kept_ms: Option<i64>,
}

impl PrunePlan {
    /// One line for the audit log and the command's output.
    pub fn summary(&self) -> String {
        let oldest = self
            .oldest_kept_ms
            .map_or("none".to_string(), recordings_day);
        format!(
            "{} file(s), {} bytes, {} already missing; keep_days {}; oldest kept {}",
            self.files,
            self.bytes,
            self.missing,
            self.keep_days
                .map_or("forever".to_string(), |d| d.to_string()),
            oldest
        )
    }
}

/// The day (UTC, `YYYY-MM-DD`) of a Unix ms time.
pub fn recordings_day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

impl Store {
    /// The recording of attempt `id`; `None` when no attempt has this id.
    pub async fn attempt_recording(&self, id: i64) -> Result<Option<AttemptRecording>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, AttemptRecording>(
            "SELECT a.id AS attempt_id, c.name AS campaign, a.contact_id, a.placed_at,
                    a.recording AS file, a.recording_deleted_at AS deleted_at
             FROM call_attempts a JOIN campaigns c ON c.id = a.campaign_id WHERE a.id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await?))
    }

    /// Kept recordings of calls placed before `cutoff_ms`, oldest first,
    /// after attempt id `after` (a batch).
    async fn expired_recordings(
        &self,
        cutoff_ms: i64,
        after: i64,
    ) -> Result<Vec<(i64, String, i64)>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, (i64, String, i64)>(
            "SELECT id, recording, placed_at FROM call_attempts
             WHERE recording IS NOT NULL AND recording_deleted_at IS NULL
               AND placed_at < $1 AND id > $2 ORDER BY id LIMIT $3"
        )
        .bind(cutoff_ms)
        .bind(after)
        .bind(BATCH)
        .fetch_all(p)
        .await?))
    }

    /// The oldest kept recording's call time.
    async fn oldest_kept_recording(&self) -> Result<Option<i64>> {
        let row: (Option<i64>,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT MIN(placed_at) FROM call_attempts
             WHERE recording IS NOT NULL AND recording_deleted_at IS NULL"
        )
        .fetch_one(p)
        .await?);
        Ok(row.0)
    }

    /// Marks attempt `id`'s recording deleted at `at`.
    async fn mark_recording_deleted(&self, id: i64, at: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE call_attempts SET recording_deleted_at = $1
             WHERE id = $2 AND recording_deleted_at IS NULL"
        )
        .bind(at)
        .bind(id)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// What retention would delete now from `dir` (nothing is changed).
    pub async fn plan_recordings_prune(&self, dir: &Path, now_ms: i64) -> Result<PrunePlan> {
        self.prune_recordings(dir, now_ms, false).await
    }

    /// Deletes from `dir` the recordings of calls placed more than
    /// `recordings.keep_days` days before `now_ms` (`delete` false: only
    /// lists them), marks their attempts deleted, and says what it did.
    /// Kept for ever (no setting) deletes nothing. A file that cannot be
    /// deleted stops the run with the error (what was done stays done).
    pub async fn prune_recordings(
        &self,
        dir: &Path,
        now_ms: i64,
        delete: bool,
    ) -> Result<PrunePlan> {
        let keep_days = self.recordings_keep_days().await?;
        let cutoff_ms = keep_days.map(|d| now_ms - d * DAY_MS);
        let mut plan = PrunePlan {
            keep_days,
            cutoff_ms,
            items: Vec::new(),
            files: 0,
            bytes: 0,
            missing: 0,
            oldest_kept_ms: None,
        };
        if let Some(cutoff) = cutoff_ms {
            let mut after = 0;
            loop {
                let batch = self.expired_recordings(cutoff, after).await?;
                let Some(last) = batch.last() else { break };
                after = last.0;
                for (id, file, placed_at) in batch {
                    let path = recording_path(dir, &file);
                    let bytes = path
                        .as_ref()
                        .and_then(|p| std::fs::metadata(p).ok())
                        .filter(|m| m.is_file())
                        .map(|m| m.len());
                    if delete {
                        if let (Some(p), Some(_)) = (&path, bytes) {
                            match std::fs::remove_file(p) {
                                Ok(()) => {}
                                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                                Err(e) => {
                                    return Err(crate::StoreError::invalid(
                                        "recordings_dir",
                                        format!("cannot delete {}: {e}", p.display()),
                                    ))
                                }
                            }
                        }
                        self.mark_recording_deleted(id, now_ms).await?;
                    }
                    match bytes {
                        Some(b) => {
                            plan.files += 1;
                            plan.bytes += b;
                        }
                        None => plan.missing += 1,
                    }
                    plan.items.push(PruneItem {
                        attempt_id: id,
                        file,
                        placed_at,
                        bytes,
                    });
                }
            }
        }
        plan.oldest_kept_ms = if delete {
            self.oldest_kept_recording().await?
        } else {
            // Without deleting, the oldest kept is the oldest not listed.
            match cutoff_ms {
                Some(c) => self.oldest_kept_from(c).await?,
                None => self.oldest_kept_recording().await?,
            }
        };
        Ok(plan)
    }

    async fn oldest_kept_from(&self, cutoff_ms: i64) -> Result<Option<i64>> {
        let row: (Option<i64>,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT MIN(placed_at) FROM call_attempts
             WHERE recording IS NOT NULL AND recording_deleted_at IS NULL AND placed_at >= $1"
        )
        .bind(cutoff_ms)
        .fetch_one(p)
        .await?);
        Ok(row.0)
    }
}

/// The path of stored recording `file` in `dir`; `None` for a name that is
/// not a bare recording name (never stored, but never followed either).
pub fn recording_path(dir: &Path, file: &str) -> Option<PathBuf> {
    check_name(file).ok().map(|f| dir.join(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{backends, execute};
    use crate::{CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};

    #[tokio::test]
    async fn retention_deletes_old_recordings_and_marks_their_attempts() {
        for t in backends().await {
            let s = &t.store;
            let dir = tempfile::tempdir().unwrap();
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
            let now = 1_800_000_000_000_i64;
            // Ages in days; the 35-day one's file is already gone.
            let ages = [40, 35, 10, 1];
            let phones: Vec<String> = ages.iter().map(|a| format!("+1555000{a:02}")).collect();
            s.seed_contacts(c.id, &phones).await.unwrap();
            let mut files = Vec::new();
            for (i, age) in ages.iter().enumerate() {
                let file = format!("dialer-{}-20261207-1555000{age:02}-17000.{i}.wav", c.id);
                execute(
                    s,
                    &format!(
                        "INSERT INTO call_attempts (campaign_id, contact_id, attempt_no, channel_id, placed_at, answered_at, outcome, recording)
                         SELECT {cid}, id, 1, 'oml-{cid}-' || id || '-1', {placed}, {placed}, 'connected', '{file}'
                         FROM contacts WHERE phone = '{phone}'",
                        cid = c.id,
                        placed = now - age * DAY_MS,
                        phone = phones[i],
                    ),
                )
                .await
                .unwrap();
                if *age != 35 {
                    std::fs::write(dir.path().join(&file), vec![0u8; 100 * (i + 1)]).unwrap();
                }
                files.push(file);
            }
            // Kept for ever: nothing to delete.
            let p = s.prune_recordings(dir.path(), now, true).await.unwrap();
            assert_eq!((p.keep_days, p.items.len()), (None, 0), "{}", t.label);
            assert_eq!(p.oldest_kept_ms, Some(now - 40 * DAY_MS));

            s.set_recordings_keep_days("30").await.unwrap();
            let plan = s.plan_recordings_prune(dir.path(), now).await.unwrap();
            let listed: Vec<&str> = plan.items.iter().map(|i| i.file.as_str()).collect();
            assert_eq!(
                listed,
                [files[0].as_str(), files[1].as_str()],
                "{}",
                t.label
            );
            assert_eq!((plan.files, plan.bytes, plan.missing), (1, 100, 1));
            assert_eq!(plan.oldest_kept_ms, Some(now - 10 * DAY_MS));
            assert!(
                dir.path().join(&files[0]).exists(),
                "a plan deletes nothing"
            );

            let done = s.prune_recordings(dir.path(), now, true).await.unwrap();
            assert_eq!((done.files, done.bytes, done.missing), (1, 100, 1));
            assert_eq!(done.oldest_kept_ms, Some(now - 10 * DAY_MS));
            assert!(
                done.summary().contains("oldest kept 2027-01-05"),
                "{}",
                done.summary()
            );
            assert!(!dir.path().join(&files[0]).exists());
            for f in &files[2..] {
                assert!(dir.path().join(f).exists(), "{f} is younger than 30 days");
            }
            let k = s.campaign_contacts(c.id, None, 0, 10).await.unwrap();
            for (i, contact) in k.iter().enumerate() {
                let h = s.contact_history(contact.id).await.unwrap().unwrap();
                let a = &h.history[0];
                assert_eq!(a.recording.as_deref(), Some(files[i].as_str()), "name kept");
                assert_eq!(a.recording_deleted_at, (i < 2).then_some(now), "{i}");
                let r = s.attempt_recording(a.id).await.unwrap().unwrap();
                assert_eq!(
                    (r.file, r.deleted_at),
                    (a.recording.clone(), a.recording_deleted_at)
                );
            }
            // A second run finds nothing more.
            let again = s.prune_recordings(dir.path(), now, true).await.unwrap();
            assert!(again.items.is_empty(), "{}", t.label);
            assert_eq!(s.attempt_recording(999_999).await.unwrap(), None);
        }
    }
}
