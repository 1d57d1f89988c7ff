//! Where a campaign's pacer started from when a node began pacing it — its
//! own previous runs, another campaign on the same trunk and queue, or the
//! priors — saved with the campaign's pacing memory so that `oml campaign
//! show` can say it, in words, whether or not an engine runs. Pure.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The statistics a campaign's pacer started from, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PacingStart {
    /// When pacing started, epoch milliseconds.
    pub at: i64,
    /// Whose statistics.
    pub source: StartSource,
    /// Attempts replayed into the statistics (borrowed and own).
    pub attempts: u64,
    /// Finished talks replayed into the statistics (borrowed and own).
    pub talks: u64,
}

/// Whose statistics a campaign's pacer started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum StartSource {
    /// The campaign's own previous runs, saved `age_ms` before the start.
    Own { age_ms: i64 },
    /// Another campaign's, dialing through the same trunk (dial string and
    /// server) to the same queue, saved `age_ms` before the start; the
    /// campaign's own few observations (`own_attempts`) were replayed after
    /// them.
    Campaign {
        campaign_id: i64,
        name: String,
        age_ms: i64,
        own_attempts: u64,
    },
    /// No statistics less than a week old: the pacer's priors.
    Priors,
}

/// An age in words: "40 s", "12 min", "2 h", "3 days".
pub fn age_text(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

impl fmt::Display for StartSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartSource::Own { age_ms } => {
                write!(f, "own previous runs, {} old", age_text(*age_ms))
            }
            StartSource::Campaign {
                name,
                age_ms,
                own_attempts,
                ..
            } => {
                write!(
                    f,
                    "campaign {name} on the same trunk and queue, {} old",
                    age_text(*age_ms)
                )?;
                if *own_attempts > 0 {
                    write!(f, ", then {own_attempts} attempts of its own")?;
                }
                Ok(())
            }
            StartSource::Priors => f.write_str("priors (no history)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_as_the_administrator_reads_them() {
        let h = 3_600_000;
        assert_eq!(
            StartSource::Own { age_ms: 2 * h }.to_string(),
            "own previous runs, 2 h old"
        );
        let borrowed = StartSource::Campaign {
            campaign_id: 4,
            name: "promo".into(),
            age_ms: 3 * 24 * h,
            own_attempts: 0,
        };
        assert_eq!(
            borrowed.to_string(),
            "campaign promo on the same trunk and queue, 3 days old"
        );
        let mixed = StartSource::Campaign {
            campaign_id: 4,
            name: "promo".into(),
            age_ms: 90_000,
            own_attempts: 40,
        };
        assert_eq!(
            mixed.to_string(),
            "campaign promo on the same trunk and queue, 90 s old, then 40 attempts of its own"
        );
        assert_eq!(StartSource::Priors.to_string(), "priors (no history)");
        assert_eq!(age_text(12 * 60_000), "12 min");
    }

    #[test]
    fn a_start_is_kept_as_tagged_json() {
        let s = PacingStart {
            at: 5,
            source: StartSource::Own { age_ms: 7 },
            attempts: 400,
            talks: 100,
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""from":"own""#), "{json}");
        assert_eq!(serde_json::from_str::<PacingStart>(&json).unwrap(), s);
    }
}
