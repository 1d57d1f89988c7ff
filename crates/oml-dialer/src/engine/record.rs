//! The PBX's attempt records (see [`crate::pbx_record`]) from the engine's
//! side: read with the channels when calls are reconciled, and deleted
//! once the attempt's outcome is stored. Deleting waits for the database:
//! every few seconds the attempts still open (on any node) are read and
//! only the records of closed ones go, so a record outlives a database
//! outage or a crash before the outcome was written. The newest go first.
//! Before a record goes, what it holds that the attempt's row lacks is
//! stored: the recording's file (`RECFILE`, issue 18) and, for a call
//! that ended unseen after an agent took it, the agent (`AGENT`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oml_ami::{actions, AmiClient};
use oml_store::Store;
use tokio::sync::mpsc;

use crate::pbx_record::{parse_instance, PbxRecord, FAMILY};
use oml_store::dialplan::{record_family, AGENT_KEY as AGENT, RECFILE_KEY as RECFILE};

/// How often ended attempts' records are deleted.
const FORGET_EVERY: Duration = Duration::from_secs(5);

/// Where this engine's attempt records live on the PBX: the family of its
/// database's instance (`OML/CALL/<instance>`), and which records read
/// were of the older family without one (`OML/CALL/<channel id>`, calls
/// placed before instances), so that each is deleted where it is.
#[derive(Clone, Debug)]
pub(super) struct Records {
    family: Arc<str>,
    instance: Arc<str>,
    legacy: Arc<Mutex<HashSet<String>>>,
}

impl Records {
    pub(super) fn new(instance: &str) -> Records {
        Records {
            family: record_family(instance).into(),
            instance: instance.into(),
            legacy: Arc::default(),
        }
    }

    /// Every attempt record of this instance (and the older ones without
    /// an instance) the server holds; other oml databases' records are
    /// neither returned nor ever deleted. Empty when it cannot say: an
    /// Asterisk before 16.28 has no `DBGetTree`, or the AMI user may not
    /// read.
    pub(super) async fn read(&self, client: &AmiClient) -> HashMap<String, PbxRecord> {
        // The whole tree: the older records sit beside the instances.
        match client.send(actions::db_get_tree(FAMILY, None)).await {
            Ok(r) if r.is_success() => {
                let tree = parse_instance(&r.events, &self.instance);
                if !tree.legacy.is_empty() {
                    let mut legacy = self.legacy.lock().unwrap_or_else(|e| e.into_inner());
                    legacy.extend(tree.legacy);
                }
                tree.records
            }
            Ok(r) => {
                tracing::warn!(message = %r.text(), "dialer: the PBX did not list its attempt records (DBGetTree); calls that ended unseen count as unknown");
                HashMap::new()
            }
            Err(e) => {
                tracing::warn!(error = %e, "dialer: cannot read the PBX's attempt records (DBGetTree); calls that ended unseen count as unknown");
                HashMap::new()
            }
        }
    }

    /// The family under which `key`'s record lives (`OML/CALL/<instance>`,
    /// or `OML/CALL` for an older record: then `true`).
    fn parent_of(&self, key: &str) -> (&str, bool) {
        let legacy = self
            .legacy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        if legacy {
            (FAMILY, true)
        } else {
            (&self.family, false)
        }
    }
}

/// Starts the task deleting records of ended attempts; send it
/// `(client, channel id)` for each. It ends when every sender is dropped,
/// after one last round.
pub(super) fn forgetter(
    store: Store,
    records: Records,
) -> mpsc::UnboundedSender<(AmiClient, String)> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(AmiClient, String)>();
    tokio::spawn(async move {
        let mut pending: Pending<AmiClient> = Pending::default();
        let mut open = true;
        while open {
            let wait = tokio::time::sleep(FORGET_EVERY);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    m = rx.recv() => match m {
                        Some((client, key)) => pending.push(client, key),
                        None => { open = false; break; }
                    },
                    _ = &mut wait => break,
                }
            }
            if pending.is_empty() {
                continue;
            }
            let still_open: HashSet<String> = match store.open_attempts(None).await {
                Ok(a) => a.into_iter().map(|a| a.channel_id).collect(),
                // The database cannot say: keep every record for now.
                Err(_) => continue,
            };
            let mut gone = pending.closed(&still_open);
            // Newest first, and for one period at most: a backlog of stale
            // records (thousands left by a crash or a benchmark, each
            // DBDelTree slow on a large AstDB) never holds up the records
            // of calls that just ended; what is left waits for next round.
            let until = tokio::time::Instant::now() + FORGET_EVERY;
            while tokio::time::Instant::now() < until {
                let Some((client, key)) = gone.pop() else {
                    break;
                };
                let (parent, legacy) = records.parent_of(&key);
                let family = format!("{parent}/{key}");
                match keep_facts(&store, &client, &key, &family).await {
                    // An older record of an attempt this database does not
                    // have: another oml database's, left alone.
                    Ok(false) if legacy => continue,
                    Ok(_) => {}
                    Err(e) => {
                        // Not deleted: tried again next round.
                        tracing::debug!(error = %e, channel = %key, "dialer: cannot store what the PBX recorded of an ended attempt");
                        if legacy {
                            records
                                .legacy
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(key.clone());
                        }
                        pending.push(client, key);
                        continue;
                    }
                }
                if let Err(e) = client.db_deltree(parent, Some(&key)).await {
                    tracing::debug!(error = %e, channel = %key, "dialer: cannot delete the PBX's record of an ended attempt");
                }
            }
            pending.put_back(gone);
        }
    });
    tx
}

/// Stores what the record of the ended attempt `key` (AstDB family
/// `family`) holds and its row lacks (see
/// [`oml_store::recordings::RecordNeeds`]): one indexed query, and a
/// `DBGet` only for a value the row needs. Whether this database has the
/// attempt.
async fn keep_facts(
    store: &Store,
    client: &AmiClient,
    key: &str,
    family: &str,
) -> Result<bool, String> {
    let Some(needs) = store.record_needs(key).await.map_err(|e| e.to_string())? else {
        return Ok(false);
    };
    if needs.recording {
        if let Some(file) = client
            .db_get(family, RECFILE)
            .await
            .map_err(|e| e.to_string())?
        {
            // A name that is no bare recording name is refused and left out.
            if let Err(e) = store.set_attempt_recording(key, file.trim()).await {
                tracing::warn!(error = %e, channel = %key, "dialer: the PBX's record names a recording oml does not accept");
            }
        }
    }
    if needs.agent {
        let agent = client
            .db_get(family, AGENT)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(agent) = crate::agent_name::agent_name(None, agent.as_deref()) {
            store
                .fill_attempt_agent(key, &agent)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(true)
}

/// Records waiting to be deleted, each key once: every reconciliation
/// sends all the records it found again, and a backlog must not grow by
/// its own size each time.
struct Pending<C> {
    queue: Vec<(C, String)>,
    keys: HashSet<String>,
}

impl<C> Default for Pending<C> {
    fn default() -> Self {
        Pending {
            queue: Vec::new(),
            keys: HashSet::new(),
        }
    }
}

impl<C> Pending<C> {
    fn push(&mut self, client: C, key: String) {
        if self.keys.insert(key.clone()) {
            self.queue.push((client, key));
        }
    }

    fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Takes out the records whose attempts are closed (in arrival order:
    /// the last is the newest); the open ones stay.
    fn closed(&mut self, still_open: &HashSet<String>) -> Vec<(C, String)> {
        let (keep, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut self.queue)
            .into_iter()
            .partition(|(_, k)| still_open.contains(k));
        self.queue = keep;
        for (_, k) in &gone {
            self.keys.remove(k);
        }
        gone
    }

    /// The closed records not deleted this round, due next round.
    fn put_back(&mut self, rest: Vec<(C, String)>) {
        for (c, k) in rest {
            self.push(c, k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oml_pbxsim::{PbxSim, SimConfig};
    use oml_store::testing::{backends, execute};
    use oml_store::{CallPath, CampaignSpec, Recording, TrunkSpec, DEFAULT_DIAL_STRING};
    use secrecy::SecretString;

    /// A connected attempt of a recording campaign, its agent unseen, and
    /// the PBX's record of it: both facts reach the row, once.
    #[tokio::test]
    async fn an_ended_record_gives_its_recording_and_agent_to_the_row() {
        let sim = PbxSim::start(SimConfig::new("oml", SecretString::from("s"), 1))
            .await
            .unwrap();
        let cfg = oml_ami::ClientConfig::new(
            sim.local_addr().to_string(),
            "oml",
            SecretString::from("s"),
        );
        let client = AmiClient::connect(cfg).await.unwrap();
        for t in backends().await {
            let s = &t.store;
            s.create_trunk(&TrunkSpec {
                name: "t1".into(),
                dial_string: DEFAULT_DIAL_STRING.into(),
                max_channels: 10,
                server: None,
                caller_id: String::new(),
            })
            .await
            .unwrap();
            let path = CallPath {
                recording: Recording::All,
                abandon_sound: "custom/sorry".into(),
                ..CallPath::default()
            };
            let c = s
                .create_campaign_with(&CampaignSpec::new("rec", "t1"), Some(&path))
                .await
                .unwrap();
            s.seed_contacts(c.id, &["+15550001".into()]).await.unwrap();
            execute(
                s,
                &format!(
                    "INSERT INTO call_attempts (campaign_id, contact_id, attempt_no, channel_id, placed_at, answered_at, outcome)
                     SELECT {0}, id, 1, 'oml-{0}-' || id || '-1', 1, 2, 'connected' FROM contacts",
                    c.id
                ),
            )
            .await
            .unwrap();
            let k = s.campaign_contacts(c.id, None, 0, 10).await.unwrap()[0].id;
            let key = format!("oml-{}-{k}-1", c.id);
            let file = format!("dialer-{}-20261207-15550001-1796655514.12.wav", c.id);
            let family = format!("{}/{key}", record_family(s.instance()));
            client.db_put(&family, RECFILE, &file).await.unwrap();
            client.db_put(&family, AGENT, "ana").await.unwrap();
            assert!(keep_facts(s, &client, &key, &family).await.unwrap());
            let h = s.contact_history(k).await.unwrap().unwrap();
            let a = &h.history[0];
            assert_eq!(a.recording.as_deref(), Some(file.as_str()), "{}", t.label);
            assert_eq!(a.agent.as_deref(), Some("ana"), "{}", t.label);
            // Nothing more is asked of the PBX for this attempt.
            assert_eq!(
                s.record_needs(&key).await.unwrap(),
                Some(oml_store::recordings::RecordNeeds::default())
            );
            // A name that would leave the recordings folder is not stored.
            let other = format!("oml-{}-{k}-2", c.id);
            execute(
                s,
                &format!(
                    "INSERT INTO call_attempts (campaign_id, contact_id, attempt_no, channel_id, placed_at, answered_at, outcome)
                     VALUES ({}, {k}, 2, '{other}', 3, 4, 'abandoned')",
                    c.id
                ),
            )
            .await
            .unwrap();
            let family = format!("{}/{other}", record_family(s.instance()));
            client
                .db_put(&family, RECFILE, "../../etc/x.wav")
                .await
                .unwrap();
            keep_facts(s, &client, &other, &family).await.unwrap();
            let h = s.contact_history(k).await.unwrap().unwrap();
            assert_eq!(h.history[1].recording, None, "{}", t.label);
            // An attempt this database never had: nothing stored.
            assert!(!keep_facts(s, &client, "oml-99-1-1", &family).await.unwrap());
        }
    }

    /// Two oml databases on one PBX: each engine reads its own records and
    /// the older ones without an instance, never the other's; an older
    /// record is deleted from where it is.
    #[tokio::test]
    async fn each_database_reads_its_own_records() {
        let sim = PbxSim::start(SimConfig::new("oml", SecretString::from("s"), 1))
            .await
            .unwrap();
        let cfg = oml_ami::ClientConfig::new(
            sim.local_addr().to_string(),
            "oml",
            SecretString::from("s"),
        );
        let client = AmiClient::connect(cfg).await.unwrap();
        let (a, b) = (Records::new("aaaaaaaaaaaa"), Records::new("bbbbbbbbbbbb"));
        for (family, cause) in [
            ("OML/CALL/aaaaaaaaaaaa/oml-1-1-1", "16"),
            ("OML/CALL/bbbbbbbbbbbb/oml-1-1-1", "17"),
            ("OML/CALL/oml-1-2-1", "34"),
        ] {
            client.db_put(family, "CAUSE", cause).await.unwrap();
        }
        let ra = a.read(&client).await;
        let rb = b.read(&client).await;
        assert_eq!(ra["oml-1-1-1"].cause, Some(16));
        assert_eq!(rb["oml-1-1-1"].cause, Some(17));
        assert_eq!((ra.len(), rb.len()), (2, 2));
        assert_eq!(ra["oml-1-2-1"].cause, Some(34));
        assert_eq!(a.parent_of("oml-1-1-1"), ("OML/CALL/aaaaaaaaaaaa", false));
        assert_eq!(a.parent_of("oml-1-2-1"), ("OML/CALL", true));
        // Once: a record deleted is not older any more.
        assert_eq!(a.parent_of("oml-1-2-1"), ("OML/CALL/aaaaaaaaaaaa", false));
    }

    #[test]
    fn a_record_sent_again_waits_once() {
        let mut p: Pending<()> = Pending::default();
        for _ in 0..3 {
            for k in ["a", "b", "c"] {
                p.push((), k.into());
            }
        }
        let open: HashSet<String> = ["b".to_string()].into();
        let gone = p.closed(&open);
        let keys: Vec<&str> = gone.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(keys, ["a", "c"]);
        // Not deleted this round and found again by a reconciliation: once.
        p.push((), "c".into());
        p.put_back(gone);
        p.push((), "a".into());
        let open = HashSet::new();
        let mut keys: Vec<String> = p.closed(&open).into_iter().map(|(_, k)| k).collect();
        keys.sort();
        assert_eq!(keys, ["a", "b", "c"]);
        assert!(p.is_empty());
    }
}
