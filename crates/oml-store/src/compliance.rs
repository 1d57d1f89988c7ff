//! The calling rules a campaign's settings must keep: one rule set per
//! regulatory window (FCC for `us`, Ofcom for `uk`), each with its limits
//! (ring at least 15 s, an answered call reaches an agent within 2 s, at most
//! 3 % abandoned). A campaign goes beyond them only when it is marked
//! non-compliant; this file says what breaks which rule, pure and tested
//! alone; [`crate::CampaignSpec::validate`] enforces it where campaigns are
//! stored.

use crate::AbandonWindow;
use serde::Serialize;

/// The limits of one regulator's rules for predictive dialing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RuleSet {
    /// Short name: `FCC` or `Ofcom`.
    pub name: &'static str,
    /// Where the rule is written.
    pub source: &'static str,
    /// The period the abandon rate is measured over, in words.
    pub period: &'static str,
    /// A number must ring at least this long before the dialer hangs up.
    pub min_ring_timeout_s: i64,
    /// An answered call must reach an agent within this many seconds.
    pub max_abandon_seconds: i64,
    /// Highest abandon rate allowed, as a fraction.
    pub max_abandon_rate: f64,
    /// From when the seconds count, as the rule words it.
    pub abandon_note: &'static str,
    /// The message every abandoned call must hear, as the rule words it
    /// (not in the API's rule set view).
    #[serde(skip)]
    pub message: &'static str,
    /// Where that message is required.
    #[serde(skip)]
    pub message_source: &'static str,
}

/// FCC 47 CFR 64.1200(a)(6)-(7): 3 % of live-answered calls per campaign over
/// 30 days, 2 s after the completed greeting, ring 15 s (or four rings).
pub const FCC: RuleSet = RuleSet {
    name: "FCC",
    source: "47 CFR 64.1200(a)(6)-(7)",
    period: "30 days",
    min_ring_timeout_s: 15,
    max_abandon_seconds: 2,
    max_abandon_rate: 0.03,
    abandon_note: "within 2 s of the called person's completed greeting",
    message: "a prerecorded identification and opt-out message within 2 s",
    message_source: "47 CFR 64.1200(a)(7)(i)",
};

/// Ofcom's statement of policy on persistent misuse: 3 % of live calls per
/// campaign over 24 hours, an operator within 2 s of the greeting, ring 15 s.
pub const OFCOM: RuleSet = RuleSet {
    name: "Ofcom",
    source: "Ofcom persistent misuse policy",
    period: "24 hours",
    min_ring_timeout_s: 15,
    max_abandon_seconds: 2,
    max_abandon_rate: 0.03,
    abandon_note: "within 2 s of the called person's greeting",
    message: "an information message naming the caller",
    message_source: "Ofcom persistent misuse policy, abandoned calls",
};

/// What oml measures, stricter than both rules: it counts from the answer.
pub const COUNTED_FROM: &str = "oml counts the seconds from the answer, before the greeting ends";

impl AbandonWindow {
    /// The rule set whose window this is.
    pub fn rule_set(self) -> &'static RuleSet {
        match self {
            AbandonWindow::Us => &FCC,
            AbandonWindow::Uk => &OFCOM,
        }
    }
}

/// One setting beyond its rule set's limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    /// The setting, as the error messages and forms name it.
    pub field: &'static str,
    /// What is set and what the rule allows.
    pub message: String,
}

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Tolerance when comparing a typed rate with the limit (3% parses to 0.03).
const RATE_EPSILON: f64 = 1e-9;

/// The settings that go beyond `window`'s rule set, in the order of the form.
pub fn breaches(
    window: AbandonWindow,
    max_abandon_rate: f64,
    abandon_seconds: i64,
    ring_timeout_s: i64,
) -> Vec<Breach> {
    let r = window.rule_set();
    let rule = format!("the {} rule ({})", r.name, r.source);
    let mut out = Vec::new();
    if max_abandon_rate > r.max_abandon_rate + RATE_EPSILON {
        out.push(Breach {
            field: "max abandon rate",
            message: format!(
                "{} % is over the {} % that {rule} allows over {}",
                percent(max_abandon_rate),
                percent(r.max_abandon_rate),
                r.period
            ),
        });
    }
    if abandon_seconds > r.max_abandon_seconds {
        out.push(Breach {
            field: "abandon seconds",
            message: format!(
                "{abandon_seconds} s is longer than {rule} allows: an agent must take the call {}",
                r.abandon_note
            ),
        });
    }
    if ring_timeout_s < r.min_ring_timeout_s {
        out.push(Breach {
            field: "ring timeout",
            message: format!(
                "{ring_timeout_s} s is shorter than the {} s {rule} requires",
                r.min_ring_timeout_s
            ),
        });
    }
    out
}

/// A fraction as a percentage without trailing zeros: 0.025 → `2.5`.
pub fn percent(rate: f64) -> String {
    format!("{:.2}", rate * 100.0)
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_keep_both_rule_sets() {
        for w in [AbandonWindow::Us, AbandonWindow::Uk] {
            assert!(breaches(w, 0.03, 2, 15).is_empty());
            assert!(breaches(w, 0.03, 1, 25).is_empty());
        }
        assert_eq!(AbandonWindow::Us.rule_set().name, "FCC");
        assert_eq!(AbandonWindow::Uk.rule_set().period, "24 hours");
    }

    #[test]
    fn each_setting_beyond_the_limit_is_named_with_its_rule() {
        let b = breaches(AbandonWindow::Uk, 0.05, 3, 10);
        let fields: Vec<_> = b.iter().map(|b| b.field).collect();
        assert_eq!(
            fields,
            ["max abandon rate", "abandon seconds", "ring timeout"]
        );
        assert!(b[0].message.contains("5 %") && b[0].message.contains("Ofcom"));
        assert!(b[1].message.contains("3 s") && b[1].message.contains("greeting"));
        assert!(b[2].message.contains("10 s") && b[2].message.contains("15 s"));
        let us = breaches(AbandonWindow::Us, 0.031, 2, 15);
        assert_eq!(us.len(), 1);
        assert!(us[0].to_string().contains("FCC"), "{}", us[0]);
    }
}
