//! The share of attempts answered by an answering machine, learned apart
//! from the live-answer rate: the live engine tells the statistics each
//! machine its AMD found ([`crate::stats::CallStats::record_machine`]), the
//! simulator does the same, and the live-answer rate counts a machine as an
//! attempt nobody live answered.

/// Attempts the estimate remembers (exponentially weighted).
const MEMORY: f64 = 500.0;

/// An exponentially weighted share of machine answers among attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MachineRate {
    machines: f64,
    attempts: f64,
}

impl MachineRate {
    /// One attempt ended: answered by a machine or not.
    pub fn observe(&mut self, machine: bool) {
        let keep = 1.0 - 1.0 / MEMORY;
        self.machines = self.machines * keep + machine as u8 as f64;
        self.attempts = self.attempts * keep + 1.0;
    }

    /// The share of recent attempts a machine answered (0 before any attempt).
    pub fn rate(&self) -> f64 {
        if self.attempts <= 0.0 {
            0.0
        } else {
            (self.machines / self.attempts).clamp(0.0, 1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_share_of_machines_and_forgets_old_attempts() {
        let mut m = MachineRate::default();
        assert_eq!(m.rate(), 0.0);
        for i in 0..3000 {
            m.observe(i % 10 < 3);
        }
        assert!((m.rate() - 0.3).abs() < 0.02, "{}", m.rate());
        for _ in 0..3000 {
            m.observe(false);
        }
        assert!(m.rate() < 0.01, "{}", m.rate());
    }
}
