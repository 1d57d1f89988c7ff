//! "Change your password" asks for the current one: a session that guesses
//! it is counted like wrong logins (same limit, block, audit), each guess
//! is hashed through the login guard, and the block ends the account's
//! sessions.

mod common;

use common::*;
use oml_config::Config;
use oml_store::{AuditFilter, BlockKind, Role};

#[tokio::test]
async fn guessing_the_current_password_is_limited_blocked_and_audited() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        add_user(store, "ana", "ana-password-1", Role::Agent, false).await;
        let (state, app) = app(store, Config::default());
        let mut c = Client::new(&app);
        c.login("ana", "ana-password-1").await.assert_redirect("/");
        let hashes = state.guard().hashes_computed();
        let limit = Config::default().lockout.login_failure_limit as usize;

        let guess = |c: &mut Client, n: usize| {
            let g = format!("guess number {n}");
            let fields = [
                ("current_password", g.clone()),
                ("new_password", "a new password 1".to_string()),
                ("new_password_confirm", "a new password 1".to_string()),
            ];
            let token = c.csrf();
            let mut all: Vec<(&str, String)> = fields.to_vec();
            all.push(("csrf_token", token));
            serde_urlencoded::to_string(&all).unwrap()
        };
        for n in 1..limit {
            c.get("/account/password").await;
            let body = guess(&mut c, n);
            let r = c
                .send(axum::http::Method::POST, "/account/password", Some(body))
                .await;
            assert_eq!(r.status, 422, "{}: guess {n}", ts.label);
            assert!(r.body.contains("This is not your current password."));
        }
        assert_eq!(
            state.guard().hashes_computed() - hashes,
            (limit - 1) as u64,
            "{}: each guess went through the login guard",
            ts.label
        );
        // The guess that reaches the limit blocks the account and ends the session.
        c.get("/account/password").await;
        let body = guess(&mut c, limit);
        let r = c
            .send(axum::http::Method::POST, "/account/password", Some(body))
            .await;
        r.assert_redirect("/login");
        let blocks = store.active_blocks(oml_store::now_ms()).await.unwrap();
        assert!(
            blocks
                .iter()
                .any(|b| b.kind == BlockKind::User && b.subject == "ana"),
            "{}: {blocks:?}",
            ts.label
        );
        c.get("/").await.assert_redirect("/login");
        // Blocked: the right password is refused without a hash.
        let before = state.guard().hashes_computed();
        let r = Client::new(&app).login("ana", "ana-password-1").await;
        assert_eq!(r.status, 403, "{}", ts.label);
        assert_eq!(state.guard().hashes_computed(), before);
        let audit = store.audit_entries(&AuditFilter::default()).await.unwrap();
        assert_eq!(
            audit
                .iter()
                .filter(|e| e.action == "password_check_failed" && e.subject == "ana")
                .count(),
            limit,
            "{}",
            ts.label
        );
        assert!(audit
            .iter()
            .any(|e| e.action == "block" && e.subject == "ana"));
        // The right current password still works for someone else, and resets.
        let mut admin = Client::new(&app);
        admin.login(ADMIN, ADMIN_PW).await;
        admin.get("/account/password").await;
        let r = admin
            .post(
                "/account/password",
                &[
                    ("current_password", ADMIN_PW),
                    ("new_password", "the new admin password"),
                    ("new_password_confirm", "the new admin password"),
                ],
            )
            .await;
        r.assert_redirect("/");
        assert_eq!(
            store.login_failures(BlockKind::User, ADMIN).await.unwrap(),
            0
        );
    }
}
