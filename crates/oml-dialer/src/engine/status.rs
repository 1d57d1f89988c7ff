//! The live figures an engine publishes every second under
//! `dialer.status.<node>` (read by `oml dialer status`, the console and the
//! metrics endpoint): what they hold, and how they are read off the
//! decision core. Only a node that holds its name publishes: under a name
//! another engine holds, that engine's status is the one to show.

use std::time::Instant;

use serde::Serialize;

use super::core::{CampaignRt, Core, ServerRt};
use super::reaction_hist::ReactionSummary;
use crate::call::Phase;

/// The live figures published every second.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct LiveStatus {
    pub updated_at: i64,
    /// Set in the last status an engine publishes when it shuts down.
    #[serde(default)]
    pub stopped: bool,
    pub node: String,
    pub play: bool,
    pub calls_in_flight: usize,
    pub servers: Vec<ServerStatus>,
    pub campaigns: Vec<CampaignLive>,
    /// Reaction times since the engine started.
    #[serde(default)]
    pub reaction: ReactionSummary,
    /// AMI events received since the engine started, from every server.
    #[serde(default)]
    pub ami_events: u64,
    /// Outcomes and other writes this node decided that the database has
    /// not taken yet (in its journal), and since when some have waited
    /// without a break (ms since 1970).
    #[serde(default)]
    pub journal_waiting: u64,
    #[serde(default)]
    pub journal_waiting_since: Option<i64>,
    /// Which node leads which campaign and why (`oml dialer status` reads
    /// it from the lease rows; engines publish none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing: Option<crate::sharing_view::Sharing>,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ServerStatus {
    pub name: String,
    pub connected: bool,
    pub last_error: Option<String>,
    pub agents_logged_in: u32,
    pub agents_free: u32,
    pub agents_talking: u32,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct CampaignLive {
    pub id: i64,
    pub name: String,
    pub state: String,
    pub window_open: bool,
    pub ringing: usize,
    pub waiting_for_agent: usize,
    pub talking: usize,
    pub hopper: usize,
    pub agents_logged_in: u32,
    pub agents_free: u32,
    /// Agents on a call, in wrap-up, and paused for another reason.
    #[serde(default)]
    pub agents_talking: u32,
    #[serde(default)]
    pub agents_wrap_up: u32,
    #[serde(default)]
    pub agents_paused: u32,
    /// The predictive pacer's risk threshold, when it has one.
    #[serde(default)]
    pub risk_threshold: Option<f64>,
    /// Agents on a call / agents logged in.
    pub occupancy: f64,
    pub live_answered: u64,
    pub abandoned: u64,
    pub abandon_rate: f64,
    pub max_abandon_rate: f64,
    pub problem: Option<String>,
    /// This node paces the campaign (it holds its leadership).
    #[serde(default)]
    pub paced_here: bool,
    /// How the engine paces it when not as configured: in a PBX's time
    /// that runs faster than real time, or progressively because the
    /// engine cannot keep up.
    #[serde(default)]
    pub pacing_note: Option<String>,
}

/// What differs from pacing as configured in real time, in words.
fn pacing_note(core: &Core, servers: &[&ServerRt]) -> Option<String> {
    let mut notes: Vec<String> = servers
        .iter()
        .filter(|s| s.clock.scale() != 1.0)
        .map(|s| {
            format!(
                "paced in the PBX time of {} (x{:.1})",
                s.conf.name,
                s.clock.scale()
            )
        })
        .collect();
    if let Some(why) = core.overload.behind() {
        notes.push(why.to_owned());
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// The writes waiting for the database, and since when.
fn waiting(m: &super::Metrics, now_ms: i64) -> (u64, Option<i64>) {
    use std::sync::atomic::Ordering::Relaxed;
    let n = m.unrecorded.load(Relaxed);
    if n == 0 {
        m.unrecorded_since_ms.store(0, Relaxed);
        return (0, None);
    }
    let _ = m
        .unrecorded_since_ms
        .compare_exchange(0, now_ms, Relaxed, Relaxed);
    (n, Some(m.unrecorded_since_ms.load(Relaxed)))
}

/// The core's figures at `now_ms` / `inst`; `None` while this node does not
/// hold its name.
pub(super) fn snapshot(
    core: &Core,
    now_ms: i64,
    inst: Instant,
    stopped: bool,
) -> Option<LiveStatus> {
    if !core.named {
        return None;
    }
    let mut st = LiveStatus {
        updated_at: now_ms,
        stopped,
        node: core.node().to_owned(),
        play: core.play,
        calls_in_flight: core.calls.len(),
        reaction: core.metrics.reaction.summary(),
        ami_events: core
            .metrics
            .ami_events
            .load(std::sync::atomic::Ordering::Relaxed),
        ..Default::default()
    };
    (st.journal_waiting, st.journal_waiting_since) = waiting(&core.metrics, now_ms);
    let mut servers: Vec<&ServerRt> = core.servers.values().collect();
    servers.sort_by(|a, b| a.conf.name.cmp(&b.conf.name));
    for s in &servers {
        let c = s.agents.counts("", inst);
        st.servers.push(ServerStatus {
            name: s.conf.name.clone(),
            connected: s.up,
            last_error: s.last_error.clone(),
            agents_logged_in: c.logged_in,
            agents_free: c.ready,
            agents_talking: c.talking_elapsed_s.len() as u32,
        });
    }
    let mut camps: Vec<&CampaignRt> = core.campaigns.values().collect();
    camps.sort_by(|a, b| a.conf.name.cmp(&b.conf.name));
    for c in camps {
        let mut live = CampaignLive {
            id: c.conf.id,
            name: c.conf.name.clone(),
            state: c.conf.state.to_string(),
            window_open: c.window.is_some_and(|w| w.is_open(now_ms)),
            hopper: c.hopper.len(),
            live_answered: c.abandons.live_answered,
            abandoned: c.abandons.abandoned,
            abandon_rate: c.abandons.rate(),
            max_abandon_rate: c.conf.max_abandon_rate,
            problem: c.problem.clone(),
            paced_here: core.leading.contains(&c.conf.id),
            risk_threshold: c.risk_threshold(),
            ..Default::default()
        };
        if live.paced_here {
            live.pacing_note = pacing_note(core, &servers);
        }
        for l in core.calls.values().filter(|l| l.campaign == c.conf.id) {
            match l.call.phase {
                Phase::Placed | Phase::Ringing => live.ringing += 1,
                Phase::Answered => live.waiting_for_agent += 1,
                Phase::Connected => live.talking += 1,
                Phase::Ended => {}
            }
        }
        for s in &servers {
            let a = s.agents.counts(&oml_store::dialplan::queue(&c.conf), inst);
            live.agents_logged_in += a.logged_in;
            live.agents_free += a.ready;
            live.agents_talking += a.talking_elapsed_s.len() as u32;
            live.agents_wrap_up += a.wrap_up_elapsed_s.len() as u32;
        }
        live.agents_paused = live
            .agents_logged_in
            .saturating_sub(live.agents_free + live.agents_talking + live.agents_wrap_up);
        if live.agents_logged_in > 0 {
            live.occupancy = live.agents_talking as f64 / live.agents_logged_in as f64;
        }
        st.campaigns.push(live);
    }
    Some(st)
}
