//! The writer's rules: an `Originate` leaves only once its attempt is
//! committed (against a pbxsim), so a batch whose commit fails sends none
//! of its calls and hands them back to the core as refused; the outcomes of
//! such a batch are kept and written once the database takes writes again.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use oml_ami::{AmiClient, ClientConfig, Originate};
use oml_pbxsim::{PbxSim, SimConfig};
use oml_store::dialing::{AttemptResult, DialingWrite, NewAttempt};
use oml_store::{now_ms, CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};
use secrecy::SecretString;
use tokio::sync::mpsc;

use super::{writer, WriterOp};
use crate::engine::backlog::Backlog;
use crate::engine::core::Input;
use crate::engine::msg::Msg;
use crate::engine::Metrics;

/// The database's state while [`place`] places its calls.
#[derive(PartialEq)]
enum Db {
    Up,
    /// Closed: every commit fails.
    Closed,
    /// It takes new attempts but refuses the outcome the writer got
    /// first, which waits in the backlog.
    OutcomeWaits,
}

/// Places two claimed contacts through a writer; returns what pbxsim
/// accepted and what the writer told the core.
async fn place(db: Db) -> (u64, Vec<String>, Vec<String>) {
    let sim = PbxSim::start(SimConfig::new("oml", SecretString::from("s"), 1))
        .await
        .unwrap();
    let client = AmiClient::connect(ClientConfig::new(
        sim.local_addr().to_string(),
        "oml",
        SecretString::from("s"),
    ))
    .await
    .unwrap();
    let ts = oml_store::testing::sqlite().await;
    let store = ts.store.clone();
    store
        .create_trunk(&TrunkSpec {
            name: "t".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let cid = store
        .create_campaign(&CampaignSpec::new("c", "t"))
        .await
        .unwrap()
        .id;
    let phones = vec![
        "+541140000001".to_string(),
        "+541140000002".to_string(),
        "+541140000003".to_string(),
    ];
    store.seed_contacts(cid, &phones).await.unwrap();
    let mut due = store
        .claim_due_contacts(cid, "n1", now_ms(), 10)
        .await
        .unwrap();
    let waiting = due.pop().unwrap();
    let items = due
        .iter()
        .map(|d| {
            let key = format!("oml-{cid}-{}-1", d.id);
            let mut o = Originate::to_extension(
                &format!("Local/{}@from-oml/n", d.phone),
                "oml-campaign",
                "1",
            );
            o.channel_id = Some(key.clone());
            let a = NewAttempt {
                campaign_id: cid,
                contact_id: d.id,
                attempt_no: 1,
                server_id: None,
                channel_id: key,
                placed_at: now_ms(),
                node: "n1".into(),
            };
            (a, o, None)
        })
        .collect();
    if db == Db::OutcomeWaits {
        let begin = NewAttempt {
            campaign_id: cid,
            contact_id: waiting.id,
            attempt_no: 1,
            server_id: None,
            channel_id: format!("oml-{cid}-{}-1", waiting.id),
            placed_at: now_ms(),
            node: "n1".into(),
        };
        store
            .apply_dialing_writes(&[DialingWrite::Begin(begin)])
            .await
            .unwrap();
        let down = "CREATE TRIGGER down BEFORE UPDATE ON call_attempts BEGIN SELECT RAISE(ABORT, 'database down'); END";
        oml_store::testing::execute(&store, down).await.unwrap();
    }
    if db == Db::Closed {
        store.close().await;
    }
    let (wtx, wrx) = mpsc::unbounded_channel();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let metrics = Arc::new(Metrics::default());
    let task = tokio::spawn(writer(
        store,
        "n1".into(),
        wrx,
        tx,
        metrics.clone(),
        "status".into(),
        Backlog::new(None, "n1".into(), metrics.clone()),
    ));
    if db == Db::OutcomeWaits {
        wtx.send(WriterOp::Write(DialingWrite::End(AttemptResult {
            contact_id: waiting.id,
            attempt_no: 1,
            answered_at: None,
            connected_at: None,
            ended_at: now_ms(),
            outcome: "busy".into(),
            hangup_cause: Some(17),
            agent: None,
            contact_state: "pending".into(),
            next_attempt_at: now_ms(),
        })))
        .unwrap();
        while metrics.unrecorded.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    wtx.send(WriterOp::Place { client, items }).unwrap();
    drop(wtx);
    task.await.unwrap();
    let (mut refused, mut sent) = (Vec::new(), Vec::new());
    while let Ok(m) = rx.try_recv() {
        match m {
            Msg::Input(Input::Refused(keys)) => refused.extend(keys),
            Msg::Input(Input::Originated { key, result }) => {
                assert!(result.is_ok(), "pbxsim accepts {key}");
                sent.push(key);
            }
            _ => {}
        }
    }
    let accepted = sim.stats().originates;
    sim.shutdown().await;
    (accepted, refused, sent)
}

#[tokio::test]
async fn a_batch_whose_commit_fails_sends_no_originate() {
    let (accepted, refused, sent) = place(Db::Closed).await;
    assert_eq!(
        accepted, 0,
        "an Originate left without its committed attempt"
    );
    assert!(sent.is_empty());
    assert_eq!(refused.len(), 2, "both calls go back to the core");
    // The same batch with a working store is sent: the test above can fail.
    let (accepted, refused, sent) = place(Db::Up).await;
    assert_eq!((accepted, sent.len()), (2, 2));
    assert!(refused.is_empty());
}

/// Outcomes whose commit fails (the database refuses every write for a
/// while) are kept and stored once it takes writes again, in order with
/// what came after.
#[tokio::test]
async fn outcomes_whose_commit_fails_are_written_later() {
    let ts = oml_store::testing::sqlite().await;
    let store = ts.store.clone();
    store
        .create_trunk(&TrunkSpec {
            name: "t".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let cid = store
        .create_campaign(&CampaignSpec::new("c", "t"))
        .await
        .unwrap()
        .id;
    let phones = vec!["+541140000001".to_string(), "+541140000002".to_string()];
    store.seed_contacts(cid, &phones).await.unwrap();
    let due = store
        .claim_due_contacts(cid, "n1", now_ms(), 10)
        .await
        .unwrap();
    let begins: Vec<DialingWrite> = due
        .iter()
        .map(|d| {
            DialingWrite::Begin(NewAttempt {
                campaign_id: cid,
                contact_id: d.id,
                attempt_no: 1,
                server_id: None,
                channel_id: format!("oml-{cid}-{}-1", d.id),
                placed_at: now_ms(),
                node: "n1".into(),
            })
        })
        .collect();
    store.apply_dialing_writes(&begins).await.unwrap();
    let end = |contact: i64, agent: Option<&str>| {
        WriterOp::Write(DialingWrite::End(AttemptResult {
            contact_id: contact,
            attempt_no: 1,
            answered_at: agent.map(|_| now_ms()),
            connected_at: agent.map(|_| now_ms()),
            ended_at: now_ms(),
            outcome: if agent.is_some() { "connected" } else { "busy" }.into(),
            hangup_cause: Some(if agent.is_some() { 16 } else { 17 }),
            agent: agent.map(str::to_owned),
            contact_state: if agent.is_some() { "done" } else { "pending" }.into(),
            next_attempt_at: now_ms() + 60_000,
        }))
    };
    let down = "CREATE TRIGGER down BEFORE UPDATE ON call_attempts BEGIN SELECT RAISE(ABORT, 'database down'); END";
    oml_store::testing::execute(&store, down).await.unwrap();
    let (wtx, wrx) = mpsc::unbounded_channel();
    let (tx, _rx) = mpsc::unbounded_channel();
    let metrics = Arc::new(Metrics::default());
    let task = tokio::spawn(writer(
        store.clone(),
        "n1".into(),
        wrx,
        tx,
        metrics.clone(),
        "status".into(),
        Backlog::new(None, "n1".into(), metrics.clone()),
    ));
    wtx.send(end(due[0].id, None)).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while metrics.failed_commits.load(Ordering::Relaxed) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the commit never failed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Written while the first is carried: it follows it.
    wtx.send(end(due[1].id, Some("Agent One"))).unwrap();
    oml_store::testing::execute(&store, "DROP TRIGGER down")
        .await
        .unwrap();
    while !store.open_attempts(None).await.unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "an outcome whose commit failed was lost"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(wtx);
    task.await.unwrap();
    let states = store.campaign_contact_states(cid).await.unwrap();
    let got: Vec<(&str, Option<&str>)> = states
        .iter()
        .map(|c| (c.state.as_str(), c.last_outcome.as_deref()))
        .collect();
    assert_eq!(
        got,
        [("pending", Some("busy")), ("done", Some("connected"))]
    );
    let h = store.contact_history(due[1].id).await.unwrap().unwrap();
    assert_eq!(h.history[0].agent.as_deref(), Some("Agent One"));
}

/// A call seen connected and ended normally while the database refuses
/// writes is journaled; the engine dies before the database is back; the
/// next run stores it from the journal (not `unknown`, the contact not
/// pending again) and empties the journal.
#[tokio::test]
async fn an_outcome_the_database_missed_survives_a_crash_through_the_journal() {
    let ts = oml_store::testing::sqlite().await;
    let store = ts.store.clone();
    store
        .create_trunk(&TrunkSpec {
            name: "t".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let cid = store
        .create_campaign(&CampaignSpec::new("c", "t"))
        .await
        .unwrap()
        .id;
    store
        .seed_contacts(cid, &["+541140000001".to_string()])
        .await
        .unwrap();
    let due = store
        .claim_due_contacts(cid, "n1", now_ms(), 10)
        .await
        .unwrap();
    let contact = due[0].id;
    store
        .apply_dialing_writes(&[DialingWrite::Begin(NewAttempt {
            campaign_id: cid,
            contact_id: contact,
            attempt_no: 1,
            server_id: None,
            channel_id: format!("oml-{cid}-{contact}-1"),
            placed_at: now_ms(),
            node: "n1".into(),
        })])
        .await
        .unwrap();
    let down = "CREATE TRIGGER down BEFORE UPDATE ON call_attempts BEGIN SELECT RAISE(ABORT, 'database down'); END";
    oml_store::testing::execute(&store, down).await.unwrap();
    let jdir = tempfile::tempdir().unwrap();
    let start = |metrics: Arc<Metrics>| {
        let journal = crate::engine::journal::Journal::open(jdir.path(), "n1", 1 << 20).unwrap();
        let (wtx, wrx) = mpsc::unbounded_channel();
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(writer(
            store.clone(),
            "n1".into(),
            wrx,
            tx,
            metrics.clone(),
            "status".into(),
            Backlog::new(Some(journal), "n1".into(), metrics),
        ));
        (wtx, rx, task)
    };
    let metrics = Arc::new(Metrics::default());
    let (wtx, _rx, task) = start(metrics.clone());
    wtx.send(WriterOp::Write(DialingWrite::End(AttemptResult {
        contact_id: contact,
        attempt_no: 1,
        answered_at: Some(now_ms() - 30_000),
        connected_at: Some(now_ms() - 29_000),
        ended_at: now_ms(),
        outcome: "connected".into(),
        hangup_cause: Some(16),
        agent: Some("Agent One".into()),
        contact_state: "done".into(),
        next_attempt_at: 0,
    })))
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while metrics.unrecorded.load(Ordering::Relaxed) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never journaled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let file = jdir.path().join("n1.jsonl");
    assert!(std::fs::metadata(&file).unwrap().len() > 0, "not on disk");
    // The engine dies (its memory is gone), then the database is back.
    task.abort();
    let _ = task.await;
    drop(wtx);
    oml_store::testing::execute(&store, "DROP TRIGGER down")
        .await
        .unwrap();
    let metrics = Arc::new(Metrics::default());
    let (wtx, _rx, task) = start(metrics.clone());
    assert_eq!(metrics.unrecorded.load(Ordering::Relaxed), 1);
    while !store.open_attempts(None).await.unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the journaled outcome was not stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(wtx);
    task.await.unwrap();
    assert_eq!(metrics.unrecorded.load(Ordering::Relaxed), 0);
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 0, "not emptied");
    let states = store.campaign_contact_states(cid).await.unwrap();
    assert_eq!(states[0].state, "done");
    assert_eq!(states[0].last_outcome.as_deref(), Some("connected"));
    let h = store.contact_history(contact).await.unwrap().unwrap();
    assert_eq!(h.history[0].agent.as_deref(), Some("Agent One"));
}

/// While an outcome waits in the backlog, new attempts are not committed
/// (so not dialed) even though the database would take them: nothing is
/// stored ahead of what was decided before.
#[tokio::test]
async fn no_attempt_is_committed_while_the_backlog_waits() {
    let (accepted, refused, sent) = place(Db::OutcomeWaits).await;
    assert_eq!((accepted, sent.len(), refused.len()), (0, 0, 2));
}

/// What a batch the database did not take leaves for later: its progress
/// and outcomes in order, then its attempts' contacts to release.
#[test]
fn unrecorded_attempts_are_released_after_the_outcomes() {
    let w = super::unstored(vec![
        DialingWrite::Begin(NewAttempt {
            campaign_id: 1,
            contact_id: 5,
            attempt_no: 1,
            server_id: None,
            channel_id: "k".into(),
            placed_at: 0,
            node: "n1".into(),
        }),
        DialingWrite::Progress {
            contact_id: 6,
            attempt_no: 2,
            answered_at: Some(1),
            connected_at: None,
            agent: None,
        },
    ]);
    use crate::engine::journal::Entry;
    assert!(matches!(w[0], Entry::Write(DialingWrite::Progress { .. })));
    assert_eq!(w[1], Entry::Release(vec![5]));
    assert_eq!(w.len(), 2);
}
