//! The writer's ordering rule against a pbxsim: an `Originate` leaves only
//! once its attempt is committed, so a batch whose commit fails sends none
//! of its calls and hands them back to the core as refused.

use std::sync::Arc;

use oml_ami::{AmiClient, ClientConfig, Originate};
use oml_pbxsim::{PbxSim, SimConfig};
use oml_store::dialing::NewAttempt;
use oml_store::{now_ms, CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};
use secrecy::SecretString;
use tokio::sync::mpsc;

use super::{writer, WriterOp};
use crate::engine::core::Input;
use crate::engine::msg::Msg;
use crate::engine::Metrics;

/// Places two claimed contacts through a writer whose store is open or
/// closed (every commit fails); returns what pbxsim accepted and what the
/// writer told the core.
async fn place(commit_fails: bool) -> (u64, Vec<String>, Vec<String>) {
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
    let phones = vec!["+541140000001".to_string(), "+541140000002".to_string()];
    store.seed_contacts(cid, &phones).await.unwrap();
    let due = store
        .claim_due_contacts(cid, "n1", now_ms(), 10)
        .await
        .unwrap();
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
    if commit_fails {
        store.close().await;
    }
    let (wtx, wrx) = mpsc::unbounded_channel();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(writer(
        store,
        "n1".into(),
        wrx,
        tx,
        Arc::new(Metrics::default()),
        "status".into(),
    ));
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
    let (accepted, refused, sent) = place(true).await;
    assert_eq!(
        accepted, 0,
        "an Originate left without its committed attempt"
    );
    assert!(sent.is_empty());
    assert_eq!(refused.len(), 2, "both calls go back to the core");
    // The same batch with a working store is sent: the test above can fail.
    let (accepted, refused, sent) = place(false).await;
    assert_eq!((accepted, sent.len()), (2, 2));
    assert!(refused.is_empty());
}
