//! The TCP side of the simulator: accepts AMI clients, greets them, feeds
//! their actions to the shared [`World`], writes responses and broadcasts
//! events, runs the timer loop, and injects faults on request. Hostile
//! input (oversized frames, garbage) drops that one connection with a
//! logged reason; the simulator goes on. How each session ended is
//! classified and counted in `ends.rs`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use oml_ami::{encode_message, AmiCodec, Frame, Message};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, Notify};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use crate::config::SimConfig;
use crate::ends::{ClientEnd, ClientEnds, EndCounters};
use crate::world::{Session, Stats, World};

/// A fault to inject into every connected client, for tests of reconnects
/// and robustness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Close every client connection at once (no Goodbye).
    DropConnections,
    /// Stop reading and writing for this long (actions and events queue up).
    Stall(Duration),
    /// Write these bytes to every client as if they were AMI.
    Garbage(Vec<u8>),
}

/// One batch of events: each event's `Privilege` header (to filter by the
/// session's read classes) and its bytes.
type Batch = Arc<Vec<(String, Bytes)>>;

/// One connected AMI session, as [`PbxSim::sessions`] reports it (what
/// Asterisk's `manager show connected` lists, plus the events sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// The user logged in (empty before the login).
    pub user: String,
    /// Events written to this session so far (after its read classes,
    /// event mask and filters).
    pub events_sent: u64,
    /// Events that passed its read classes but not its event mask or
    /// filters (not sent).
    pub events_filtered: u64,
    /// `Filter`s the session added.
    pub filters: usize,
}

struct Shared {
    world: Mutex<World>,
    sessions: Mutex<BTreeMap<u64, SessionInfo>>,
    next_session: AtomicU64,
    events: broadcast::Sender<Batch>,
    faults: broadcast::Sender<Fault>,
    wake: Notify,
    cancel: CancellationToken,
    connections: AtomicUsize,
    ends: EndCounters,
    greeting: Bytes,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, World> {
        // A panic in another task must not wedge the simulator.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, events: &[Message]) {
        if events.is_empty() {
            return;
        }
        let mut batch = Vec::with_capacity(events.len());
        for e in events {
            let mut buf = BytesMut::new();
            match encode_message(e, &mut buf) {
                Ok(()) => batch.push((e.get("Privilege").unwrap_or("").to_owned(), buf.freeze())),
                Err(err) => tracing::error!(error = %err, "pbxsim built an unsendable event"),
            }
        }
        let _ = self.events.send(Arc::new(batch));
    }
}

/// A running simulator. Dropping it without [`PbxSim::shutdown`] also
/// stops it (the tasks notice the cancellation).
pub struct PbxSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for PbxSim {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
    }
}

impl PbxSim {
    /// Binds `cfg.listen` and starts serving. Use port 0 for a free port
    /// and read it back with [`PbxSim::local_addr`].
    pub async fn start(cfg: SimConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(cfg.listen).await?;
        let addr = listener.local_addr()?;
        let (events, _) = broadcast::channel(65_536);
        let (faults, _) = broadcast::channel(64);
        let greeting = Bytes::from(format!("Asterisk Call Manager/{}\r\n", cfg.ami_version));
        let shared = Arc::new(Shared {
            world: Mutex::new(World::new(cfg, Instant::now())),
            sessions: Mutex::new(BTreeMap::new()),
            next_session: AtomicU64::new(1),
            events,
            faults,
            wake: Notify::new(),
            cancel: CancellationToken::new(),
            connections: AtomicUsize::new(0),
            ends: EndCounters::default(),
            greeting,
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        let timers = tokio::spawn(timer_loop(shared.clone()));
        tracing::info!(%addr, "pbxsim listening");
        Ok(Self {
            addr,
            shared,
            tasks: vec![accept, timers],
        })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats()
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        self.shared.lock().active_calls()
    }

    /// Agents free (not talking, not in wrap-up).
    pub fn free_agents(&self) -> usize {
        self.shared.lock().free_agents()
    }

    /// Clients connected now.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// The AMI sessions connected now, oldest first.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.shared
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// One line with every counter, for `oml pbxsim`'s periodic report.
    pub fn stats_line(&self) -> String {
        let s = self.stats();
        format!(
            "clients {} | originates {} answered {} busy {} congestion {} no-answer {} failed {} | connected {} abandoned {} completed {} | active calls {} free agents {}",
            self.connections(),
            s.originates,
            s.answered,
            s.busy,
            s.congestion,
            s.no_answer,
            s.failed,
            s.connected,
            s.abandoned,
            s.completed,
            self.active_calls(),
            self.free_agents()
        )
    }

    /// How the sessions that ended so far ended (logoff, disconnect, bad
    /// input...).
    pub fn client_ends(&self) -> ClientEnds {
        self.shared.ends.snapshot()
    }

    /// Injects a fault into every connected client.
    pub fn inject(&self, fault: Fault) {
        tracing::info!(?fault, "pbxsim fault injected");
        let _ = self.shared.faults.send(fault);
    }

    /// Stops accepting, closes every connection and waits for the tasks.
    pub async fn shutdown(mut self) {
        self.shared.cancel.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        tokio::select! {
            _ = shared.cancel.cancelled() => return,
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let s = shared.clone();
                    tokio::spawn(async move {
                        s.connections.fetch_add(1, Ordering::Relaxed);
                        let sid = s.next_session.fetch_add(1, Ordering::Relaxed);
                        s.sessions.lock().unwrap_or_else(|e| e.into_inner()).insert(
                            sid,
                            SessionInfo {
                                peer,
                                user: String::new(),
                                events_sent: 0,
                                events_filtered: 0,
                                filters: 0,
                            },
                        );
                        let (end, detail) = match serve(stream, peer, sid, &s).await {
                            Ok(end) => end,
                            // A write failed: the client went away.
                            Err(e) => (ClientEnd::Disconnected, Some(e.to_string())),
                        };
                        s.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(&sid);
                        s.ends.record(peer, end, detail.as_deref());
                        s.connections.fetch_sub(1, Ordering::Relaxed);
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pbxsim accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

async fn timer_loop(shared: Arc<Shared>) {
    loop {
        let next = {
            let mut w = shared.lock();
            let mut ev = Vec::new();
            w.advance(Instant::now(), &mut ev);
            shared.publish(&ev);
            w.next_deadline()
        };
        let far = Instant::now() + Duration::from_secs(3600);
        let until = tokio::time::Instant::from_std(next.unwrap_or(far));
        tokio::select! {
            _ = shared.cancel.cancelled() => return,
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep_until(until) => {}
        }
    }
}

async fn recv_events(
    rx: &mut Option<broadcast::Receiver<Batch>>,
) -> Result<Batch, broadcast::error::RecvError> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// Serves one client until its session ends; says how (with the error,
/// if any). A write error is returned as `Err`.
async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    sid: u64,
    shared: &Shared,
) -> std::io::Result<(ClientEnd, Option<String>)> {
    let _ = stream.set_nodelay(true);
    let max_frame = shared.lock().config().max_frame;
    let (r, mut w) = stream.into_split();
    w.write_all(&shared.greeting).await?;
    let mut reader = FramedRead::new(r, AmiCodec::server(max_frame));
    let mut session = Session::default();
    let mut events: Option<broadcast::Receiver<Batch>> = None;
    let mut faults = shared.faults.subscribe();
    let mut out = BytesMut::with_capacity(8192);
    loop {
        tokio::select! {
            _ = shared.cancel.cancelled() => return Ok((ClientEnd::Shutdown, None)),
            f = reader.next() => match f {
                Some(Ok(Frame::Message(m))) => {
                    let action = m.action_name().unwrap_or("").to_ascii_lowercase();
                    if action == "login" {
                        tracing::debug!(%peer, action = %m, "pbxsim login");
                    }
                    let mut ev = Vec::new();
                    let replies = {
                        let mut world = shared.lock();
                        let r = world.handle(&mut session, &m, Instant::now(), &mut ev);
                        shared.publish(&ev);
                        r
                    };
                    if action == "originate" || action == "hangup" {
                        shared.wake.notify_one();
                    }
                    if session.authenticated && events.is_none() {
                        events = Some(shared.events.subscribe());
                    }
                    if action == "login" || action == "filter" {
                        if let Some(info) = shared.sessions.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&sid) {
                            info.user = m.get("Username").map_or(info.user.clone(), str::to_owned);
                            info.filters = session.filters.len();
                        }
                    }
                    for r in &replies {
                        if let Err(e) = encode_message(r, &mut out) {
                            tracing::error!(error = %e, "pbxsim built an unsendable reply");
                        }
                    }
                    // Pipelined actions: answer everything already read in
                    // one write.
                    w.write_all(&out).await?;
                    out.clear();
                    if session.closing {
                        let _ = w.shutdown().await;
                        return Ok((ClientEnd::LoggedOff, None));
                    }
                }
                Some(Ok(Frame::Greeting(_))) => {}
                Some(Err(e)) => return Ok((ClientEnd::of_read_error(&e), Some(e.to_string()))),
                None => return Ok((ClientEnd::Disconnected, None)),
            },
            ev = recv_events(&mut events) => match ev {
                Ok(batch) => {
                    // Only the classes the user may read and asked for,
                    // through its filters, like Asterisk.
                    let (mut sent, mut filtered) = (0u64, 0u64);
                    for (privilege, bytes) in batch.iter() {
                        if !session.may_read_class(privilege) {
                            continue;
                        }
                        if session.may_read(privilege) && session.passes(bytes) {
                            out.extend_from_slice(bytes);
                            sent += 1;
                        } else {
                            filtered += 1;
                        }
                    }
                    if let Some(info) = shared.sessions.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&sid) {
                        info.events_sent += sent;
                        info.events_filtered += filtered;
                    }
                    if out.is_empty() {
                        continue;
                    }
                    w.write_all(&out).await?;
                    out.clear();
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(%peer, missed = n, "pbxsim client too slow; events dropped");
                }
                Err(broadcast::error::RecvError::Closed) => return Ok((ClientEnd::Shutdown, None)),
            },
            f = faults.recv() => match f {
                Ok(Fault::DropConnections) => return Ok((ClientEnd::Dropped, None)),
                Ok(Fault::Stall(d)) => tokio::time::sleep(d).await,
                Ok(Fault::Garbage(bytes)) => w.write_all(&bytes).await?,
                Err(_) => {}
            },
        }
    }
}
