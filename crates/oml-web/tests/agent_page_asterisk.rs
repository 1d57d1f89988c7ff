//! The agent page against the real Asterisk bench (issue 19 item 2): an
//! agent's log in, pause with a reason, ready and log out reach Asterisk's
//! queue `oml-test` as QueueAdd / QueuePause / QueueRemove of
//! `PJSIP/<extension>` with the agent's username as member name, as
//! QueueStatus reports them. Prints SKIPPED without the bench
//! (`. "$(bash .ci/asterisk-bench.sh env-file)"`).

mod common;

use common::*;
use oml_ami::{AmiClient, ClientConfig};
use oml_config::Config;
use oml_store::{AgentSetup, CampaignSpec, NewUser, Role, ServerSpec, TrunkSpec};
use secrecy::SecretString;

const AGENT_PW: &str = "agent-password-1";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The member `iface` of queue oml-test: None when absent, else
/// (member name, paused reason or "" when ready).
async fn member(c: &AmiClient, iface: &str) -> Option<(String, String)> {
    let list = c.queue_status(Some("oml-test")).await.unwrap();
    let m = list.iter().find(|m| {
        m.event_name() == Some("QueueMember")
            && (m.get("StateInterface") == Some(iface) || m.get("Location") == Some(iface))
    })?;
    let reason = if m.get("Paused") == Some("1") {
        m.get("PausedReason").unwrap_or("").to_string()
    } else {
        String::new()
    };
    Some((m.get("Name").unwrap_or("").to_string(), reason))
}

#[tokio::test]
async fn the_agent_page_drives_asterisk_queue_members() {
    let (Some(host), Some(user), Some(secret)) = (
        env("OML_TEST_ASTERISK_HOST"),
        env("OML_TEST_ASTERISK_USER"),
        env("OML_TEST_ASTERISK_SECRET"),
    ) else {
        eprintln!(
            "SKIPPED: agent page against the real Asterisk: OML_TEST_ASTERISK_HOST/_USER/_SECRET are not set \
             (run `bash .ci/asterisk-bench.sh up` and source the env file it prints)"
        );
        return;
    };
    let port: u16 = env("OML_TEST_ASTERISK_PORT")
        .unwrap_or_else(|| "5038".into())
        .parse()
        .unwrap();
    let mut cfg = ClientConfig::new(
        format!("{host}:{port}"),
        user.clone(),
        SecretString::from(secret.clone()),
    );
    cfg.ping_interval = None;
    let ami = AmiClient::connect(cfg).await.unwrap();
    // An extension of this run only: the bench is shared.
    let ext = format!("7{:08}", std::process::id() % 100_000_000);
    let iface = format!("PJSIP/{ext}");
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
    store
        .create_trunk(&TrunkSpec {
            name: "carrier".into(),
            dial_string: oml_store::DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("sales", "carrier");
    spec.queue_name = "oml-test".into();
    store.create_campaign(&spec).await.unwrap();
    store
        .create_server(&ServerSpec {
            name: "bench".into(),
            host,
            ami_port: port,
            ami_user: user,
            ami_secret: SecretString::from(secret),
            enabled: true,
        })
        .await
        .unwrap();
    store
        .create_user_with(
            &NewUser {
                username: "ana",
                password: &AGENT_PW.to_string().into(),
                role: Role::Agent,
                must_change_password: false,
            },
            &AgentSetup {
                extension: Some(ext.clone()),
                campaigns: Some(vec!["sales".into()]),
            },
        )
        .await
        .unwrap();
    let (_, app) = app(store, Config::default());
    let mut a = Client::new(&app);
    a.login("ana", AGENT_PW).await;
    a.get("/agent").await;
    a.post("/agent/login", &[]).await.assert_redirect("/agent");
    assert_eq!(
        member(&ami, &iface).await,
        Some(("ana".into(), "Logged in".into()))
    );
    a.get("/agent").await;
    a.post("/agent/pause", &[("reason", "Lunch")])
        .await
        .assert_redirect("/agent");
    assert_eq!(
        member(&ami, &iface).await,
        Some(("ana".into(), "Lunch".into()))
    );
    a.get("/agent").await;
    a.post("/agent/ready", &[]).await.assert_redirect("/agent");
    assert_eq!(
        member(&ami, &iface).await,
        Some(("ana".into(), String::new()))
    );
    // Logging in again while in the queue is not an error (Already there).
    a.get("/agent").await;
    a.post("/agent/login", &[]).await.assert_redirect("/agent");
    let page = a.get("/agent").await;
    assert!(
        page.body.contains("Logged in to your campaigns"),
        "{}",
        page.body
    );
    assert_eq!(
        member(&ami, &iface).await,
        Some(("ana".into(), "Logged in".into())),
        "paused again, as stored"
    );
    a.post("/agent/logout", &[]).await.assert_redirect("/agent");
    assert_eq!(member(&ami, &iface).await, None);
    let page = a.get("/agent").await;
    assert!(page.body.contains("Logged out"), "{}", page.body);
}
