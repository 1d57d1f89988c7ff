//! Agents and their phones on every backend: extension and campaigns stored
//! with the user, checked before anything is written, editable.

use oml_store::testing::backends;
use oml_store::{AgentSetup, CampaignSpec, NewUser, Role, Store, StoreError, TrunkSpec};
use secrecy::SecretString;

fn new_user<'a>(name: &'a str, role: Role, pw: &'a SecretString) -> NewUser<'a> {
    NewUser {
        username: name,
        password: pw,
        role,
        must_change_password: false,
    }
}

fn setup(ext: Option<&str>, campaigns: Option<&[&str]>) -> AgentSetup {
    AgentSetup {
        extension: ext.map(Into::into),
        campaigns: campaigns.map(|c| c.iter().map(|s| s.to_string()).collect()),
    }
}

async fn two_campaigns(s: &Store) {
    s.create_trunk(&TrunkSpec {
        name: "carrier".into(),
        dial_string: oml_store::DEFAULT_DIAL_STRING.into(),
        max_channels: 30,
        server: None,
        caller_id: String::new(),
    })
    .await
    .unwrap();
    for name in ["sales", "promo"] {
        s.create_campaign(&CampaignSpec::new(name, "carrier"))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn agents_get_an_extension_and_campaigns() {
    let pw = SecretString::from("long enough".to_string());
    for t in backends().await {
        let s = &t.store;
        two_campaigns(s).await;
        let ana = s
            .create_user_with(
                &new_user("ana", Role::Agent, &pw),
                &setup(Some("1001"), Some(&["sales", "promo"])),
            )
            .await
            .unwrap();
        assert_eq!(ana.extension.as_deref(), Some("1001"), "{}", t.label);
        let camps = s.agent_campaigns().await.unwrap();
        assert_eq!(camps[&ana.id], vec!["promo", "sales"], "{}", t.label);

        // Without --extension: the default the rendering used before (1000 + id).
        let bob = s
            .create_user(&new_user("bob", Role::Agent, &pw))
            .await
            .unwrap();
        assert_eq!(bob.extension, Some((1000 + bob.id).to_string()));
        // Supervisors have none.
        let sup = s
            .create_user(&new_user("sue", Role::Supervisor, &pw))
            .await
            .unwrap();
        assert_eq!(sup.extension, None);

        // Refusals name what to fix and store nothing.
        let err = s
            .create_user_with(
                &new_user("carl", Role::Agent, &pw),
                &setup(Some("1001"), None),
            )
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err, "invalid extension: 1001 is already the extension of `ana`",
            "{}",
            t.label
        );
        assert!(
            s.user_by_name("carl").await.unwrap().is_none(),
            "{}",
            t.label
        );
        let err = s
            .create_user_with(
                &new_user("carl", Role::Agent, &pw),
                &setup(Some("10a1"), None),
            )
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::Invalid {
                field: "extension",
                ..
            }
        ));
        let err = s
            .create_user_with(
                &new_user("carl", Role::Agent, &pw),
                &setup(None, Some(&["sales", "nope"])),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("no campaign `nope`"), "{err}");
        assert!(
            s.user_by_name("carl").await.unwrap().is_none(),
            "{}",
            t.label
        );
        let err = s
            .create_user_with(
                &new_user("carl", Role::Supervisor, &pw),
                &setup(Some("1002"), None),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("only agents"), "{err}");

        // Editing: a taken extension is refused and nothing changes.
        let err = s
            .set_agent("bob", &setup(Some("1001"), Some(&["sales"])))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("already the extension of `ana`"), "{err}");
        assert!(!s.agent_campaigns().await.unwrap().contains_key(&bob.id));
        s.set_agent("bob", &setup(Some("2002"), Some(&["sales"])))
            .await
            .unwrap();
        let bob2 = s.user_by_name("bob").await.unwrap().unwrap();
        assert_eq!(bob2.extension.as_deref(), Some("2002"));
        assert_eq!(s.agent_campaigns().await.unwrap()[&bob.id], vec!["sales"]);
        // Campaigns only: the extension stays.
        s.set_agent("ana", &setup(None, Some(&[]))).await.unwrap();
        assert!(!s.agent_campaigns().await.unwrap().contains_key(&ana.id));
        assert_eq!(
            s.user_by_name("ana")
                .await
                .unwrap()
                .unwrap()
                .extension
                .as_deref(),
            Some("1001")
        );
        assert!(s
            .set_agent("sue", &setup(Some("3003"), None))
            .await
            .is_err());
        // A supervisor made agent gets the default extension.
        s.set_role("sue", Role::Agent).await.unwrap();
        assert_eq!(
            s.user_by_name("sue").await.unwrap().unwrap().extension,
            Some((1000 + sup.id).to_string())
        );
        // A deleted campaign leaves its agents.
        s.delete_campaign("sales").await.unwrap();
        assert!(s.agent_campaigns().await.unwrap().is_empty(), "{}", t.label);
    }
}
