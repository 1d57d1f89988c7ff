//! Every form with empty, over-long, wrong-type and `<script>` input: an
//! inline error, nothing stored, and the input shown back HTML-escaped.

mod common;

use common::*;
use oml_config::Config;
use oml_store::Role;

const SCRIPT: &str = "<script>alert(1)</script>";

fn assert_escaped(body: &str) {
    assert!(!body.contains("<script"), "raw <script> in the page");
    assert!(!body.contains("</script"), "raw </script> in the page");
}

#[tokio::test]
async fn setup_form_rejects_bad_input_and_stores_nothing() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let (_, app) = app(store, Config::default());
        let mut c = Client::new(&app);
        c.get("/setup").await;
        let long = "a".repeat(65);
        let too_long_pw = "p".repeat(1025);
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (
                vec![("username", ""), ("password", ""), ("password_confirm", "")],
                "it is empty",
            ),
            (
                vec![
                    ("username", &long),
                    ("password", ADMIN_PW),
                    ("password_confirm", ADMIN_PW),
                ],
                "longer than 64",
            ),
            (
                vec![
                    ("username", SCRIPT),
                    ("password", ADMIN_PW),
                    ("password_confirm", ADMIN_PW),
                ],
                "is not allowed",
            ),
            (
                vec![
                    ("username", "boss"),
                    ("password", "short"),
                    ("password_confirm", "short"),
                ],
                "at least 8",
            ),
            (
                vec![
                    ("username", "boss"),
                    ("password", &too_long_pw),
                    ("password_confirm", &too_long_pw),
                ],
                "at most 1024",
            ),
            (
                vec![
                    ("username", "boss"),
                    ("password", ADMIN_PW),
                    ("password_confirm", "different-1"),
                ],
                "The two passwords differ.",
            ),
            // Wrong type: a field given twice / missing fields entirely.
            (vec![("username", "boss")], "Enter a password."),
        ];
        for (fields, expected) in cases {
            let r = c.post("/setup", &fields).await;
            assert_eq!(r.status, 422, "{fields:?} on {}", ts.label);
            assert!(
                r.body.contains(expected),
                "{expected:?} missing for {fields:?}"
            );
            assert!(r.body.contains("class=\"error\""), "inline error");
            assert_escaped(&r.body);
        }
        let r = c
            .post(
                "/setup",
                &[
                    ("username", SCRIPT),
                    ("password", ADMIN_PW),
                    ("password_confirm", ADMIN_PW),
                ],
            )
            .await;
        assert!(
            r.body.contains("&lt;script&gt;"),
            "input shown back escaped"
        );
        assert!(store.users().await.unwrap().is_empty(), "nothing stored");
    }
}

#[tokio::test]
async fn login_form_rejects_bad_input_without_counting_or_hashing() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        let (state, app) = app(store, Config::default());
        let mut c = Client::new(&app);
        c.get("/login").await;
        let long = "a".repeat(65);
        let huge_pw = "p".repeat(1025);
        for (fields, expected) in [
            (
                vec![("username", ""), ("password", "")],
                "Enter your username.",
            ),
            (
                vec![("username", ADMIN), ("password", "")],
                "Enter your password.",
            ),
            (
                vec![("username", long.as_str()), ("password", "x")],
                "longer than 64",
            ),
            (
                vec![("username", SCRIPT), ("password", "x")],
                "is not allowed",
            ),
            (
                vec![("username", ADMIN), ("password", huge_pw.as_str())],
                "Wrong username or password.",
            ),
        ] {
            let r = c.post("/login", &fields).await;
            assert_eq!(r.status, 422, "{fields:?}");
            assert!(r.body.contains(expected), "{expected} for {fields:?}");
            assert_escaped(&r.body);
        }
        assert_eq!(state.guard().hashes_computed(), 0);
        assert_eq!(
            store
                .active_blocks(oml_store::now_ms())
                .await
                .unwrap()
                .len(),
            0
        );
    }
}

#[tokio::test]
async fn admin_forms_reject_bad_input_and_store_nothing() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
        let (_, app) = app(store, Config::default());
        let mut a = Client::new(&app);
        a.login(ADMIN, ADMIN_PW).await;
        a.get("/admin/users").await;
        let long = "u".repeat(65);
        for (fields, expected) in [
            (
                vec![("username", ""), ("role", ""), ("password", "")],
                "Choose a role.",
            ),
            (
                vec![
                    ("username", long.as_str()),
                    ("role", "agent"),
                    ("password", "good-pass-1"),
                ],
                "longer than 64",
            ),
            (
                vec![
                    ("username", SCRIPT),
                    ("role", "agent"),
                    ("password", "good-pass-1"),
                ],
                "is not allowed",
            ),
            (
                vec![
                    ("username", "x1"),
                    ("role", "root"),
                    ("password", "good-pass-1"),
                ],
                "Choose admin, supervisor or agent.",
            ),
            (
                vec![
                    ("username", "x1"),
                    ("role", SCRIPT),
                    ("password", "good-pass-1"),
                ],
                "Choose admin, supervisor or agent.",
            ),
            (
                vec![("username", "x1"), ("role", "agent"), ("password", "short")],
                "at least 8",
            ),
        ] {
            let r = a.post("/admin/users", &fields).await;
            assert_eq!(r.status, 422, "{fields:?}");
            assert!(r.body.contains(expected), "{expected} for {fields:?}");
            assert_escaped(&r.body);
        }
        assert_eq!(store.users().await.unwrap().len(), 1, "nothing stored");
        // Row actions: bad values give a row error, change nothing.
        for (path, fields, expected) in [
            (
                "/admin/users/role",
                vec![("username", ADMIN), ("role", "superuser")],
                "Choose admin, supervisor or agent.",
            ),
            (
                "/admin/users/role",
                vec![("username", SCRIPT), ("role", "agent")],
                "No such user.",
            ),
            (
                "/admin/users/active",
                vec![("username", ADMIN), ("active", "maybe")],
                "Use the Activate or Deactivate button.",
            ),
            (
                "/admin/users/password",
                vec![("username", ADMIN), ("password", "")],
                "Enter a password.",
            ),
        ] {
            let r = a.post(path, &fields).await;
            assert_eq!(r.status, 422, "{path} {fields:?}");
            assert!(
                r.body.contains(expected),
                "{expected} for {path}: {}",
                r.body
            );
            assert_escaped(&r.body);
        }
        let admin = store.user_by_name(ADMIN).await.unwrap().unwrap();
        assert_eq!(admin.role, Role::Admin);
        assert!(oml_store::verify_password_hash(
            &ADMIN_PW.to_string().into(),
            &admin.password_hash
        ));
        // Unblock with forged hidden fields: refused with a message.
        let r = a
            .post(
                "/admin/blocked/unblock",
                &[("kind", "table"), ("subject", SCRIPT)],
            )
            .await;
        r.assert_redirect("/admin/blocked");
        let page = a.get("/admin/blocked").await;
        assert!(page.body.contains("was not valid"));
        // Audit filter: wrong types and script.
        for (q, field_msg) in [
            ("/admin/audit?from=yesterday", "Use the form YYYY-MM-DD"),
            ("/admin/audit?to=2026-13-45", "Use the form YYYY-MM-DD"),
            (
                "/admin/audit?user=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                "Enter a username or an IP address.",
            ),
        ] {
            let r = a.get(q).await;
            assert_eq!(r.status, 422, "{q}");
            assert!(r.body.contains(field_msg), "{q}");
            assert_escaped(&r.body);
        }
        // Password change form.
        a.get("/account/password").await;
        for (fields, expected) in [
            (
                vec![
                    ("current_password", ""),
                    ("new_password", ""),
                    ("new_password_confirm", ""),
                ],
                "Enter your current password.",
            ),
            (
                vec![
                    ("current_password", ADMIN_PW),
                    ("new_password", "short"),
                    ("new_password_confirm", "short"),
                ],
                "at least 8",
            ),
            (
                vec![
                    ("current_password", ADMIN_PW),
                    ("new_password", ADMIN_PW),
                    ("new_password_confirm", ADMIN_PW),
                ],
                "different from the current one",
            ),
        ] {
            let r = a.post("/account/password", &fields).await;
            assert_eq!(r.status, 422, "{fields:?}");
            assert!(r.body.contains(expected), "{expected}");
        }
    }
}

#[tokio::test]
async fn stored_text_is_escaped_on_every_page() {
    // Audit details and block subjects come from users: they are escaped.
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    add_user(store, ADMIN, ADMIN_PW, Role::Admin, false).await;
    store
        .audit(
            oml_store::now_ms(),
            "cli:x",
            "note",
            "someone",
            None,
            SCRIPT,
        )
        .await
        .unwrap();
    let (_, app) = app(store, Config::default());
    let mut a = Client::new(&app);
    a.login(ADMIN, ADMIN_PW).await;
    let page = a.get("/admin/audit").await;
    assert!(
        page.body.contains("&lt;script&gt;alert(1)&lt;"),
        "shown escaped"
    );
    assert_escaped(&page.body);
}
