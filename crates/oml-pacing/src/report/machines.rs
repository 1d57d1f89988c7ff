//! The answering-machine line of the pacing benchmark (issue 18 item 3):
//! scenario T2 with 30 % of the answers given by machines and an AMD that
//! decides in 3 s, predictive, against the same floor with AMD off (every
//! machine put through to an agent, who spends U(5,15) s on it). The
//! targets: occupancy (talk with persons) ≥ 90 %, worst-seed abandon within
//! the limit; the agent time AMD saves is shown.

use super::*;
use crate::amd::Machines;
use crate::dist::Dist;

/// Share of answers given by machines on the benchmark's floor.
pub const MACHINE_RATE: f64 = 0.3;
/// AMD decision time on the benchmark's floor, seconds.
pub const AMD_TIME_S: f64 = 3.0;
/// Occupancy the predictive mode must keep with machines and AMD.
pub const OCCUPANCY_TARGET: f64 = 0.90;

/// Predictive on T2 with machines, AMD on and off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineFigure {
    /// With AMD.
    pub amd_on: Summary,
    /// Without AMD.
    pub amd_off: Summary,
    /// The abandon limit.
    pub limit: f64,
}

/// The floor: T2 with [`MACHINE_RATE`] machines, AMD on or off.
pub fn machine_floor(amd: bool) -> SimConfig {
    let mut cfg = Scenario::T2.config();
    cfg.machines = Machines {
        rate: MACHINE_RATE,
        amd_time: amd.then_some(Dist::constant(AMD_TIME_S)),
        ..Machines::default()
    };
    cfg
}

/// Runs predictive on the machine floor with AMD on and off.
pub fn machine_figure(
    predictive: PredictiveConfig,
    first_seed: u64,
    seeds: u64,
) -> Result<MachineFigure, PacingError> {
    let mode = ModeSpec::Predictive(predictive);
    let (amd_on, _) = run_seeds(&machine_floor(true), &mode, first_seed, seeds)?;
    let (amd_off, _) = run_seeds(&machine_floor(false), &mode, first_seed, seeds)?;
    Ok(MachineFigure {
        amd_on,
        amd_off,
        limit: Scenario::T2.config().max_abandon_rate,
    })
}

impl MachineFigure {
    /// The summary table's rows.
    pub fn checks(&self) -> Vec<Check> {
        let on = &self.amd_on;
        let saved = on.talk_min_mean - self.amd_off.talk_min_mean;
        vec![
            Check {
                what: "predictive occupancy (talk with persons), mean".into(),
                target: format!("≥ {}", pct(OCCUPANCY_TARGET)),
                measured: pct(on.occupancy_mean),
                pass: on.occupancy_mean >= OCCUPANCY_TARGET,
            },
            Check {
                what: "predictive abandon rate, worst seed".into(),
                target: format!("≤ {}", pct(self.limit)),
                measured: pct(on.abandon_worst),
                pass: on.abandon_worst <= self.limit,
            },
            Check {
                what: "agent time AMD saves against AMD off (talk with persons per agent-hour)"
                    .into(),
                target: "> 0".into(),
                measured: format!(
                    "+{saved:.1} min ({:.1} with AMD, {:.1} without; AMD off: occupancy {}, abandon {} worst seed, machines counted as the dialer counts them)",
                    on.talk_min_mean,
                    self.amd_off.talk_min_mean,
                    pct(self.amd_off.occupancy_mean),
                    pct(self.amd_off.abandon_worst)
                ),
                pass: saved > 0.0,
            },
        ]
    }

    /// The scenario column of the summary table.
    pub fn label() -> String {
        format!(
            "T2 + {:.0} % machines (AMD {AMD_TIME_S} s)",
            MACHINE_RATE * 100.0
        )
    }
}
