//! regenerate-asterisk against an AMI server over real TCP: the in-process
//! pbxsim always, and the real Asterisk bench when OML_TEST_ASTERISK_HOST,
//! _PORT, _USER and _SECRET are set. After a run every entry reads back
//! with DBGet; a second run changes nothing and says so.

use oml_ami::{AmiClient, ClientConfig};
use oml_ops::inventory::Inventory;
use oml_ops::regenerate::{self, SyncOutcome};
use oml_ops::render::{Agent, Campaign, DialerData, OmlSettings, RenderContext, Server, Trunk};
use secrecy::SecretString;
use std::path::PathBuf;

fn ctx(server: Server) -> RenderContext {
    let inv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oml-1.2.0.inventory");
    RenderContext {
        inventory: Inventory::load(inv).unwrap().config().unwrap(),
        data: DialerData {
            servers: vec![server],
            trunks: vec![Trunk {
                id: 1,
                name: "default".into(),
                dial_string: "Local/${num}@from-oml/n".into(),
                max_channels: 5,
                server_id: None,
                caller_id: "5551000".into(),
            }],
            campaigns: vec![Campaign {
                id: 901,
                name: "regenerate test".into(),
                mode: "predictive".into(),
                trunk_id: 1,
                delivery_context: "".into(),
                delivery_exten: "s".into(),
                queue_name: "".into(),
                ring_timeout_s: 25,
                abandon_seconds: 2,
                max_abandon_rate: 0.03,
                caller_id: "".into(),
                state: "stopped".into(),
                call_path: Default::default(),
            }],
            agents: vec![Agent {
                id: 902,
                extension: "1902".into(),
                username: "agent-902".into(),
                active: true,
            }],
        },
        oml: OmlSettings::default(),
    }
}

async fn check_against(host: &str, port: u16, user: &str, secret: &str) {
    let server = Server {
        id: 1,
        name: "test".into(),
        host: host.into(),
        ami_port: port,
        ami_user: user.into(),
        ami_secret: SecretString::from(secret.to_string()),
        enabled: true,
    };
    let c = ctx(server);
    let desired = regenerate::desired(&c);

    let dry = regenerate::sync_all(&c, false, true).await;
    assert_eq!(dry.len(), 1);
    let first = regenerate::sync_all(&c, false, false).await;
    let outcome = first[0]
        .result
        .as_ref()
        .unwrap_or_else(|e| panic!("{}: {e}", first[0].server));
    assert!(
        matches!(
            outcome,
            SyncOutcome::Rewritten { .. } | SyncOutcome::Unchanged { .. }
        ),
        "{outcome}"
    );

    // Every key reads back.
    let client = AmiClient::connect(ClientConfig::new(
        format!("{host}:{port}"),
        user,
        SecretString::from(secret.to_string()),
    ))
    .await
    .unwrap();
    for e in &desired {
        let got = client.db_get(&e.family, &e.key).await.unwrap();
        assert_eq!(got.as_deref(), Some(e.value.as_str()), "{}", e.path());
    }

    let second = regenerate::sync_all(&c, false, false).await;
    let outcome = second[0].result.as_ref().unwrap();
    assert_eq!(
        *outcome,
        SyncOutcome::Unchanged {
            entries: desired.len()
        }
    );
    assert!(outcome.to_string().contains("nothing to do"));

    // A campaign removed from the database disappears from AstDB.
    let mut c2 = c.clone();
    c2.data.campaigns.clear();
    let third = regenerate::sync_all(&c2, false, false).await;
    match third[0].result.as_ref().unwrap() {
        SyncOutcome::Rewritten { diff, .. } => {
            assert_eq!(diff.removed, vec!["OML/CAMP/901".to_string()])
        }
        other => panic!("{other}"),
    }
    assert_eq!(client.db_get("OML/CAMP/901", "QNAME").await.unwrap(), None);
    let _ = client.logoff().await;
}

#[tokio::test]
async fn regenerate_against_pbxsim() {
    let sim = oml_pbxsim::PbxSim::start(oml_pbxsim::SimConfig::new(
        "oml",
        SecretString::from("s3cret"),
        1,
    ))
    .await
    .unwrap();
    let port = sim.local_addr().port();
    check_against("127.0.0.1", port, "oml", "s3cret").await;
    sim.shutdown().await;
}

#[tokio::test]
async fn regenerate_against_the_real_asterisk_bench() {
    let vars = ["HOST", "PORT", "USER", "SECRET"]
        .map(|v| std::env::var(format!("OML_TEST_ASTERISK_{v}")).ok());
    let [Some(host), Some(port), Some(user), Some(secret)] = vars else {
        eprintln!("SKIPPED: OML_TEST_ASTERISK_HOST/_PORT/_USER/_SECRET not set (start the bench: bash .ci/asterisk-bench.sh up)");
        return;
    };
    check_against(&host, port.parse().unwrap(), &user, &secret).await;
}

#[tokio::test]
async fn an_unreachable_server_is_reported_and_does_not_stop_the_others() {
    let sim = oml_pbxsim::PbxSim::start(oml_pbxsim::SimConfig::new(
        "oml",
        SecretString::from("s3cret"),
        1,
    ))
    .await
    .unwrap();
    let good = Server {
        id: 1,
        name: "good".into(),
        host: "127.0.0.1".into(),
        ami_port: sim.local_addr().port(),
        ami_user: "oml".into(),
        ami_secret: SecretString::from("s3cret"),
        enabled: true,
    };
    let mut c = ctx(good.clone());
    // A closed port first.
    let dead = Server {
        id: 2,
        name: "dead".into(),
        ami_port: 1,
        ..good
    };
    c.data.servers.insert(0, dead);
    let reports = regenerate::sync_all(&c, false, false).await;
    assert_eq!(reports.len(), 2);
    let err = reports[0].result.as_ref().unwrap_err().to_string();
    assert!(
        err.contains("cannot connect to AMI at 127.0.0.1:1"),
        "{err}"
    );
    assert!(!err.contains("s3cret"));
    assert!(reports[1].result.is_ok(), "{:?}", reports[1].result);
    sim.shutdown().await;
}
