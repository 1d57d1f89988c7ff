//! The console over HTTP (in-process router), on SQLite and PostgreSQL:
//! first-run setup, login, lock-out and unblock, roles, CSRF, sessions,
//! must-change-password, trusted proxies.

mod common;

use common::*;
use oml_config::Config;
use oml_store::{AuditFilter, BlockKind, Role};

#[tokio::test]
async fn first_run_setup_creates_the_admin_then_disappears() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let (_, app) = app(store, Config::default());
        let mut c = Client::new(&app);
        // Anonymous: the console sends to login, login sends to setup.
        c.get("/").await.assert_redirect("/login");
        c.get("/login").await.assert_redirect("/setup");
        let page = c.get("/setup").await;
        assert_eq!(page.status, 200, "{}", ts.label);
        assert!(page.body.contains("First-run setup"));
        // Without the CSRF token: refused, nothing created.
        let r = c
            .post_raw(
                "/setup",
                &[
                    ("username", "boss"),
                    ("password", ADMIN_PW),
                    ("password_confirm", ADMIN_PW),
                ],
            )
            .await;
        assert_eq!(r.status, 403, "{}", ts.label);
        assert_eq!(store.count_active_admins().await.unwrap(), 0);
        let r = c
            .post(
                "/setup",
                &[
                    ("username", "boss"),
                    ("password", ADMIN_PW),
                    ("password_confirm", ADMIN_PW),
                ],
            )
            .await;
        r.assert_redirect("/");
        assert!(c.cookies.contains_key("oml_session"));
        let home = c.get("/").await;
        assert_eq!(home.status, 200);
        assert!(home.body.contains("Setup complete"), "flash shown once");
        assert!(home.body.contains("Welcome, boss"));
        assert!(
            !c.get("/").await.body.contains("Setup complete"),
            "flash gone"
        );
        assert_eq!(store.count_active_admins().await.unwrap(), 1);
        // Gone for everyone afterwards.
        assert_eq!(c.get("/setup").await.status, 404);
        let mut other = Client::new(&app);
        assert_eq!(other.get("/setup").await.status, 404);
        let r = other
            .post_raw("/setup", &[("username", "evil"), ("password", "x")])
            .await;
        assert!(r.status == 404 || r.status == 403, "{}", r.status);
        assert!(store.user_by_name("evil").await.unwrap().is_none());
        let audit = store.audit_entries(&AuditFilter::default()).await.unwrap();
        assert!(audit
            .iter()
            .any(|e| e.action == "setup" && e.subject == "boss"));
    }
}

#[tokio::test]
async fn three_wrong_passwords_block_then_the_admin_unblocks() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        add_user(store, "ana", "ana-password-1", Role::Agent, false).await;
        let (state, app) = app(store, Config::default());
        let mut ana = Client::new(&app);
        for i in 1..=2 {
            let r = ana.login("ana", "wrong-password").await;
            assert_eq!(r.status, 401, "attempt {i} on {}", ts.label);
            assert!(r.body.contains("Wrong username or password."));
        }
        let r = ana.login("ana", "wrong-password").await;
        assert_eq!(r.status, 403, "{}", ts.label);
        assert!(r.body.contains("This account is blocked"), "{}", r.body);
        assert!(r.body.contains("Contact your administrator"));
        assert!(r.body.contains("about 5 minutes"));
        // Blocked: even the right password is refused, and no hash is computed.
        let hashes = state.guard().hashes_computed();
        let r = ana.login("ana", "ana-password-1").await;
        assert_eq!(r.status, 403);
        assert!(r.body.contains("This account is blocked"));
        assert_eq!(
            state.guard().hashes_computed(),
            hashes,
            "no hash while blocked"
        );
        assert_eq!(
            store.login_failures(BlockKind::User, "ana").await.unwrap(),
            3
        );

        // The admin sees the block and lifts it.
        let mut admin = Client::new(&app).with_peer("192.0.2.20:40000");
        admin.login(ADMIN, ADMIN_PW).await.assert_redirect("/");
        let page = admin.get("/admin/blocked").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("ana") && page.body.contains("too many failed logins"));
        let r = admin
            .post(
                "/admin/blocked/unblock",
                &[("kind", "user"), ("subject", "ana")],
            )
            .await;
        r.assert_redirect("/admin/blocked");
        let page = admin.get("/admin/blocked").await;
        assert!(page.body.contains("ana is unblocked"), "{}", page.body);
        assert!(page.body.contains("Nothing is blocked."));

        ana.login("ana", "ana-password-1")
            .await
            .assert_redirect("/");
        assert_eq!(ana.get("/").await.status, 200);
        let actions: Vec<String> = store
            .audit_entries(&AuditFilter {
                user: Some("ana".into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for a in ["login_failed", "block", "unblock", "login"] {
            assert!(
                actions.iter().any(|x| x == a),
                "audit lacks {a}: {actions:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_success_resets_the_counter_and_unknown_users_behave_alike() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        let (state, app) = app(store, Config::default());
        let mut c = Client::new(&app);
        for _ in 0..2 {
            assert_eq!(c.login(ADMIN, "nope-nope").await.status, 401);
        }
        c.login(ADMIN, ADMIN_PW).await.assert_redirect("/");
        assert_eq!(
            store.login_failures(BlockKind::User, ADMIN).await.unwrap(),
            0
        );
        // Unknown name: same answers, and a hash is computed all the same.
        let mut u = Client::new(&app).with_peer("192.0.2.77:1");
        let mut k = Client::new(&app).with_peer("192.0.2.78:1");
        let before = state.guard().hashes_computed();
        let known = k.login(ADMIN, "nope-nope").await;
        let unknown = u.login("ghost", "nope-nope").await;
        assert_eq!(state.guard().hashes_computed(), before + 2);
        assert_eq!(known.status, unknown.status);
        assert!(unknown.body.contains("Wrong username or password."));
        u.login("ghost", "nope-nope").await;
        let r = u.login("ghost", "nope-nope").await;
        assert!(
            r.body.contains("This account is blocked"),
            "unknown names block too"
        );
    }
}

#[tokio::test]
async fn roles_are_enforced_on_pages_and_actions() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        add_user(store, "sup", "sup-password-1", Role::Supervisor, false).await;
        add_user(store, "agent1", "agent-password-1", Role::Agent, false).await;
        let (_, app) = app(store, Config::default());
        for (name, pw) in [("sup", "sup-password-1"), ("agent1", "agent-password-1")] {
            let mut c = Client::new(&app);
            c.login(name, pw).await.assert_redirect("/");
            let home = c.get("/").await;
            assert_eq!(home.status, 200);
            assert!(
                !home.body.contains("/admin/users"),
                "no admin links for {name}"
            );
            for path in ["/admin/users", "/admin/blocked", "/admin/audit"] {
                let r = c.get(path).await;
                assert_eq!(r.status, 403, "{name} opened {path} on {}", ts.label);
                assert!(r.body.contains("You do not have access"));
            }
            let r = c
                .post(
                    "/admin/users",
                    &[
                        ("username", "sneaky"),
                        ("role", "admin"),
                        ("password", "sneaky-pass-1"),
                    ],
                )
                .await;
            assert_eq!(r.status, 403);
            let r = c
                .post(
                    "/admin/users/role",
                    &[("username", name), ("role", "admin")],
                )
                .await;
            assert_eq!(r.status, 403);
            assert!(store.user_by_name("sneaky").await.unwrap().is_none());
            assert_ne!(
                store.user_by_name(name).await.unwrap().unwrap().role,
                Role::Admin
            );
        }
        // Anonymous users are sent to the login page, for GET and POST alike.
        let mut anon = Client::new(&app);
        anon.get("/admin/users").await.assert_redirect("/login");
        anon.get("/login").await;
        anon.post("/admin/users", &[("username", "x")])
            .await
            .assert_redirect("/login");
    }
}

#[tokio::test]
async fn csrf_is_required_on_every_state_changing_request() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        let (_, app) = app(store, Config::default());
        let mut c = Client::new(&app);
        // Login itself needs the pre-session token.
        let r = c
            .post_raw("/login", &[("username", ADMIN), ("password", ADMIN_PW)])
            .await;
        assert_eq!(r.status, 403);
        c.login(ADMIN, ADMIN_PW).await.assert_redirect("/");
        c.get("/admin/users").await;
        let fields = [
            ("username", "newbie"),
            ("role", "agent"),
            ("password", "newbie-pass-1"),
        ];
        assert_eq!(c.post_raw("/admin/users", &fields).await.status, 403);
        let mut with_wrong = fields.to_vec();
        with_wrong.push((
            "csrf_token",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ));
        assert_eq!(c.post_raw("/admin/users", &with_wrong).await.status, 403);
        c.origin = Some("https://evil.example".into());
        assert_eq!(c.post("/admin/users", &fields).await.status, 403);
        assert!(store.user_by_name("newbie").await.unwrap().is_none());
        c.origin = Some("http://console.test".into());
        c.post("/admin/users", &fields)
            .await
            .assert_redirect("/admin/users");
        assert!(store.user_by_name("newbie").await.unwrap().is_some());
        // Logout is a POST too.
        assert_eq!(c.post_raw("/logout", &[]).await.status, 403);
        c.post("/logout", &[]).await.assert_redirect("/login");
        c.get("/").await.assert_redirect("/login");
    }
}

#[tokio::test]
async fn cookies_sessions_and_idle_expiry() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        let mut config = Config::default();
        config.web.session_idle_seconds = 60;
        let (_, app) = app(store, config);
        let mut c = Client::new(&app);
        let r = c.login(ADMIN, ADMIN_PW).await;
        let session = r
            .set_cookies
            .iter()
            .find(|s| s.starts_with("oml_session="))
            .expect("session cookie");
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
        assert!(!session.contains("Secure"), "plain HTTP: no Secure flag");
        assert_eq!(c.get("/").await.status, 200);
        // Idle for longer than the limit: the session is over.
        let token = c.cookies["oml_session"].clone();
        let hash = oml_web::session::token_hash(&token);
        store
            .touch_web_session(&hash, oml_store::now_ms() - 61_000)
            .await
            .unwrap();
        let r = c.get("/").await;
        r.assert_redirect("/login");
        assert!(
            store.web_session(&hash).await.unwrap().is_none(),
            "expired session deleted"
        );
        let login = c.get("/login").await;
        assert!(login.body.contains("Your session ended"));
    }
}

#[tokio::test]
async fn secure_cookies_behind_a_trusted_https_proxy() {
    let ts = oml_store::testing::sqlite().await;
    add_user(&ts.store, ADMIN, ADMIN_PW, Role::Admin, false).await;
    let mut config = Config::default();
    config.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let (_, app) = app(&ts.store, config);
    let mut c = Client::new(&app).with_peer("127.0.0.1:5555");
    c.get("/login").await;
    let mut req_cookies = c.cookies.clone();
    req_cookies.remove("oml_session");
    // Through nginx with TLS: X-Forwarded-Proto https.
    let body = serde_urlencoded::to_string([
        ("username", ADMIN),
        ("password", ADMIN_PW),
        ("csrf_token", &c.csrf()),
    ])
    .unwrap();
    use axum::http::{header, Request};
    use tower::ServiceExt;
    let mut req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(
            header::COOKIE,
            format!("oml_csrf={}", c.cookies["oml_csrf"]),
        )
        .header("x-forwarded-proto", "https")
        .body(axum::body::Body::from(body))
        .unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(
        "127.0.0.1:5555".parse::<std::net::SocketAddr>().unwrap(),
    ));
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 303);
    let cookie = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|s| s.starts_with("oml_session="))
        .unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    // Over HTTPS the browser is told to stay on HTTPS; over plain HTTP not.
    assert_eq!(
        resp.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );
    let plain = app
        .clone()
        .oneshot({
            let mut r = Request::get("/login")
                .body(axum::body::Body::empty())
                .unwrap();
            r.extensions_mut().insert(axum::extract::ConnectInfo(
                "127.0.0.1:5555".parse::<std::net::SocketAddr>().unwrap(),
            ));
            r
        })
        .await
        .unwrap();
    assert!(!plain
        .headers()
        .contains_key(header::STRICT_TRANSPORT_SECURITY));
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        let mut config = Config::default();
        config.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        let (_, app) = app(store, config);
        // Untrusted peer: its header is ignored.
        let mut direct = Client::new(&app).with_peer("198.51.100.1:1000");
        direct.forwarded_for = Some("203.0.113.99".into());
        direct.login("nobody1", "wrong-password").await;
        // Trusted proxy: the header names the client.
        let mut proxied = Client::new(&app).with_peer("127.0.0.1:2000");
        proxied.forwarded_for = Some("203.0.113.5".into());
        proxied.login("nobody2", "wrong-password").await;
        let entries = store.audit_entries(&AuditFilter::default()).await.unwrap();
        let ip_of = |who: &str| {
            entries
                .iter()
                .find(|e| e.subject == who && e.action == "login_failed")
                .and_then(|e| e.ip.clone())
        };
        assert_eq!(
            ip_of("nobody1").as_deref(),
            Some("198.51.100.1"),
            "{}",
            ts.label
        );
        assert_eq!(
            ip_of("nobody2").as_deref(),
            Some("203.0.113.5"),
            "{}",
            ts.label
        );
    }
}

#[tokio::test]
async fn temporary_passwords_must_be_changed_first() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        add_user(store, "temp", "temporary-pw-1", Role::Supervisor, true).await;
        let (_, app) = app(store, Config::default());
        let mut c = Client::new(&app);
        c.login("temp", "temporary-pw-1")
            .await
            .assert_redirect("/account/password");
        c.get("/").await.assert_redirect("/account/password");
        let page = c.get("/account/password").await;
        assert!(page.body.contains("temporary password"));
        let r = c
            .post(
                "/account/password",
                &[
                    ("current_password", "not-the-current"),
                    ("new_password", "brand-new-pw-1"),
                    ("new_password_confirm", "brand-new-pw-1"),
                ],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("This is not your current password."));
        let r = c
            .post(
                "/account/password",
                &[
                    ("current_password", "temporary-pw-1"),
                    ("new_password", "brand-new-pw-1"),
                    ("new_password_confirm", "brand-new-pw-1"),
                ],
            )
            .await;
        r.assert_redirect("/");
        assert_eq!(c.get("/").await.status, 200);
        let u = store.user_by_name("temp").await.unwrap().unwrap();
        assert!(!u.must_change_password);
        assert!(oml_store::verify_password_hash(
            &"brand-new-pw-1".to_string().into(),
            &u.password_hash
        ));
    }
}

#[tokio::test]
async fn admin_manages_users_and_reads_the_audit_log() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        let (_, app) = app(store, Config::default());
        let mut a = Client::new(&app);
        a.login(ADMIN, ADMIN_PW).await;
        a.get("/admin/users").await;
        a.post(
            "/admin/users",
            &[
                ("username", "maria"),
                ("role", "supervisor"),
                ("password", "maria-temp-1"),
                ("temporary", "1"),
            ],
        )
        .await
        .assert_redirect("/admin/users");
        let maria = store.user_by_name("maria").await.unwrap().unwrap();
        assert_eq!(maria.role, Role::Supervisor);
        assert!(maria.must_change_password);
        // Duplicate: inline error.
        a.get("/admin/users").await;
        let r = a
            .post(
                "/admin/users",
                &[
                    ("username", "maria"),
                    ("role", "agent"),
                    ("password", "another-pw-1"),
                ],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("already exists"));
        // Role change, deactivate (logs her out), reset password.
        let mut m = Client::new(&app).with_peer("192.0.2.30:1");
        m.login("maria", "maria-temp-1").await;
        a.post(
            "/admin/users/role",
            &[("username", "maria"), ("role", "agent")],
        )
        .await
        .assert_redirect("/admin/users");
        assert_eq!(
            store.user_by_name("maria").await.unwrap().unwrap().role,
            Role::Agent
        );
        a.post(
            "/admin/users/active",
            &[("username", "maria"), ("active", "false")],
        )
        .await
        .assert_redirect("/admin/users");
        m.get("/account/password").await.assert_redirect("/login");
        assert_eq!(
            m.login("maria", "maria-temp-1").await.status,
            401,
            "deactivated"
        );
        a.post(
            "/admin/users/active",
            &[("username", "maria"), ("active", "true")],
        )
        .await;
        a.post(
            "/admin/users/password",
            &[("username", "maria"), ("password", "reset-temp-9")],
        )
        .await
        .assert_redirect("/admin/users");
        store
            .reset_login_failures(BlockKind::User, "maria")
            .await
            .unwrap();
        m.login("maria", "reset-temp-9")
            .await
            .assert_redirect("/account/password");
        // An admin cannot lock themselves out.
        a.get("/admin/users").await;
        let r = a
            .post(
                "/admin/users/active",
                &[("username", ADMIN), ("active", "false")],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("cannot deactivate yourself"));
        let r = a
            .post(
                "/admin/users/role",
                &[("username", ADMIN), ("role", "agent")],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(store.user_by_name(ADMIN).await.unwrap().unwrap().active);
        // The audit log lists it all and filters by user.
        let page = a.get("/admin/audit?user=maria").await;
        assert_eq!(page.status, 200);
        for action in [
            "user_add",
            "role_change",
            "user_deactivate",
            "user_activate",
            "password_reset",
            "login",
        ] {
            assert!(page.body.contains(action), "audit page lacks {action}");
        }
        assert!(!page.body.contains(">setup<"));
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let page = a
            .get(&format!("/admin/audit?from={today}&to={today}"))
            .await;
        assert!(page.body.contains("user_add"));
        let page = a.get("/admin/audit?from=2000-01-01&to=2000-01-02").await;
        assert!(page.body.contains("No entries match."));
    }
}

#[tokio::test]
async fn two_setup_forms_at_once_create_one_admin() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let (_, app) = app(store, Config::default());
        let mut a = Client::new(&app);
        let mut b = Client::new(&app).with_peer("192.0.2.11:1");
        a.get("/setup").await;
        b.get("/setup").await;
        let fa = [
            ("username", "first"),
            ("password", ADMIN_PW),
            ("password_confirm", ADMIN_PW),
        ];
        let fb = [
            ("username", "second"),
            ("password", ADMIN_PW),
            ("password_confirm", ADMIN_PW),
        ];
        let (ra, rb) = tokio::join!(a.post("/setup", &fa), b.post("/setup", &fb));
        let mut codes = [ra.status.as_u16(), rb.status.as_u16()];
        codes.sort();
        assert_eq!(codes, [303, 404], "{}", ts.label);
        assert_eq!(store.users().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_temporary_admin_can_do_nothing_before_changing_the_password() {
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    add_user(store, "tmpadmin", "temporary-pw-1", Role::Admin, true).await;
    let (_, app) = app(store, Config::default());
    let mut c = Client::new(&app);
    c.login("tmpadmin", "temporary-pw-1")
        .await
        .assert_redirect("/account/password");
    c.get("/account/password").await;
    let r = c
        .post(
            "/admin/users",
            &[
                ("username", "x2"),
                ("role", "admin"),
                ("password", "x2-password-1"),
            ],
        )
        .await;
    r.assert_redirect("/account/password");
    c.get("/admin/blocked")
        .await
        .assert_redirect("/account/password");
    assert!(store.user_by_name("x2").await.unwrap().is_none());
}
