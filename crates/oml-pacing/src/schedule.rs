//! Conditions that change during a simulated run: a value that is piecewise
//! constant in time (`40%@0,15%@60m`), and the parsing of the command-line
//! forms of fractions, durations, counts and schedules, so that the binary
//! stays a thin argument parser and every form is tested here.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dist::Dist;
use crate::error::PacingError;

/// From `at_s` seconds on (measured from the start of the measured period), the value is `value`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Step<T> {
    /// Seconds after the start of the measured period.
    pub at_s: f64,
    /// The value from then on.
    pub value: T,
}

/// A value that starts at `start` and changes at each step, in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule<T> {
    /// The value from the start of the run (warm-up included).
    pub start: T,
    /// Later values, strictly increasing in time, all after 0.
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step<T>>,
}

impl<T: Copy> Schedule<T> {
    /// A value that never changes.
    pub fn constant(v: T) -> Self {
        Schedule {
            start: v,
            steps: Vec::new(),
        }
    }

    /// The value at `t_s` seconds after the start of the measured period
    /// (negative during the warm-up).
    pub fn at(&self, t_s: f64) -> T {
        self.steps
            .iter()
            .take_while(|s| s.at_s <= t_s)
            .last()
            .map_or(self.start, |s| s.value)
    }

    /// Every value, the start first.
    pub fn values(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::once(self.start).chain(self.steps.iter().map(|s| s.value))
    }
}

impl<T: fmt::Display> fmt::Display for Schedule<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.start)?;
        for s in &self.steps {
            write!(f, " → {} at {} min", s.value, s.at_s / 60.0)?;
        }
        Ok(())
    }
}

/// `0.8` or `80%` → 0.8 (the range is checked by the simulator's validation).
pub fn fraction(name: &str, text: &str) -> Result<f64, PacingError> {
    let t = text.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 0.01),
        None => (t, 1.0),
    };
    let v: f64 = num.parse().map_err(|_| {
        PacingError::invalid(name, format!("`{text}` is not a number (write 0.8 or 80%)"))
    })?;
    Ok(v * scale)
}

/// `90`, `90s`, `58m`, `1h` → seconds; negative values are rejected naming the parameter.
pub fn seconds(name: &str, text: &str) -> Result<f64, PacingError> {
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num.trim().parse().map_err(|_| {
        PacingError::invalid(
            name,
            format!("`{text}` is not a duration (write 90, 90s, 58m or 1h)"),
        )
    })?;
    if !v.is_finite() || v < 0.0 {
        return Err(PacingError::invalid(
            name,
            format!("must not be negative (got `{text}`)"),
        ));
    }
    Ok(v * scale)
}

/// A whole number of agents.
pub fn count(name: &str, text: &str) -> Result<u32, PacingError> {
    text.trim().parse().map_err(|_| {
        PacingError::invalid(
            name,
            format!("`{text}` is not a whole number ≥ 0 (write e.g. 30)"),
        )
    })
}

/// Parses `V`, or `V@0,V@T,...` (T a duration: `60m`, `1h`, `3600`), each
/// value with `value`. Splitting is on the commas outside parentheses, so
/// `lognormal(180,120)@0,lognormal(240,160)@60m` works. Times must start at 0
/// (or be left out for the first value) and increase.
pub fn schedule<T>(
    name: &str,
    text: &str,
    value: impl Fn(&str, &str) -> Result<T, PacingError>,
) -> Result<Schedule<T>, PacingError> {
    let mut out: Option<Schedule<T>> = None;
    let mut last = 0.0;
    for (i, part) in split_top_level(text).into_iter().enumerate() {
        let (v, at) = match part.rfind('@') {
            Some(k) => (&part[..k], Some(seconds(name, &part[k + 1..])?)),
            None => (part, None),
        };
        let v = value(name, v)?;
        match (&mut out, at) {
            (None, None) | (None, Some(0.0)) => {
                out = Some(Schedule {
                    start: v,
                    steps: Vec::new(),
                })
            }
            (None, Some(_)) => {
                return Err(PacingError::invalid(
                    name,
                    format!("the first value of `{text}` must be at 0 (write e.g. 40%@0,15%@60m)"),
                ))
            }
            (Some(_), None) => {
                return Err(PacingError::invalid(
                    name,
                    format!(
                        "value {} of `{text}` needs its time (write e.g. 40%@0,15%@60m)",
                        i + 1
                    ),
                ))
            }
            (Some(s), Some(at)) => {
                if at <= last {
                    return Err(PacingError::invalid(
                        name,
                        format!("the times of `{text}` must increase"),
                    ));
                }
                last = at;
                s.steps.push(Step { at_s: at, value: v });
            }
        }
    }
    out.ok_or_else(|| PacingError::invalid(name, "is empty"))
}

/// `A|B|...`: one schedule per campaign.
pub fn per_campaign<T>(
    name: &str,
    text: &str,
    value: impl Fn(&str, &str) -> Result<T, PacingError> + Copy,
) -> Result<Vec<Schedule<T>>, PacingError> {
    text.split('|').map(|t| schedule(name, t, value)).collect()
}

/// A distribution schedule, e.g. `lognormal(180,120)@0,lognormal(240,160)@60m`.
pub fn dist_schedule(name: &str, text: &str) -> Result<Schedule<Dist>, PacingError> {
    schedule(name, text, Dist::parse)
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut from) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(text[from..i].trim());
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[from..].trim());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_and_durations_parse() {
        assert_eq!(fraction("answer-rate", "80%").unwrap(), 0.8);
        assert_eq!(fraction("answer-rate", "0.25").unwrap(), 0.25);
        assert!(fraction("answer-rate", "lots")
            .unwrap_err()
            .to_string()
            .contains("answer-rate"));
        assert_eq!(seconds("duration", "58m").unwrap(), 3480.0);
        assert_eq!(seconds("duration", "1h").unwrap(), 3600.0);
        assert_eq!(seconds("duration", "90").unwrap(), 90.0);
        assert!(seconds("warmup", "-5")
            .unwrap_err()
            .to_string()
            .contains("`warmup`"));
    }

    #[test]
    fn a_single_value_is_a_constant_schedule() {
        let s = schedule("answer-rate", "40%", fraction).unwrap();
        assert_eq!(s, Schedule::constant(0.4));
        assert_eq!(s.at(1e9), 0.4);
    }

    #[test]
    fn schedules_change_at_their_times() {
        let s = schedule("agents", "30@0,15@60m,30@80m", count).unwrap();
        assert_eq!(s.at(-10.0), 30);
        assert_eq!(s.at(3599.0), 30);
        assert_eq!(s.at(3600.0), 15);
        assert_eq!(s.at(4799.0), 15);
        assert_eq!(s.at(4800.0), 30);
        assert_eq!(s.values().collect::<Vec<_>>(), vec![30, 15, 30]);
    }

    #[test]
    fn distribution_schedules_split_outside_parentheses() {
        let s = dist_schedule("talk", "lognormal(180,120)@0,lognormal(240,160)@60m").unwrap();
        assert_eq!(
            s.start,
            Dist::LogNormal {
                mean: 180.0,
                sd: 120.0
            }
        );
        assert_eq!(s.steps.len(), 1);
        assert_eq!(s.steps[0].at_s, 3600.0);
    }

    #[test]
    fn campaigns_are_separated_by_bars() {
        let v = per_campaign("answer-rate", "40%@0,15%@1h|20%", fraction).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].at(3600.0), 0.15);
        assert_eq!(v[1].at(3600.0), 0.2);
    }

    #[test]
    fn bad_schedules_name_the_parameter_and_the_fix() {
        for (text, needle) in [
            ("40%@5m,15%@60m", "must be at 0"),
            ("40%@0,15%", "needs its time"),
            ("40%@0,15%@60m,10%@30m", "must increase"),
            ("40%@0,15%@soon", "not a duration"),
            ("forty", "not a number"),
        ] {
            let e = schedule("answer-rate", text, fraction)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("`answer-rate`") && e.contains(needle),
                "{text}: {e}"
            );
        }
        let e = schedule("agents", "30@0,-2@1h", count)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`agents`"), "{e}");
    }
}
