//! The simulated floor as given on the command line: a named scenario (or
//! `all`), and parameters written as text that override it. Parsing and
//! checking live here, beside the types they fill, so that the `oml dialer
//! simulate` command stays a thin argument parser.

use crate::abandon::AbandonWindow;
use crate::amd::Machines;
use crate::config::SimConfig;
use crate::dist::Dist;
use crate::error::PacingError;
use crate::scenario::Scenario;
use crate::schedule::{count, dist_schedule, fraction, per_campaign, schedule, seconds};

/// Parameters of a simulated floor, as the user wrote them (`None` = keep the scenario's).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `30` or `30@0,15@60m,30@80m`.
    pub agents: Option<String>,
    /// `80%`, `40%@0,15%@60m`, one per campaign separated by `|`.
    pub answer_rate: Option<String>,
    /// Campaigns sharing the agents.
    pub campaigns: Option<usize>,
    /// Ring time of answered calls.
    pub time_to_answer: Option<String>,
    /// Ring time after which an unanswered call is given up.
    pub no_answer_after: Option<String>,
    /// Talk time, or a schedule of talk times.
    pub talk: Option<String>,
    /// Wrap-up time.
    pub wrap_up: Option<String>,
    /// Preview time (preview mode).
    pub preview: Option<String>,
    /// Measured duration.
    pub duration: Option<String>,
    /// Warm-up.
    pub warmup: Option<String>,
    /// Abandon seconds.
    pub abandon_seconds: Option<String>,
    /// Maximum abandon rate.
    pub max_abandon_rate: Option<String>,
    /// Regulatory window (`us`, `uk`).
    pub window: Option<String>,
    /// Answering machines and their detection.
    pub machines: MachineOverrides,
}

/// Answering machines as the user wrote them (`None` = none, AMD off, no mistakes).
#[derive(Debug, Clone, Default)]
pub struct MachineOverrides {
    /// Share of answers that are machines: `30%`.
    pub rate: Option<String>,
    /// AMD decision time (turns AMD on): `const(3)`, `U(2,4)`.
    pub amd_time: Option<String>,
    /// Share of persons the AMD takes for machines.
    pub false_positive: Option<String>,
    /// Share of machines the AMD takes for persons.
    pub false_negative: Option<String>,
    /// Agent time on a machine put through.
    pub machine_talk: Option<String>,
}

impl MachineOverrides {
    fn apply(&self, m: &mut Machines) -> Result<(), PacingError> {
        if let Some(r) = &self.rate {
            m.rate = fraction("machine-rate", r)?;
        }
        if let Some(t) = &self.amd_time {
            m.amd_time = Some(Dist::parse("amd-time", t)?);
        }
        if let Some(r) = &self.false_positive {
            m.false_positive = fraction("amd-false-positive", r)?;
        }
        if let Some(r) = &self.false_negative {
            m.false_negative = fraction("amd-false-negative", r)?;
        }
        if let Some(t) = &self.machine_talk {
            m.machine_talk = Dist::parse("machine-talk", t)?;
        }
        Ok(())
    }
}

impl Overrides {
    /// Whether the floor itself (agents, calls, talk) differs from the scenario's.
    fn changes_the_floor(&self) -> bool {
        self.agents.is_some()
            || self.answer_rate.is_some()
            || self.campaigns.is_some()
            || self.time_to_answer.is_some()
            || self.no_answer_after.is_some()
            || self.talk.is_some()
            || self.machines.rate.is_some()
            || self.machines.amd_time.is_some()
    }

    /// Applies the parameters given to `cfg`; errors name the parameter.
    pub fn apply(&self, cfg: &mut SimConfig) -> Result<(), PacingError> {
        if let Some(t) = &self.agents {
            cfg.set_agents(schedule("agents", t, count)?);
        }
        if let Some(r) = &self.answer_rate {
            cfg.set_answer_rates(per_campaign("answer-rate", r, fraction)?);
        }
        if let Some(n) = self.campaigns {
            let rates = cfg.answer_rates();
            if n == 0 {
                return Err(PacingError::invalid("campaigns", "must be at least 1"));
            }
            if rates.len() == 1 {
                cfg.set_answer_rates(vec![rates[0].clone(); n]);
            } else if rates.len() != n {
                return Err(PacingError::invalid(
                    "campaigns",
                    format!(
                        "{n} campaigns but --answer-rate gives {} (write one rate per campaign, separated by `|`)",
                        rates.len()
                    ),
                ));
            }
        }
        if let Some(t) = &self.talk {
            cfg.set_talk(dist_schedule("talk", t)?);
        }
        let dist = |name: &str, v: &Option<String>, slot: &mut Dist| -> Result<(), PacingError> {
            if let Some(t) = v {
                *slot = Dist::parse(name, t)?;
            }
            Ok(())
        };
        dist(
            "time-to-answer",
            &self.time_to_answer,
            &mut cfg.time_to_answer,
        )?;
        dist(
            "no-answer-after",
            &self.no_answer_after,
            &mut cfg.no_answer_after,
        )?;
        dist("wrap-up", &self.wrap_up, &mut cfg.wrap_up)?;
        dist("preview", &self.preview, &mut cfg.preview)?;
        let secs = |name: &str, v: &Option<String>, slot: &mut f64| -> Result<(), PacingError> {
            if let Some(t) = v {
                *slot = seconds(name, t)?;
            }
            Ok(())
        };
        secs("duration", &self.duration, &mut cfg.duration_s)?;
        secs("warmup", &self.warmup, &mut cfg.warmup_s)?;
        secs(
            "abandon-seconds",
            &self.abandon_seconds,
            &mut cfg.abandon_after_s,
        )?;
        if let Some(r) = &self.max_abandon_rate {
            cfg.max_abandon_rate = fraction("max-abandon-rate", r)?;
        }
        if let Some(w) = &self.window {
            cfg.window = w.parse::<AbandonWindow>()?;
        }
        self.machines.apply(&mut cfg.machines)?;
        cfg.validate()
    }
}

/// The floors to simulate: the scenario (`T1` ... or `all`) with the
/// parameters given, or, without a scenario, a floor described in full. A
/// scenario whose floor is changed is labelled custom (`None`).
pub fn floors(
    scenario: Option<&str>,
    o: &Overrides,
) -> Result<Vec<(Option<Scenario>, SimConfig)>, PacingError> {
    let bases: Vec<Scenario> = match scenario {
        Some(s) if s.trim().eq_ignore_ascii_case("all") => Scenario::ALL.to_vec(),
        Some(s) => vec![Scenario::parse(s)?],
        None => {
            let missing: Vec<&str> = [
                ("--agents", o.agents.is_none()),
                ("--answer-rate", o.answer_rate.is_none()),
                ("--time-to-answer", o.time_to_answer.is_none()),
                ("--no-answer-after", o.no_answer_after.is_none()),
                ("--talk", o.talk.is_none()),
            ]
            .into_iter()
            .filter(|(_, m)| *m)
            .map(|(n, _)| n)
            .collect();
            if !missing.is_empty() {
                return Err(PacingError::invalid(
                    "scenario",
                    format!(
                        "give --scenario T1|T2|T3|B|S|N1..N5|all, or describe the campaign; missing: {}",
                        missing.join(", ")
                    ),
                ));
            }
            vec![Scenario::T1]
        }
    };
    let custom = scenario.is_none() || o.changes_the_floor();
    bases
        .into_iter()
        .map(|sc| {
            let mut cfg = sc.config();
            o.apply(&mut cfg)?;
            Ok((if custom { None } else { Some(sc) }, cfg))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_with_a_changed_floor_is_custom_and_settings_only_keep_it() {
        let o = Overrides {
            window: Some("uk".into()),
            ..Overrides::default()
        };
        let f = floors(Some("T2"), &o).unwrap();
        assert_eq!(f[0].0, Some(Scenario::T2));
        assert_eq!(f[0].1.window, AbandonWindow::Uk);
        let o = Overrides {
            agents: Some("30@0,15@60m".into()),
            ..Overrides::default()
        };
        let f = floors(Some("T2"), &o).unwrap();
        assert_eq!(f[0].0, None);
        assert_eq!(f[0].1.change_times(), vec![3600.0]);
        assert_eq!(
            floors(Some("all"), &Overrides::default()).unwrap().len(),
            10
        );
    }

    #[test]
    fn campaigns_take_one_rate_each_or_share_one() {
        let mut o = Overrides {
            answer_rate: Some("40%|20%".into()),
            ..Overrides::default()
        };
        let f = floors(Some("N1"), &o).unwrap();
        assert_eq!(f[0].1.campaigns(), 2);
        o.campaigns = Some(3);
        let e = floors(Some("N1"), &o).unwrap_err().to_string();
        assert!(e.contains("`campaigns`") && e.contains("gives 2"), "{e}");
        o.answer_rate = Some("30%".into());
        assert_eq!(floors(Some("N1"), &o).unwrap()[0].1.campaigns(), 3);
    }

    #[test]
    fn a_custom_floor_must_be_described_in_full() {
        let o = Overrides {
            agents: Some("10".into()),
            ..Overrides::default()
        };
        let e = floors(None, &o).unwrap_err().to_string();
        assert!(e.contains("--answer-rate") && e.contains("--talk"), "{e}");
        let o = Overrides {
            answer_rate: Some("1.5".into()),
            ..Overrides::default()
        };
        let e = floors(Some("B"), &o).unwrap_err().to_string();
        assert!(e.contains("`answer-rate`"), "{e}");
    }
}
