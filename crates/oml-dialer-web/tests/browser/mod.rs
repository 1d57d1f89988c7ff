//! What the browser tests share: the console served on a loopback port,
//! chromedriver and a headless Chromium started for it (chromedriver is
//! killed when the session is dropped), and the steps every page test
//! takes (log in, fill, submit and wait for the next page, read an
//! element's text, screenshots to `<target>/e2e-screenshots/`).

#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &[&str] = &["/usr/bin/chromium", "/usr/bin/chromium-browser"];
const CHROMEDRIVER: &[&str] = &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];

pub fn first_existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.exists())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills chromedriver when the test ends, however it ends.
pub struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn shot(c: &Client, label: &str, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    let path = screenshot_dir().join(format!("{label}-{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

pub async fn text_of(c: &Client, css: &str) -> String {
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

pub async fn fill(c: &Client, name: &str, value: &str) {
    let el = c
        .find(Locator::Css(&format!("[name=\"{name}\"]")))
        .await
        .unwrap_or_else(|e| panic!("no field {name}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(value).await.unwrap();
}

pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Clicks a submit button and waits until its page has been replaced, so
/// what is read next comes from the page the form led to.
pub async fn submit(c: &Client, css: &str) {
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

pub async fn login(c: &Client, base: &str, user: &str, password: &str) {
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

pub async fn logout(c: &Client) {
    click(c, "#logout").await;
    c.wait()
        .for_element(Locator::Css("#login-submit"))
        .await
        .unwrap();
}

/// Chromium and chromedriver, or `None` after printing that `test` is
/// skipped because they are not installed.
pub fn tools(test: &str) -> Option<(PathBuf, PathBuf)> {
    match (first_existing(CHROMIUM), first_existing(CHROMEDRIVER)) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => {
            eprintln!(
                "\n==============================================================\n\
                 SKIPPED: {test}: chromium and/or chromedriver not installed\n\
                 (apt-get install -y chromium chromium-driver)\n\
                 ==============================================================\n"
            );
            None
        }
    }
}

/// The whole console (as `oml serve` runs it) on a loopback port, and a
/// headless Chromium driven through chromedriver.
pub struct Session {
    pub client: Client,
    pub base: String,
    /// Chromium's profile folder (files to upload may go there too).
    pub profile: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), oml_web::server::ServeError>>,
    _driver: Driver,
}

impl Session {
    pub async fn start(store: &oml_store::Store, chromium: &Path, chromedriver: &Path) -> Session {
        // The console on a free loopback port.
        let app = oml_dialer_web::console(store.clone(), oml_config::Config::default()).unwrap();
        let listener = oml_web::server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(oml_web::server::serve(listener, app, None, async {
            let _ = stop_rx.await;
        }));

        // chromedriver on another free port.
        let port = free_port();
        let driver = Driver(
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
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("WebDriver session");
        Session {
            client,
            base,
            profile,
            stop,
            server,
            _driver: driver,
        }
    }

    /// Closes the browser and stops the console.
    pub async fn finish(self) {
        self.client.close().await.unwrap();
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}
