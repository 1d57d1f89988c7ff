//! End to end in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver with fantoccini, against the
//! whole console (`oml_dialer_web::console`, as `oml serve` runs it) served
//! on a loopback port, on SQLite and PostgreSQL: first-run setup, adding
//! users, three wrong passwords → the blocked message, the admin unblocks
//! from the page, the user logs in again, a supervisor cannot open admin
//! pages, then sets up the dialer in the browser (server, trunk, campaign,
//! a contact file uploaded from disk, start). Screenshots go to
//! `<target>/e2e-screenshots/`.

mod browser;

use browser::{fill, login, logout, shot, submit, text_of};
use fantoccini::Locator;
use std::path::Path;

#[tokio::test]
async fn console_in_headless_chromium() {
    let Some((chromium, chromedriver)) = browser::tools("end-to-end console test") else {
        return;
    };
    for ts in oml_store::testing::backends().await {
        run_flow(&ts.store, ts.label, &chromium, &chromedriver).await;
    }
}

async fn run_flow(store: &oml_store::Store, label: &str, chromium: &Path, chromedriver: &Path) {
    let session = browser::Session::start(store, chromium, chromedriver).await;
    let (c, base) = (&session.client, session.base.clone());
    let profile = &session.profile;

    // 1. First run: the console sends to the setup page.
    c.goto(&format!("{base}/")).await.unwrap();
    if c.wait()
        .for_element(Locator::Css("#setup-submit"))
        .await
        .is_err()
    {
        panic!(
            "no setup page at {}: {}",
            c.current_url().await.unwrap(),
            c.source().await.unwrap_or_default()
        );
    }
    assert!(c.current_url().await.unwrap().path().ends_with("/setup"));
    shot(c, label, "01-setup").await;
    fill(c, "username", "admin").await;
    fill(c, "password", "admin-password-1").await;
    fill(c, "password_confirm", "admin-password-1").await;
    submit(c, "#setup-submit").await;
    assert!(text_of(c, "h1").await.contains("Welcome, admin"));
    assert!(text_of(c, "#flash").await.contains("Setup complete"));
    shot(c, label, "02-home-admin").await;

    // 2. The admin adds a supervisor and an agent.
    for (name, role) in [("sup", "supervisor"), ("ana", "agent")] {
        c.goto(&format!("{base}/admin/users")).await.unwrap();
        c.wait()
            .for_element(Locator::Css("#add-user-submit"))
            .await
            .unwrap();
        fill(c, "username", name).await;
        c.find(Locator::Css("#f-role"))
            .await
            .unwrap()
            .select_by_value(role)
            .await
            .unwrap();
        fill(c, "password", &format!("{name}-password-1")).await;
        // Not temporary: they log straight in.
        let temp = c.find(Locator::Css("input[name=temporary]")).await.unwrap();
        if temp.is_selected().await.unwrap() {
            temp.click().await.unwrap();
        }
        submit(c, "#add-user-submit").await;
        assert!(text_of(c, "#flash").await.contains("added"));
    }
    // An inline error, shown escaped.
    fill(c, "username", "<script>x</script>").await;
    fill(c, "password", "whatever-1").await;
    submit(c, "#add-user-submit").await;
    let err = text_of(c, "#e-username").await;
    assert!(err.contains("not allowed"), "{err}");
    shot(c, label, "03-users-inline-error").await;
    logout(c).await;

    // 3. Three wrong passwords: the blocked message.
    for i in 1..=3 {
        login(c, &base, "ana", "not-her-password").await;
        if i < 3 {
            assert!(text_of(c, "#login-error")
                .await
                .contains("Wrong username or password"));
        }
    }
    let msg = text_of(c, "#blocked-message").await;
    assert!(msg.contains("This account is blocked"), "{msg}");
    assert!(msg.contains("Contact your administrator"), "{msg}");
    shot(c, label, "04-login-blocked").await;
    // The right password does not help while blocked.
    login(c, &base, "ana", "ana-password-1").await;
    assert!(text_of(c, "#blocked-message").await.contains("blocked"));

    // 4. The admin unblocks her from the Blocked users page.
    login(c, &base, "admin", "admin-password-1").await;
    c.wait().for_element(Locator::Css("#logout")).await.unwrap();
    c.goto(&format!("{base}/admin/blocked")).await.unwrap();
    let row = text_of(c, "#blocks").await;
    assert!(row.contains("ana") && row.contains("3"), "{row}");
    shot(c, label, "05-blocked-users").await;
    submit(c, "#unblock-user-ana").await;
    assert!(text_of(c, "#flash").await.contains("ana is unblocked"));
    assert!(text_of(c, "#no-blocks")
        .await
        .contains("Nothing is blocked"));
    shot(c, label, "06-unblocked").await;
    logout(c).await;

    // 5. She logs in again.
    login(c, &base, "ana", "ana-password-1").await;
    assert!(text_of(c, "h1").await.contains("Welcome, ana"));
    let nav = c.find_all(Locator::Css("nav a")).await.unwrap();
    for a in nav {
        assert_ne!(
            a.text().await.unwrap(),
            "Users",
            "agents see no admin links"
        );
    }
    logout(c).await;

    // 6. A supervisor cannot open the admin pages.
    login(c, &base, "sup", "sup-password-1").await;
    assert!(text_of(c, "h1").await.contains("Welcome, sup"));
    for path in ["/admin/blocked", "/admin/users", "/admin/audit"] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        let m = text_of(c, "#error-message").await;
        assert!(m.contains("You do not have access"), "{path}: {m}");
    }
    shot(c, label, "07-supervisor-forbidden").await;

    // 7. The supervisor sets up the dialer in the browser.
    c.goto(&format!("{base}/dialer")).await.unwrap();
    submit(c, "#setup-link").await;
    c.wait()
        .for_element(Locator::Css("#add-server-submit"))
        .await
        .unwrap();
    for (name, value) in [
        ("name", "pbx1"),
        ("host", "127.0.0.1"),
        ("ami_user", "oml"),
        ("ami_secret", "ami-secret-1"),
    ] {
        let field = format!("#add-server [name=\"{name}\"]");
        let el = c.find(Locator::Css(&field)).await.unwrap();
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }
    submit(c, "#add-server-submit").await;
    assert!(text_of(c, "#flash").await.contains("pbx1 added"));
    let el = c
        .find(Locator::Css("#add-trunk [name=\"name\"]"))
        .await
        .unwrap();
    el.send_keys("carrier").await.unwrap();
    submit(c, "#add-trunk-submit").await;
    assert!(text_of(c, "#flash").await.contains("Trunk carrier added"));
    shot(c, label, "08-dialer-setup").await;

    c.goto(&format!("{base}/dialer")).await.unwrap();
    submit(c, "#new-campaign").await;
    c.wait()
        .for_element(Locator::Css("#campaign-submit"))
        .await
        .unwrap();
    fill(c, "name", "sales").await;
    fill(c, "window", "00:00-24:00").await;
    fill(c, "days", "all").await;
    submit(c, "#campaign-submit").await;
    // Created: on to its contact lists, where a file goes up from disk.
    assert!(text_of(c, "#flash")
        .await
        .contains("Campaign sales created"));
    let csv = profile.path().join("leads.csv");
    std::fs::write(
        &csv,
        "nombre;telefono\nAna;+54 9 11 5555-0001\nBo;12\nCy;+5491155550002\n",
    )
    .unwrap();
    c.find(Locator::Css("#f-file"))
        .await
        .unwrap()
        .send_keys(&csv.display().to_string())
        .await
        .unwrap();
    submit(c, "#upload-submit").await;
    let result = text_of(c, "#import-result").await;
    assert!(result.contains("2 of 3 rows imported"), "{result}");
    assert!(text_of(c, "#rejections").await.contains("12"));
    shot(c, label, "09-contacts-uploaded").await;

    c.goto(&format!("{base}/dialer")).await.unwrap();
    submit(c, "#start-sales").await;
    assert!(text_of(c, "#flash").await.contains("the dialer is stopped"));
    submit(c, "#dialer-start").await;
    assert!(text_of(c, "#flash").await.contains("Dialer started"));
    assert!(text_of(c, "#campaign-sales").await.contains("running"));
    shot(c, label, "10-dialer-started").await;
    assert!(oml_dialer::control::is_playing(store).await.unwrap());
    assert_eq!(
        store
            .campaign_by_name("sales")
            .await
            .unwrap()
            .unwrap()
            .state,
        oml_store::CampaignState::Running
    );
    logout(c).await;

    // The audit log has it all.
    login(c, &base, "admin", "admin-password-1").await;
    c.goto(&format!("{base}/admin/audit?user=ana"))
        .await
        .unwrap();
    let audit = text_of(c, "#audit").await;
    for action in ["login_failed", "block", "unblock", "login"] {
        assert!(audit.contains(action), "audit lacks {action}");
    }
    shot(c, label, "11-audit").await;

    session.finish().await;
}
