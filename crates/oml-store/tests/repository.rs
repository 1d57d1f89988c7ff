//! Repository tests, each run on every available backend (SQLite always,
//! PostgreSQL when OML_TEST_DATABASE_URL is set).

use oml_store::testing::backends;
use oml_store::web::SlotReservation;
use oml_store::{AuditFilter, BlockKind, NewUser, OpenMode, Role, Store, StoreError};
use secrecy::SecretString;

fn pw(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

#[tokio::test]
async fn migrations_are_recorded_and_reapplying_is_harmless() {
    for t in backends().await {
        let v = t.store.schema_version().await.unwrap();
        assert_eq!(v, Some(oml_store::latest_schema_version()), "{}", t.label);
        // Opening again runs the migrator again: nothing changes.
        let again = Store::open(&t.location, OpenMode::Existing).await.unwrap();
        assert_eq!(again.schema_version().await.unwrap(), v, "{}", t.label);
    }
}

#[tokio::test]
async fn users_are_created_listed_and_changed() {
    for t in backends().await {
        let s = &t.store;
        let secret = pw("first password");
        let u = s
            .create_user(&NewUser {
                username: "maria",
                password: &secret,
                role: Role::Supervisor,
                must_change_password: true,
            })
            .await
            .unwrap();
        assert_eq!(u.role, Role::Supervisor, "{}", t.label);
        assert!(u.active && u.must_change_password);
        assert!(oml_store::verify_password_hash(&secret, &u.password_hash));

        let dup = s
            .create_user(&NewUser {
                username: "maria",
                password: &secret,
                role: Role::Agent,
                must_change_password: false,
            })
            .await;
        assert!(
            matches!(dup, Err(StoreError::AlreadyExists { .. })),
            "{}: {dup:?}",
            t.label
        );

        s.set_password("maria", &pw("second password"), false)
            .await
            .unwrap();
        s.set_role("maria", Role::Admin).await.unwrap();
        s.set_active("maria", false).await.unwrap();
        let u = s.user_by_name("maria").await.unwrap().unwrap();
        assert!(oml_store::verify_password_hash(
            &pw("second password"),
            &u.password_hash
        ));
        assert!(!oml_store::verify_password_hash(&secret, &u.password_hash));
        assert_eq!(u.role, Role::Admin);
        assert!(!u.active && !u.must_change_password);
        assert_eq!(s.count_active_admins().await.unwrap(), 0, "{}", t.label);
        assert!(matches!(
            s.set_role("nobody", Role::Agent).await,
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(s.users().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn bad_user_input_stores_nothing() {
    for t in backends().await {
        let s = &t.store;
        for (name, pass) in [
            ("", "long enough"),
            ("<script>", "long enough"),
            ("ok", "short"),
        ] {
            let r = s
                .create_user(&NewUser {
                    username: name,
                    password: &pw(pass),
                    role: Role::Agent,
                    must_change_password: false,
                })
                .await;
            assert!(
                matches!(r, Err(StoreError::Invalid { .. })),
                "{name}/{pass}"
            );
        }
        assert!(s.users().await.unwrap().is_empty(), "{}", t.label);
    }
}

#[tokio::test]
async fn login_slots_are_atomic_under_concurrency() {
    for t in backends().await {
        let s = t.store.clone();
        let mut tasks = Vec::new();
        for _ in 0..40 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.reserve_login_slot(BlockKind::User, "maria", 25, 1_000, None)
                    .await
                    .unwrap()
            }));
        }
        let mut granted = Vec::new();
        let mut refused = 0;
        for task in tasks {
            match task.await.unwrap() {
                SlotReservation::Reserved(n) => granted.push(n),
                SlotReservation::Exhausted => refused += 1,
            }
        }
        granted.sort();
        assert_eq!(granted, (1..=25).collect::<Vec<i64>>(), "{}", t.label);
        assert_eq!(refused, 15, "{}", t.label);
        assert_eq!(
            s.login_failures(BlockKind::User, "maria").await.unwrap(),
            25
        );
        // Failures older than the cool-off no longer count: the counter restarts.
        assert!(matches!(
            s.reserve_login_slot(BlockKind::User, "maria", 25, 400_000, Some(2_000))
                .await
                .unwrap(),
            SlotReservation::Reserved(1)
        ));
        s.reset_login_failures(BlockKind::User, "maria")
            .await
            .unwrap();
        assert_eq!(s.login_failures(BlockKind::User, "maria").await.unwrap(), 0);
    }
}

#[tokio::test]
async fn blocks_expire_and_are_lifted() {
    for t in backends().await {
        let s = &t.store;
        s.create_block(
            BlockKind::User,
            "maria",
            1_000,
            Some(301_000),
            3,
            "3 failures",
        )
        .await
        .unwrap();
        s.create_block(BlockKind::Ip, "10.0.0.9", 1_000, None, 20, "20 failures")
            .await
            .unwrap();
        assert!(s
            .active_block(BlockKind::User, "maria", 300_999)
            .await
            .unwrap()
            .is_some());
        assert!(s
            .active_block(BlockKind::User, "maria", 301_000)
            .await
            .unwrap()
            .is_none());
        assert!(s
            .active_block(BlockKind::Ip, "10.0.0.9", i64::MAX)
            .await
            .unwrap()
            .is_some());
        assert_eq!(
            s.active_blocks(2_000).await.unwrap().len(),
            2,
            "{}",
            t.label
        );

        s.reserve_login_slot(BlockKind::Ip, "10.0.0.9", 20, 1_000, None)
            .await
            .unwrap();
        assert_eq!(
            s.unblock(BlockKind::Ip, "10.0.0.9", "admin", 5_000)
                .await
                .unwrap(),
            1
        );
        assert!(s
            .active_block(BlockKind::Ip, "10.0.0.9", 6_000)
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            s.login_failures(BlockKind::Ip, "10.0.0.9").await.unwrap(),
            0
        );
        assert_eq!(
            s.unblock(BlockKind::Ip, "10.0.0.9", "admin", 5_000)
                .await
                .unwrap(),
            0
        );
    }
}

#[tokio::test]
async fn audit_log_filters_by_user_and_date() {
    for t in backends().await {
        let s = &t.store;
        s.audit(1_000, "admin", "user_add", "maria", None, "role=agent")
            .await
            .unwrap();
        s.audit(2_000, "maria", "login", "maria", Some("10.1.1.1"), "")
            .await
            .unwrap();
        s.audit(3_000, "admin", "block", "pedro", None, "")
            .await
            .unwrap();
        let all = s.audit_entries(&AuditFilter::default()).await.unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].action, "block", "newest first");
        let maria = s
            .audit_entries(&AuditFilter {
                user: Some("maria".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(maria.len(), 2, "{}", t.label);
        let window = s
            .audit_entries(&AuditFilter {
                from_ms: Some(1_500),
                to_ms: Some(3_000),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(window.len(), 1);
        assert_eq!(window[0].ip.as_deref(), Some("10.1.1.1"));
    }
}

#[tokio::test]
async fn settings_survive_reopening() {
    for t in backends().await {
        t.store.set_setting("dialer.running", "true").await.unwrap();
        t.store
            .set_setting("dialer.running", "false")
            .await
            .unwrap();
        let again = Store::open(&t.location, OpenMode::Existing).await.unwrap();
        assert_eq!(
            again.setting("dialer.running").await.unwrap().as_deref(),
            Some("false"),
            "{}",
            t.label
        );
        assert_eq!(again.setting("missing").await.unwrap(), None);
    }
}

#[tokio::test]
async fn opening_a_missing_sqlite_database_says_to_init() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(
        &oml_store::Location::DataDir(dir.path().join("nothing")),
        OpenMode::Existing,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("oml init"), "{err}");
}

#[tokio::test]
async fn unreachable_postgres_is_a_clear_error_without_the_password() {
    let loc = oml_store::Location::Postgres("postgres://oml:hunter2@127.0.0.1:1/oml".into());
    let err = Store::open(&loc, OpenMode::Existing)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot connect"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
