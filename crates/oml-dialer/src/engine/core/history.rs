//! A campaign's history in the decision core: when this node starts pacing
//! a campaign, its abandon ledger (the live answers of its regulatory
//! window, which then slides: old abandons expire) and its learned call
//! statistics (saved by whichever node paced it, replayed by age) are
//! loaded before any call is placed (or, when too few, another campaign's
//! on the same trunk and queue); the statistics are saved now and then and
//! when pacing stops.

use oml_pacing::{AbandonLedger, AbandonWindow};
use oml_store::pacing_memory::{AnswerRow, PacingMemory, StartingPoints};
use oml_store::Campaign;

use super::memory::start::starting_point;
use super::memory::SAVE_EVERY;
use super::{Action, Core, History, Now};

/// An empty ledger over the campaign's regulatory window.
pub(super) fn ledger_of(c: &Campaign) -> AbandonLedger {
    AbandonLedger::new(AbandonWindow::Custom {
        ms: c.abandon_window.millis(),
    })
}

impl super::CampaignRt {
    /// The risk threshold the campaign's predictive pacers use now (the
    /// lowest of its servers' pacers, with the regulatory window's counts of
    /// the last pacing round); `None` when no pacer of it has one. The
    /// status, hence the per-minute history, shows it.
    pub(in crate::engine) fn risk_threshold(&self) -> Option<f64> {
        self.pacers
            .values()
            .filter_map(|p| p.risk_threshold_now(self.abandons))
            .reduce(f64::min)
    }
}

impl Core {
    /// The history asked for with [`Action::LoadHistory`]. The answers were
    /// read after every write asked for before the request; the calls that
    /// ended since are in the ledger already and stay. The statistics start
    /// from the campaign's own memory or another's (`memory/start.rs`).
    pub(super) fn on_history(
        &mut self,
        campaign: i64,
        answers: Vec<AnswerRow>,
        saved: Option<StartingPoints>,
        now: Now,
    ) {
        let Some(c) = self.campaigns.get_mut(&campaign) else {
            return;
        };
        if c.history != History::Pending {
            return;
        }
        let mut ledger = ledger_of(&c.conf);
        for a in &answers {
            ledger.record(a.answered_at, a.abandoned);
        }
        for r in c.ledger.records() {
            ledger.record(r.answered_at_ms, r.abandoned);
        }
        c.ledger = ledger;
        c.abandons = c.ledger.counts(now.ms);
        if let Some(points) = saved {
            // What this node observed meanwhile counts as its own, new.
            let own = points.own.or_else(|| {
                (!c.memory.is_empty()).then(|| PacingMemory {
                    campaign_id: campaign,
                    saved_at: now.ms,
                    node: String::new(),
                    learned: c.memory.learned(),
                    started: None,
                })
            });
            let (memory, stats) = starting_point(own.as_ref(), &points.lenders, now.ms);
            if let Some(s) = &memory.started {
                tracing::info!(
                    campaign = %c.conf.name,
                    from = %s.source,
                    attempts = s.attempts,
                    talks = s.talks,
                    "dialer: pacing starts from these statistics (older ones weigh less)"
                );
            }
            c.memory = memory;
            c.stats = stats;
            c.pacers.clear();
        }
        c.history = History::Loaded;
        tracing::info!(
            campaign = %c.conf.name,
            live_answered = c.abandons.live_answered,
            abandoned = c.abandons.abandoned,
            "dialer: abandon ledger of the regulatory window loaded"
        );
    }

    /// A live answer of campaign `id` at `answered_at_ms` ended, abandoned
    /// or not.
    pub(super) fn record_answer(
        &mut self,
        id: i64,
        answered_at_ms: i64,
        abandoned: bool,
        now: Now,
    ) {
        if let Some(c) = self.campaigns.get_mut(&id) {
            c.ledger.record(answered_at_ms, abandoned);
            c.abandons = c.ledger.counts(now.ms);
        }
    }

    /// Saves what campaign `id` learned, if anything new.
    pub(super) fn save_memory(&mut self, id: i64, now: Now) {
        let node = self.cfg.node.clone();
        let Some(c) = self.campaigns.get_mut(&id) else {
            return;
        };
        if !c.memory.dirty {
            return;
        }
        c.memory.dirty = false;
        c.last_save = Some(now.at);
        self.actions.push(Action::SaveMemory(PacingMemory {
            campaign_id: id,
            saved_at: now.ms,
            node,
            learned: c.memory.learned(),
            started: c.memory.started.clone(),
        }));
    }

    /// Saves the memories of the campaigns paced here that learned
    /// something: every [`SAVE_EVERY`], or all now.
    pub(super) fn save_memories(&mut self, now: Now, all: bool) {
        let mut ids: Vec<i64> = self
            .campaigns
            .iter()
            .filter(|(id, c)| {
                self.leading.contains(id)
                    && c.memory.dirty
                    && (all
                        || c.last_save
                            .is_none_or(|t| now.at.saturating_duration_since(t) >= SAVE_EVERY))
            })
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        for id in ids {
            self.save_memory(id, now);
        }
    }
}
