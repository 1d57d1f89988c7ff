//! The running dialer: campaigns, their contacts, the hopper of due calls,
//! reschedule rules and call tracking over AMI. `import` holds the pure
//! rules of contact-list import (phone normalisation, column detection,
//! per-row verdicts), used by `oml campaign import` and the console;
//! [`campaign_view`] a campaign's settings and figures as the front ends
//! show them, [`dnc_file`] number files for the do-not-call list,
//! [`rejection_file`] the report of rows an import rejected.
//!
//! The engine: [`window`] (calling hours in the campaign's time zone),
//! [`call`] (one attempt's state machine fed by AMI events), [`reschedule`]
//! (next attempt or final state), [`agents`] (queue members from events)
//! are pure; [`engine`] is the runtime `oml serve` starts with
//! [`Engine::spawn`].

pub mod contact_import;
pub mod import;

// What the front ends (CLI, console, API) show and read (owner: binary).
pub mod campaign_view;
pub mod demo;
pub mod dnc_file;
pub mod rejection_file;

// The engine (owner: engine): pure logic first, then the runtime.
pub mod agent_name;
pub mod agents;
pub mod assign;
pub mod call;
pub mod control;
pub mod engine;
pub mod pbx_record;
pub mod reschedule;
pub mod sharing_view;
pub mod status_text;
pub mod window;

pub use call::Outcome;
pub use engine::{
    channel_id, status_key, Engine, EngineConfig, EngineHandle, LiveStatus, Metrics, PLAY_KEY,
    STATUS_KEY,
};
