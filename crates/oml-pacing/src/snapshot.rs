//! What a pacer is shown at one moment: the campaign's [`Snapshot`] and, when
//! several campaigns dial for the same agents, the [`OtherCalls`] of the
//! others. Plain data that both the pacers (`pacer.rs`) and the sharing of
//! agents between campaigns (`share.rs`) depend on, so neither depends on
//! the other's internals.

use crate::abandon::AbandonCounts;
use crate::stats::CallStats;

/// The campaign's observed state at one moment. All durations in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// Current time, seconds (virtual in the simulator, wall clock in the dialer).
    pub now_s: f64,
    /// Agents logged in (not paused).
    pub agents_logged_in: u32,
    /// Agents free and waiting for a call.
    pub agents_ready: u32,
    /// Elapsed talk time of each agent on a call.
    pub talking_elapsed_s: &'a [f64],
    /// Elapsed wrap-up time of each agent in wrap-up.
    pub wrap_up_elapsed_s: &'a [f64],
    /// Elapsed ring time of each call placed and not yet answered.
    pub ringing_elapsed_s: &'a [f64],
    /// Calls answered by a live person, waiting for an agent.
    pub answered_waiting: u32,
    /// Learned answer rate and time distributions.
    pub stats: &'a CallStats,
    /// Abandoned / live-answered counts over the regulatory window.
    pub abandons: AbandonCounts,
}

/// Calls in flight of another campaign on the same agents, as one campaign's pacer sees them.
#[derive(Debug, Clone, Copy)]
pub struct OtherCalls<'a> {
    /// That campaign's learned statistics (its answer rate and ring times).
    pub stats: &'a CallStats,
    /// Elapsed ring time of each of its calls placed and not yet answered.
    pub ringing_elapsed_s: &'a [f64],
    /// Its answered calls waiting for an agent.
    pub answered_waiting: u32,
}

impl OtherCalls<'_> {
    /// Calls that will need an agent if answered, or already do.
    pub fn in_flight(others: &[OtherCalls<'_>]) -> i64 {
        others
            .iter()
            .map(|o| o.ringing_elapsed_s.len() as i64 + o.answered_waiting as i64)
            .sum()
    }
}
