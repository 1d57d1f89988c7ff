//! The per-minute history of each campaign this node paces (issue 20):
//! [`MinuteBook`] counts the minute's calls from the core's actions (the
//! ends of calls it adopted from another node, or recovered from a previous
//! run, included: their placing was counted by the run that placed them)
//! and averages its one-second samples of the live figures (pure, tested
//! alone); [`Recorder`] hands each finished minute to a task of its own
//! that stores it and prunes old minutes daily, so neither the decisions
//! nor the writer ever wait for it.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use oml_store::dialing::{DialingWrite, NewAttempt};
use oml_store::history::{CampaignMinute, MINUTE_MS};
use oml_store::Store;
use tokio::sync::mpsc;

use super::core::{Action, Core, Input};
use super::status::{snapshot, CampaignLive, LiveStatus};

/// How often old minutes are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// One campaign's minute while it is being counted.
#[derive(Debug, Default, Clone)]
struct Acc {
    row: CampaignMinute,
    samples: u32,
    talk_s: Vec<f64>,
    wait_s: Vec<f64>,
}

/// The minute being counted, per campaign.
#[derive(Debug)]
pub(super) struct MinuteBook {
    /// The period of a row (one minute but in tests), milliseconds.
    period_ms: i64,
    minute_at: Option<i64>,
    acc: BTreeMap<i64, Acc>,
    /// The campaign of each attempt in flight, by contact.
    campaign_of: HashMap<i64, i64>,
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

impl Default for MinuteBook {
    fn default() -> Self {
        MinuteBook::new(MINUTE_MS)
    }
}

impl MinuteBook {
    pub(super) fn new(period_ms: i64) -> MinuteBook {
        MinuteBook {
            period_ms: period_ms.max(1),
            minute_at: None,
            acc: BTreeMap::new(),
            campaign_of: HashMap::new(),
        }
    }

    fn acc(&mut self, campaign: i64) -> &mut Acc {
        self.acc.entry(campaign).or_default()
    }

    fn placed(&mut self, attempt: &NewAttempt) {
        self.campaign_of
            .insert(attempt.contact_id, attempt.campaign_id);
        self.acc(attempt.campaign_id).row.calls_placed += 1;
    }

    /// Follows the calls the core takes over: attempts a stopped node (or a
    /// previous run under this node's name) left open.
    pub(super) fn input(&mut self, i: &Input) {
        if let Input::Adopt(open) | Input::NameRecovered(open) = i {
            for a in open {
                self.campaign_of.insert(a.contact_id, a.campaign_id);
            }
        }
    }

    /// Counts what an action of the core says happened.
    pub(super) fn see(&mut self, a: &Action) {
        match a {
            Action::Place { items, .. } => {
                for (attempt, _, _) in items {
                    self.placed(attempt);
                }
            }
            Action::Write(DialingWrite::End(r)) => {
                let Some(campaign) = self.campaign_of.remove(&r.contact_id) else {
                    return;
                };
                let acc = self.acc(campaign);
                acc.row.ended += 1;
                if r.outcome == "machine" {
                    // Known only where the PBX detects machines.
                    *acc.row.machines.get_or_insert(0) += 1;
                } else if r.answered_at.is_some() {
                    acc.row.live_answers += 1;
                }
                if r.outcome == "abandoned" {
                    acc.row.abandons += 1;
                }
                if let Some(c) = r.connected_at {
                    acc.row.connected += 1;
                    acc.talk_s.push((r.ended_at - c).max(0) as f64 / 1000.0);
                    if let Some(a) = r.answered_at {
                        acc.wait_s.push((c - a).max(0) as f64 / 1000.0);
                    }
                }
            }
            _ => {}
        }
    }

    /// Adds the one-second sample `st` (campaigns this node paces); returns
    /// the minutes that ended before it.
    pub(super) fn sample(&mut self, st: &LiveStatus) -> Vec<CampaignMinute> {
        let minute_at = st.updated_at - st.updated_at.rem_euclid(self.period_ms);
        let done = match self.minute_at {
            Some(m) if m != minute_at => self.finish(),
            _ => Vec::new(),
        };
        self.minute_at = Some(minute_at);
        for c in st.campaigns.iter().filter(|c| c.paced_here) {
            self.add_sample(c);
        }
        done
    }

    fn add_sample(&mut self, c: &CampaignLive) {
        let acc = self.acc(c.id);
        let r = &mut acc.row;
        acc.samples += 1;
        r.agents_logged_in += f64::from(c.agents_logged_in);
        r.agents_ready += f64::from(c.agents_free);
        r.agents_talking += f64::from(c.agents_talking);
        r.agents_wrap_up += f64::from(c.agents_wrap_up);
        r.agents_paused += f64::from(c.agents_paused);
        r.occupancy += c.occupancy;
        let in_flight = (c.ringing + c.waiting_for_agent + c.talking) as f64;
        r.calls_in_flight += in_flight;
        r.dial_ahead +=
            (c.ringing as f64 + c.waiting_for_agent as f64 - f64::from(c.agents_free)).max(0.0);
        r.risk_threshold = c.risk_threshold;
        r.window_abandon_rate = c.abandon_rate;
        r.max_abandon_rate = c.max_abandon_rate;
    }

    /// The minute's rows, gauges averaged over its samples.
    pub(super) fn finish(&mut self) -> Vec<CampaignMinute> {
        let Some(minute_at) = self.minute_at.take() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (campaign, acc) in std::mem::take(&mut self.acc) {
            let Acc {
                mut row,
                samples,
                talk_s,
                wait_s,
            } = acc;
            row.campaign_id = campaign;
            row.minute_at = minute_at;
            row.sampled = samples > 0;
            if samples > 0 {
                let n = f64::from(samples);
                for g in [
                    &mut row.agents_logged_in,
                    &mut row.agents_ready,
                    &mut row.agents_talking,
                    &mut row.agents_paused,
                    &mut row.agents_wrap_up,
                    &mut row.occupancy,
                    &mut row.calls_in_flight,
                    &mut row.dial_ahead,
                ] {
                    *g /= n;
                }
            }
            row.answer_rate = (row.ended > 0).then(|| row.live_answers as f64 / row.ended as f64);
            row.avg_talk_s = mean(&talk_s);
            row.avg_wait_s = mean(&wait_s);
            out.push(row);
        }
        out
    }
}

/// The engine's side: counts in the shell, stores in a task of its own.
pub(super) struct Recorder {
    book: MinuteBook,
    /// `None` when the history is off.
    tx: Option<mpsc::UnboundedSender<Vec<CampaignMinute>>>,
}

impl Recorder {
    /// Starts the task storing minutes (and pruning, daily); it ends once
    /// the recorder is dropped and the last minutes are stored. With `on`
    /// `None` it records nothing.
    pub(super) fn new(store: Store, period: Option<Duration>) -> Recorder {
        let Some(period) = period else {
            return Recorder {
                book: MinuteBook::default(),
                tx: None,
            };
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<CampaignMinute>>();
        tokio::spawn(async move {
            let mut pruned: Option<Instant> = None;
            while let Some(rows) = rx.recv().await {
                if let Err(e) = store.record_minutes(&rows).await {
                    tracing::warn!(error = %e, "dialer: cannot store the campaigns' minute history");
                }
                if pruned.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
                    pruned = Some(Instant::now());
                    match store.prune_minutes(oml_store::now_ms()).await {
                        Ok(n) if n > 0 => {
                            tracing::info!(minutes = n, "dialer: pruned old minute history")
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "dialer: cannot prune the minute history")
                        }
                    }
                }
            }
        });
        Recorder {
            book: MinuteBook::new(period.as_millis() as i64),
            tx: Some(tx),
        }
    }

    pub(super) fn see(&mut self, a: &Action) {
        if self.tx.is_some() {
            self.book.see(a);
        }
    }

    /// Sees an input before the core does (the calls it takes over).
    pub(super) fn input(&mut self, i: &Input) {
        if self.tx.is_some() {
            self.book.input(i);
        }
    }

    /// Samples the core's live figures (every second).
    pub(super) fn sample(&mut self, core: &Core) {
        let Some(tx) = &self.tx else {
            return;
        };
        let Some(st) = snapshot(core, oml_store::now_ms(), Instant::now(), false) else {
            return;
        };
        let rows = self.book.sample(&st);
        if !rows.is_empty() {
            let _ = tx.send(rows);
        }
    }
}

impl Drop for Recorder {
    /// The minute under way is stored as it stands.
    fn drop(&mut self) {
        let rows = self.book.finish();
        if let (Some(tx), false) = (&self.tx, rows.is_empty()) {
            let _ = tx.send(rows);
        }
    }
}

#[cfg(test)]
#[path = "minutes_tests.rs"]
mod tests;
