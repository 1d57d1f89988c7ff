//! A live run's attempts as the simulator's figures (`SimResult`): the
//! store's timestamps (real milliseconds) turned into PBX seconds, the
//! measured period cut as the simulator cuts it (after the warm-up), and the
//! comparison of a live run with the simulator's seeds. Pure: tested alone.

use oml_pacing::{SimConfig as Floor, SimResult};
use oml_store::dialing::AttemptRow;

/// When pbxsim started (wall-clock milliseconds) and its time scale.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// `oml_store::now_ms()` just before pbxsim started.
    pub start_ms: i64,
    /// PBX seconds per real second.
    pub time_scale: f64,
}

impl Clock {
    /// PBX seconds since pbxsim started at the wall-clock `ms`.
    pub fn pbx_s(&self, ms: i64) -> f64 {
        (ms - self.start_ms) as f64 / 1000.0 * self.time_scale
    }
}

/// The measured period's figures: occupancy (talk time over the agents'
/// time), calls placed, live answers and abandons (answered, never
/// connected to an agent: the PBX's customers wait exactly the abandon
/// seconds), per minute as the simulator keeps them.
pub fn measured(floor: &Floor, attempts: &[AttemptRow], clock: Clock, seed: u64) -> SimResult {
    let (from, to) = (floor.warmup_s, floor.warmup_s + floor.duration_s);
    let inside = |s: f64| s >= from && s < to;
    let mut r = SimResult {
        mode: "predictive (live engine)".into(),
        seed,
        occupancy: 0.0,
        talk_min_per_agent_hour: 0.0,
        abandon_rate: 0.0,
        live_answered: 0,
        abandoned: 0,
        calls_placed: 0,
        events: 0,
        per_minute: vec![[0, 0]; (floor.duration_s / 60.0).ceil() as usize],
        per_minute_time: Vec::new(),
        campaigns: Vec::new(),
    };
    let mut talk = 0.0;
    for a in attempts {
        r.calls_placed += inside(clock.pbx_s(a.placed_at)) as u64;
        if let Some(c) = a.connected_at {
            let end = a.ended_at.map_or(to, |e| clock.pbx_s(e));
            talk += (end.min(to) - clock.pbx_s(c).max(from)).max(0.0);
        }
        let Some(answered) = a.answered_at.map(|t| clock.pbx_s(t)) else {
            continue;
        };
        let settled = a.connected_at.is_some() || a.ended_at.is_some();
        if !inside(answered) || !settled {
            continue;
        }
        let abandoned = a.connected_at.is_none();
        r.live_answered += 1;
        r.abandoned += abandoned as u64;
        if let Some(m) = r.per_minute.get_mut(((answered - from) / 60.0) as usize) {
            m[0] += 1;
            m[1] += abandoned as u32;
        }
    }
    r.occupancy = talk / (floor.agents as f64 * floor.duration_s);
    r.talk_min_per_agent_hour = r.occupancy * 60.0;
    r.abandon_rate = rate(r.abandoned, r.live_answered);
    r
}

/// The abandon rate by the engine's own rule: connected later than the
/// abandon seconds (in PBX time) after the answer, in the engine's clock.
pub fn engine_abandon_rate(floor: &Floor, attempts: &[AttemptRow], clock: Clock) -> f64 {
    let (from, to) = (floor.warmup_s, floor.warmup_s + floor.duration_s);
    let limit_ms = floor.abandon_after_s * 1000.0 / clock.time_scale;
    let (mut live, mut abandoned) = (0u64, 0u64);
    for a in attempts {
        let Some(t) = a.answered_at else { continue };
        let s = clock.pbx_s(t);
        if s < from || s >= to || (a.connected_at.is_none() && a.ended_at.is_none()) {
            continue;
        }
        live += 1;
        abandoned += a.connected_at.is_none_or(|c| (c - t) as f64 > limit_ms) as u64;
    }
    rate(abandoned, live)
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Mean and sample standard deviation of `f` over the runs.
pub fn spread(runs: &[SimResult], f: impl Fn(&SimResult) -> f64) -> (f64, f64) {
    let n = runs.len() as f64;
    let mean = runs.iter().map(&f).sum::<f64>() / n;
    let var = runs.iter().map(|r| (f(r) - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// Abandons pooled over runs: abandoned / live answered.
pub fn pooled_abandon(runs: &[SimResult]) -> f64 {
    rate(
        runs.iter().map(|r| r.abandoned).sum(),
        runs.iter().map(|r| r.live_answered).sum(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use oml_pacing::Scenario;

    fn attempt(placed: i64, answered: Option<i64>, conn: Option<i64>, end: i64) -> AttemptRow {
        AttemptRow {
            contact_id: 1,
            attempt_no: 1,
            channel_id: String::new(),
            placed_at: placed,
            answered_at: answered,
            connected_at: conn,
            ended_at: Some(end),
            outcome: Some("x".into()),
            hangup_cause: None,
            node: "oml".into(),
        }
    }

    #[test]
    fn attempts_become_the_simulators_figures_in_pbx_time() {
        let mut floor = Scenario::T2.config();
        floor.agents = 2;
        floor.warmup_s = 60.0;
        floor.duration_s = 120.0;
        // x20: a PBX second is 50 ms; pbxsim started at 1_000_000.
        let clock = Clock {
            start_ms: 1_000_000,
            time_scale: 20.0,
        };
        let ms = |pbx_s: f64| 1_000_000 + (pbx_s * 50.0) as i64;
        let attempts = [
            // In the warm-up, talking 30 s into the measured period.
            attempt(ms(10.0), Some(ms(40.0)), Some(ms(40.0)), ms(90.0)),
            // Answered at 100 s, connected 1 s later, talks 60 s.
            attempt(ms(80.0), Some(ms(100.0)), Some(ms(101.0)), ms(161.0)),
            // Answered at 130 s, never connected: abandoned.
            attempt(ms(110.0), Some(ms(130.0)), None, ms(132.0)),
            // Not answered.
            attempt(ms(120.0), None, None, ms(140.0)),
        ];
        let r = measured(&floor, &attempts, clock, 5);
        assert_eq!(r.calls_placed, 3);
        assert_eq!((r.live_answered, r.abandoned), (2, 1));
        assert_eq!(r.per_minute[..2], [[1, 0], [1, 1]]);
        assert!((r.occupancy - 90.0 / 240.0).abs() < 1e-3, "{}", r.occupancy);
        // The engine's rule: the 1 s connect is within 2 s; at x20 a
        // connect 150 ms (3 PBX s) after the answer would not be.
        assert!((engine_abandon_rate(&floor, &attempts, clock) - 0.5).abs() < 1e-9);
        let late = [attempt(
            ms(80.0),
            Some(ms(100.0)),
            Some(ms(103.0)),
            ms(150.0),
        )];
        assert_eq!(engine_abandon_rate(&floor, &late, clock), 1.0);
    }
}
