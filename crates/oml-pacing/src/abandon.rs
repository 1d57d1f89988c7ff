//! Abandon accounting over a regulatory window. An abandoned call is one
//! answered by a live person and not connected to an agent within the
//! configured seconds (default 2); the rate is abandoned / live-answered over
//! the campaign's window (US: 30 days, UK: 24 hours). The ledger keeps counts
//! incrementally and can report the counts behind the rate.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::PacingError;

/// Milliseconds in a day.
const DAY_MS: i64 = 24 * 3600 * 1000;

/// The regulatory window the abandon rate is measured over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AbandonWindow {
    /// US (FTC/FCC): per campaign over 30 days.
    Us,
    /// UK (Ofcom): per campaign over 24 hours.
    Uk,
    /// Any other length, milliseconds.
    Custom {
        /// Window length, milliseconds.
        ms: i64,
    },
}

impl AbandonWindow {
    /// Length of the window in milliseconds.
    pub fn length_ms(&self) -> i64 {
        match *self {
            AbandonWindow::Us => 30 * DAY_MS,
            AbandonWindow::Uk => DAY_MS,
            AbandonWindow::Custom { ms } => ms.max(1),
        }
    }
}

impl fmt::Display for AbandonWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbandonWindow::Us => f.write_str("us (30 days)"),
            AbandonWindow::Uk => f.write_str("uk (24 h)"),
            AbandonWindow::Custom { ms } => write!(f, "custom ({} s)", ms / 1000),
        }
    }
}

impl FromStr for AbandonWindow {
    type Err = PacingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "us" | "30d" => Ok(AbandonWindow::Us),
            "uk" | "24h" => Ok(AbandonWindow::Uk),
            other => Err(PacingError::Unknown {
                what: "abandon window",
                given: other.to_string(),
                expected: "us (30 days), uk (24 h)".into(),
            }),
        }
    }
}

/// Abandoned and live-answered counts over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbandonCounts {
    /// Calls answered by a live person.
    pub live_answered: u64,
    /// Of those, calls not connected to an agent in time.
    pub abandoned: u64,
}

impl AbandonCounts {
    /// abandoned / live-answered (0 when nothing was answered).
    pub fn rate(&self) -> f64 {
        if self.live_answered == 0 {
            0.0
        } else {
            self.abandoned as f64 / self.live_answered as f64
        }
    }
}

/// One live-answered call, as the ledger records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerRecord {
    /// When the call was answered, epoch (or virtual) milliseconds.
    pub answered_at_ms: i64,
    /// Whether it was abandoned.
    pub abandoned: bool,
}

/// The compliance report of one campaign: the rate and the counts behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AbandonReport {
    /// The window used.
    pub window: AbandonWindow,
    /// First millisecond inside the window (inclusive).
    pub window_start_ms: i64,
    /// End of the window (the report's time).
    pub window_end_ms: i64,
    /// Calls answered by a live person in the window.
    pub live_answered: u64,
    /// Of those, abandoned.
    pub abandoned: u64,
    /// Of those, connected to an agent in time.
    pub connected: u64,
    /// abandoned / live_answered.
    pub rate: f64,
    /// The campaign's limit (fraction, e.g. 0.03).
    pub max_rate: f64,
    /// Whether the rate is at or under the limit.
    pub within_limit: bool,
}

/// Incremental abandon accounting over a sliding regulatory window.
#[derive(Debug, Clone)]
pub struct AbandonLedger {
    window: AbandonWindow,
    records: VecDeque<AnswerRecord>,
    counts: AbandonCounts,
}

impl AbandonLedger {
    /// An empty ledger for the given window.
    pub fn new(window: AbandonWindow) -> Self {
        AbandonLedger {
            window,
            records: VecDeque::new(),
            counts: AbandonCounts::default(),
        }
    }

    /// The window.
    pub fn window(&self) -> AbandonWindow {
        self.window
    }

    /// Records one live-answered call. Records may arrive slightly out of
    /// order (an abandon is known a few seconds after the answer); they are
    /// kept ordered by answer time.
    pub fn record(&mut self, answered_at_ms: i64, abandoned: bool) {
        let rec = AnswerRecord {
            answered_at_ms,
            abandoned,
        };
        let mut i = self.records.len();
        while i > 0 && self.records[i - 1].answered_at_ms > answered_at_ms {
            i -= 1;
        }
        self.records.insert(i, rec);
        self.counts.live_answered += 1;
        if abandoned {
            self.counts.abandoned += 1;
        }
    }

    /// Drops the records that left the window ending at `now_ms`.
    pub fn advance(&mut self, now_ms: i64) {
        let start = now_ms - self.window.length_ms();
        while let Some(front) = self.records.front() {
            if front.answered_at_ms >= start {
                break;
            }
            self.counts.live_answered -= 1;
            if front.abandoned {
                self.counts.abandoned -= 1;
            }
            self.records.pop_front();
        }
    }

    /// Counts over the window ending at `now_ms` (advances the window).
    pub fn counts(&mut self, now_ms: i64) -> AbandonCounts {
        self.advance(now_ms);
        self.counts
    }

    /// The records currently held, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &AnswerRecord> {
        self.records.iter()
    }

    /// The compliance report at `now_ms` against the limit `max_rate`.
    pub fn report(&mut self, now_ms: i64, max_rate: f64) -> AbandonReport {
        let c = self.counts(now_ms);
        AbandonReport {
            window: self.window,
            window_start_ms: now_ms - self.window.length_ms(),
            window_end_ms: now_ms,
            live_answered: c.live_answered,
            abandoned: c.abandoned,
            connected: c.live_answered - c.abandoned,
            rate: c.rate(),
            max_rate,
            within_limit: c.rate() <= max_rate,
        }
    }
}

/// Recomputes the counts from raw records, without any incremental state:
/// the reference the ledger is tested against (and what an audit would run).
pub fn recount(records: &[AnswerRecord], window: AbandonWindow, now_ms: i64) -> AbandonCounts {
    let start = now_ms - window.length_ms();
    let mut c = AbandonCounts::default();
    for r in records.iter().filter(|r| r.answered_at_ms >= start) {
        c.live_answered += 1;
        if r.abandoned {
            c.abandoned += 1;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uk_window_forgets_after_a_day_us_window_does_not() {
        let mut uk = AbandonLedger::new(AbandonWindow::Uk);
        let mut us = AbandonLedger::new(AbandonWindow::Us);
        for l in [&mut uk, &mut us] {
            l.record(0, true);
            l.record(1000, false);
            l.record(DAY_MS + 5000, false);
        }
        let r = uk.report(DAY_MS + 500, 0.03);
        assert_eq!((r.live_answered, r.abandoned, r.connected), (2, 0, 2));
        assert!(r.within_limit);
        let r = us.report(DAY_MS + 500, 0.03);
        assert_eq!((r.live_answered, r.abandoned), (3, 1));
        assert!((r.rate - 1.0 / 3.0).abs() < 1e-12);
        assert!(!r.within_limit);
    }

    #[test]
    fn out_of_order_records_are_kept_sorted() {
        let mut l = AbandonLedger::new(AbandonWindow::Custom { ms: 10_000 });
        l.record(5_000, false);
        l.record(3_000, true);
        l.record(6_000, false);
        let times: Vec<i64> = l.records().map(|r| r.answered_at_ms).collect();
        assert_eq!(times, vec![3_000, 5_000, 6_000]);
        assert_eq!(l.counts(13_500).abandoned, 0);
        assert_eq!(l.counts(13_500).live_answered, 2);
    }

    #[test]
    fn windows_parse() {
        assert_eq!("US".parse::<AbandonWindow>().unwrap(), AbandonWindow::Us);
        assert_eq!("uk".parse::<AbandonWindow>().unwrap(), AbandonWindow::Uk);
        assert!("eu"
            .parse::<AbandonWindow>()
            .unwrap_err()
            .to_string()
            .contains("abandon window"));
    }
}
