//! The dialer data rendering reads comes from the store as it is kept:
//! servers, trunks, campaigns and agents (users with role agent), on the
//! embedded SQLite database.

use oml_ops::render;
use oml_store::{CampaignSpec, Location, NewUser, OpenMode, Role, ServerSpec, Store, TrunkSpec};
use secrecy::{ExposeSecret, SecretString};

#[tokio::test]
async fn load_maps_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &Location::DataDir(dir.path().to_path_buf()),
        OpenMode::Create,
    )
    .await
    .unwrap();
    store
        .create_server(&ServerSpec {
            name: "pbx1".into(),
            host: "127.0.0.1".into(),
            ami_port: 5038,
            ami_user: "oml".into(),
            ami_secret: SecretString::from("s3cret"),
            enabled: true,
        })
        .await
        .unwrap();
    store
        .create_trunk(&TrunkSpec {
            name: "carrier".into(),
            dial_string: "PJSIP/${num}@carrier".into(),
            max_channels: 12,
            server: Some("pbx1".into()),
            caller_id: "5551000".into(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("spring-sale", "carrier");
    spec.ring_timeout_s = 31;
    store.create_campaign(&spec).await.unwrap();
    let pw = SecretString::from("agent password 1");
    for (name, role) in [("ana", Role::Agent), ("sup", Role::Supervisor)] {
        store
            .create_user(&NewUser {
                username: name,
                password: &pw,
                role,
                must_change_password: false,
            })
            .await
            .unwrap();
    }

    let d = render::load(&store).await.unwrap();
    assert_eq!(d.servers.len(), 1);
    assert_eq!(
        (d.servers[0].host.as_str(), d.servers[0].ami_port),
        ("127.0.0.1", 5038)
    );
    assert_eq!(d.servers[0].ami_secret.expose_secret(), "s3cret");
    assert_eq!(d.trunks.len(), 1);
    assert_eq!(
        (d.trunks[0].max_channels, d.trunks[0].tech()),
        (12, "PJSIP".to_string())
    );
    assert_eq!(d.campaigns.len(), 1);
    let c = &d.campaigns[0];
    assert_eq!(
        (c.mode.as_str(), c.ring_timeout_s, c.trunk_id),
        ("predictive", 31, d.trunks[0].id)
    );
    assert_eq!(c.state, "stopped");
    let agents: Vec<_> = d.agents.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(agents, ["ana"], "only users with role agent");
    store.close().await;
}
