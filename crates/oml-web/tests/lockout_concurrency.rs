//! SPEC §2.8 under concurrency: 50 wrong passwords at once for one user give
//! exactly the configured number of counted failures and password checks;
//! none is checked after the block. Also the per-IP block and the cool-off.

mod common;

use common::*;
use futures::future::join_all;
use oml_config::Config;
use oml_store::{AuditFilter, BlockKind, Role};

async fn burst(
    app: &axum::Router,
    user: &str,
    peers: impl Fn(usize) -> (String, Option<String>),
) -> Vec<Resp> {
    // Each client first loads the login page (gets its CSRF cookie)...
    let mut clients = Vec::new();
    for i in 0..50 {
        let (peer, xff) = peers(i);
        let mut c = Client::new(app).with_peer(&peer);
        c.forwarded_for = xff;
        c.get("/login").await;
        clients.push(c);
    }
    // ...then all fifty submit at the same moment.
    let tasks = clients.into_iter().map(|mut c| {
        let user = user.to_string();
        tokio::spawn(async move {
            c.post(
                "/login",
                &[("username", &user), ("password", "wrong-password")],
            )
            .await
        })
    });
    join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

async fn check_exactly_limit(label: &str, limit: u32, one_ip: bool) {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        add_user(store, "victim", "victim-password-1", Role::Agent, false).await;
        let mut config = Config::default();
        config.lockout.login_failure_limit = limit;
        config.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        let (state, app) = app(store, config);
        let responses = burst(&app, "victim", |i| {
            if one_ip {
                ("198.51.100.50:1000".into(), None)
            } else {
                (
                    "127.0.0.1:9000".into(),
                    Some(format!("203.0.113.{}", i + 1)),
                )
            }
        })
        .await;
        let limit = i64::from(limit);
        let invalid = responses.iter().filter(|r| r.status == 401).count() as i64;
        let blocked = responses.iter().filter(|r| r.status == 403).count() as i64;
        assert_eq!(
            invalid + blocked,
            50,
            "{label} {}: every request answered",
            ts.label
        );
        assert_eq!(
            invalid,
            limit - 1,
            "{label} {}: wrong-password answers",
            ts.label
        );
        assert!(responses
            .iter()
            .filter(|r| r.status == 403)
            .all(|r| r.body.contains("This account is blocked")));
        assert_eq!(
            state.guard().hashes_computed() as i64,
            limit,
            "{label} {}: password checks",
            ts.label
        );
        assert_eq!(
            store
                .login_failures(BlockKind::User, "victim")
                .await
                .unwrap(),
            limit,
            "{label} {}: counted failures",
            ts.label
        );
        let blocks = store.active_blocks(oml_store::now_ms()).await.unwrap();
        let user_blocks: Vec<_> = blocks
            .iter()
            .filter(|b| b.kind == BlockKind::User)
            .collect();
        assert_eq!(user_blocks.len(), 1, "{label} {}: one block", ts.label);
        assert_eq!(user_blocks[0].failures, limit);
        let audit = store.audit_entries(&AuditFilter::default()).await.unwrap();
        assert_eq!(
            audit.iter().filter(|e| e.action == "login_failed").count() as i64,
            limit,
            "{label} {}: audited failures",
            ts.label
        );
        // After the block: still no hash, even for the right password.
        let mut late = Client::new(&app).with_peer("198.51.100.99:1");
        let r = late.login("victim", "victim-password-1").await;
        assert_eq!(r.status, 403);
        assert_eq!(state.guard().hashes_computed() as i64, limit);
        // One IP: its counter got its slots back (only the checked attempts count).
        if one_ip {
            assert_eq!(
                store
                    .login_failures(BlockKind::Ip, "198.51.100.50")
                    .await
                    .unwrap(),
                limit
            );
        }
    }
}

#[tokio::test]
async fn fifty_concurrent_wrong_passwords_from_one_address() {
    check_exactly_limit("limit 3, one IP", 3, true).await;
}

#[tokio::test]
async fn fifty_concurrent_wrong_passwords_from_fifty_addresses() {
    check_exactly_limit("limit 5, 50 IPs via proxy", 5, false).await;
}

#[tokio::test]
async fn many_usernames_from_one_address_block_the_address() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        add_user(store, "real", "real-password-1", Role::Agent, false).await;
        let mut config = Config::default();
        config.lockout.ip_failure_limit = 5;
        let (state, app) = app(store, config);
        let mut c = Client::new(&app).with_peer("198.51.100.7:1");
        for i in 0..4 {
            let r = c.login(&format!("guess{i}"), "wrong-password").await;
            assert_eq!(r.status, 401, "{}", ts.label);
        }
        let r = c.login("guess4", "wrong-password").await;
        assert_eq!(r.status, 403);
        assert!(
            r.body
                .contains("Logins from your network address are blocked"),
            "{}",
            r.body
        );
        // Even a real user with the right password is refused from there, unhashed.
        let hashes = state.guard().hashes_computed();
        let r = c.login("real", "real-password-1").await;
        assert_eq!(r.status, 403);
        assert_eq!(state.guard().hashes_computed(), hashes);
        // From another address the real user gets in.
        let mut other = Client::new(&app).with_peer("198.51.100.8:1");
        other
            .login("real", "real-password-1")
            .await
            .assert_redirect("/");
        assert!(store
            .active_block(BlockKind::Ip, "198.51.100.7", oml_store::now_ms())
            .await
            .unwrap()
            .is_some());
        // `oml users unblock --ip` uses the same store call.
        store
            .unblock(BlockKind::Ip, "198.51.100.7", "test", oml_store::now_ms())
            .await
            .unwrap();
        c.login("real", "real-password-1")
            .await
            .assert_redirect("/");
    }
}

#[tokio::test]
async fn a_block_ends_after_the_cool_off_and_zero_means_until_unblocked() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        add_user(store, "ana", "ana-password-1", Role::Agent, false).await;
        add_user(store, "bob", "bob-password-1", Role::Agent, false).await;
        let mut config = Config::default();
        config.lockout.cool_off_seconds = 1;
        let (_, app) = app(store, config);
        let mut c = Client::new(&app);
        for _ in 0..3 {
            c.login("ana", "wrong-password").await;
        }
        assert_eq!(c.login("ana", "ana-password-1").await.status, 403);
        tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
        c.login("ana", "ana-password-1").await.assert_redirect("/");

        let mut config = Config::default();
        config.lockout.cool_off_seconds = 0;
        let (_, app2) = common::app(store, config);
        let mut c = Client::new(&app2).with_peer("192.0.2.99:1");
        for _ in 0..2 {
            c.login("bob", "wrong-password").await;
        }
        let r = c.login("bob", "wrong-password").await;
        assert!(
            r.body.contains("until an administrator unblocks it"),
            "{}",
            r.body
        );
        let b = store
            .active_block(BlockKind::User, "bob", oml_store::now_ms())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.until_at, None);
    }
}
