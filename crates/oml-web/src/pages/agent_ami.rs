//! The agent page's AMI connections (issue 19 item 2): one logged-in client
//! per Asterisk server, kept for the process (the client reconnects by
//! itself), and sending a list of actions to every enabled server, stopping
//! at the first refusal so the page can undo what was done and say what
//! failed. The actions themselves are built in `agent_queue.rs`.

use super::agent_queue::already_done;
use oml_ami::{AmiClient, AmiError, ClientConfig, Message};
use oml_store::AsteriskServer;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long one action (or a login) may take before the page says so.
const ACTION_TIMEOUT: Duration = Duration::from_secs(5);

/// An action Asterisk refused or did not answer, in words for the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmiFailure {
    pub server: String,
    pub action: String,
    pub message: String,
}

impl std::fmt::Display for AmiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Asterisk server `{}` refused {}: {}. Nothing was changed; try again, or tell your supervisor if it keeps failing.",
            self.server, self.action, self.message
        )
    }
}

/// The clients, by server address, user and a digest of the secret (so a
/// changed secret gets a new login; the secret itself is not kept here).
fn clients() -> &'static Mutex<HashMap<String, AmiClient>> {
    static CLIENTS: OnceLock<Mutex<HashMap<String, AmiClient>>> = OnceLock::new();
    CLIENTS.get_or_init(Default::default)
}

fn addr(s: &AsteriskServer) -> String {
    if s.host.contains(':') {
        format!("[{}]:{}", s.host, s.ami_port)
    } else {
        format!("{}:{}", s.host, s.ami_port)
    }
}

fn key(s: &AsteriskServer) -> String {
    let digest = Sha256::digest(s.ami_secret.expose_secret().as_bytes());
    format!("{}@{}#{}", s.ami_user, addr(s), hex::encode(&digest[..8]))
}

/// The process's client for `s`, logging in when there is none.
pub async fn client(s: &AsteriskServer) -> Result<AmiClient, AmiError> {
    let k = key(s);
    if let Some(c) = clients().lock().expect("AMI clients").get(&k) {
        return Ok(c.clone());
    }
    let mut cfg = ClientConfig::new(addr(s), s.ami_user.clone(), s.ami_secret.clone());
    cfg.connect_timeout = ACTION_TIMEOUT;
    cfg.action_timeout = ACTION_TIMEOUT;
    let c = AmiClient::connect(cfg).await?;
    let mut map = clients().lock().expect("AMI clients");
    Ok(map.entry(k).or_insert(c).clone())
}

/// What an action is, for messages: `QueueAdd (queue sales)`.
fn describe(m: &Message) -> String {
    let name = m.action_name().unwrap_or("?");
    match m.get("Queue") {
        Some(q) => format!("{name} (queue {q})"),
        None => name.to_string(),
    }
}

/// Sends `action` to `s`; an error reply that leaves things as wanted
/// (already there, not there) counts as done.
pub async fn send(s: &AsteriskServer, action: &Message) -> Result<(), AmiFailure> {
    let fail = |message: String| AmiFailure {
        server: s.name.clone(),
        action: describe(action),
        message,
    };
    let c = client(s).await.map_err(|e| fail(e.to_string()))?;
    let r = c
        .send(action.clone())
        .await
        .map_err(|e| fail(e.to_string()))?;
    let name = action.action_name().unwrap_or("");
    if r.is_success() || already_done(name, r.text()) {
        Ok(())
    } else {
        Err(fail(r.text().to_string()))
    }
}

/// Sends every action to every enabled server of `servers`, in order. On
/// the first failure, sends the `undo` of each action done so far (best
/// effort, newest first) and returns the failure.
pub async fn send_all(
    servers: &[AsteriskServer],
    actions: &[Message],
    undo: impl Fn(&Message) -> Option<Message>,
) -> Result<(), AmiFailure> {
    let mut done: Vec<(&AsteriskServer, &Message)> = Vec::new();
    for s in servers.iter().filter(|s| s.enabled) {
        for a in actions {
            if let Err(e) = send(s, a).await {
                for (s, a) in done.into_iter().rev() {
                    if let Some(u) = undo(a) {
                        if let Err(e) = send(s, &u).await {
                            tracing::warn!(error = %e, "agent page: cannot undo an action");
                        }
                    }
                }
                tracing::warn!(error = %e, "agent page: AMI action failed");
                return Err(e);
            }
            done.push((s, a));
        }
    }
    Ok(())
}
