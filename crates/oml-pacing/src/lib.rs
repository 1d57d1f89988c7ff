//! Pure pacing logic: dialing modes, abandon accounting and a discrete-event simulator.
//!
//! No sockets, no wall clock: time comes in through [`pacer::Snapshot`] (the
//! live dialer passes the wall clock, the simulator its virtual time) and
//! randomness through a seeded RNG, so every figure can be reproduced.

pub mod abandon;
pub mod amd;
pub mod config;
pub mod count;
pub mod dist;
pub mod error;
pub mod fit;
pub mod machine_rate;
pub mod overrides;
pub mod pacer;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod share;
pub mod sim;
pub mod snapshot;
pub mod stats;
pub mod windows;

pub use abandon::{AbandonCounts, AbandonLedger, AbandonReport, AbandonWindow};
pub use dist::Dist;
pub use error::PacingError;
pub use pacer::{ModeSpec, Pacer, PacingLimits, PredictiveConfig, RatioConfig, RatioTally};
pub use schedule::{Schedule, Step};
pub use share::allocate;
pub use sim::{simulate, Scenario, SimConfig, SimResult};
pub use snapshot::{OtherCalls, Snapshot};
pub use stats::{CallStats, Priors};
