//! What the unit tests of every `world/` file share: a small world with
//! fixed times, a logged-in session, the names of a list of events.

use std::time::Instant;

use oml_ami::Message;
use secrecy::SecretString;

use super::{Session, World};
use crate::config::{Dist, SimConfig};

/// A world with `agents` agents; customers answer after 10 s and wait 30 s
/// in queue, agents talk 60 s and wrap up 5 s.
pub(super) fn world(agents: usize) -> (World, Instant) {
    let mut cfg = SimConfig::new("u", SecretString::from("s"), agents);
    cfg.customers.time_to_answer = Dist::Fixed(10.0);
    cfg.customers.patience = Dist::Fixed(30.0);
    cfg.talk_time = Dist::Fixed(60.0);
    cfg.wrapup_time = Dist::Fixed(5.0);
    let now = Instant::now();
    (World::new(cfg, now), now)
}

/// A session past its login, with every permission.
pub(super) fn logged_in() -> Session {
    Session {
        authenticated: true,
        ..Session::default()
    }
}

/// The `Event` names of `ev`, in order.
pub(super) fn names(ev: &[Message]) -> Vec<&str> {
    ev.iter().map(|e| e.event_name().unwrap_or("?")).collect()
}
