//! Running the console: plain HTTP or HTTPS (rustls, PEM files), the peer
//! address passed to handlers for lock-out and the audit log, and a graceful
//! shutdown that lets requests in flight finish.

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {reason} (is another program using the port? change `--listen` or `[web] listen` in oml.toml)")]
    Bind { addr: SocketAddr, reason: String },
    #[error("cannot load the TLS certificate {cert} / key {key}: {reason} (check `[web] tls_cert` and `tls_key` in oml.toml: PEM files readable by oml)")]
    Tls {
        cert: String,
        key: String,
        reason: String,
    },
    #[error("the web server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// PEM certificate chain and private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Binds the listening socket (so the caller knows the port before serving).
pub fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, ServeError> {
    std::net::TcpListener::bind(addr).map_err(|e| ServeError::Bind {
        addr,
        reason: e.to_string(),
    })
}

/// Serves `app` on `listener` until `shutdown` completes, then waits up to
/// [`SHUTDOWN_GRACE`] for requests in flight.
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<TlsFiles>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing requests in flight");
        h.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(make)
                .await?
        }
        Some(files) => {
            // One crypto provider for the process (ring); ignore "already set".
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = RustlsConfig::from_pem_file(&files.cert, &files.key)
                .await
                .map_err(|e| ServeError::Tls {
                    cert: files.cert.display().to_string(),
                    key: files.key.display().to_string(),
                    reason: e.to_string(),
                })?;
            axum_server::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(make)
                .await?
        }
    }
    Ok(())
}
