//! The real server: HTTPS with PEM files (a self-signed certificate made by
//! `openssl` for the test, fetched with `curl -k`) gives `Secure` cookies;
//! a bad key file gives an error naming the files; a graceful shutdown lets
//! the server future finish.

use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
        || Command::new(tool).arg("version").output().is_ok()
}

#[tokio::test]
async fn https_serves_secure_cookies_and_stops_gracefully() {
    if !have("openssl") || !have("curl") {
        eprintln!("\n=====\nSKIPPED: TLS test needs the openssl and curl commands\n=====\n");
        return;
    }
    let ts = oml_store::testing::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );

    let mut config = oml_config::Config::default();
    config.web.tls_cert = Some(cert.clone());
    config.web.tls_key = Some(key.clone());
    let state = oml_web::AppState::new(ts.store.clone(), config).unwrap();
    let listener = oml_web::server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(oml_web::server::serve(
        listener,
        oml_web::app(state),
        Some(oml_web::server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        async {
            let _ = stop_rx.await;
        },
    ));
    let url = format!("https://{addr}/setup");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-k", "-s", "-D", "-", "-o", "/dev/null", "--max-time", "10"])
            .arg(url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let headers = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(headers.starts_with("http/"), "no HTTPS answer: {headers}");
    assert!(headers.contains(" 200"), "{headers}");
    assert!(
        headers.contains("strict-transport-security: max-age=31536000"),
        "HSTS over TLS: {headers}"
    );
    let csrf = headers
        .lines()
        .find(|l| l.starts_with("set-cookie: oml_csrf="))
        .expect("pre-session cookie");
    assert!(
        csrf.contains("secure") && csrf.contains("httponly"),
        "{csrf}"
    );

    stop_tx.send(()).unwrap();
    let finished = tokio::time::timeout(std::time::Duration::from_secs(15), server).await;
    assert!(
        matches!(finished, Ok(Ok(Ok(())))),
        "graceful stop: {finished:?}"
    );

    // A key that is not a key: the error names both files.
    std::fs::write(&key, "not a key").unwrap();
    let listener = oml_web::server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let state = oml_web::AppState::new(ts.store.clone(), oml_config::Config::default()).unwrap();
    let err = oml_web::server::serve(
        listener,
        oml_web::app(state),
        Some(oml_web::server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        std::future::pending(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("key.pem") && err.contains("tls_key"), "{err}");
}

#[tokio::test]
async fn a_busy_port_is_reported_with_what_to_change() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = oml_web::server::bind(taken.local_addr().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--listen") && err.contains("oml.toml"),
        "{err}"
    );
}
