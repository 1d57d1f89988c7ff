//! `oml serve`: runs the web console (first-run setup, login with lock-out,
//! blocked users, users, audit log, the Dialer page), the dialer's JSON API
//! and the dialer engine until SIGTERM or Ctrl-C, then finishes the
//! requests in flight and exits.

use crate::cli::GlobalArgs;
use crate::output::outln;
use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Address and port to listen on (default: `[web] listen` in oml.toml,
    /// else 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// PEM certificate chain; with --tls-key the console serves HTTPS
    /// (default: `[web] tls_cert`).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert (default: `[web] tls_key`).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    let _running = crate::running::hold_shared(&g.data_dir, "oml serve")?;
    let mut config = oml_config::Config::load(&g.data_dir)?;
    if let Some(listen) = a.listen {
        config.web.listen = listen;
    }
    if let (Some(cert), Some(key)) = (a.tls_cert, a.tls_key) {
        config.web.tls_cert = Some(cert);
        config.web.tls_key = Some(key);
    }
    let store = g.open_store().await?;
    let tls = match (&config.web.tls_cert, &config.web.tls_key) {
        (Some(cert), Some(key)) => Some(oml_web::server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    let idle_ms = i64::try_from(config.web.session_idle_seconds)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let app = oml_dialer_web::console(store.clone(), config.clone())
        .context("cannot prepare the web console")?;
    let listener = oml_web::server::bind(config.web.listen)?;
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let first_run = store.count_active_admins().await? == 0;
    tracing::info!(
        address = %local,
        tls = tls.is_some(),
        backend = %store.backend(),
        "web console listening"
    );
    if first_run {
        outln!(
            "oml console: {scheme}://{local}/setup (first run: create the administrator there)"
        )?;
    } else {
        outln!("oml console: {scheme}://{local}/")?;
    }

    // The dialer engine (owner: engine): dials while `oml dialer start` is on.
    let engine_config = super::dialer_run::engine_config(&config, &g.data_dir, None, None, None);
    tracing::info!(node = %engine_config.node, "dialer engine starting");
    let dialer = oml_dialer::Engine::spawn(store.clone(), engine_config);

    // Expired sessions are refused anyway; this only keeps the table small.
    let purge_store = store.clone();
    let purger = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            let before = oml_store::now_ms().saturating_sub(idle_ms);
            match purge_store.purge_web_sessions(before).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(sessions = n, "expired sessions purged"),
                Err(e) => tracing::warn!(error = %e, "cannot purge expired sessions"),
            }
        }
    });

    // Recordings older than recordings.keep_days, daily (docs/recordings.md).
    let retention =
        super::recordings::spawn_daily(store.clone(), config.paths.recordings_dir.clone());

    oml_web::server::serve(listener, app, tls, shutdown_signal()).await?;
    purger.abort();
    retention.abort();
    dialer.shutdown().await;
    store.close().await;
    tracing::info!("web console stopped");
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGTERM (systemd stop) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM; only Ctrl-C stops the console");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
