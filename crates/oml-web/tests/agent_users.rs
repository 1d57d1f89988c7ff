//! The Users page's agent fields over HTTP (in-process router), on SQLite
//! and PostgreSQL: an agent added with an extension and campaigns, a bad
//! extension or campaign refused on the field with nothing stored, and a
//! row's extension and campaigns changed.

mod common;

use common::*;
use oml_config::Config;
use oml_store::{CampaignSpec, Role, TrunkSpec};

#[tokio::test]
async fn admin_gives_agents_an_extension_and_campaigns() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        store
            .create_trunk(&TrunkSpec {
                name: "carrier".into(),
                dial_string: oml_store::DEFAULT_DIAL_STRING.into(),
                max_channels: 30,
                server: None,
                caller_id: String::new(),
            })
            .await
            .unwrap();
        for name in ["sales", "promo"] {
            store
                .create_campaign(&CampaignSpec::new(name, "carrier"))
                .await
                .unwrap();
        }
        let (_, app) = app(store, Config::default());
        let mut a = Client::new(&app);
        a.login(ADMIN, ADMIN_PW).await;
        let page = a.get("/admin/users").await;
        assert!(
            page.body.contains("Comma-separated: promo, sales."),
            "{}",
            ts.label
        );
        let add = |name: &'static str, ext: &'static str, camps: &'static str| {
            [
                ("username", name),
                ("role", "agent"),
                ("password", "agent-pw-123"),
                ("extension", ext),
                ("campaigns", camps),
            ]
        };
        a.post("/admin/users", &add("ana", "1001", "sales,promo"))
            .await
            .assert_redirect("/admin/users");
        let ana = store.user_by_name("ana").await.unwrap().unwrap();
        assert_eq!(ana.extension.as_deref(), Some("1001"), "{}", ts.label);
        let page = a.get("/admin/users").await;
        assert!(
            page.body.contains(r#"value="promo,sales""#),
            "{}",
            page.body
        );

        // Refused on the field, nothing stored.
        let r = a.post("/admin/users", &add("bob", "1001", "")).await;
        assert_eq!(r.status, 422);
        assert!(
            r.body.contains("1001 is already the extension of `ana`."),
            "{}",
            r.body
        );
        a.get("/admin/users").await;
        let r = a.post("/admin/users", &add("bob", "12ab", "")).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("must be digits only"), "{}", r.body);
        a.get("/admin/users").await;
        let r = a.post("/admin/users", &add("bob", "", "sales,nope")).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("There is no campaign `nope`"), "{}", r.body);
        assert!(store.user_by_name("bob").await.unwrap().is_none());

        // Blank extension: the default.
        a.get("/admin/users").await;
        a.post("/admin/users", &add("bob", "", ""))
            .await
            .assert_redirect("/admin/users");
        let bob = store.user_by_name("bob").await.unwrap().unwrap();
        assert_eq!(bob.extension, Some((1000 + bob.id).to_string()));

        // The row form: a taken extension is refused, then saved.
        a.get("/admin/users").await;
        let row = |ext: &'static str, camps: &'static str| {
            [
                ("username", "bob"),
                ("extension", ext),
                ("campaigns", camps),
            ]
        };
        let r = a.post("/admin/users/agent", &row("1001", "sales")).await;
        assert_eq!(r.status, 422);
        assert!(
            r.body.contains("bob: 1001 is already the extension"),
            "{}",
            r.body
        );
        assert!(!store.agent_campaigns().await.unwrap().contains_key(&bob.id));
        a.get("/admin/users").await;
        a.post("/admin/users/agent", &row("2002", "sales"))
            .await
            .assert_redirect("/admin/users");
        let bob = store.user_by_name("bob").await.unwrap().unwrap();
        assert_eq!(bob.extension.as_deref(), Some("2002"));
        assert_eq!(
            store.agent_campaigns().await.unwrap()[&bob.id],
            vec!["sales"]
        );
        // Blank campaigns on a row: none.
        a.get("/admin/users").await;
        a.post("/admin/users/agent", &row("2002", ""))
            .await
            .assert_redirect("/admin/users");
        assert!(!store.agent_campaigns().await.unwrap().contains_key(&bob.id));
        // Not an agent: refused.
        a.get("/admin/users").await;
        let r = a
            .post(
                "/admin/users/agent",
                &[
                    ("username", ADMIN),
                    ("extension", "3003"),
                    ("campaigns", ""),
                ],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(
            r.body.contains("Only agents have an extension"),
            "{}",
            r.body
        );
    }
}
