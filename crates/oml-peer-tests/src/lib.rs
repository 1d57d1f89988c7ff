//! One AMI test suite, two peers.
//!
//! pbxsim is ours, so it can share our misunderstandings of AMI. The suite
//! in `tests/` runs every scenario against the in-process pbxsim (always)
//! and against a real Asterisk when `OML_TEST_ASTERISK_HOST` and friends
//! are set (`bash .ci/asterisk-bench.sh up`, then source the env file it
//! prints). A difference between the two peers shows up as a failing test
//! named `<scenario>::pbxsim` or `<scenario>::asterisk`.
//!
//! This library only yields the peers and a few helpers the scenarios
//! share: an event watcher with timeouts and a TCP proxy that can drop
//! connections on demand (to prove reconnects the same way on both peers).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oml_ami::{AmiClient, AuthKind, ClientConfig, Event, Message};
use secrecy::SecretString;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

/// Which implementation a [`Peer`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerKind {
    /// oml-pbxsim, started in this process.
    Pbxsim,
    /// A real Asterisk (the bench of `.ci/asterisk-bench.sh`).
    Asterisk,
}

/// An AMI user of a peer.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// manager.conf section name.
    pub user: String,
    /// Its secret.
    pub secret: SecretString,
}

/// A running AMI server the suite talks to.
pub struct Peer {
    /// pbxsim or Asterisk.
    pub kind: PeerKind,
    /// `host:port`.
    pub addr: String,
    /// A user with every permission.
    pub admin: Credentials,
    /// A user that may log in and run CLI commands but neither originate
    /// nor read call/agent events, when the peer has one.
    pub limited: Option<Credentials>,
    /// A user whose sessions [`Peer::server_drop`] may close (on a shared
    /// Asterisk, only this user's sessions are kicked), when the peer has one.
    pub droppable: Option<Credentials>,
    /// The in-process simulator (pbxsim only); dropping it stops it.
    sim: Option<oml_pbxsim::PbxSim>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("kind", &self.kind)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

static SEQ: AtomicU64 = AtomicU64::new(1);

impl Peer {
    /// "pbxsim" or "asterisk", for messages.
    pub fn name(&self) -> &'static str {
        match self.kind {
            PeerKind::Pbxsim => "pbxsim",
            PeerKind::Asterisk => "asterisk",
        }
    }

    /// A client configuration for the admin user: no rate limit, no
    /// keep-alive pings, short timeouts, quick reconnects.
    pub fn config(&self, auth: AuthKind) -> ClientConfig {
        self.config_for(&self.admin, auth)
    }

    /// [`Peer::config`] for any user of this peer.
    pub fn config_for(&self, who: &Credentials, auth: AuthKind) -> ClientConfig {
        let mut c = ClientConfig::new(self.addr.clone(), who.user.clone(), who.secret.clone());
        c.auth = auth;
        c.rate_limit = None;
        c.ping_interval = None;
        c.connect_timeout = Duration::from_secs(5);
        c.action_timeout = Duration::from_secs(15);
        c.reconnect = oml_ami::Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        c
    }

    /// Logs in as the admin user (MD5), or panics naming the peer.
    pub async fn connect(&self) -> AmiClient {
        AmiClient::connect(self.config(AuthKind::Md5))
            .await
            .unwrap_or_else(|e| panic!("[{}] cannot log in to {}: {e}", self.name(), self.addr))
    }

    /// Makes the SERVER close every session of [`Peer::droppable`], the way
    /// each peer can: pbxsim's `Fault::DropConnections`, Asterisk's
    /// `manager kick session <fd>` (issued over AMI by the limited user, who
    /// may run CLI commands). Returns how many sessions were closed.
    pub async fn server_drop(&self) -> usize {
        match (&self.sim, self.kind) {
            (Some(sim), _) => {
                let n = sim.connections();
                sim.inject(oml_pbxsim::Fault::DropConnections);
                n
            }
            (None, _) => {
                let victim = self
                    .droppable
                    .as_ref()
                    .expect("a droppable user")
                    .user
                    .clone();
                let kicker = self.limited.as_ref().unwrap_or(&self.admin);
                let client = AmiClient::connect(self.config_for(kicker, AuthKind::Md5))
                    .await
                    .unwrap_or_else(|e| panic!("[{}] kicker login: {e}", self.name()));
                let rows = client
                    .command("manager show connected")
                    .await
                    .expect("manager show connected");
                // "  Username  IP  Start  Elapsed  FileDes  HttpCnt  ReadPerms  WritePerms"
                let fds: Vec<String> = rows
                    .iter()
                    .filter_map(|r| {
                        let cols: Vec<&str> = r.split_whitespace().collect();
                        (cols.len() >= 5 && cols[0] == victim).then(|| cols[4].to_owned())
                    })
                    .collect();
                for fd in &fds {
                    let out = client
                        .command(&format!("manager kick session {fd}"))
                        .await
                        .expect("manager kick session");
                    assert!(
                        out.iter().any(|l| l.starts_with("Kicking manager session")),
                        "[{}] kick of fd {fd}: {out:?}",
                        self.name()
                    );
                }
                client.logoff().await.expect("logoff");
                fds.len()
            }
        }
    }

    /// The in-process simulator behind a pbxsim peer (`None` for Asterisk),
    /// for what only the simulator can tell (its counters).
    pub fn sim(&self) -> Option<&oml_pbxsim::PbxSim> {
        self.sim.as_ref()
    }

    /// An identifier no other test, run or peer uses (for ChannelId,
    /// AstDB families): `<tag>-<peer>-<pid>-<n>`, `n` of fixed width.
    /// Asterisk 22 refuses an assigned ChannelId that is a prefix of a live
    /// channel's Uniqueid (its lookup compares only the new id's length,
    /// case-insensitively): `…-9` was refused while `…-91` was up, so no
    /// identifier here may be a prefix of another.
    pub fn unique(&self, tag: &str) -> String {
        format!(
            "{tag}-{}-{}-{:08}",
            self.name(),
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// The customer numbers the suite dials and what each does. The real
/// Asterisk picks the outcome by the last digit (.ci/asterisk/extensions.conf);
/// pbxsim is told the same numbers explicitly.
pub const ANSWER: &str = "5551";
/// Busy: OriginateResponse Reason 5.
pub const BUSY: &str = "5552";
/// Congestion: Reason 8.
pub const CONGESTION: &str = "5553";
/// Rings until the Originate Timeout: Reason 3.
pub const NO_ANSWER: &str = "5554";
/// Answers and stays on the line (for queue and Hangup tests).
pub const ANSWER_LONG: &str = "5555";
/// The queue answered calls go to, with two agents.
pub const QUEUE: &str = "oml-test";
/// The context that sends answered calls to [`QUEUE`].
pub const CAMPAIGN_CONTEXT: &str = "oml-campaign";
/// Seconds a simulated customer rings before answering.
pub const RING_SECONDS: f64 = 1.0;
/// Seconds an answered call lasts before the customer hangs up.
pub const TALK_SECONDS: f64 = 4.0;

/// An in-process pbxsim on a free loopback port, configured like the real
/// bench: the numbers above, queue `oml-test` with two agents, context
/// `oml-campaign` routed to it, real time.
/// Write classes of the limited user, as in `.ci/asterisk/manager.conf.in`.
const LIMITED_WRITE: [&str; 3] = ["system", "command", "reporting"];

pub async fn pbxsim() -> Peer {
    use oml_pbxsim::{Dist, NumberOutcome, PbxSim, QueueConfig, SimConfig};
    let secret = format!("sim-{}", SEQ.fetch_add(1, Ordering::Relaxed));
    let mut cfg = SimConfig::new("omltest", SecretString::from(secret.clone()), 2);
    cfg.queues = vec![QueueConfig {
        name: QUEUE.into(),
        agents: 2,
    }];
    cfg.routes.insert(CAMPAIGN_CONTEXT.into(), QUEUE.into());
    cfg.customers.time_to_answer = Dist::Fixed(RING_SECONDS);
    cfg.talk_time = Dist::Fixed(TALK_SECONDS);
    cfg.wrapup_time = Dist::Fixed(0.0);
    for (n, o) in [
        (ANSWER, NumberOutcome::Answer),
        (BUSY, NumberOutcome::Busy),
        (CONGESTION, NumberOutcome::Congestion),
        (NO_ANSWER, NumberOutcome::NoAnswer),
        (ANSWER_LONG, NumberOutcome::Answer),
    ] {
        cfg.numbers.insert(n.into(), o);
    }
    // The same limited user as the bench's manager.conf: it may run CLI
    // commands but neither originate nor read call events.
    let limited_secret = format!("{secret}-limited");
    cfg.users.push(oml_pbxsim::SimUser {
        username: "omllimited".into(),
        secret: SecretString::from(limited_secret.clone()),
        read: vec!["system".into()],
        write: LIMITED_WRITE.iter().map(|c| c.to_string()).collect(),
    });
    let sim = PbxSim::start(cfg).await.expect("start pbxsim on 127.0.0.1");
    let admin = Credentials {
        user: "omltest".into(),
        secret: SecretString::from(secret),
    };
    Peer {
        kind: PeerKind::Pbxsim,
        addr: sim.local_addr().to_string(),
        // Each test has its own simulator, so every session may be dropped.
        droppable: Some(admin.clone()),
        admin,
        limited: Some(Credentials {
            user: "omllimited".into(),
            secret: SecretString::from(limited_secret),
        }),
        sim: Some(sim),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The real Asterisk named by `OML_TEST_ASTERISK_HOST`, `_PORT` (default
/// 5038), `_USER`, `_SECRET` (and optionally `_LIMITED_USER`,
/// `_LIMITED_SECRET`). When they are not set, prints a loud SKIPPED line
/// naming `scenario` and returns `None`.
pub fn asterisk(scenario: &str) -> Option<Peer> {
    let (Some(host), Some(user), Some(secret)) = (
        env("OML_TEST_ASTERISK_HOST"),
        env("OML_TEST_ASTERISK_USER"),
        env("OML_TEST_ASTERISK_SECRET"),
    ) else {
        eprintln!(
            "SKIPPED: real Asterisk test `{scenario}`: OML_TEST_ASTERISK_HOST/_USER/_SECRET are not set \
             (run `bash .ci/asterisk-bench.sh up` and source the env file it prints)"
        );
        return None;
    };
    let port = env("OML_TEST_ASTERISK_PORT").unwrap_or_else(|| "5038".into());
    let creds = |u: &str, s: &str| match (env(u), env(s)) {
        (Some(user), Some(secret)) => Some(Credentials {
            user,
            secret: SecretString::from(secret),
        }),
        _ => None,
    };
    let limited = creds(
        "OML_TEST_ASTERISK_LIMITED_USER",
        "OML_TEST_ASTERISK_LIMITED_SECRET",
    );
    let droppable = creds(
        "OML_TEST_ASTERISK_DROP_USER",
        "OML_TEST_ASTERISK_DROP_SECRET",
    );
    Some(Peer {
        kind: PeerKind::Asterisk,
        addr: format!("{host}:{port}"),
        admin: Credentials {
            user,
            secret: SecretString::from(secret),
        },
        limited,
        droppable,
        sim: None,
    })
}

/// Declares scenarios run against both peers. For each `async fn
/// name(peer: &Peer)` in scope it makes a module `name` with two tests,
/// `name::pbxsim` and `name::asterisk`.
#[macro_export]
macro_rules! peer_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn pbxsim() {
                    let peer = $crate::pbxsim().await;
                    super::$name(&peer).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn asterisk() {
                    let Some(peer) = $crate::asterisk(stringify!($name)) else { return };
                    super::$name(&peer).await;
                }
            }
        )*
    };
}

/// Events of one client, with waits that give up after a deadline.
pub struct Watch {
    rx: broadcast::Receiver<Event>,
}

impl Watch {
    /// Subscribes now: subscribe before sending the action whose events
    /// you want.
    pub fn new(client: &AmiClient) -> Self {
        Self {
            rx: client.events(),
        }
    }

    /// The next AMI event for which `pred` holds, or `None` after `within`.
    pub async fn next_matching(
        &mut self,
        within: Duration,
        mut pred: impl FnMut(&Message) -> bool,
    ) -> Option<Arc<Message>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Err(_) => return None,
                Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => lagged(n),
                Ok(Ok(Event::Ami(m))) if pred(&m) => return Some(m),
                Ok(Ok(_)) => continue,
            }
        }
    }

    /// Every AMI event for which `pred` holds until `done` says the set
    /// is complete or `within` runs out.
    pub async fn collect(
        &mut self,
        within: Duration,
        mut pred: impl FnMut(&Message) -> bool,
        mut done: impl FnMut(&[Arc<Message>]) -> bool,
    ) -> Vec<Arc<Message>> {
        let deadline = tokio::time::Instant::now() + within;
        let mut out = Vec::new();
        while !done(&out) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Err(_) | Ok(Err(broadcast::error::RecvError::Closed)) => break,
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => lagged(n),
                Ok(Ok(Event::Ami(m))) if pred(&m) => out.push(m),
                Ok(Ok(_)) => continue,
            }
        }
        out
    }

    /// The next connection-state event (`Disconnected` / `Reconnected`),
    /// or `None` after `within`.
    pub async fn next_link_event(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Err(_) | Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => lagged(n),
                Ok(Ok(Event::Ami(_))) => continue,
                Ok(Ok(e)) => return Some(e),
            }
        }
    }
}

/// A loopback TCP forwarder in front of a peer whose connections can be
/// cut at will: the same "dropped connection" for pbxsim and Asterisk.
pub struct DropProxy {
    addr: String,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl DropProxy {
    /// Listens on 127.0.0.1 (ephemeral port) and forwards to `target`.
    pub async fn start(target: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let target = target.to_owned();
        let list = conns.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                list.lock().expect("proxy list").push(task.abort_handle());
            }
        })
        .abort_handle();
        Ok(Self {
            addr,
            conns,
            accept,
        })
    }

    /// Where clients should connect.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Cuts every connection made so far (both sockets are closed).
    pub fn drop_all(&self) -> usize {
        let mut list = self.conns.lock().expect("proxy list");
        let n = list.len();
        for c in list.drain(..) {
            c.abort();
        }
        n
    }
}

impl Drop for DropProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.drop_all();
    }
}

/// A watcher that fell behind lost events: whatever the test concludes from
/// the rest would be wrong, so it stops here instead.
fn lagged(n: u64) -> ! {
    panic!("the test's event watcher fell {n} events behind and lost them")
}
