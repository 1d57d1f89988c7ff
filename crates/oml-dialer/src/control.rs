//! The dialer's controls and figures as every front end sees them: the
//! "play" button (a persisted setting the running engine watches), a
//! campaign's state, and the status a supervisor reads. `oml dialer …`,
//! `oml campaign start|pause|stop`, the console's Dialer page and the JSON
//! API all go through here, so they change the same things and audit them
//! the same way.

use oml_store::{now_ms, CampaignState, Store};
use serde::Serialize;

use crate::engine::{LiveStatus, PLAY_KEY, STATUS_KEY};

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
    /// The engine's last published figures (links, agents, calls).
    pub live: Option<LiveStatus>,
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
    let live: Option<LiveStatus> = store
        .setting(STATUS_KEY)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok());
    let now = now_ms();
    let seen = live.as_ref().map(|l| l.updated_at);
    let engine_running = seen.is_some_and(|t| now - t < ENGINE_SILENT_MS)
        && !live.as_ref().is_some_and(|l| l.stopped);
    let mut campaigns = Vec::new();
    for c in store.campaigns().await? {
        let s = store
            .campaign_stats(
                c.id,
                now,
                c.abandon_window.millis(),
                c.abandon_seconds * 1000,
            )
            .await?;
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
        });
    }
    Ok(DialerStatus {
        play,
        engine_running,
        engine_seen_at: seen,
        live,
        campaigns,
    })
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
