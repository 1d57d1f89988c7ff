//! The PBX side of the restart tests, the same on pbxsim and on the real
//! Asterisk bench: an AMI listener of the test's own that counts every call
//! the dialer placed (by number and by channel id) and the customer legs
//! still up, and can fire when an answering number starts ringing; and the
//! attempt records the dialplan keeps in AstDB
//! (`OML/CALL/<instance>/<channel id>`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oml_ami::{actions, AmiClient, ClientConfig, Event, Message};
use oml_dialer::pbx_record::{parse_instance, PbxRecord, FAMILY};
use secrecy::SecretString;
use tokio::sync::mpsc;

/// Where the PBX's AMI listens and who logs in.
#[derive(Clone)]
pub struct Ami {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub secret: String,
}

impl Ami {
    pub async fn connect(&self) -> AmiClient {
        let mut c = ClientConfig::new(
            format!("{}:{}", self.host, self.port),
            self.user.clone(),
            SecretString::from(self.secret.clone()),
        );
        c.ping_interval = None;
        c.rate_limit = None;
        c.event_capacity = 65_536;
        AmiClient::connect(c)
            .await
            .unwrap_or_else(|e| panic!("AMI login to {}:{}: {e}", self.host, self.port))
    }
}

/// Which numbers fire, and where the channel ids of their calls go.
type Armed = Mutex<Option<(fn(&str) -> bool, mpsc::UnboundedSender<String>)>>;

/// What the listener saw.
#[derive(Default, Debug)]
pub struct Seen {
    /// Number -> how many calls the dialer placed to it (its `;1` half).
    pub dialed: BTreeMap<String, usize>,
    /// The channel id (`Uniqueid` of the `;1` half) of every placed call.
    pub channel_ids: BTreeSet<String>,
    /// Customer-side channels up now (`Local/<number>@from-oml-…`).
    pub alive: BTreeSet<String>,
    /// Events lost by the listener (it lagged or was disconnected).
    pub lost: bool,
}

/// A listener on the PBX's events; see the module comment.
pub struct Watch {
    pub seen: Arc<Mutex<Seen>>,
    /// While set, the listener sends here the channel id of the next call
    /// placed to a number this predicate accepts.
    arm: Arc<Armed>,
    client: AmiClient,
}

impl Watch {
    pub async fn start(ami: &Ami) -> Watch {
        let client = ami.connect().await;
        let mut events = client.events();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let arm: Arc<Armed> = Arc::default();
        let (s, a) = (seen.clone(), arm.clone());
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(Event::Ami(m)) => on_event(&m, &s, &a),
                    Ok(Event::Disconnected { .. }) => s.lock().unwrap().lost = true,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        s.lock().unwrap().lost = true
                    }
                    Err(_) => break,
                }
            }
        });
        Watch { seen, arm, client }
    }

    /// The channel ids of the next calls placed to numbers `accept` takes.
    pub fn arm(&self, accept: fn(&str) -> bool) -> mpsc::UnboundedReceiver<String> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.arm.lock().unwrap() = Some((accept, tx));
        rx
    }

    /// The records of the calls of the oml database with instance id
    /// `instance` (and the older ones without an instance), by channel id:
    /// a shared PBX may hold other runs' records under the same ids.
    pub async fn records_of(&self, instance: &str) -> HashMap<String, PbxRecord> {
        let r = self
            .client
            .send(actions::db_get_tree(FAMILY, None))
            .await
            .expect("DBGetTree");
        assert!(r.is_success(), "DBGetTree {FAMILY}: {:?}", r.message);
        parse_instance(&r.events, instance).records
    }

    /// The full key of every attempt record's entry the PBX holds
    /// (`/OML/CALL/[<instance>/]<channel id>/<FIELD>`).
    pub async fn keys(&self) -> Vec<String> {
        let r = self
            .client
            .send(actions::db_get_tree(FAMILY, None))
            .await
            .expect("DBGetTree");
        r.events
            .iter()
            .filter_map(|e| e.get("Key").map(str::to_owned))
            .collect()
    }

    /// The interfaces of `queue`'s members.
    pub async fn members(&self, queue: &str) -> Vec<String> {
        let events = self
            .client
            .queue_status(Some(queue))
            .await
            .expect("QueueStatus");
        events
            .iter()
            .filter(|e| e.event_name() == Some("QueueMember"))
            .filter_map(|e| e.get("Location").or(e.get("Interface")))
            .map(str::to_owned)
            .collect()
    }

    /// Deletes the records of `ids` (left by an earlier run on a shared PBX).
    pub async fn forget(&self, ids: &[String]) {
        for id in ids {
            self.client
                .db_deltree(FAMILY, Some(id))
                .await
                .expect("DBDelTree");
        }
    }

    /// Waits until no customer leg is up (at most `limit`).
    pub async fn wait_quiet(&self, limit: Duration) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if self.seen.lock().unwrap().alive.is_empty() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
}

/// The number of a dialer's customer channel (`Local/5551@from-oml-0a;1`).
fn number_of(channel: &str) -> Option<&str> {
    let rest = channel.strip_prefix("Local/")?;
    let (number, after) = rest.split_once('@')?;
    after.starts_with("from-oml-").then_some(number)
}

fn on_event(m: &Message, seen: &Mutex<Seen>, arm: &Armed) {
    let channel = m.get("Channel").unwrap_or("");
    let Some(number) = number_of(channel) else {
        return;
    };
    let mut s = seen.lock().unwrap();
    match m.event_name().unwrap_or("") {
        "Newchannel" => {
            s.alive.insert(channel.to_owned());
            if channel.ends_with(";1") {
                *s.dialed.entry(number.to_owned()).or_default() += 1;
                let id = m.get("Uniqueid").unwrap_or("").to_owned();
                s.channel_ids.insert(id.clone());
                if let Some((accept, tx)) = arm.lock().unwrap().as_ref() {
                    if accept(number) {
                        let _ = tx.send(id);
                    }
                }
            }
        }
        "Hangup" => {
            s.alive.remove(channel);
        }
        _ => {}
    }
}
