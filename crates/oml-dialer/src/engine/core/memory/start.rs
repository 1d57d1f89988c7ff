//! Where a campaign's pacer starts from when a node begins pacing it (cold
//! start). A predictive pacer dials progressively until its statistics
//! hold enough attempts and talks ([`PredictiveConfig`]); a list of a few
//! hundred contacts would never get there. So the statistics start from
//! the campaign's own previous runs when they are enough; else from
//! another campaign's on the same trunk and queue (the freshest that is
//! enough, weighed by age like the campaign's own: none after a week),
//! with the campaign's own few observations replayed after them; else from
//! the priors.
//!
//! Borrowed observations feed the statistics only, never the campaign's
//! memory: they are a starting point that its own calls replace — at most
//! [`BORROW_ATTEMPTS`] and [`BORROW_TIMES`] of them, so the own calls soon
//! outnumber them, and the statistics' change detection forgets them at
//! once when the own calls disagree. The abandon ledger is always the
//! campaign's own: the abandon guard does not change.

use std::cmp::Reverse;

use oml_pacing::{CallStats, PredictiveConfig};
use oml_store::pacing_memory::{Lender, PacingMemory, PacingStart, StartSource};

use super::{feed, replayed, weight, Memory};

/// Borrowed attempts replayed at most (after weighing by age): four times
/// what the pacer needs before it leaves progressive behaviour.
pub const BORROW_ATTEMPTS: usize = 400;
/// Borrowed talk and wrap-up times replayed at most, each.
pub const BORROW_TIMES: usize = 100;

/// Whether statistics hold enough to pace predictively.
pub fn enough(st: &CallStats) -> bool {
    let need = PredictiveConfig::default();
    st.attempts_observed() >= need.min_attempts && st.talks_observed() >= need.min_talks
}

/// The statistics to start from at `now_ms`, given the campaign's own saved
/// memory (if any) and the memories of the campaigns it may borrow from;
/// the campaign's memory (its own observations, with where it started).
pub fn starting_point(
    own: Option<&PacingMemory>,
    lenders: &[Lender],
    now_ms: i64,
) -> (Memory, CallStats) {
    let own_age = own.map(|m| now_ms - m.saved_at);
    let (mut memory, mut stats) = match own {
        Some(m) => Memory::restore(&m.learned, now_ms - m.saved_at),
        None => (Memory::default(), CallStats::default()),
    };
    let source = if enough(&stats) {
        StartSource::Own {
            age_ms: own_age.unwrap_or(0),
        }
    } else if let Some((l, borrowed)) = best_lender(lenders, now_ms) {
        stats = CallStats::default();
        feed(&mut stats, &borrowed);
        feed(&mut stats, &memory.learned());
        StartSource::Campaign {
            campaign_id: l.memory.campaign_id,
            name: l.name.clone(),
            age_ms: now_ms - l.memory.saved_at,
            own_attempts: memory.learned().attempts.len() as u64,
        }
    } else if !memory.is_empty() {
        StartSource::Own {
            age_ms: own_age.unwrap_or(0),
        }
    } else {
        StartSource::Priors
    };
    memory.started = Some(PacingStart {
        at: now_ms,
        source,
        attempts: stats.attempts_observed(),
        talks: stats.talks_observed() as u64,
    });
    // Saved soon, so that `oml campaign show` can tell where it started.
    memory.dirty = true;
    (memory, stats)
}

/// The lender to start from and what of it is replayed: the one whose
/// replayed share is enough to pace predictively, else the one that gives
/// the most; the freshest among equals. None when none gives anything.
fn best_lender(
    lenders: &[Lender],
    now_ms: i64,
) -> Option<(&Lender, oml_store::pacing_memory::LearnedCalls)> {
    lenders
        .iter()
        .map(|l| {
            let age = now_ms - l.memory.saved_at;
            let obs = replayed(
                &l.memory.learned,
                weight(age),
                BORROW_ATTEMPTS,
                BORROW_TIMES,
            );
            (l, obs, age)
        })
        .filter(|(_, obs, _)| !obs.attempts.is_empty())
        .max_by_key(|(_, obs, age)| {
            let mut st = CallStats::default();
            feed(&mut st, obs);
            (
                enough(&st),
                obs.attempts.len(),
                obs.talks.len(),
                Reverse(*age),
            )
        })
        .map(|(l, obs, _)| (l, obs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oml_store::pacing_memory::LearnedCalls;

    const HOUR: i64 = 3_600_000;
    const NOW: i64 = 1_000 * HOUR;

    /// A memory of campaign `id` saved `age` ago with `n` attempts (a 10 %
    /// answer rate) and `n / 4` talks and wrap-ups.
    fn saved(id: i64, age: i64, n: usize) -> PacingMemory {
        PacingMemory {
            campaign_id: id,
            saved_at: NOW - age,
            node: "n1".into(),
            learned: LearnedCalls {
                attempts: (0..n).map(|i| (i % 10 == 0, 6.0)).collect(),
                talks: vec![90.0; n / 4],
                wrap_ups: vec![5.0; n / 4],
                ..LearnedCalls::default()
            },
            started: None,
        }
    }

    fn lender(id: i64, name: &str, age: i64, n: usize) -> Lender {
        Lender {
            name: name.into(),
            memory: saved(id, age, n),
        }
    }

    fn source(m: &Memory) -> StartSource {
        m.started.clone().expect("a start is noted").source
    }

    #[test]
    fn enough_of_its_own_starts_from_its_own() {
        let own = saved(7, 2 * HOUR, 400);
        let (m, st) = starting_point(Some(&own), &[lender(8, "promo", 0, 2000)], NOW);
        assert_eq!(source(&m), StartSource::Own { age_ms: 2 * HOUR });
        assert!(enough(&st));
        assert_eq!(m.learned().attempts.len() as u64, st.attempts_observed());
        assert!(m.dirty, "the start is saved soon");
    }

    #[test]
    fn too_little_of_its_own_borrows_and_keeps_only_its_own() {
        let own = saved(7, 0, 40);
        let lenders = [lender(8, "promo", 3 * HOUR, 2000), lender(9, "tiny", 0, 20)];
        let (m, st) = starting_point(Some(&own), &lenders, NOW);
        assert_eq!(
            source(&m),
            StartSource::Campaign {
                campaign_id: 8,
                name: "promo".into(),
                age_ms: 3 * HOUR,
                own_attempts: 40
            },
            "the one that is enough, not the freshest"
        );
        assert_eq!(st.attempts_observed(), BORROW_ATTEMPTS as u64 + 40);
        assert!(enough(&st));
        assert_eq!(
            m.learned().attempts.len(),
            40,
            "borrowed ones are not saved"
        );
        let started = m.started.as_ref().unwrap();
        assert_eq!((started.at, started.attempts), (NOW, 440));
    }

    #[test]
    fn older_lenders_weigh_less_and_a_week_old_one_nothing() {
        let day = 24 * HOUR;
        let lenders = [
            lender(8, "week", 8 * day, 2000),
            lender(9, "days", 3 * day, 800),
        ];
        let (m, st) = starting_point(None, &lenders, NOW);
        // Three days are six half-lives: 800 / 64 = 12.5 attempts.
        assert_eq!(st.attempts_observed(), 13);
        assert!(!enough(&st), "too old to pace predictively from");
        assert!(matches!(
            source(&m),
            StartSource::Campaign { campaign_id: 9, .. }
        ));
        let (m, st) = starting_point(None, &lenders[..1], NOW);
        assert_eq!(
            (source(&m), st.attempts_observed()),
            (StartSource::Priors, 0)
        );
    }

    #[test]
    fn equal_lenders_give_the_freshest() {
        let lenders = [
            lender(8, "older", 2 * HOUR, 2000),
            lender(9, "newer", HOUR, 2000),
        ];
        let (m, _) = starting_point(None, &lenders, NOW);
        assert!(matches!(
            source(&m),
            StartSource::Campaign { campaign_id: 9, .. }
        ));
    }

    #[test]
    fn nothing_at_all_starts_from_the_priors() {
        let (m, st) = starting_point(None, &[], NOW);
        assert_eq!(source(&m), StartSource::Priors);
        assert_eq!(st.answer_rate(), CallStats::default().answer_rate());
        let own = saved(7, HOUR, 40);
        let (m, _) = starting_point(Some(&own), &[], NOW);
        assert_eq!(source(&m), StartSource::Own { age_ms: HOUR }, "its own few");
    }
}
