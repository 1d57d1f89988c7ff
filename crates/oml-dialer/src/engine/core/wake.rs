//! Waking from a freeze. An engine that was stopped (SIGSTOP, a paused VM,
//! a suspended host) or whose wall clock stepped wakes with a stale
//! picture: the AMI events queued meanwhile would be stamped with the wake
//! moment (answered = connected = ended then), ring time-outs would fire
//! on calls that were answered, and the pacer would dial for agents long
//! gone. So the shell checks its clocks at every turn of its loop
//! ([`Waking::turn`]: a turn far later than its timers allow, or the wall
//! clock moving apart from the monotonic one), and on a jump the core
//! reads every PBX again ([`Core::on_wake`]): each link is opened anew and
//! the events queued in the old one are dropped, the agents are forgotten
//! until the server lists them, and the calls are reconciled against the
//! PBX's channels and its record of each attempt, which keep the real
//! times. Until then no call is placed and no call times out. Pure: the
//! shell passes the time in.

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use super::{Action, Core, Input};
use crate::agents::Agents;

/// A turn of the loop this much later than the last is a freeze (at least
/// this, or 15 ticks).
const FROZEN_AFTER: Duration = Duration::from_secs(3);
/// The wall clock moving this much apart from the monotonic one in one
/// turn is a step (NTP slews far slower).
const WALL_STEP_MS: i64 = 2_000;
/// Ticks are held at most this long after a wake (a server that does not
/// come back does not stop the others' time-outs for good).
const HOLD_AT_MOST: Duration = Duration::from_secs(30);

/// What the clocks did between two turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump {
    /// Monotonic time between the turns.
    pub gap: Duration,
    /// How far the wall clock moved beyond (or short of) the monotonic one.
    pub wall_step_ms: i64,
}

impl fmt::Display for Jump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.1} s since the last turn, wall clock {:+.1} s apart",
            self.gap.as_secs_f64(),
            self.wall_step_ms as f64 / 1000.0
        )
    }
}

/// The shell's side of a wake: the clock check, which servers' queued
/// events are stale, and whether ticks wait for the PBXs to be read again.
#[derive(Debug)]
pub struct Waking {
    limit: Duration,
    last: Option<(Instant, i64)>,
    since: Option<Instant>,
    stale: HashSet<i64>,
}

impl Waking {
    pub fn new(tick: Duration) -> Waking {
        Waking {
            limit: FROZEN_AFTER.max(tick * 15),
            last: None,
            since: None,
            stale: HashSet::new(),
        }
    }

    /// A turn of the shell's loop at `at` (monotonic) and `wall_ms`: the
    /// jump when the engine was frozen or its wall clock stepped.
    pub fn turn(&mut self, at: Instant, wall_ms: i64) -> Option<Jump> {
        let (p_at, p_ms) = self.last.replace((at, wall_ms))?;
        let gap = at.saturating_duration_since(p_at);
        let wall_step_ms = (wall_ms - p_ms) - gap.as_millis() as i64;
        (gap > self.limit || wall_step_ms.abs() > WALL_STEP_MS)
            .then_some(Jump { gap, wall_step_ms })
    }

    /// The core was told of a wake at `at`: the events already queued by
    /// these servers' old links are stale.
    pub fn woke(&mut self, at: Instant, servers: impl IntoIterator<Item = i64>) {
        self.since = Some(at);
        self.stale = servers.into_iter().collect();
    }

    /// Whether to drop this input: an event of a server whose new link is
    /// not up yet (it came through the old one, queued during the freeze).
    pub fn drops(&self, input: &Input) -> bool {
        matches!(input, Input::Ami { server, .. } if self.stale.contains(server))
    }

    /// A server's new link is up: its events are fresh again.
    pub fn link_up(&mut self, server: i64) {
        self.stale.remove(&server);
    }

    /// Whether ticks and pacing wait: after a wake, until every server's
    /// link is back and its calls reconciled (at most 30 s).
    pub fn holds(&mut self, core: &Core, at: Instant) -> bool {
        let Some(since) = self.since else {
            return false;
        };
        let waiting = !self.stale.is_empty() || core.servers.values().any(|s| s.reconciling);
        if waiting && at.saturating_duration_since(since) < HOLD_AT_MOST {
            return true;
        }
        self.since = None;
        self.stale.clear();
        false
    }
}

impl Core {
    /// The engine was frozen or its clock jumped: what it knows of each
    /// PBX is stale. Each link is opened again (its calls are reconciled
    /// once it is up, its agents listed again), and no call is placed on
    /// a server meanwhile. Returns the servers.
    pub fn on_wake(&mut self, jump: Jump) -> Vec<i64> {
        tracing::warn!(%jump, "dialer: the engine was frozen or its clock jumped; reading every PBX again before recording call times or dialing");
        let mut ids: Vec<i64> = self.servers.keys().copied().collect();
        ids.sort_unstable();
        for id in &ids {
            let Some(s) = self.servers.get_mut(id) else {
                continue;
            };
            s.up = false;
            s.reconciling = true;
            s.agents = Agents::default();
            s.clock.relink();
            let conf = s.conf.clone();
            self.act(Action::Connect { server: *id, conf });
        }
        for c in self.campaigns.values_mut() {
            c.trigger = None;
        }
        ids
    }
}

#[cfg(test)]
#[path = "tests_wake.rs"]
mod tests;
