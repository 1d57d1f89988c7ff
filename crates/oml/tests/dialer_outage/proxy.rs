//! A TCP proxy the test can cut: the engine reaches PostgreSQL through it,
//! the test's own store does not. Cut, it closes every connection and
//! drops each new one at once (as a database that is down or unreachable
//! does); restored, it forwards again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Proxy {
    pub port: u16,
    down: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Forwards a local port to `target` (`host:port`).
    pub async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (d, c) = (down.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                c.lock().unwrap().push(task);
            }
        });
        Proxy {
            port,
            down,
            conns,
            accept,
        }
    }

    /// The database becomes unreachable for the engine.
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for t in self.conns.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// It is reachable again.
    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// `url` with its `host:port` replaced by the proxy's, and the original
/// `host:port`.
pub fn through(url: &str, port: u16) -> (String, String) {
    let at = url
        .rfind('@')
        .map_or(url.find("//").unwrap() + 2, |i| i + 1);
    let end = url[at..].find('/').map_or(url.len(), |i| at + i);
    let target = url[at..end].to_owned();
    let target = if target.contains(':') {
        target
    } else {
        format!("{target}:5432")
    };
    (
        format!("{}127.0.0.1:{port}{}", &url[..at], &url[end..]),
        target,
    )
}
