//! Campaigns that dial for the same agents (one queue). Each campaign keeps its
//! own pacer, statistics and abandon tally, but the agents are counted once:
//! new calls are handed out one at a time, to the campaigns by priority and
//! then in turn, and every campaign's decision counts the calls in flight of
//! all the others against the same agents. The live engine and the simulator
//! both call [`allocate`].

use crate::pacer::Pacer;
use crate::snapshot::{OtherCalls, Snapshot};

/// How many calls each campaign of one queue places now. `snaps[i]` is campaign
/// i's snapshot: the queue's agents (the same for all), its own calls, stats
/// and abandon counts; `priority[i]` its priority (higher first); `turn`
/// rotates who goes first among equals (pass a counter that the caller
/// increments at every decision). Calls are granted one at a time: a
/// campaign is asked again, with the calls granted so far counted as ringing,
/// until it wants none; lower priorities are asked once the higher ones want
/// none.
pub fn allocate(
    pacers: &mut [&mut dyn Pacer],
    snaps: &[Snapshot<'_>],
    priority: &[i32],
    turn: usize,
) -> Vec<u32> {
    let n = snaps.len().min(pacers.len());
    let mut granted = vec![0u32; n];
    if n == 0 {
        return granted;
    }
    let mut ringing: Vec<Vec<f64>> = snaps[..n]
        .iter()
        .map(|s| s.ringing_elapsed_s.to_vec())
        .collect();
    let mut levels: Vec<i32> = (0..n)
        .map(|i| priority.get(i).copied().unwrap_or(0))
        .collect();
    levels.sort_unstable_by(|a, b| b.cmp(a));
    levels.dedup();
    for level in levels {
        let group: Vec<usize> = (0..n)
            .map(|k| (k + turn) % n)
            .filter(|&i| priority.get(i).copied().unwrap_or(0) == level)
            .collect();
        let mut wants: Vec<bool> = vec![true; group.len()];
        while wants.iter().any(|&w| w) {
            for (g, &i) in group.iter().enumerate() {
                if !wants[g] {
                    continue;
                }
                let others: Vec<OtherCalls<'_>> = (0..n)
                    .filter(|&j| j != i)
                    .map(|j| OtherCalls {
                        stats: snaps[j].stats,
                        ringing_elapsed_s: &ringing[j],
                        answered_waiting: snaps[j].answered_waiting,
                    })
                    .collect();
                let snap = Snapshot {
                    ringing_elapsed_s: &ringing[i],
                    ..snaps[i]
                };
                if pacers[i].calls_to_place_among(&snap, &others) == 0 {
                    wants[g] = false;
                } else {
                    granted[i] += 1;
                    ringing[i].push(0.0);
                }
            }
        }
    }
    granted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abandon::AbandonCounts;
    use crate::pacer::{ModeSpec, PacingLimits};
    use crate::stats::CallStats;

    fn snap<'a>(stats: &'a CallStats, ready: u32, ringing: &'a [f64]) -> Snapshot<'a> {
        Snapshot {
            now_s: 0.0,
            agents_logged_in: 10,
            agents_ready: ready,
            talking_elapsed_s: &[],
            wrap_up_elapsed_s: &[],
            ringing_elapsed_s: ringing,
            answered_waiting: 0,
            stats,
            abandons: AbandonCounts::default(),
        }
    }

    #[test]
    fn progressive_campaigns_share_the_free_agents_instead_of_each_taking_all() {
        let st = CallStats::default();
        let mut a = ModeSpec::Progressive.build(PacingLimits::default());
        let mut b = ModeSpec::Progressive.build(PacingLimits::default());
        let snaps = [snap(&st, 5, &[]), snap(&st, 5, &[])];
        let got = allocate(&mut [a.as_mut(), b.as_mut()], &snaps, &[0, 0], 0);
        assert_eq!(got.iter().sum::<u32>(), 5, "{got:?}");
        assert_eq!(got, vec![3, 2]);
        // The turn rotates who goes first.
        let got = allocate(&mut [a.as_mut(), b.as_mut()], &snaps, &[0, 0], 1);
        assert_eq!(got, vec![2, 3]);
        // Calls already ringing for one campaign count for both.
        let ringing = [1.0, 2.0, 3.0];
        let snaps = [snap(&st, 5, &ringing), snap(&st, 5, &[])];
        let got = allocate(&mut [a.as_mut(), b.as_mut()], &snaps, &[0, 0], 0);
        assert_eq!(got.iter().sum::<u32>(), 2, "{got:?}");
    }

    #[test]
    fn higher_priority_is_served_first() {
        let st = CallStats::default();
        let mut a = ModeSpec::Progressive.build(PacingLimits::default());
        let mut b = ModeSpec::Progressive.build(PacingLimits::default());
        let snaps = [snap(&st, 4, &[]), snap(&st, 4, &[])];
        let got = allocate(&mut [a.as_mut(), b.as_mut()], &snaps, &[0, 5], 0);
        assert_eq!(got, vec![0, 4]);
    }
}
