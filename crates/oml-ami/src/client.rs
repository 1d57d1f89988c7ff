//! The async AMI client: one background task per server owns the TCP
//! connection, logs in (plain or MD5 challenge), gives every action a unique
//! `ActionID`, hands each caller its response, broadcasts events, pings to
//! keep the link alive, reconnects with back-off (telling subscribers), holds
//! the send rate under a limit and logs off cleanly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{sleep_until, timeout, Instant};
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::actions::{self, Originate};
use crate::codec::{check_message, AmiCodec, Frame, DEFAULT_MAX_FRAME};
use crate::correlate::{Correlator, RateLimit, Response, Routed, TokenBucket};
use crate::error::AmiError;
use crate::message::Message;

/// How to log in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AuthKind {
    /// `Login` with `Secret` in clear.
    Plain,
    /// `Challenge` then `Login` with `Key` = md5(challenge + secret).
    #[default]
    Md5,
}

/// Reconnect back-off: `initial`, doubled after each failure, capped at `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// First wait.
    pub initial: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// Wait before attempt number `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let f = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(f).min(self.max)
    }
}

/// Everything needed to talk to one AMI server. `Debug` never shows the
/// secret.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `host:port`, e.g. `127.0.0.1:5038`.
    pub addr: String,
    /// AMI user (manager.conf section name).
    pub username: String,
    /// AMI secret.
    pub secret: SecretString,
    /// Login kind (default MD5 challenge: the secret never crosses the wire).
    pub auth: AuthKind,
    /// Send-rate limit; `None` for no limit. Default 100/s, bursts of 10.
    pub rate_limit: Option<RateLimit>,
    /// Send a `Ping` this often when connected; `None` to never ping.
    /// A ping unanswered by the next one drops the connection. Default 20 s.
    pub ping_interval: Option<Duration>,
    /// Reconnect back-off.
    pub reconnect: Backoff,
    /// Limit for TCP connect and each login step. Default 5 s.
    pub connect_timeout: Duration,
    /// How long [`AmiClient::send`] waits for a response. Default 30 s.
    pub action_timeout: Duration,
    /// Largest frame accepted from the server. Default 1 MiB.
    pub max_frame: usize,
    /// Events buffered per subscriber before it lags. Default 65 536.
    pub event_capacity: usize,
    /// The `Events` header of the `Login`: `None` (Asterisk's default, every
    /// class the user may read), `"off"`, or the classes wanted, e.g.
    /// `"call,agent,user"`.
    pub events: Option<String>,
    /// `Filter` actions sent after each login (on reconnects too): Asterisk
    /// regular expressions matched against each event's text (`!` first
    /// excludes); with at least one, only matching events are sent. A
    /// server that refuses one (the user lacks the `system` class, or an
    /// Asterisk before 10) is logged and the link stays up, unfiltered.
    pub filters: Vec<String>,
}

impl ClientConfig {
    /// Defaults for `addr`, `username`, `secret`.
    pub fn new(addr: impl Into<String>, username: impl Into<String>, secret: SecretString) -> Self {
        Self {
            addr: addr.into(),
            username: username.into(),
            secret,
            auth: AuthKind::default(),
            rate_limit: Some(RateLimit::default()),
            ping_interval: Some(Duration::from_secs(20)),
            reconnect: Backoff::default(),
            connect_timeout: Duration::from_secs(5),
            action_timeout: Duration::from_secs(30),
            max_frame: DEFAULT_MAX_FRAME,
            event_capacity: 65_536,
            events: None,
            filters: Vec::new(),
        }
    }
}

/// What subscribers receive from [`AmiClient::events`].
#[derive(Clone, Debug)]
pub enum Event {
    /// An AMI event (or an unsolicited message) from the server.
    Ami(Arc<Message>),
    /// The connection was lost; actions fail until [`Event::Reconnected`].
    /// Events may have been missed: resynchronise state after reconnect.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// A new connection is up and logged in.
    Reconnected,
}

enum Cmd {
    Send {
        msg: Message,
        id: String,
        reply: oneshot::Sender<Result<Response, AmiError>>,
    },
    Shutdown(oneshot::Sender<()>),
}

type Reply = oneshot::Sender<Result<Response, AmiError>>;

/// Handle to a connection to one AMI server. Cheap to clone; all clones share
/// the connection. Dropping every clone logs off.
#[derive(Clone)]
pub struct AmiClient {
    tx: mpsc::Sender<Cmd>,
    events: broadcast::Sender<Event>,
    id_prefix: Arc<str>,
    seq: Arc<AtomicU64>,
    action_timeout: Duration,
    addr: Arc<str>,
}

impl std::fmt::Debug for AmiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmiClient")
            .field("addr", &self.addr)
            .finish()
    }
}

static CLIENT_SEQ: AtomicU64 = AtomicU64::new(1);

impl AmiClient {
    /// Connects and logs in. Fails if the first connection or login fails
    /// (a wrong secret is reported, not retried); after that, lost
    /// connections are re-established in the background.
    pub async fn connect(config: ClientConfig) -> Result<Self, AmiError> {
        let (events, _) = broadcast::channel(config.event_capacity.max(16));
        let conn = open(&config).await?;
        let (tx, rx) = mpsc::channel(4096);
        let n = CLIENT_SEQ.fetch_add(1, Ordering::Relaxed);
        let client = Self {
            tx,
            events: events.clone(),
            id_prefix: format!("oml-{:x}-{n}-", std::process::id()).into(),
            seq: Arc::new(AtomicU64::new(1)),
            action_timeout: config.action_timeout,
            addr: config.addr.clone().into(),
        };
        let prefix = client.id_prefix.clone();
        tokio::spawn(run(config, conn, rx, events, prefix));
        Ok(client)
    }

    /// Subscribes to events. A subscriber that falls more than
    /// `event_capacity` events behind gets `RecvError::Lagged`.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Server address this client talks to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    fn next_id(&self) -> String {
        format!(
            "{}{}",
            self.id_prefix,
            self.seq.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Sends an action (its `ActionID` is replaced by a unique one) and
    /// waits for the response; for list actions, until the `...Complete`
    /// event. A `Response: Error` is returned as a response, not an error.
    pub async fn send(&self, action: Message) -> Result<Response, AmiError> {
        self.send_timeout(action, self.action_timeout).await
    }

    /// [`AmiClient::send`] with its own timeout.
    pub async fn send_timeout(
        &self,
        mut action: Message,
        limit: Duration,
    ) -> Result<Response, AmiError> {
        let name = action.action_name().unwrap_or("?").to_owned();
        // A header the codec cannot write fails this action here, before it
        // reaches the connection's writer (which serves every caller).
        check_message(&action)?;
        let id = self.next_id();
        action.set("ActionID", &id);
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Send {
                msg: action,
                id,
                reply,
            })
            .await
            .map_err(|_| AmiError::Closed)?;
        match timeout(limit, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(AmiError::Closed),
            Err(_) => Err(AmiError::Timeout {
                action: name,
                timeout: limit,
            }),
        }
    }

    /// Sends and turns `Response: Error` into [`AmiError::ActionFailed`].
    pub async fn send_ok(&self, action: Message) -> Result<Response, AmiError> {
        let name = action.action_name().unwrap_or("?").to_owned();
        let r = self.send(action).await?;
        if r.is_success() {
            Ok(r)
        } else {
            Err(AmiError::ActionFailed {
                action: name,
                message: r.text().to_owned(),
            })
        }
    }

    /// `Originate`. With `asynchronous` (the default of the builders) this
    /// returns once queued; the result arrives as an `OriginateResponse`
    /// event whose `ActionID` equals `response.action_id()`.
    pub async fn originate(&self, o: &Originate) -> Result<Response, AmiError> {
        self.send_ok(o.to_message()).await
    }

    /// `Hangup` of a channel with an optional cause.
    pub async fn hangup(&self, channel: &str, cause: Option<u32>) -> Result<(), AmiError> {
        self.send_ok(actions::hangup(channel, cause))
            .await
            .map(drop)
    }

    /// `DBPut`.
    pub async fn db_put(&self, family: &str, key: &str, value: &str) -> Result<(), AmiError> {
        self.send_ok(actions::db_put(family, key, value))
            .await
            .map(drop)
    }

    /// `DBGet`: the value, or `None` when the entry does not exist.
    pub async fn db_get(&self, family: &str, key: &str) -> Result<Option<String>, AmiError> {
        let r = self.send(actions::db_get(family, key)).await?;
        if !r.is_success() {
            if r.text().to_ascii_lowercase().contains("not found") {
                return Ok(None);
            }
            return Err(AmiError::ActionFailed {
                action: "DBGet".into(),
                message: r.text().to_owned(),
            });
        }
        Ok(r.events
            .iter()
            .find_map(|e| e.get("Val").map(str::to_owned))
            .or_else(|| r.get("Val").map(str::to_owned)))
    }

    /// `DBDel`: `false` when the entry did not exist.
    pub async fn db_del(&self, family: &str, key: &str) -> Result<bool, AmiError> {
        self.del(actions::db_del(family, key)).await
    }

    /// `DBDelTree` of a family (or a key tree in it): `false` when nothing
    /// existed.
    pub async fn db_deltree(&self, family: &str, key: Option<&str>) -> Result<bool, AmiError> {
        self.del(actions::db_deltree(family, key)).await
    }

    async fn del(&self, m: Message) -> Result<bool, AmiError> {
        let name = m.action_name().unwrap_or("?").to_owned();
        let r = self.send(m).await?;
        if r.is_success() {
            Ok(true)
        } else if r.text().to_ascii_lowercase().contains("not found") {
            Ok(false)
        } else {
            Err(AmiError::ActionFailed {
                action: name,
                message: r.text().to_owned(),
            })
        }
    }

    /// `QueueStatus`: the `QueueParams`, `QueueMember` and `QueueEntry`
    /// events, in order.
    pub async fn queue_status(&self, queue: Option<&str>) -> Result<Vec<Message>, AmiError> {
        Ok(self.send_ok(actions::queue_status(queue)).await?.events)
    }

    /// `QueueSummary`: one `QueueSummary` event per queue.
    pub async fn queue_summary(&self, queue: Option<&str>) -> Result<Vec<Message>, AmiError> {
        Ok(self.send_ok(actions::queue_summary(queue)).await?.events)
    }

    /// `CoreShowChannels`: one `CoreShowChannel` event per channel.
    pub async fn core_show_channels(&self) -> Result<Vec<Message>, AmiError> {
        Ok(self.send_ok(actions::core_show_channels()).await?.events)
    }

    /// `Status`: one `Status` event per channel.
    pub async fn status(&self, channel: Option<&str>) -> Result<Vec<Message>, AmiError> {
        Ok(self.send_ok(actions::status(channel)).await?.events)
    }

    /// `Command`: the CLI output lines.
    pub async fn command(&self, cli: &str) -> Result<Vec<String>, AmiError> {
        let r = self.send_ok(actions::command(cli)).await?;
        Ok(r.message
            .output_lines()
            .into_iter()
            .map(str::to_owned)
            .collect())
    }

    /// `Reload` of one module or everything.
    pub async fn reload(&self, module: Option<&str>) -> Result<(), AmiError> {
        self.send_ok(actions::reload(module)).await.map(drop)
    }

    /// `Ping`.
    pub async fn ping(&self) -> Result<(), AmiError> {
        self.send_ok(actions::ping()).await.map(drop)
    }

    /// Sends `Logoff`, waits (briefly) for `Goodbye` and stops the
    /// background task. Other clones then get [`AmiError::Closed`].
    pub async fn logoff(&self) -> Result<(), AmiError> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Shutdown(tx)).await.is_err() {
            return Ok(());
        }
        let _ = timeout(Duration::from_secs(5), rx).await;
        Ok(())
    }
}

type Reader = FramedRead<tokio::net::tcp::OwnedReadHalf, AmiCodec>;

struct Conn {
    reader: Reader,
    writer: mpsc::UnboundedSender<WriterCmd>,
    writer_task: tokio::task::JoinHandle<()>,
}

enum WriterCmd {
    Msg(Message),
    Close(oneshot::Sender<()>),
}

/// Connects, reads the greeting and logs in.
async fn open(cfg: &ClientConfig) -> Result<Conn, AmiError> {
    let step = cfg.connect_timeout;
    let connect_err = |e: std::io::Error| AmiError::Connect {
        addr: cfg.addr.clone(),
        source: e,
    };
    let stream = timeout(step, TcpStream::connect(&cfg.addr))
        .await
        .map_err(|_| {
            connect_err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connect timed out",
            ))
        })?
        .map_err(connect_err)?;
    let _ = stream.set_nodelay(true);
    let (r, w) = stream.into_split();
    let mut reader = FramedRead::new(r, AmiCodec::client(cfg.max_frame));
    let mut writer = FramedWrite::new(w, AmiCodec::client(cfg.max_frame));

    let lost = |what: &str| AmiError::NotAmi {
        addr: cfg.addr.clone(),
        got: what.to_owned(),
    };
    match timeout(step, reader.next()).await {
        Ok(Some(Ok(Frame::Greeting(g)))) => {
            tracing::debug!(addr = %cfg.addr, greeting = %g, "AMI greeting");
        }
        Ok(Some(Ok(Frame::Message(m)))) => return Err(lost(&m.to_string())),
        Ok(Some(Err(e))) => return Err(lost(&e.to_string())),
        Ok(None) => return Err(lost("connection closed")),
        Err(_) => return Err(lost("nothing before the timeout")),
    }

    async fn exchange(
        reader: &mut Reader,
        writer: &mut FramedWrite<tokio::net::tcp::OwnedWriteHalf, AmiCodec>,
        msg: Message,
        id: &str,
        step: Duration,
    ) -> Result<Message, String> {
        let msg = msg.with("ActionID", id);
        writer.send(&msg).await.map_err(|e| e.to_string())?;
        let deadline = Instant::now() + step;
        loop {
            match tokio::time::timeout_at(deadline, reader.next()).await {
                Ok(Some(Ok(Frame::Message(m)))) => {
                    if m.response_status().is_some()
                        && m.event_name().is_none()
                        && m.action_id().is_none_or(|a| a == id)
                    {
                        return Ok(m);
                    }
                }
                Ok(Some(Ok(Frame::Greeting(_)))) => {}
                Ok(Some(Err(e))) => return Err(e.to_string()),
                Ok(None) => return Err("connection closed during login".into()),
                Err(_) => return Err("no answer during login".into()),
            }
        }
    }

    let secret = cfg.secret.expose_secret();
    let login = match cfg.auth {
        AuthKind::Plain => actions::login_plain(&cfg.username, secret),
        AuthKind::Md5 => {
            let r = exchange(
                &mut reader,
                &mut writer,
                actions::challenge(),
                "oml-challenge",
                step,
            )
            .await
            .map_err(|e| lost(&e))?;
            let Some(ch) = r
                .get("Challenge")
                .filter(|_| r.response_status() == Some("Success"))
            else {
                return Err(AmiError::Auth {
                    addr: cfg.addr.clone(),
                    username: cfg.username.clone(),
                    message: format!(
                        "MD5 challenge refused ({})",
                        r.get("Message").unwrap_or("no message")
                    ),
                });
            };
            actions::login_md5(&cfg.username, ch, secret)
        }
    };
    let login = match &cfg.events {
        Some(mask) => login.with("Events", mask.as_str()),
        None => login,
    };
    tracing::debug!(addr = %cfg.addr, action = %login, "AMI login");
    let r = exchange(&mut reader, &mut writer, login, "oml-login", step)
        .await
        .map_err(|e| lost(&e))?;
    if !r
        .response_status()
        .is_some_and(|s| s.eq_ignore_ascii_case("Success"))
    {
        return Err(AmiError::Auth {
            addr: cfg.addr.clone(),
            username: cfg.username.clone(),
            message: r.get("Message").unwrap_or("no message").to_owned(),
        });
    }
    // Debug, not info: one-shot commands (`oml asterisk check`) print their
    // own result, and the dialer's links say when a server comes up.
    tracing::debug!(addr = %cfg.addr, user = %cfg.username, "AMI logged in");
    for (i, f) in cfg.filters.iter().enumerate() {
        let action = actions::filter_add(f);
        let r = exchange(
            &mut reader,
            &mut writer,
            action,
            &format!("oml-filter-{i}"),
            step,
        )
        .await
        .map_err(|e| lost(&e))?;
        if !r
            .response_status()
            .is_some_and(|s| s.eq_ignore_ascii_case("Success"))
        {
            tracing::warn!(addr = %cfg.addr, user = %cfg.username, filter = %f, answer = r.get("Message").unwrap_or("no message"), "AMI server refused an event filter (the user needs the system class); receiving its events unfiltered");
        }
    }

    let (wtx, mut wrx) = mpsc::unbounded_channel::<WriterCmd>();
    let writer_task = tokio::spawn(async move {
        while let Some(cmd) = wrx.recv().await {
            let mut close = None;
            match cmd {
                WriterCmd::Msg(m) => {
                    if !feed(&mut writer, &m).await {
                        return;
                    }
                }
                WriterCmd::Close(done) => close = Some(done),
            }
            // Batch whatever else is queued into one flush.
            while close.is_none() {
                match wrx.try_recv() {
                    Ok(WriterCmd::Msg(m)) => {
                        if !feed(&mut writer, &m).await {
                            return;
                        }
                    }
                    Ok(WriterCmd::Close(done)) => close = Some(done),
                    Err(_) => break,
                }
            }
            if SinkExt::<&Message>::flush(&mut writer).await.is_err() {
                return;
            }
            if let Some(done) = close {
                let _ = SinkExt::<&Message>::close(&mut writer).await;
                let _ = done.send(());
                return;
            }
        }
    });
    Ok(Conn {
        reader,
        writer: wtx,
        writer_task,
    })
}

/// Queues one message on the socket. A message the codec refuses (checked
/// before anything is buffered) is dropped with a warning and the link
/// stays up; `false` only when the connection itself failed.
async fn feed(
    writer: &mut FramedWrite<tokio::net::tcp::OwnedWriteHalf, AmiCodec>,
    m: &Message,
) -> bool {
    match writer.feed(m).await {
        Ok(()) => true,
        Err(
            e @ (crate::error::FrameError::InvalidHeaderName(_)
            | crate::error::FrameError::InvalidHeaderValue(_)),
        ) => {
            tracing::warn!(error = %e, "AMI action not sent");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "AMI write failed");
            false
        }
    }
}

enum Ended {
    Shutdown,
    Lost(String),
}

/// The background task: serve a connection, reconnect when it drops.
async fn run(
    cfg: ClientConfig,
    first: Conn,
    mut rx: mpsc::Receiver<Cmd>,
    events: broadcast::Sender<Event>,
    prefix: Arc<str>,
) {
    let mut conn = Some(first);
    let mut attempt = 0u32;
    let mut bucket = cfg
        .rate_limit
        .map(|l| TokenBucket::new(l, Instant::now().into_std()));
    loop {
        if let Some(c) = conn.take() {
            attempt = 0;
            match serve(&cfg, c, &mut rx, &events, &prefix, &mut bucket).await {
                Ended::Shutdown => return,
                Ended::Lost(reason) => {
                    tracing::warn!(addr = %cfg.addr, %reason, "AMI connection lost; reconnecting");
                    let _ = events.send(Event::Disconnected { reason });
                }
            }
        }
        // Wait out the back-off, failing actions sent meanwhile.
        let until = Instant::now() + cfg.reconnect.delay(attempt);
        attempt = attempt.saturating_add(1);
        loop {
            tokio::select! {
                _ = sleep_until(until) => break,
                cmd = rx.recv() => match cmd {
                    None => return,
                    Some(Cmd::Shutdown(done)) => { let _ = done.send(()); return; }
                    Some(Cmd::Send { msg, reply, .. }) => {
                        let _ = reply.send(Err(AmiError::Disconnected {
                            action: msg.action_name().unwrap_or("?").to_owned(),
                        }));
                    }
                },
            }
        }
        match open(&cfg).await {
            Ok(c) => {
                let _ = events.send(Event::Reconnected);
                conn = Some(c);
            }
            Err(e) => tracing::warn!(addr = %cfg.addr, error = %e, "AMI reconnect failed"),
        }
    }
}

async fn serve(
    cfg: &ClientConfig,
    conn: Conn,
    rx: &mut mpsc::Receiver<Cmd>,
    events: &broadcast::Sender<Event>,
    prefix: &str,
    bucket: &mut Option<TokenBucket>,
) -> Ended {
    let Conn {
        mut reader,
        writer,
        writer_task,
    } = conn;
    let mut corr: Correlator<(String, Option<Reply>)> = Correlator::default();
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    let mut next_ping = cfg.ping_interval.map_or(far, |p| Instant::now() + p);
    let mut ping_seq = 0u64;
    let mut ping_outstanding: Option<String> = None;
    let mut blocked_until: Option<Instant> = None;

    let fail_all = |corr: &mut Correlator<(String, Option<Reply>)>| {
        for (action, reply) in corr.drain() {
            if let Some(r) = reply {
                let _ = r.send(Err(AmiError::Disconnected { action }));
            }
        }
    };

    let ended = loop {
        let can_send = blocked_until.is_none();
        tokio::select! {
            frame = reader.next() => match frame {
                Some(Ok(Frame::Message(m))) => match corr.route(m) {
                    Routed::Complete((_, Some(reply)), resp) => { let _ = reply.send(Ok(resp)); }
                    Routed::Complete((_, None), _) => { ping_outstanding = None; }
                    Routed::Broadcast(m) => { let _ = events.send(Event::Ami(Arc::new(m))); }
                    Routed::Absorbed => {}
                },
                Some(Ok(Frame::Greeting(_))) => {}
                Some(Err(e)) => break Ended::Lost(format!("bad data from server: {e}")),
                None => break Ended::Lost("connection closed by the server".into()),
            },
            cmd = rx.recv(), if can_send => match cmd {
                None => break Ended::Shutdown,
                Some(Cmd::Shutdown(done)) => {
                    logoff(&writer, &mut reader).await;
                    let _ = done.send(());
                    fail_all(&mut corr);
                    return Ended::Shutdown;
                }
                Some(Cmd::Send { msg, id, reply }) => {
                    if reply.is_closed() { continue; }
                    let action = msg.action_name().unwrap_or("?").to_owned();
                    if action.eq_ignore_ascii_case("Login") || action.eq_ignore_ascii_case("Challenge") {
                        tracing::debug!("AMI action {action} sent by a caller");
                    }
                    corr.register(id, (action, Some(reply)));
                    if writer.send(WriterCmd::Msg(msg)).is_err() {
                        break Ended::Lost("writer stopped".into());
                    }
                    if let Some(b) = bucket.as_mut() {
                        blocked_until = b.spend(Instant::now().into_std()).map(Instant::from_std);
                    }
                }
            },
            _ = sleep_until(blocked_until.unwrap_or(far)), if !can_send => {
                blocked_until = bucket
                    .as_mut()
                    .and_then(|b| b.blocked_until(Instant::now().into_std()))
                    .map(Instant::from_std);
            },
            _ = sleep_until(next_ping) => {
                if let Some(p) = cfg.ping_interval {
                    next_ping = Instant::now() + p;
                    if ping_outstanding.is_some() {
                        break Ended::Lost(format!("no answer to Ping within {p:?}"));
                    }
                    corr.retain(|(_, r)| r.as_ref().is_none_or(|r| !r.is_closed()));
                    ping_seq += 1;
                    let id = format!("{prefix}ping-{ping_seq}");
                    corr.register(id.clone(), ("Ping".into(), None));
                    ping_outstanding = Some(id.clone());
                    if writer.send(WriterCmd::Msg(actions::ping().with("ActionID", &id))).is_err() {
                        break Ended::Lost("writer stopped".into());
                    }
                }
            },
        }
    };
    if matches!(ended, Ended::Shutdown) {
        logoff(&writer, &mut reader).await;
    } else {
        writer_task.abort();
    }
    fail_all(&mut corr);
    ended
}

/// Sends `Logoff` and waits up to 2 s for `Goodbye` or the close.
async fn logoff(writer: &mpsc::UnboundedSender<WriterCmd>, reader: &mut Reader) {
    let _ = writer.send(WriterCmd::Msg(
        actions::logoff().with("ActionID", "oml-logoff"),
    ));
    let (done, wait) = oneshot::channel();
    let _ = writer.send(WriterCmd::Close(done));
    let _ = timeout(Duration::from_secs(2), async {
        let _ = wait.await;
        while let Some(Ok(f)) = reader.next().await {
            if let Frame::Message(m) = f {
                if m.response_status()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Goodbye"))
                {
                    break;
                }
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(b.delay(0), Duration::from_millis(100));
        assert_eq!(b.delay(2), Duration::from_millis(400));
        assert_eq!(b.delay(10), Duration::from_secs(1));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn config_debug_hides_secret() {
        let c = ClientConfig::new("127.0.0.1:5038", "u", SecretString::from("topsecret"));
        assert!(!format!("{c:?}").contains("topsecret"));
    }
}
