//! The dialer's controls and figures as every front end sees them: the
//! "play" button (a persisted setting the running engine watches), a
//! campaign's state, and the status a supervisor reads. `oml dialer …`,
//! `oml campaign start|pause|stop`, the console's Dialer page and the JSON
//! API all go through here, so they change the same things and audit them
//! the same way.

use oml_store::{now_ms, CampaignState, Store};
use serde::Serialize;

use crate::engine::{CampaignLive, LiveStatus, PLAY_KEY, STATUS_KEY};

/// An engine that published nothing for this long is not running.
pub const ENGINE_SILENT_MS: i64 = 5_000;

/// Who asked for a change, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// `cli:root`, a console username, `api:alice`...
    pub name: &'a str,
    /// The client's address, when the change came over HTTP.
    pub ip: Option<&'a str>,
}

/// Everything `oml dialer status` prints.
#[derive(Debug, Clone, Serialize)]
pub struct DialerStatus {
    /// The dialer is started ("play").
    pub play: bool,
    /// An engine published its figures in the last [`ENGINE_SILENT_MS`].
    pub engine_running: bool,
    /// When an engine last published, if ever.
    pub engine_seen_at: Option<i64>,
    /// The engines' figures (links, agents, calls), merged: each campaign's
    /// from the node that paces it. While none runs, the last published.
    pub live: Option<LiveStatus>,
    /// The nodes whose engine runs now, by name.
    pub nodes: Vec<String>,
    /// Every campaign, from the database.
    pub campaigns: Vec<CampaignSummary>,
}

/// One campaign's figures from the database.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignSummary {
    pub name: String,
    pub mode: String,
    pub state: String,
    pub contacts_left: i64,
    pub due_now: i64,
    pub in_flight: i64,
    pub abandon_rate: f64,
    pub abandoned: i64,
    pub live_answered: i64,
    pub max_abandon_rate: f64,
    /// Which statistics its pacer started from when a node last began
    /// pacing it (`None`: never paced), as `oml campaign show` says it.
    pub pacing_start: Option<crate::campaign_view::PacingStartView>,
}

impl DialerStatus {
    /// The engine's live figures of campaign `name`, when an engine runs.
    pub fn live_campaign(&self, name: &str) -> Option<&crate::engine::CampaignLive> {
        self.live
            .as_ref()
            .filter(|_| self.engine_running)
            .and_then(|l| l.campaigns.iter().find(|c| c.name == name))
    }
}

/// Reads the dialer's state and every campaign's figures.
pub async fn status(store: &Store) -> oml_store::Result<DialerStatus> {
    let play = is_playing(store).await?;
    let published: Vec<LiveStatus> = store
        .settings_under(&format!("{STATUS_KEY}."))
        .await?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_str(&v).ok())
        .collect();
    let now = now_ms();
    let seen = published.iter().map(|l| l.updated_at).max();
    let (mut live, nodes) = merge(published, now);
    if let Some(l) = live.as_mut() {
        l.sharing = Some(crate::sharing_view::read(store).await?);
    }
    let engine_running = !nodes.is_empty();
    let mut campaigns = Vec::new();
    for c in store.campaigns().await? {
        let s = store.stats_of(&c, now).await?;
        campaigns.push(CampaignSummary {
            name: c.name.clone(),
            mode: c.mode.as_str().to_string(),
            state: c.state.to_string(),
            contacts_left: s.contacts_left,
            due_now: s.due_now,
            in_flight: s.in_flight,
            abandon_rate: s.abandon.rate(),
            abandoned: s.abandon.abandoned,
            live_answered: s.abandon.live_answered,
            max_abandon_rate: c.max_abandon_rate,
            pacing_start: crate::campaign_view::pacing_start(store, c.id).await,
        });
    }
    Ok(DialerStatus {
        play,
        engine_running,
        engine_seen_at: seen,
        live,
        nodes,
        campaigns,
    })
}

/// One view of what the engines published at `now`: the running ones
/// merged (calls summed; each campaign from the node that paces it, else
/// from the freshest; each server from the freshest node that is linked to
/// it), or, while none runs, the most recent status as it was.
pub fn merge(mut published: Vec<LiveStatus>, now: i64) -> (Option<LiveStatus>, Vec<String>) {
    published.sort_by_key(|l| std::cmp::Reverse(l.updated_at));
    let running: Vec<&LiveStatus> = published
        .iter()
        .filter(|l| now - l.updated_at < ENGINE_SILENT_MS && !l.stopped)
        .collect();
    if running.is_empty() {
        return (published.into_iter().next(), Vec::new());
    }
    let mut nodes: Vec<String> = running.iter().map(|l| l.node.clone()).collect();
    nodes.sort();
    let mut out = LiveStatus {
        updated_at: running[0].updated_at,
        stopped: false,
        node: nodes.join(","),
        play: running[0].play,
        calls_in_flight: running.iter().map(|l| l.calls_in_flight).sum(),
        servers: Vec::new(),
        campaigns: Vec::new(),
        reaction: Default::default(),
        ami_events: running.iter().map(|l| l.ami_events).sum(),
        journal_waiting: running.iter().map(|l| l.journal_waiting).sum(),
        journal_waiting_since: running.iter().filter_map(|l| l.journal_waiting_since).min(),
        sharing: None,
    };
    for l in &running {
        out.reaction.add(&l.reaction);
        for srv in &l.servers {
            match out.servers.iter_mut().find(|s| s.name == srv.name) {
                None => out.servers.push(srv.clone()),
                Some(have) if !have.connected && srv.connected => *have = srv.clone(),
                Some(_) => {}
            }
        }
        for c in &l.campaigns {
            match out.campaigns.iter_mut().find(|x| x.name == c.name) {
                None => out.campaigns.push(c.clone()),
                Some(have) => merge_campaign(have, c),
            }
        }
    }
    out.servers.sort_by(|a, b| a.name.cmp(&b.name));
    out.campaigns.sort_by(|a, b| a.name.cmp(&b.name));
    (Some(out), nodes)
}

/// `have` (from a fresher node) and `other` describe the same campaign:
/// the pacing node's figures win, calls in flight add up.
fn merge_campaign(have: &mut CampaignLive, other: &CampaignLive) {
    let ringing = have.ringing + other.ringing;
    let waiting = have.waiting_for_agent + other.waiting_for_agent;
    let talking = have.talking + other.talking;
    if other.paced_here && !have.paced_here {
        *have = other.clone();
    }
    have.ringing = ringing;
    have.waiting_for_agent = waiting;
    have.talking = talking;
}

/// Whether the dialer is started.
pub async fn is_playing(store: &Store) -> oml_store::Result<bool> {
    Ok(store.setting(PLAY_KEY).await?.as_deref() == Some("on"))
}

/// Starts (`on`) or stops the dialer; audited as `dialer.start|stop`.
/// Stopping never hangs up: calls in progress finish.
pub async fn set_play(store: &Store, on: bool, by: Actor<'_>) -> oml_store::Result<()> {
    store
        .set_setting(PLAY_KEY, if on { "on" } else { "off" })
        .await?;
    audit(
        store,
        by,
        if on { "dialer.start" } else { "dialer.stop" },
        "dialer",
    )
    .await;
    Ok(())
}

/// Sets campaign `name` running, paused or stopped; audited as
/// `campaign.<state>`. A campaign that does not exist is an error naming it.
pub async fn set_campaign_state(
    store: &Store,
    name: &str,
    state: CampaignState,
    by: Actor<'_>,
) -> oml_store::Result<()> {
    store.set_campaign_state(name, state).await?;
    audit(
        store,
        by,
        &format!("campaign.{}", state.as_str()),
        &format!("campaign:{name}"),
    )
    .await;
    Ok(())
}

/// The audit row of a change; a failure to write it is logged, not fatal
/// (the change itself is done).
async fn audit(store: &Store, by: Actor<'_>, action: &str, subject: &str) {
    if let Err(e) = store
        .audit(now_ms(), by.name, action, subject, by.ip, "")
        .await
    {
        tracing::warn!(error = %e, action, "cannot write the audit log");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ServerStatus;

    fn node(name: &str, at: i64, paces: bool, ringing: usize, up: bool) -> LiveStatus {
        LiveStatus {
            updated_at: at,
            node: name.into(),
            play: true,
            calls_in_flight: ringing,
            servers: vec![ServerStatus {
                name: "pbx1".into(),
                connected: up,
                ..ServerStatus::default()
            }],
            campaigns: vec![CampaignLive {
                name: "sales".into(),
                paced_here: paces,
                ringing,
                agents_free: if paces { 4 } else { 0 },
                ..CampaignLive::default()
            }],
            ..LiveStatus::default()
        }
    }

    #[test]
    fn merge_takes_the_pacing_node_and_adds_calls_up() {
        let now = 100_000;
        // b is fresher but a paces; b's server link is down, a's up.
        let (live, nodes) = merge(
            vec![
                node("a", now - 900, true, 5, true),
                node("b", now - 100, false, 2, false),
            ],
            now,
        );
        let live = live.unwrap();
        assert_eq!(nodes, ["a", "b"]);
        assert_eq!(live.calls_in_flight, 7);
        let c = &live.campaigns[0];
        assert!(c.paced_here && c.agents_free == 4, "{c:?}");
        assert_eq!(c.ringing, 7);
        assert!(live.servers[0].connected);

        // A silent node is left out; with none running, the newest is kept.
        let (live, nodes) = merge(
            vec![
                node("a", now - 60_000, true, 5, true),
                node("b", now - 100, false, 2, true),
            ],
            now,
        );
        assert_eq!(nodes, ["b"]);
        assert_eq!(live.unwrap().calls_in_flight, 2);
        let (live, nodes) = merge(
            vec![node("a", 1, true, 5, true), node("b", 2, false, 2, true)],
            now,
        );
        assert!(nodes.is_empty());
        assert_eq!(live.unwrap().node, "b");
    }
    use oml_store::testing::backends;
    use oml_store::{AuditFilter, CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};

    #[tokio::test]
    async fn play_and_campaign_state_are_stored_and_audited() {
        for t in backends().await {
            let s = &t.store;
            let by = Actor {
                name: "api:sup",
                ip: Some("192.0.2.7"),
            };
            assert!(!is_playing(s).await.unwrap());
            set_play(s, true, by).await.unwrap();
            assert!(is_playing(s).await.unwrap());
            s.create_trunk(&TrunkSpec {
                name: "carrier".into(),
                dial_string: DEFAULT_DIAL_STRING.into(),
                max_channels: 10,
                server: None,
                caller_id: String::new(),
            })
            .await
            .unwrap();
            s.create_campaign(&CampaignSpec::new("sales", "carrier"))
                .await
                .unwrap();
            set_campaign_state(s, "sales", CampaignState::Running, by)
                .await
                .unwrap();
            let st = status(s).await.unwrap();
            assert!(st.play && !st.engine_running);
            assert_eq!(st.campaigns.len(), 1);
            assert_eq!(st.campaigns[0].state, "running");
            let e = set_campaign_state(s, "nope", CampaignState::Paused, by)
                .await
                .unwrap_err();
            assert!(e.to_string().contains("nope"), "{e}");
            let log = s.audit_entries(&AuditFilter::default()).await.unwrap();
            let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
            assert!(actions.contains(&"dialer.start"), "{actions:?}");
            assert!(actions.contains(&"campaign.running"), "{actions:?}");
            assert!(log
                .iter()
                .all(|e| e.actor == "api:sup" && e.ip.as_deref() == Some("192.0.2.7")));
        }
    }
}
