//! The scale benchmark's readings: CPU of the engines (and of PostgreSQL's
//! backends) from /proc, and the snapshot taken at each end of the
//! measured period.

use std::collections::BTreeMap;
use std::time::Instant;

use oml_dialer::LiveStatus;

use crate::db::Db;
use crate::procs::{self, Proc};

/// Each engine's CPU seconds so far (`None` once it is gone).
pub fn cpus(engines: &[Proc]) -> Vec<Option<f64>> {
    engines.iter().map(|e| procs::cpu_s(e.pid())).collect()
}

/// The CPU seconds used between two readings, by the processes in both.
pub fn sum_delta(a: &[Option<f64>], b: &[Option<f64>]) -> f64 {
    a.iter()
        .zip(b)
        .filter_map(|(a, b)| Some(b.as_ref()? - a.as_ref()?))
        .sum()
}

/// PostgreSQL backends' CPU: first and last reading of each backend.
/// Returns how many are connected now.
pub async fn track_pg(db: &Db, seen: &mut BTreeMap<u32, (f64, f64)>) -> usize {
    let pids = db.backend_pids().await;
    for pid in &pids {
        if let Some(c) = procs::cpu_s(*pid) {
            seen.entry(*pid).and_modify(|e| e.1 = c).or_insert((c, c));
        }
    }
    pids.len()
}

/// The readings at one end of the measured period.
pub struct Snapshot {
    pub at: Instant,
    pub wall_ms: i64,
    pub cpu: Vec<Option<f64>>,
    pub status: BTreeMap<String, LiveStatus>,
    pub xacts: i64,
    pub machine: (u64, u64),
    pub pbxsim_cpu: f64,
}

impl Snapshot {
    pub async fn take(db: &Db, engines: &[Proc], sims: &[Proc]) -> Snapshot {
        Snapshot {
            at: Instant::now(),
            wall_ms: oml_store::now_ms(),
            cpu: cpus(engines),
            status: db.statuses().await,
            xacts: db.xacts().await,
            machine: procs::machine_ticks(),
            pbxsim_cpu: sims.iter().filter_map(|s| procs::cpu_s(s.pid())).sum(),
        }
    }
}
