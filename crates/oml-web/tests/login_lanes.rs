//! A flood of wrong logins from many new addresses does not lock real users
//! out: a login from an address (or by a username) that has logged in
//! successfully before is checked in its own hashing lane and answered
//! while the flood still queues. IPv6 clients are also counted and blocked
//! per /64 network.

mod common;

use common::*;
use oml_config::Config;
use oml_store::{BlockKind, Role};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn via_proxy() -> Config {
    let mut config = Config::default();
    config.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    config
}

#[tokio::test]
async fn a_known_login_is_answered_while_a_flood_still_queues() {
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
    let (state, app) = app(store, via_proxy());
    let from = |ip: &str| {
        let mut c = Client::new(&app).with_peer("127.0.0.1:9000");
        c.forwarded_for = Some(ip.to_string());
        c
    };
    // The admin logged in from the office before.
    let mut admin = from("198.51.100.7");
    admin.login(ADMIN, ADMIN_PW).await.assert_redirect("/");

    // The flood: more wrong logins than the general lane checks at once,
    // each from its own new address, for names that do not exist.
    let threads = oml_web::hashing::Hasher::general_threads_for_this_host();
    let flood = 40 * threads + 40;
    let mut clients = Vec::new();
    for i in 0..flood {
        let mut c = from(&format!("10.1.{}.{}", i / 200, 1 + i % 200));
        c.get("/login").await;
        clients.push(c);
    }
    let answered = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            let answered = answered.clone();
            tokio::spawn(async move {
                let user = format!("nobody{i}");
                let r = c
                    .post(
                        "/login",
                        &[("username", &user), ("password", "wrong-password")],
                    )
                    .await;
                answered.fetch_add(1, Ordering::SeqCst);
                r.status
            })
        })
        .collect();
    // Wait until a good part of the flood queues for the general lane.
    let guard = state.guard();
    let general = oml_web::hashing::Lane::General;
    for _ in 0..4000 {
        if guard.waiting(general) >= flood / 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(guard.waiting(general) >= flood / 4, "the flood queues");

    let mut admin = from("198.51.100.7");
    admin.login(ADMIN, ADMIN_PW).await.assert_redirect("/");
    // Answered while wrong logins queued before it still wait.
    let still_waiting = guard.waiting(general);
    let done = answered.load(Ordering::SeqCst);
    assert!(
        still_waiting > 0 && done < flood,
        "the admin waited for the flood: {done} of {flood} wrong logins answered first"
    );
    for t in tasks {
        assert_eq!(t.await.unwrap(), 401);
    }
}

#[tokio::test]
async fn an_ipv6_64_is_blocked_as_a_whole() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        let mut config = via_proxy();
        config.lockout.ip_failure_limit = 4;
        let (state, app) = app(store, config);
        let from = |ip: &str| {
            let mut c = Client::new(&app).with_peer("127.0.0.1:9000");
            c.forwarded_for = Some(ip.to_string());
            c
        };
        // A fresh address of one /64 for every attempt, a fresh name too.
        for i in 1..=4 {
            let r = from(&format!("2001:db8:1:2::{i:x}"))
                .login(&format!("nobody{i}"), "wrong-password")
                .await;
            let expect = if i < 4 { 401 } else { 403 };
            assert_eq!(r.status, expect, "{}: attempt {i}", ts.label);
        }
        let blocks = store.active_blocks(oml_store::now_ms()).await.unwrap();
        assert!(
            blocks
                .iter()
                .any(|b| b.kind == BlockKind::Ip && b.subject == "2001:db8:1:2::/64"),
            "{}: {blocks:?}",
            ts.label
        );
        // Another address of that /64: refused unhashed, even with the right password.
        let hashes = state.guard().hashes_computed();
        let r = from("2001:db8:1:2:ffff::9").login(ADMIN, ADMIN_PW).await;
        assert_eq!(r.status, 403, "{}", ts.label);
        assert!(r.body.contains("network address"), "{}", r.body);
        assert_eq!(state.guard().hashes_computed(), hashes);
        // The neighbouring /64 is not concerned.
        from("2001:db8:1:3::1")
            .login(ADMIN, ADMIN_PW)
            .await
            .assert_redirect("/");
        // The administrator lifts it by its name as listed.
        let mut admin = from("2001:db8:1:3::1");
        admin.login(ADMIN, ADMIN_PW).await;
        let page = admin.get("/admin/blocked").await;
        // (`/` is written `&#x2f;` by the escaping of every page.)
        assert!(
            page.body.contains("2001:db8:1:2::&#x2f;64"),
            "{}",
            page.body
        );
        let r = admin
            .post(
                "/admin/blocked/unblock",
                &[("kind", "ip"), ("subject", "2001:db8:1:2::/64")],
            )
            .await;
        r.assert_redirect("/admin/blocked");
        from("2001:db8:1:2:ffff::9")
            .login(ADMIN, ADMIN_PW)
            .await
            .assert_redirect("/");
    }
}
