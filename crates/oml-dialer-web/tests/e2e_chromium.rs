//! End to end in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver with fantoccini, against the
//! whole console (`oml_dialer_web::console`, as `oml serve` runs it) served
//! on a loopback port, on SQLite and PostgreSQL: first-run setup, adding
//! users, three wrong passwords → the blocked message, the admin unblocks
//! from the page, the user logs in again, a supervisor cannot open admin
//! pages, then sets up the dialer in the browser (server, trunk, campaign,
//! a contact file uploaded from disk, start). Screenshots go to
//! `<target>/e2e-screenshots/`.

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &[&str] = &["/usr/bin/chromium", "/usr/bin/chromium-browser"];
const CHROMEDRIVER: &[&str] = &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];

fn first_existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.exists())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills chromedriver when the test ends, however it ends.
struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, label: &str, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    let path = screenshot_dir().join(format!("{label}-{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

async fn text_of(c: &Client, css: &str) -> String {
    // The element may belong to the page being left (a form just submitted):
    // when it goes stale before its text is read, find it again on the new page.
    for _ in 0..50 {
        if let Ok(el) = c.wait().for_element(Locator::Css(css)).await {
            match el.text().await {
                Ok(t) => return t,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => panic!("cannot read {css}: {e}"),
            }
        }
        break;
    }
    match c.wait().for_element(Locator::Css(css)).await {
        Ok(el) => el.text().await.unwrap(),
        Err(e) => {
            let url = c
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let src = c.source().await.unwrap_or_default();
            panic!("no {css} on {url}: {e}\n{src}")
        }
    }
}

async fn fill(c: &Client, name: &str, value: &str) {
    let el = c
        .find(Locator::Css(&format!("[name=\"{name}\"]")))
        .await
        .unwrap_or_else(|e| panic!("no field {name}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(value).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Clicks a submit button and waits until its page has been replaced, so
/// what is read next comes from the page the form led to.
async fn submit(c: &Client, css: &str) {
    let form_page = c.find(Locator::Css("html")).await.unwrap();
    click(c, css).await;
    for _ in 0..150 {
        if form_page.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{css}: the page was not replaced within 15 s");
}

async fn login(c: &Client, base: &str, user: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("#login-submit"))
        .await
        .unwrap();
    fill(c, "username", user).await;
    fill(c, "password", password).await;
    let form_page = c.find(Locator::Css("html")).await.unwrap();
    click(c, "#login-submit").await;
    // A submit always loads a new document (the next page, or the login
    // page with its message): wait for it, or a `goto` right after races
    // with the redirect and lands on the wrong page.
    for _ in 0..150 {
        if form_page.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn logout(c: &Client) {
    click(c, "#logout").await;
    c.wait()
        .for_element(Locator::Css("#login-submit"))
        .await
        .unwrap();
}

#[tokio::test]
async fn console_in_headless_chromium() {
    let (Some(chromium), Some(chromedriver)) =
        (first_existing(CHROMIUM), first_existing(CHROMEDRIVER))
    else {
        eprintln!(
            "\n==============================================================\n\
             SKIPPED: end-to-end console test: chromium and/or chromedriver not installed\n\
             (apt-get install -y chromium chromium-driver)\n\
             ==============================================================\n"
        );
        return;
    };
    for ts in oml_store::testing::backends().await {
        run_flow(&ts.store, ts.label, &chromium, &chromedriver).await;
    }
}

async fn run_flow(store: &oml_store::Store, label: &str, chromium: &Path, chromedriver: &Path) {
    // The console on a free loopback port.
    let app = oml_dialer_web::console(store.clone(), oml_config::Config::default()).unwrap();
    let listener = oml_web::server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(oml_web::server::serve(listener, app, None, async {
        let _ = stop_rx.await;
    }));

    // chromedriver on another free port.
    let port = free_port();
    let _driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let mut ready = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "chromedriver did not start on port {port}");
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium.display().to_string(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=1280,860",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let c = ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session");

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
    shot(&c, label, "01-setup").await;
    fill(&c, "username", "admin").await;
    fill(&c, "password", "admin-password-1").await;
    fill(&c, "password_confirm", "admin-password-1").await;
    submit(&c, "#setup-submit").await;
    assert!(text_of(&c, "h1").await.contains("Welcome, admin"));
    assert!(text_of(&c, "#flash").await.contains("Setup complete"));
    shot(&c, label, "02-home-admin").await;

    // 2. The admin adds a supervisor and an agent.
    for (name, role) in [("sup", "supervisor"), ("ana", "agent")] {
        c.goto(&format!("{base}/admin/users")).await.unwrap();
        c.wait()
            .for_element(Locator::Css("#add-user-submit"))
            .await
            .unwrap();
        fill(&c, "username", name).await;
        c.find(Locator::Css("#f-role"))
            .await
            .unwrap()
            .select_by_value(role)
            .await
            .unwrap();
        fill(&c, "password", &format!("{name}-password-1")).await;
        // Not temporary: they log straight in.
        let temp = c.find(Locator::Css("input[name=temporary]")).await.unwrap();
        if temp.is_selected().await.unwrap() {
            temp.click().await.unwrap();
        }
        submit(&c, "#add-user-submit").await;
        assert!(text_of(&c, "#flash").await.contains("added"));
    }
    // An inline error, shown escaped.
    fill(&c, "username", "<script>x</script>").await;
    fill(&c, "password", "whatever-1").await;
    submit(&c, "#add-user-submit").await;
    let err = text_of(&c, "#e-username").await;
    assert!(err.contains("not allowed"), "{err}");
    shot(&c, label, "03-users-inline-error").await;
    logout(&c).await;

    // 3. Three wrong passwords: the blocked message.
    for i in 1..=3 {
        login(&c, &base, "ana", "not-her-password").await;
        if i < 3 {
            assert!(text_of(&c, "#login-error")
                .await
                .contains("Wrong username or password"));
        }
    }
    let msg = text_of(&c, "#blocked-message").await;
    assert!(msg.contains("This account is blocked"), "{msg}");
    assert!(msg.contains("Contact your administrator"), "{msg}");
    shot(&c, label, "04-login-blocked").await;
    // The right password does not help while blocked.
    login(&c, &base, "ana", "ana-password-1").await;
    assert!(text_of(&c, "#blocked-message").await.contains("blocked"));

    // 4. The admin unblocks her from the Blocked users page.
    login(&c, &base, "admin", "admin-password-1").await;
    c.wait().for_element(Locator::Css("#logout")).await.unwrap();
    c.goto(&format!("{base}/admin/blocked")).await.unwrap();
    let row = text_of(&c, "#blocks").await;
    assert!(row.contains("ana") && row.contains("3"), "{row}");
    shot(&c, label, "05-blocked-users").await;
    submit(&c, "#unblock-user-ana").await;
    assert!(text_of(&c, "#flash").await.contains("ana is unblocked"));
    assert!(text_of(&c, "#no-blocks")
        .await
        .contains("Nothing is blocked"));
    shot(&c, label, "06-unblocked").await;
    logout(&c).await;

    // 5. She logs in again.
    login(&c, &base, "ana", "ana-password-1").await;
    assert!(text_of(&c, "h1").await.contains("Welcome, ana"));
    let nav = c.find_all(Locator::Css("nav a")).await.unwrap();
    for a in nav {
        assert_ne!(
            a.text().await.unwrap(),
            "Users",
            "agents see no admin links"
        );
    }
    logout(&c).await;

    // 6. A supervisor cannot open the admin pages.
    login(&c, &base, "sup", "sup-password-1").await;
    assert!(text_of(&c, "h1").await.contains("Welcome, sup"));
    for path in ["/admin/blocked", "/admin/users", "/admin/audit"] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        let m = text_of(&c, "#error-message").await;
        assert!(m.contains("You do not have access"), "{path}: {m}");
    }
    shot(&c, label, "07-supervisor-forbidden").await;

    // 7. The supervisor sets up the dialer in the browser.
    c.goto(&format!("{base}/dialer")).await.unwrap();
    submit(&c, "#setup-link").await;
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
    submit(&c, "#add-server-submit").await;
    assert!(text_of(&c, "#flash").await.contains("pbx1 added"));
    let el = c
        .find(Locator::Css("#add-trunk [name=\"name\"]"))
        .await
        .unwrap();
    el.send_keys("carrier").await.unwrap();
    submit(&c, "#add-trunk-submit").await;
    assert!(text_of(&c, "#flash").await.contains("Trunk carrier added"));
    shot(&c, label, "08-dialer-setup").await;

    c.goto(&format!("{base}/dialer")).await.unwrap();
    submit(&c, "#new-campaign").await;
    c.wait()
        .for_element(Locator::Css("#campaign-submit"))
        .await
        .unwrap();
    fill(&c, "name", "sales").await;
    fill(&c, "window", "00:00-24:00").await;
    fill(&c, "days", "all").await;
    submit(&c, "#campaign-submit").await;
    // Created: on to its contact lists, where a file goes up from disk.
    assert!(text_of(&c, "#flash")
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
    submit(&c, "#upload-submit").await;
    let result = text_of(&c, "#import-result").await;
    assert!(result.contains("2 of 3 rows imported"), "{result}");
    assert!(text_of(&c, "#rejections").await.contains("12"));
    shot(&c, label, "09-contacts-uploaded").await;

    c.goto(&format!("{base}/dialer")).await.unwrap();
    submit(&c, "#start-sales").await;
    assert!(text_of(&c, "#flash")
        .await
        .contains("the dialer is stopped"));
    submit(&c, "#dialer-start").await;
    assert!(text_of(&c, "#flash").await.contains("Dialer started"));
    assert!(text_of(&c, "#campaign-sales").await.contains("running"));
    shot(&c, label, "10-dialer-started").await;
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
    logout(&c).await;

    // The audit log has it all.
    login(&c, &base, "admin", "admin-password-1").await;
    c.goto(&format!("{base}/admin/audit?user=ana"))
        .await
        .unwrap();
    let audit = text_of(&c, "#audit").await;
    for action in ["login_failed", "block", "unblock", "login"] {
        assert!(audit.contains(action), "audit lacks {action}");
    }
    shot(&c, label, "11-audit").await;

    c.close().await.unwrap();
    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
}
