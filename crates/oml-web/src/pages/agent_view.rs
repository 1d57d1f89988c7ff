//! What the agent page shows, pure: the state line, and the screen pop of a
//! call (issue 19 item 3): the campaign, the attempt number, every column
//! of the contact's imported row, and the earlier attempts' outcomes. The
//! same JSON goes to the page's script over server-sent events.

use oml_store::contact_history::ContactHistory;
use oml_store::{AgentCall, AgentState};
use serde::Serialize;

/// The agent's state in words: `Logged out`, `Ready`, `Paused: Lunch`,
/// `Previewing a contact`.
pub fn state_label(s: Option<&AgentState>) -> String {
    match s {
        None => "Logged out".into(),
        Some(s) => match (s.state.as_str(), s.reason.as_deref()) {
            ("ready", _) => "Ready".into(),
            ("paused", Some(r)) => format!("Paused: {r}"),
            ("paused", None) => "Paused".into(),
            ("preview", _) => "Previewing a contact".into(),
            (other, _) => other.to_string(),
        },
    }
}

/// The `state` event's data.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct StateView {
    /// `logged_out`, `ready`, `paused` or `preview`.
    pub state: String,
    pub reason: Option<String>,
    pub label: String,
    pub since: Option<i64>,
}

pub fn state_view(s: Option<&AgentState>) -> StateView {
    StateView {
        state: s.map_or("logged_out".into(), |s| s.state.clone()),
        reason: s.and_then(|s| s.reason.clone()),
        label: state_label(s),
        since: s.map(|s| s.started_at),
    }
}

/// One earlier attempt in the screen pop.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Earlier {
    pub attempt_no: i64,
    pub placed: String,
    pub outcome: String,
}

/// The `call` event's data: everything the agent sees of the call.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ScreenPop {
    pub attempt_id: i64,
    pub campaign: String,
    pub campaign_id: i64,
    pub contact_id: i64,
    pub phone: String,
    pub attempt_no: i64,
    /// Each column of the imported row: (name, value).
    pub fields: Vec<(String, String)>,
    pub earlier: Vec<Earlier>,
}

/// One earlier attempt as stored: (attempt number, placed at, outcome).
pub type AttemptLine = (i64, i64, Option<String>);

/// What the screen pop needs of the contact's history `h`: its imported
/// row (JSON text) and its attempts.
pub fn history_parts(h: Option<&ContactHistory>) -> (String, Vec<AttemptLine>) {
    match h {
        None => (String::new(), Vec::new()),
        Some(h) => (
            h.contact.attributes.clone(),
            h.history
                .iter()
                .map(|a| (a.attempt_no, a.placed_at, a.outcome.clone()))
                .collect(),
        ),
    }
}

/// The screen pop of `call`, with the contact's imported row `attributes`
/// (a JSON object as text) and its attempts.
pub fn screen_pop(call: &AgentCall, attributes: &str, attempts: &[AttemptLine]) -> ScreenPop {
    let mut fields = Vec::new();
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(attributes) {
        for (k, v) in map {
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            fields.push((k, v));
        }
    }
    let earlier = attempts
        .iter()
        .filter(|(no, _, _)| *no < call.attempt_no)
        .map(|(no, placed, outcome)| Earlier {
            attempt_no: *no,
            placed: oml_store::format_ms(*placed),
            outcome: outcome.clone().unwrap_or_else(|| "in progress".into()),
        })
        .collect();
    ScreenPop {
        attempt_id: call.attempt_id,
        campaign: call.campaign.clone(),
        campaign_id: call.campaign_id,
        contact_id: call.contact_id,
        phone: call.phone.clone(),
        attempt_no: call.attempt_no,
        fields,
        earlier,
    }
}

/// The `call-ended` event's data: which call ended and how (the seam for
/// the wrap-up form: it shows on this event).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct CallEnded {
    pub attempt_id: i64,
    pub campaign: String,
    pub campaign_id: i64,
    pub contact_id: i64,
    pub outcome: Option<String>,
}

pub fn call_ended(call: &AgentCall) -> CallEnded {
    CallEnded {
        attempt_id: call.attempt_id,
        campaign: call.campaign.clone(),
        campaign_id: call.campaign_id,
        contact_id: call.contact_id,
        outcome: call.outcome.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(no: i64) -> AgentCall {
        AgentCall {
            attempt_id: 9,
            campaign_id: 1,
            campaign: "sales".into(),
            contact_id: 4,
            attempt_no: no,
            phone: "+5491100000001".into(),
            connected_at: Some(5),
            ended_at: None,
            outcome: None,
            disposition: None,
        }
    }

    #[test]
    fn screen_pop_has_every_column_and_only_earlier_attempts() {
        let row = r#"{"name":"Ana","debt":120,"note":null}"#;
        let attempts = vec![(1, 0, Some("busy".into())), (2, 0, None)];
        let p = screen_pop(&call(2), row, &attempts);
        assert_eq!(p.attempt_no, 2);
        assert_eq!(p.fields.len(), 3);
        assert!(p.fields.contains(&("name".into(), "Ana".into())));
        assert!(p.fields.contains(&("debt".into(), "120".into())));
        assert!(p.fields.contains(&("note".into(), String::new())));
        assert_eq!(p.earlier.len(), 1);
        assert_eq!(p.earlier[0].outcome, "busy");
    }

    #[test]
    fn states_read_as_words() {
        assert_eq!(state_label(None), "Logged out");
        let s = AgentState {
            user_id: 1,
            state: "paused".into(),
            reason: Some("Lunch".into()),
            started_at: 0,
        };
        assert_eq!(state_label(Some(&s)), "Paused: Lunch");
        assert_eq!(state_view(Some(&s)).state, "paused");
        assert_eq!(state_view(None).state, "logged_out");
    }
}
