//! A floor of the simulator (`oml_pacing::SimConfig`, e.g. scenario T2 or
//! N2) as a pbxsim configuration: the same agents, answer rate (and its
//! schedule, shifted by the warm-up: the simulator counts from the start of
//! the measured period, pbxsim from its own start), ring, talk and wrap-up
//! distributions, no busy or congestion (the simulator has neither), and
//! customers who wait exactly the abandon seconds in queue, so that "no
//! agent within 2 s" is an abandon on both sides.

use oml_pacing::{Dist as PacingDist, SimConfig as Floor, Step};
use oml_pbxsim::{Dist, SimConfig};
use secrecy::SecretString;

/// The campaign's ring timeout: longer than any ring of the floors, so the
/// PBX's ring time decides as in the simulator.
pub const RING_TIMEOUT_S: i64 = 35;

/// pbxsim's name for a simulator distribution (pbxsim's log-normal takes
/// the median and shape, the simulator's the mean and standard deviation).
pub fn dist(d: PacingDist) -> Dist {
    match d {
        PacingDist::Const { value } => Dist::Fixed(value),
        PacingDist::Uniform { min, max } => Dist::Uniform { min, max },
        PacingDist::Exp { mean } => Dist::Exponential { mean },
        PacingDist::LogNormal { mean, sd } => {
            let v = 1.0 + (sd / mean).powi(2);
            Dist::LogNormal {
                median: mean / v.sqrt(),
                sigma: v.ln().sqrt(),
            }
        }
    }
}

/// The pbxsim configuration playing `floor` at `time_scale` with `seed`.
/// Floors whose agents or talk times change are not supported (pbxsim has
/// no schedule for them).
pub fn pbxsim(floor: &Floor, secret: SecretString, time_scale: f64, seed: u64) -> SimConfig {
    assert!(
        floor.changes.agents.is_empty() && floor.changes.talk.is_empty(),
        "pbxsim changes only its answer rate in time"
    );
    assert_eq!(floor.campaigns(), 1, "one campaign");
    let mut c = SimConfig::new("oml", secret, floor.agents as usize);
    c.queues[0].name = "live".into();
    c.time_scale = time_scale;
    c.seed = seed;
    c.customers.answer_rate = floor.answer_rate;
    c.customers.answer_rate_steps = floor
        .changes
        .answer_rate
        .iter()
        .map(|s| Step {
            at_s: floor.warmup_s + s.at_s,
            value: s.value,
        })
        .collect();
    c.customers.busy_rate = 0.0;
    c.customers.congestion_rate = 0.0;
    c.customers.time_to_answer = dist(floor.time_to_answer);
    c.customers.no_answer_after = dist(floor.no_answer_after);
    c.customers.patience = Dist::Fixed(floor.abandon_after_s);
    c.talk_time = dist(floor.talk);
    c.wrapup_time = dist(floor.wrap_up);
    c
}

/// Contacts enough for the whole run: the calls the agents could take at
/// full occupancy, at the lowest answer rate, with a margin.
pub fn contacts_needed(floor: &Floor) -> usize {
    let lowest = floor
        .answer_rates()
        .iter()
        .flat_map(|s| s.values().collect::<Vec<_>>())
        .fold(1.0f64, f64::min)
        .max(0.01);
    let per_agent_s = floor.talk.mean() + floor.wrap_up.mean();
    let answers = floor.agents as f64 * (floor.warmup_s + floor.duration_s) / per_agent_s;
    (answers / lowest * 1.5) as usize + 500
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_normal_keeps_its_mean_and_spread() {
        let Dist::LogNormal { median, sigma } = dist(PacingDist::LogNormal {
            mean: 180.0,
            sd: 120.0,
        }) else {
            panic!("a log-normal stays log-normal");
        };
        // Mean m e^(s^2/2), variance (e^(s^2) - 1) mean^2.
        let mean = median * (sigma * sigma / 2.0).exp();
        let sd = ((sigma * sigma).exp() - 1.0).sqrt() * mean;
        assert!((mean - 180.0).abs() < 1e-9 && (sd - 120.0).abs() < 1e-9);
    }
}
