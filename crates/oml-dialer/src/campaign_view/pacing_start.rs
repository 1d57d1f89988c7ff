//! The line of `oml campaign show` (and the field of its JSON) that says
//! which statistics the campaign's pacer started from when a node last
//! began pacing it: its own previous runs, another campaign on the same
//! trunk and queue, or the priors (issue 15 item 5, cold start). Read from
//! the campaign's saved pacing memory, so it shows whether or not an engine
//! runs.

use oml_store::pacing_memory::PacingStart;
use oml_store::{format_ms, Store};
use serde::Serialize;

/// Where the pacer started from, in words and as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PacingStartView {
    /// E.g. "campaign promo on the same trunk and queue, 3 days old".
    pub description: String,
    /// When pacing started (`at`), as `show` prints times.
    pub started_at: String,
    #[serde(flatten)]
    pub start: PacingStart,
}

impl PacingStartView {
    pub fn of(start: PacingStart) -> PacingStartView {
        PacingStartView {
            description: start.source.to_string(),
            started_at: format_ms(start.at),
            start,
        }
    }
}

/// Campaign `id`'s last pacing start; `None` when it was never paced (or its
/// memory cannot be read: the engine then starts from the priors anyway).
pub async fn pacing_start(store: &Store, id: i64) -> Option<PacingStartView> {
    let memory = store.pacing_memory(id).await.ok()??;
    memory.started.map(PacingStartView::of)
}

/// The text after `pacing started from`.
pub fn pacing_start_text(v: Option<&PacingStartView>) -> String {
    match v {
        None => "not yet paced".into(),
        Some(v) => format!(
            "{} (at {}; {} attempts, {} talks)",
            v.description, v.started_at, v.start.attempts, v.start.talks
        ),
    }
}
