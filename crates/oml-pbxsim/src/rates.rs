//! The customers' rates as `oml pbxsim` takes them: an answer rate that may
//! change in time (`40%@0,15%@60m`, the form `oml dialer simulate` takes,
//! parsed by oml-pacing so both read it alike) and the check that the
//! answer, busy and congestion rates are fractions summing to at most 1,
//! with the flag to fix named.

use oml_pacing::schedule::{fraction, schedule};
use oml_pacing::Schedule;

use crate::config::{CustomerModel, ParseError};

/// Parses `--answer-rate`: `0.3`, `30%`, or `40%@0,15%@60m` (times are
/// simulated time since the PBX started: `90`, `90s`, `60m`, `1h`).
pub fn parse_answer_rate(text: &str) -> Result<Schedule<f64>, ParseError> {
    let s = schedule("--answer-rate", text, fraction).map_err(|e| ParseError(e.to_string()))?;
    for v in s.values() {
        if !(0.0..=1.0).contains(&v) {
            return Err(ParseError(format!(
                "--answer-rate {text:?}: {v} is not between 0 and 1 (write 0.3 or 30%)"
            )));
        }
    }
    Ok(s)
}

impl CustomerModel {
    /// Every rate is a fraction, and answer + busy + congestion is at most 1
    /// at every answer rate of the schedule.
    pub fn check_rates(&self) -> Result<(), ParseError> {
        for (name, p) in [
            ("--busy-rate", self.busy_rate),
            ("--congestion-rate", self.congestion_rate),
        ]
        .into_iter()
        .chain(
            self.answer_rate_schedule()
                .values()
                .map(|p| ("--answer-rate", p)),
        ) {
            if !(0.0..=1.0).contains(&p) {
                return Err(ParseError(format!("{name} {p} must be between 0 and 1")));
            }
        }
        let most = self.answer_rate_schedule().values().fold(0.0f64, f64::max);
        if most + self.busy_rate + self.congestion_rate > 1.0 + 1e-9 {
            let pct = |p: f64| format!("{}%", (p * 1e4).round() / 1e2);
            return Err(ParseError(format!(
                "--answer-rate {} + --busy-rate {} + --congestion-rate {} must not exceed 100%",
                pct(most),
                pct(self.busy_rate),
                pct(self.congestion_rate)
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_single_rate_and_a_schedule() {
        assert_eq!(parse_answer_rate("0.3").unwrap(), Schedule::constant(0.3));
        let s = parse_answer_rate("40%@0,15%@60m").unwrap();
        assert_eq!(s.start, 0.4);
        assert_eq!(s.at(3599.0), 0.4);
        assert_eq!(s.at(3600.0), 0.15);
        let mut m = CustomerModel::default();
        m.set_answer_rate(s);
        assert_eq!(m.answer_rate_at(0.0), 0.4);
        assert_eq!(m.answer_rate_at(3600.0), 0.15);
    }

    #[test]
    fn bad_rates_name_the_flag() {
        for bad in ["140%", "0.4@0,1.5@60m", "40%@10m", "40%@0,15%@0", "x"] {
            let e = parse_answer_rate(bad).unwrap_err().0;
            assert!(e.contains("--answer-rate"), "{bad}: {e}");
        }
        let mut m = CustomerModel::default();
        m.set_answer_rate(parse_answer_rate("40%@0,95%@60m").unwrap());
        let e = m.check_rates().unwrap_err().0;
        assert!(
            e.contains("must not exceed 100%") && e.contains("95%"),
            "{e}"
        );
        m.busy_rate = 1.2;
        assert!(m.check_rates().unwrap_err().0.contains("--busy-rate"));
    }
}
