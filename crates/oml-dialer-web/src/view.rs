//! Pure shaping of the dialer's status for the page and the API: one row
//! per campaign with its database figures and, when an engine runs, its
//! live ones; the actions a campaign offers in its state; and the words the
//! API accepts for them.

use oml_dialer::campaign_view::PacingStartView;
use oml_dialer::control::DialerStatus;
use oml_store::CampaignState;
use serde::Serialize;

/// One campaign as the page shows it and the API returns it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CampaignView {
    pub name: String,
    pub mode: String,
    pub state: String,
    pub contacts_left: i64,
    pub due_now: i64,
    /// Abandoned / live-answered over the campaign's regulatory window.
    pub abandon_rate: f64,
    pub abandoned: i64,
    pub live_answered: i64,
    pub max_abandon_rate: f64,
    /// The abandon rate is at or over the campaign's limit.
    pub over_limit: bool,
    /// Live figures; `None` while no engine runs.
    pub live: Option<LiveView>,
    /// What the page offers: `start`, `pause`, `stop`.
    pub actions: Vec<&'static str>,
    /// Which statistics its pacing started from when a node last began
    /// pacing it; `None` when it was never paced.
    pub pacing_start: Option<PacingStartView>,
}

/// A campaign's figures from the running engine.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LiveView {
    pub window_open: bool,
    pub ringing: usize,
    pub waiting_for_agent: usize,
    pub talking: usize,
    pub agents_logged_in: u32,
    pub agents_free: u32,
    /// Agents on a call / agents logged in, 0..=1.
    pub occupancy: f64,
    /// Why the campaign cannot dial, if it cannot.
    pub problem: Option<String>,
    /// A running engine paces it (holds its leadership).
    pub paced: bool,
}

/// Every campaign of `status`, in its order.
pub fn campaigns(status: &DialerStatus) -> Vec<CampaignView> {
    status
        .campaigns
        .iter()
        .map(|c| CampaignView {
            name: c.name.clone(),
            mode: c.mode.clone(),
            state: c.state.clone(),
            contacts_left: c.contacts_left,
            due_now: c.due_now,
            abandon_rate: c.abandon_rate,
            abandoned: c.abandoned,
            live_answered: c.live_answered,
            max_abandon_rate: c.max_abandon_rate,
            over_limit: c.live_answered > 0 && c.abandon_rate >= c.max_abandon_rate,
            live: status.live_campaign(&c.name).map(|l| LiveView {
                window_open: l.window_open,
                ringing: l.ringing,
                waiting_for_agent: l.waiting_for_agent,
                talking: l.talking,
                agents_logged_in: l.agents_logged_in,
                agents_free: l.agents_free,
                occupancy: l.occupancy,
                problem: l.problem.clone(),
                paced: l.paced_here,
            }),
            actions: actions_for(&c.state),
            pacing_start: c.pacing_start.clone(),
        })
        .collect()
}

/// The state changes a campaign in `state` offers.
pub fn actions_for(state: &str) -> Vec<&'static str> {
    match state {
        "running" => vec!["pause", "stop"],
        "paused" => vec!["start", "stop"],
        _ => vec!["start"],
    }
}

/// The state an action word leads to: `start`, `pause` or `stop`.
pub fn parse_action(word: &str) -> Option<CampaignState> {
    match word {
        "start" => Some(CampaignState::Running),
        "pause" => Some(CampaignState::Paused),
        "stop" => Some(CampaignState::Stopped),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oml_dialer::control::CampaignSummary;
    use oml_dialer::engine::CampaignLive;
    use oml_dialer::LiveStatus;

    fn summary(name: &str, state: &str, rate: f64, answered: i64) -> CampaignSummary {
        CampaignSummary {
            name: name.into(),
            mode: "predictive".into(),
            state: state.into(),
            contacts_left: 10,
            due_now: 3,
            in_flight: 0,
            abandon_rate: rate,
            abandoned: 0,
            live_answered: answered,
            max_abandon_rate: 0.03,
            pacing_start: None,
        }
    }

    fn status(engine_running: bool) -> DialerStatus {
        DialerStatus {
            play: true,
            engine_running,
            engine_seen_at: Some(1),
            nodes: vec!["oml".into()],
            live: Some(LiveStatus {
                campaigns: vec![CampaignLive {
                    name: "a".into(),
                    talking: 4,
                    occupancy: 0.8,
                    ..CampaignLive::default()
                }],
                ..LiveStatus::default()
            }),
            campaigns: vec![
                summary("a", "running", 0.031, 100),
                summary("b", "paused", 0.0, 0),
            ],
        }
    }

    #[test]
    fn live_figures_only_while_an_engine_runs() {
        let v = campaigns(&status(true));
        assert_eq!(v[0].live.as_ref().map(|l| l.talking), Some(4));
        assert_eq!(v[1].live, None, "no live row for b");
        assert!(campaigns(&status(false)).iter().all(|c| c.live.is_none()));
    }

    #[test]
    fn over_limit_needs_answers_and_a_rate_at_the_limit() {
        let v = campaigns(&status(true));
        assert!(v[0].over_limit);
        assert!(!v[1].over_limit);
    }

    #[test]
    fn actions_follow_the_state_and_words_map_to_states() {
        assert_eq!(actions_for("running"), ["pause", "stop"]);
        assert_eq!(actions_for("paused"), ["start", "stop"]);
        assert_eq!(actions_for("finished"), ["start"]);
        for a in ["start", "pause", "stop"] {
            assert!(parse_action(a).is_some());
        }
        assert_eq!(parse_action("Start"), None);
        assert_eq!(parse_action("run"), None);
    }
}
