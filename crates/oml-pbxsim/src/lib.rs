//! A PBX simulator that speaks AMI, for tests, demos and benchmarks.
//!
//! `oml` drives Asterisk over AMI; this crate is an Asterisk stand-in that
//! answers the same actions with the same responses and event sequences, so
//! the dialer can be developed, demonstrated and load-tested without a phone
//! line. It runs in-process (tests of other crates start one on a free
//! port) or as `oml pbxsim`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use oml_pbxsim::{Dist, Fault, PbxSim, SimConfig};
//! use secrecy::SecretString;
//!
//! let mut cfg = SimConfig::new("oml", SecretString::from("s3cret"), 10); // 10 agents
//! cfg.time_scale = 60.0;                        // a minute per second
//! cfg.seed = 42;                                // reproducible calls
//! cfg.customers.answer_rate = 0.3;
//! cfg.talk_time = Dist::Uniform { min: 60.0, max: 180.0 };
//! cfg.routes.insert("oml-campaign".into(), "oml-default".into());
//! let sim = PbxSim::start(cfg).await?;
//! let addr = sim.local_addr();                  // connect an AmiClient here
//! sim.inject(Fault::DropConnections);          // test reconnects
//! println!("{:?}", sim.stats());
//! sim.shutdown().await;
//! # let _ = addr; Ok(()) }
//! ```
//!
//! What is simulated (see `world.rs`): login (plain and MD5 challenge,
//! `Authentication failed` and a closed connection on a wrong secret),
//! further users with read/write classes ([`SimUser`]), `Ping`, `Originate`
//! with per-number or random outcomes (answer / busy / congestion / no
//! answer / fail), queues of agents with talk and wrap-up times, customer
//! patience in queue, `Hangup` (with its `Cause`), AstDB, `QueueStatus`,
//! `QueueSummary`, `CoreShowChannels`, `Status`, `Command`, `Reload`,
//! `Events` (and `Login`'s `Events` mask), `Filter`, `ListCommands`, `CoreSettings`, `Logoff`; any other action
//! gets Asterisk 22's `Invalid/unknown command: X. Use Action: ListCommands
//! ...`. A `Local/NUMBER@CONTEXT` channel is a `;1` / `;2` pair as in
//! Asterisk: the customer's hangup cause is on `;2` (`OtherChannelId`),
//! the originated `;1` (`ChannelId`) ends with cause 0 when never answered.
//! Answered calls go to the queue mapped from their Context (or the
//! `Queue` application's data), else to the first (default) queue. When
//! routes are configured, a Context that is neither routed nor in
//! `SimConfig::dial_contexts` does not exist (`Extension does not exist.`).
//! Verified against Asterisk 22 by `crates/oml-peer-tests`.

pub mod config;
pub mod ends;
pub mod machines;
pub mod rates;
pub mod server;
pub mod world;

pub use config::{
    parse_number_rule, parse_queue, parse_route, CustomerModel, Dist, NumberOutcome, ParseError,
    QueueConfig, SimConfig, SimUser,
};
pub use ends::{ClientEnd, ClientEnds};
pub use machines::{parse_fraction, MachineModel};
pub use rates::parse_answer_rate;
pub use server::{Fault, PbxSim, SessionInfo};
pub use world::{Session, Stats, World};
