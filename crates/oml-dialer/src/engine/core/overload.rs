//! Whether the engine keeps up. A predictive pacer's bet (calls placed
//! before agents are free) only holds when the engine sees events and
//! places calls promptly, in the PBX's time: on a busy machine, or against
//! pbxsim at ×20 where 50 ms of delay is a whole PBX second, it does not.
//! Two signals are followed, as moving averages in PBX seconds: how long
//! AMI events waited before the core saw them (backlog), and how long from
//! an agent becoming free to its call's `Originate` (reaction, measured by
//! the writer). Over budget, campaigns dial progressively (one call per
//! free agent, which cannot abandon for lack of an agent) until both are
//! back well under it for a while; each change is logged and shown in the
//! status.

use std::time::{Duration, Instant};

use super::{Core, Now};

/// Average event wait, PBX seconds, beyond which the engine is behind.
pub const BACKLOG_BUDGET_S: f64 = 0.5;
/// Average reaction, PBX seconds, beyond which the engine is behind.
pub const REACTION_BUDGET_S: f64 = 2.0;
/// Weight of a new sample in the moving averages.
const ALPHA: f64 = 0.1;
/// How long both averages must stay under half their budget before the
/// engine paces normally again.
const CALM: Duration = Duration::from_secs(10);

/// The engine's lag and whether it dials less because of it.
#[derive(Debug, Clone, Default)]
pub struct Overload {
    backlog_s: f64,
    reaction_s: f64,
    /// Why the engine dials less, since when calm (both under half budget).
    behind: Option<String>,
    calm_since: Option<Instant>,
}

fn ewma(avg: &mut f64, x: f64) {
    *avg += ALPHA * (x - *avg);
}

impl Overload {
    /// An AMI event waited `pbx_s` (PBX seconds) before the core saw it.
    pub fn event_waited(&mut self, pbx_s: f64, now: Instant) -> Option<bool> {
        ewma(&mut self.backlog_s, pbx_s.max(0.0));
        self.update(now)
    }

    /// A call was originated `pbx_s` (PBX seconds) after its agent became free.
    pub fn reacted(&mut self, pbx_s: f64, now: Instant) -> Option<bool> {
        ewma(&mut self.reaction_s, pbx_s.max(0.0));
        self.update(now)
    }

    /// Why the engine dials less now, if it does.
    pub fn behind(&self) -> Option<&str> {
        self.behind.as_deref()
    }

    /// The averages: (event wait, reaction), PBX seconds.
    pub fn averages(&self) -> (f64, f64) {
        (self.backlog_s, self.reaction_s)
    }

    /// Returns `Some(true)` when the engine falls behind, `Some(false)`
    /// when it keeps up again.
    fn update(&mut self, now: Instant) -> Option<bool> {
        let over = self.backlog_s > BACKLOG_BUDGET_S || self.reaction_s > REACTION_BUDGET_S;
        let calm =
            self.backlog_s < BACKLOG_BUDGET_S / 2.0 && self.reaction_s < REACTION_BUDGET_S / 2.0;
        if over {
            self.calm_since = None;
            let why = format!(
                "engine behind (events wait {:.2} s, reaction {:.2} s in PBX time; budgets {BACKLOG_BUDGET_S} s and {REACTION_BUDGET_S} s): dialing progressively",
                self.backlog_s, self.reaction_s
            );
            let was = self.behind.replace(why).is_some();
            return (!was).then_some(true);
        }
        if self.behind.is_some() {
            if !calm {
                self.calm_since = None;
                return None;
            }
            let since = *self.calm_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= CALM {
                self.behind = None;
                self.calm_since = None;
                return Some(false);
            }
        }
        None
    }
}

impl Core {
    /// An AMI event of `server` waited `d` before the core saw it.
    pub(super) fn waited(&mut self, server: i64, d: Duration, now: Now) {
        let scale = self.servers.get(&server).map_or(1.0, |s| s.clock.scale());
        let change = self.overload.event_waited(d.as_secs_f64() * scale, now.at);
        self.say_overload(change);
    }

    /// Calls through `server` left `secs` after their agent became free.
    pub(super) fn reacted(&mut self, server: i64, secs: f64, now: Now) {
        let scale = self.servers.get(&server).map_or(1.0, |s| s.clock.scale());
        let change = self.overload.reacted(secs * scale, now.at);
        self.say_overload(change);
    }

    fn say_overload(&self, change: Option<bool>) {
        match change {
            Some(true) => tracing::warn!(
                why = self.overload.behind().unwrap_or(""),
                "dialer: the engine cannot keep up; it dials less (progressively) until it does"
            ),
            Some(false) => {
                let (wait, reaction) = self.overload.averages();
                tracing::info!(
                    events_wait_s = wait,
                    reaction_s = reaction,
                    "dialer: the engine keeps up again; pacing as configured"
                )
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_reactions_make_the_engine_dial_less_until_it_keeps_up_for_a_while() {
        let t0 = Instant::now();
        let mut o = Overload::default();
        for _ in 0..50 {
            assert_eq!(o.reacted(0.1, t0), None);
        }
        assert!(o.behind().is_none());
        let mut fell = false;
        for _ in 0..50 {
            fell |= o.reacted(5.0, t0) == Some(true);
        }
        assert!(fell && o.behind().is_some_and(|w| w.contains("reaction")));
        // Fast again: not before CALM has passed with both averages low.
        let mut t = t0;
        let mut back = None;
        for i in 0..400 {
            t += Duration::from_millis(100);
            if o.reacted(0.05, t) == Some(false) {
                back = Some(i);
                break;
            }
        }
        let i = back.expect("recovers");
        assert!(i >= 100, "recovered after only {i} samples of 100 ms");
        assert!(o.behind().is_none());
    }

    #[test]
    fn a_backlog_of_events_counts_too() {
        let t0 = Instant::now();
        let mut o = Overload::default();
        let fell = (0..100).any(|_| o.event_waited(2.0, t0) == Some(true));
        assert!(fell && o.behind().is_some_and(|w| w.contains("events wait")));
    }
}
