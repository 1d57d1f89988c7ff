//! What the engine remembers of a campaign's calls across restarts and
//! take-overs: the recent observations its pacer learned from (answers and
//! ring times, talk and wrap-up times, in the PBX's seconds), saved under
//! the campaign with their age, and the live answers of its regulatory
//! window (answer time, abandoned or not) that seed the engine's sliding
//! abandon ledger in one query. With the memory goes where pacing last
//! started from (`start.rs`); a campaign with too little of its own starts
//! from another's on the same trunk and queue (`lenders.rs`).

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::{on_pool, Store};

mod lenders;
mod start;

pub use lenders::Lender;
pub use start::{age_text, PacingStart, StartSource};

/// The observations a campaign's pacer learned from, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LearnedCalls {
    /// Each attempt that rang: answered by a person, and after how many seconds.
    pub attempts: Vec<(bool, f64)>,
    /// Which of `attempts` an answering machine answered: their positions,
    /// ascending (their flag is `false`: no person answered). Kept apart so
    /// that memories saved before machines were kept still load (with
    /// none), and an older engine reading a newer memory takes its machines
    /// for attempts nobody answered, as it always did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<u32>,
    /// Talk times, seconds.
    pub talks: Vec<f64>,
    /// Wrap-up times, seconds.
    pub wrap_ups: Vec<f64>,
}

/// One attempt as the pacer learned it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LearnedAttempt {
    /// A person answered.
    pub answered: bool,
    /// Seconds from the dialing to the answer (or to the end when nobody answered).
    pub ring_s: f64,
    /// An answering machine answered (then `answered` is false).
    pub machine: bool,
}

impl LearnedCalls {
    /// The attempts, oldest first, each with whether a machine answered it.
    pub fn learned_attempts(&self) -> impl Iterator<Item = LearnedAttempt> + '_ {
        let mut machines = self.machines.iter().copied().peekable();
        self.attempts
            .iter()
            .enumerate()
            .map(move |(i, &(answered, ring_s))| {
                while machines.next_if(|&m| (m as usize) < i).is_some() {}
                let machine = machines.next_if_eq(&(i as u32)).is_some();
                LearnedAttempt {
                    answered: answered && !machine,
                    ring_s,
                    machine,
                }
            })
    }

    /// Replaces the attempts with `attempts`, oldest first.
    pub fn set_attempts(&mut self, attempts: impl IntoIterator<Item = LearnedAttempt>) {
        self.attempts.clear();
        self.machines.clear();
        for a in attempts {
            if a.machine {
                self.machines.push(self.attempts.len() as u32);
            }
            self.attempts.push((a.answered && !a.machine, a.ring_s));
        }
    }
}

/// A campaign's saved observations and when (and by which node) they were saved.
#[derive(Debug, Clone, PartialEq)]
pub struct PacingMemory {
    pub campaign_id: i64,
    /// Epoch milliseconds.
    pub saved_at: i64,
    pub node: String,
    pub learned: LearnedCalls,
    /// Where pacing started from when the node that saved it began.
    pub started: Option<PacingStart>,
}

/// What a campaign's pacer may start from when a node begins pacing it:
/// its own saved memory, and the campaigns it may borrow from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StartingPoints {
    pub own: Option<PacingMemory>,
    pub lenders: Vec<Lender>,
}

/// The `data` column as written: the observations, and where pacing started.
#[derive(Serialize)]
struct DataOut<'a> {
    #[serde(flatten)]
    learned: &'a LearnedCalls,
    #[serde(skip_serializing_if = "Option::is_none")]
    started: Option<&'a PacingStart>,
}

/// The `data` column as read (memories saved before `started` existed lack it).
#[derive(Deserialize)]
struct DataIn {
    #[serde(flatten)]
    learned: LearnedCalls,
    #[serde(default)]
    started: Option<PacingStart>,
}

/// A saved memory read back from its row.
fn decode(campaign_id: i64, saved_at: i64, node: String, data: &str) -> Result<PacingMemory> {
    let d: DataIn = serde_json::from_str(data).map_err(|e| {
        StoreError::invalid(
            "pacing memory",
            format!("campaign {campaign_id}: {e}; the engine starts from its priors"),
        )
    })?;
    Ok(PacingMemory {
        campaign_id,
        saved_at,
        node,
        learned: d.learned,
        started: d.started,
    })
}

/// One live-answered call of a campaign, as the abandon ledger counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct AnswerRow {
    /// When a person answered, epoch milliseconds.
    pub answered_at: i64,
    /// Not connected to an agent within the campaign's abandon seconds.
    pub abandoned: bool,
}

impl Store {
    /// Saves (replaces) what campaign `m.campaign_id`'s pacer learned.
    pub async fn save_pacing_memory(&self, m: &PacingMemory) -> Result<()> {
        let out = DataOut {
            learned: &m.learned,
            started: m.started.as_ref(),
        };
        let data = serde_json::to_string(&out)
            .map_err(|e| StoreError::invalid("pacing memory", e.to_string()))?;
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO pacing_memory (campaign_id, saved_at, node, data) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (campaign_id) DO UPDATE
                 SET saved_at = excluded.saved_at, node = excluded.node, data = excluded.data",
            )
            .bind(m.campaign_id)
            .bind(m.saved_at)
            .bind(&m.node)
            .bind(&data)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// What campaign `campaign_id`'s pacer learned when last saved, if ever.
    pub async fn pacing_memory(&self, campaign_id: i64) -> Result<Option<PacingMemory>> {
        let row: Option<(i64, String, String)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT saved_at, node, data FROM pacing_memory WHERE campaign_id = $1")
                .bind(campaign_id)
                .fetch_optional(p)
                .await?
        });
        row.map(|(saved_at, node, data)| decode(campaign_id, saved_at, node, &data))
            .transpose()
    }

    /// The live-answered calls (machines left out) of a campaign answered
    /// since `since_ms` whose attempt is over, oldest first; abandoned = not
    /// connected to an agent within `abandon_ms` of the answer (the rule of
    /// [`Store::abandon_tally`]).
    pub async fn answers_since(
        &self,
        campaign_id: i64,
        since_ms: i64,
        abandon_ms: i64,
    ) -> Result<Vec<AnswerRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, AnswerRow>(
                "SELECT answered_at,
                        (connected_at IS NULL OR connected_at - answered_at > $3) AS abandoned
                 FROM call_attempts
                 WHERE campaign_id = $1 AND answered_at IS NOT NULL AND answered_at >= $2
                   AND outcome IS NOT NULL AND outcome <> 'machine'
                 ORDER BY answered_at",
            )
            .bind(campaign_id)
            .bind(since_ms)
            .bind(abandon_ms)
            .fetch_all(p)
            .await?
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialing::{AttemptResult, DialingWrite, NewAttempt};
    use crate::testing::backends;
    use crate::{now_ms, CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};

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
        s.create_campaign(&CampaignSpec::new("sales", "t1"))
            .await
            .unwrap()
            .id
    }

    /// Four calls answered at 1000, 2000, 3000 and 4000 ms: connected after
    /// 1 s, never, after 5 s, and one still open.
    async fn calls(s: &Store, id: i64) {
        let phones: Vec<String> = (1..=4).map(|i| format!("55500{i}")).collect();
        s.seed_contacts(id, &phones).await.unwrap();
        let due = s.claim_due_contacts(id, "n1", now_ms(), 10).await.unwrap();
        assert_eq!(due.len(), 4);
        let mut w = Vec::new();
        for (i, d) in due.iter().enumerate() {
            let answered = 1000 * (i as i64 + 1);
            w.push(DialingWrite::Begin(NewAttempt {
                campaign_id: id,
                contact_id: d.id,
                attempt_no: 1,
                server_id: None,
                channel_id: format!("c{i}"),
                placed_at: answered - 500,
                node: "n1".into(),
            }));
            let connected = [Some(answered + 1000), None, Some(answered + 5000), None][i];
            if i == 3 {
                continue;
            }
            w.push(DialingWrite::End(AttemptResult {
                contact_id: d.id,
                attempt_no: 1,
                answered_at: Some(answered),
                connected_at: connected,
                ended_at: answered + 9000,
                outcome: if connected.is_some() {
                    "connected"
                } else {
                    "abandoned"
                }
                .into(),
                hangup_cause: Some(16),
                agent: None,
                contact_state: "done".into(),
                next_attempt_at: 0,
            }));
        }
        assert!(s
            .apply_dialing_writes(&w)
            .await
            .unwrap()
            .iter()
            .all(|ok| *ok));
    }

    #[tokio::test]
    async fn answers_since_reads_the_window_with_the_abandon_rule() {
        for t in backends().await {
            let s = &t.store;
            let id = campaign(s).await;
            calls(s, id).await;
            let all = s.answers_since(id, 0, 2000).await.unwrap();
            let got: Vec<(i64, bool)> = all.iter().map(|a| (a.answered_at, a.abandoned)).collect();
            // The open call is not counted yet: the engine counts it when it ends.
            assert_eq!(
                got,
                [(1000, false), (2000, true), (3000, true)],
                "{}",
                t.label
            );
            let recent = s.answers_since(id, 2000, 2000).await.unwrap();
            assert_eq!(recent.len(), 2, "{}: the window starts at 2000", t.label);
        }
    }

    #[test]
    fn machines_are_kept_apart_and_older_memories_load_without_them() {
        let a = |answered, ring_s, machine| LearnedAttempt {
            answered,
            ring_s,
            machine,
        };
        let seen = [
            a(true, 4.5, false),
            a(false, 3.0, true),
            a(false, 30.0, false),
            a(false, 2.5, true),
        ];
        let mut l = LearnedCalls::default();
        l.set_attempts(seen);
        assert_eq!(l.machines, [1, 3]);
        let out = DataOut {
            learned: &l,
            started: None,
        };
        let json = serde_json::to_string(&out).unwrap();
        let back = decode(3, 9, "n1".into(), &json).unwrap().learned;
        assert_eq!(back.learned_attempts().collect::<Vec<_>>(), seen);
        // Saved before machines were kept: no machine, every attempt loads.
        let old = r#"{"attempts":[[true,4.5],[false,3.0]],"talks":[],"wrap_ups":[]}"#;
        let old = decode(3, 9, "n1".into(), old).unwrap().learned;
        assert_eq!(
            old.learned_attempts().collect::<Vec<_>>(),
            [a(true, 4.5, false), a(false, 3.0, false)]
        );
        // Without machines the saved form is the old one.
        let mut plain = LearnedCalls::default();
        plain.set_attempts([a(true, 4.5, false)]);
        let out = DataOut {
            learned: &plain,
            started: None,
        };
        assert!(!serde_json::to_string(&out).unwrap().contains("machines"));
    }

    #[test]
    fn a_memory_saved_before_starts_were_kept_reads_back() {
        let old = r#"{"attempts":[[true,4.5]],"talks":[120.0],"wrap_ups":[]}"#;
        let m = decode(3, 9, "n1".into(), old).unwrap();
        assert_eq!((m.learned.attempts.len(), m.started), (1, None));
        assert!(
            m.learned.machines.is_empty(),
            "saved before machines were kept"
        );
        let bad = decode(3, 9, "n1".into(), "{").unwrap_err().to_string();
        assert!(
            bad.contains("campaign 3") && bad.contains("priors"),
            "{bad}"
        );
    }

    #[tokio::test]
    async fn pacing_memory_is_saved_replaced_and_read_back() {
        for t in backends().await {
            let s = &t.store;
            let id = campaign(s).await;
            assert_eq!(s.pacing_memory(id).await.unwrap(), None, "{}", t.label);
            let mut m = PacingMemory {
                campaign_id: id,
                saved_at: 5,
                node: "n1".into(),
                learned: LearnedCalls {
                    attempts: vec![(true, 4.5), (false, 30.0)],
                    talks: vec![120.0],
                    wrap_ups: vec![8.0, 9.5],
                    ..LearnedCalls::default()
                },
                started: None,
            };
            s.save_pacing_memory(&m).await.unwrap();
            assert_eq!(s.pacing_memory(id).await.unwrap().as_ref(), Some(&m));
            m.saved_at = 9;
            m.node = "n2".into();
            m.learned.talks.push(60.0);
            // A machine answered after 6 s: kept as a machine.
            m.learned.attempts.push((false, 6.0));
            m.learned.machines.push(2);
            m.started = Some(PacingStart {
                at: 8,
                source: StartSource::Priors,
                attempts: 0,
                talks: 0,
            });
            s.save_pacing_memory(&m).await.unwrap();
            assert_eq!(s.pacing_memory(id).await.unwrap(), Some(m), "{}", t.label);
        }
    }
}
