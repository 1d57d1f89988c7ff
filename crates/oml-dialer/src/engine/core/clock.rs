//! The PBX's time, as the pacer must see it. pbxsim may run faster than
//! real time (`--time-scale 20`: a simulated minute every 3 s); its calls
//! ring, talk and wrap up in its own seconds, and the abandon rule ("an
//! agent within 2 s of the answer") is in its seconds too. The engine learns
//! the ratio from the `Timestamp` of the PBX's `Ping` answers (Asterisk's is
//! the wall clock, pbxsim's its simulated clock) against its own monotonic
//! clock, and converts every duration it hands the pacer.

use std::time::Instant;

use super::Core;

/// Below this much PBX time between the first and the latest `Ping` the
/// ratio is not trusted yet (pbxsim's timestamps have whole seconds).
const MIN_BASELINE_S: f64 = 20.0;
/// Ratios this close to 1 are 1 (Asterisk on a clock that NTP slews).
const SNAP_TO_ONE: f64 = 0.03;
/// A new estimate replaces the one in use when it differs by more.
const CHANGE: f64 = 0.02;

/// One server's clock ratio and the PBX time it keeps.
#[derive(Debug, Clone)]
pub struct PbxClock {
    /// PBX seconds per real second.
    scale: f64,
    /// The first `Ping` since the link came up: (when, PBX seconds).
    anchor: Option<(Instant, f64)>,
    /// PBX seconds at `at`, advanced at the current scale (monotonic).
    pbx_s: f64,
    at: Option<Instant>,
}

impl Default for PbxClock {
    fn default() -> Self {
        PbxClock {
            scale: 1.0,
            anchor: None,
            pbx_s: 0.0,
            at: None,
        }
    }
}

impl PbxClock {
    /// PBX seconds per real second (1 until measured).
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The link came up again: the PBX may have restarted (with another
    /// scale); measure again from the next `Ping`, keeping the scale meanwhile.
    pub fn relink(&mut self) {
        self.anchor = None;
    }

    /// A `Ping` answered with the PBX's `Timestamp` `pbx_s` (seconds) at
    /// `at`. Returns the new scale when it changed.
    pub fn observe(&mut self, at: Instant, pbx_s: f64) -> Option<f64> {
        let Some((a_at, a_pbx)) = self.anchor else {
            self.anchor = Some((at, pbx_s));
            return None;
        };
        let real = at.saturating_duration_since(a_at).as_secs_f64();
        let pbx = pbx_s - a_pbx;
        if real <= 0.0 || pbx < MIN_BASELINE_S {
            if pbx < 0.0 {
                // The PBX's clock went back (restart, clock set): start over.
                self.anchor = Some((at, pbx_s));
            }
            return None;
        }
        let mut est = pbx / real;
        if !(0.01..=10_000.0).contains(&est) {
            self.anchor = Some((at, pbx_s));
            return None;
        }
        if (est - 1.0).abs() < SNAP_TO_ONE {
            est = 1.0;
        }
        if (est - self.scale).abs() > CHANGE * self.scale {
            self.now_s(at);
            self.scale = est;
            return Some(est);
        }
        None
    }

    /// The PBX time at `at`, in seconds since the engine started: monotonic,
    /// advancing at the scale in use.
    pub fn now_s(&mut self, at: Instant) -> f64 {
        if let Some(last) = self.at {
            self.pbx_s += at.saturating_duration_since(last).as_secs_f64() * self.scale;
        }
        if self.at.is_none_or(|last| at > last) {
            self.at = Some(at);
        }
        self.pbx_s
    }
}

impl Core {
    /// A server's `Ping` answer: its clock, for the PBX's time scale.
    pub(super) fn on_pbx_time(&mut self, server: i64, pbx_s: f64, at: Instant) {
        if let Some(s) = self.servers.get_mut(&server) {
            if let Some(scale) = s.clock.observe(at, pbx_s) {
                tracing::info!(server = %s.conf.name, scale, "dialer: the PBX's clock runs at this many seconds per real second; pacing in its time");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_pbx_twenty_times_faster_is_measured_from_whole_second_timestamps() {
        let t0 = Instant::now();
        let mut c = PbxClock::default();
        let epoch = 1_800_000_000.0;
        // Whole seconds, as pbxsim answers, every 0.5 s of real time.
        let mut changed = None;
        for i in 0..=10u32 {
            let at = t0 + Duration::from_millis(500 * i as u64);
            let pbx = (epoch + 20.0 * 0.5 * i as f64 + 0.7).floor();
            if let Some(s) = c.observe(at, pbx) {
                changed = Some((i, s));
            }
        }
        let (i, s) = changed.expect("measured");
        assert!(
            i >= 2,
            "not before 20 PBX seconds of baseline (at ping {i})"
        );
        assert!((s - 20.0).abs() < 1.5, "{s}");
        // PBX time moves on at the new scale from now on.
        let at = t0 + Duration::from_secs(5);
        let a = c.now_s(at);
        let b = c.now_s(at + Duration::from_millis(100));
        assert!((b - a - 2.0).abs() < 0.2, "{}", b - a);
    }

    #[test]
    fn a_real_time_pbx_stays_at_one_and_time_only_moves_forward() {
        let t0 = Instant::now();
        let mut c = PbxClock::default();
        for i in 0..40u64 {
            let at = t0 + Duration::from_secs(i);
            assert_eq!(c.observe(at, 1e9 + i as f64 * 1.01), None);
        }
        assert_eq!(c.scale(), 1.0);
        let a = c.now_s(t0 + Duration::from_secs(5));
        let b = c.now_s(t0 + Duration::from_secs(3));
        assert!(b >= a, "PBX time went back: {a} then {b}");
        // A clock that jumps back restarts the measurement.
        assert_eq!(c.observe(t0 + Duration::from_secs(41), 5.0), None);
        assert_eq!(c.scale(), 1.0);
    }
}
