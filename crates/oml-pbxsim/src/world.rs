//! The simulated PBX itself, without sockets: channels, queues, agents,
//! AstDB and the timers that move calls along. Actions go in, responses and
//! events come out, the clock is passed in. The server (server.rs) wraps it
//! in a mutex and moves bytes.
//!
//! Event names and fields follow Asterisk's AMI documentation:
//! `Newchannel`, `Newstate`, `OriginateResponse` (Response, Channel,
//! Context, Exten, Application, Data, Reason, Uniqueid, CallerIDNum,
//! CallerIDName), `QueueCallerJoin` (Queue, Position, Count),
//! `AgentCalled`, `QueueCallerLeave`, `AgentConnect` / `AgentComplete` (Queue, MemberName,
//! Interface, HoldTime, RingTime / TalkTime, Reason), `QueueCallerAbandon`
//! (Position, OriginalPosition, HoldTime), `QueueMemberStatus` and
//! `Hangup` (Cause, Cause-txt), each with the channel snapshot fields.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use oml_ami::Message;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::{NumberOutcome, SimConfig};

/// Counters of what the simulator did; for tests and the command's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Originate actions accepted.
    pub originates: u64,
    /// Calls answered by a customer.
    pub answered: u64,
    /// Calls busy.
    pub busy: u64,
    /// Calls congested.
    pub congestion: u64,
    /// Calls not answered before the timeout.
    pub no_answer: u64,
    /// Calls that could not be placed.
    pub failed: u64,
    /// Answered calls connected to an agent.
    pub connected: u64,
    /// Answered calls whose customer hung up while waiting in queue.
    pub abandoned: u64,
    /// Calls an agent finished.
    pub completed: u64,
    /// Actions handled (all kinds).
    pub actions: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallState {
    Ringing,
    Queued,
    Talking,
}

#[derive(Debug)]
struct Call {
    channel: String,
    uniqueid: String,
    number: String,
    context: String,
    exten: String,
    application: String,
    data: String,
    caller_num: String,
    caller_name: String,
    action_id: Option<String>,
    state: CallState,
    queue: Option<String>,
    /// Position when it joined its queue.
    original_position: usize,
    /// Sim time (s) when it joined the queue / was connected.
    joined_at: f64,
    connected_at: f64,
    agent: Option<usize>,
    /// Outcome drawn at Originate, applied when the ring timer fires.
    ring_outcome: NumberOutcome,
    /// The `Channel` of the Originate as given (a failed OriginateResponse
    /// names it).
    dial: String,
    /// Whether the Originate gave a `ChannelId`.
    chan_id_given: bool,
    /// The `;2` half of a `Local/` channel: the customer's side.
    other: Option<Half>,
}

/// The `;2` half of a Local channel pair: the side that runs the dial
/// context (the customer). It carries the customer's hangup cause.
#[derive(Debug)]
struct Half {
    channel: String,
    uniqueid: String,
    /// The context of the Local channel (`from-oml` in `Local/5551@from-oml/n`).
    context: String,
}

#[derive(Debug)]
struct Agent {
    name: String,
    interface: String,
    queue: String,
    /// The call being handled, or `None` when free or in wrap-up.
    call: Option<u64>,
    wrapup: bool,
    /// In a wrap-up of non-zero length: paused with reason `ACW`, as the
    /// agent console does after each call (the queue's own wrapuptime is 0).
    acw_paused: bool,
    calls_taken: u64,
    last_call: i64,
    login_time: i64,
}

#[derive(Debug, Default)]
struct Queue {
    waiting: VecDeque<u64>,
    agents: Vec<usize>,
    completed: u64,
    abandoned: u64,
    hold_total: f64,
    talk_total: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// End of ringing: apply the drawn outcome.
    Ring(u64),
    /// Customer's patience in queue ran out.
    Abandon(u64),
    /// Agent finished talking.
    TalkEnd(u64),
    /// Agent's wrap-up is over.
    WrapupEnd(usize),
}

/// Per-connection login state kept by the caller (one per TCP client).
#[derive(Debug, Default, Clone)]
pub struct Session {
    /// Logged in.
    pub authenticated: bool,
    /// Last MD5 challenge handed out.
    pub challenge: Option<String>,
    /// Set by `Logoff`: the server closes the connection after replying.
    pub closing: bool,
    /// The logged-in user's (read, write) classes when it is one of
    /// `SimConfig::users`; `None` means every class.
    pub perms: Option<(Vec<String>, Vec<String>)>,
}

impl Session {
    /// Whether this session receives an event whose `Privilege` header is
    /// `privilege` (e.g. `call,all`).
    pub fn may_read(&self, privilege: &str) -> bool {
        match &self.perms {
            None => true,
            Some((read, _)) => has_class(read, privilege),
        }
    }

    /// Whether this session may send an action of classes `privs`
    /// (`<none>` = anyone).
    fn may_write(&self, privs: &str) -> bool {
        match &self.perms {
            None => true,
            Some((_, write)) => privs == "<none>" || has_class(write, privs),
        }
    }
}

/// Whether `classes` (a user's list) grants one of the classes in
/// `wanted` (`a,b,all`); `all` in the user's list grants everything.
fn has_class(classes: &[String], wanted: &str) -> bool {
    classes.iter().any(|c| c.eq_ignore_ascii_case("all"))
        || wanted
            .split(',')
            .map(str::trim)
            .filter(|w| !w.eq_ignore_ascii_case("all"))
            .any(|w| classes.iter().any(|c| c.eq_ignore_ascii_case(w)))
}

/// The PBX state.
pub struct World {
    cfg: SimConfig,
    rng: StdRng,
    start: Instant,
    epoch_at_start: i64,
    db: BTreeMap<String, String>,
    calls: HashMap<u64, Call>,
    by_channel: HashMap<String, u64>,
    queues: BTreeMap<String, Queue>,
    agents: Vec<Agent>,
    timers: BinaryHeap<Reverse<(Instant, u64, Timer)>>,
    seq: u64,
    stats: Stats,
    default_queue: String,
    /// Users read from `SimConfig::manager_file` (at start and on reload).
    file_users: Vec<crate::config::SimUser>,
}

fn epoch_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The number in a dial string: `Local/5551234@from-oml/n` → `5551234`,
/// `PJSIP/5551234@trunk` → `5551234`, `SIP/trunk/5551234` → `5551234`.
pub fn number_of(channel: &str) -> String {
    let before_at = channel.split('@').next().unwrap_or(channel);
    let last = before_at.rsplit('/').next().unwrap_or(before_at);
    last.to_owned()
}

impl World {
    /// A PBX with `cfg`'s queues and agents, all free, at `now`.
    pub fn new(cfg: SimConfig, now: Instant) -> Self {
        let epoch = epoch_now();
        let mut queues = BTreeMap::new();
        let mut agents = Vec::new();
        for q in &cfg.queues {
            let mut queue = Queue::default();
            for _ in 0..q.agents {
                let n = agents.len() + 1;
                queue.agents.push(agents.len());
                agents.push(Agent {
                    name: format!("Agent {n}"),
                    interface: format!("Local/agent{n}@oml-agents/n"),
                    queue: q.name.clone(),
                    call: None,
                    wrapup: false,
                    acw_paused: false,
                    calls_taken: 0,
                    last_call: 0,
                    login_time: epoch,
                });
            }
            queues.insert(q.name.clone(), queue);
        }
        let default_queue = cfg
            .queues
            .first()
            .map_or_else(|| "oml-default".to_owned(), |q| q.name.clone());
        queues.entry(default_queue.clone()).or_default();
        let mut world = Self {
            rng: StdRng::seed_from_u64(cfg.seed),
            cfg,
            start: now,
            epoch_at_start: epoch,
            db: BTreeMap::new(),
            calls: HashMap::new(),
            by_channel: HashMap::new(),
            queues,
            agents,
            timers: BinaryHeap::new(),
            seq: 0,
            stats: Stats::default(),
            default_queue,
            file_users: Vec::new(),
        };
        world.reload_manager_file();
        world
    }

    /// Rereads the users of `SimConfig::manager_file`, as `manager reload`
    /// does; an unreadable file keeps the users read before.
    fn reload_manager_file(&mut self) {
        if let Some(path) = &self.cfg.manager_file {
            if let Ok(text) = std::fs::read_to_string(path) {
                self.file_users = crate::config::parse_manager_users(&text);
            }
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Calls in progress (ringing, queued or talking).
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Agents neither talking nor in wrap-up.
    pub fn free_agents(&self) -> usize {
        self.agents
            .iter()
            .filter(|a| a.call.is_none() && !a.wrapup)
            .count()
    }

    /// When the next timer is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((t, _, _))| *t)
    }

    fn sim_secs(&self, now: Instant) -> f64 {
        now.saturating_duration_since(self.start).as_secs_f64() * self.cfg.time_scale
    }

    fn sim_epoch(&self, now: Instant) -> i64 {
        self.epoch_at_start + self.sim_secs(now) as i64
    }

    fn real(&self, sim_secs: f64) -> Duration {
        let s = sim_secs / self.cfg.time_scale.max(1e-9);
        Duration::try_from_secs_f64(s.clamp(0.0, 1e9)).unwrap_or(Duration::ZERO)
    }

    fn schedule(&mut self, now: Instant, after_sim: f64, t: Timer) {
        self.seq += 1;
        let at = now + self.real(after_sim);
        self.timers.push(Reverse((at, self.seq, t)));
    }

    fn next_id(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    // ----- actions -----------------------------------------------------

    /// Handles one action from a client. Returns the messages to send back
    /// to that client (response, then list events); events for everyone are
    /// appended to `events`.
    pub fn handle(
        &mut self,
        session: &mut Session,
        m: &Message,
        now: Instant,
        events: &mut Vec<Message>,
    ) -> Vec<Message> {
        self.stats.actions += 1;
        let action = m.action_name().unwrap_or("").to_ascii_lowercase();
        let id = m.action_id();
        let ok = |msg: &str| reply("Success", id).with("Message", msg);
        let err = |msg: &str| vec![reply("Error", id).with("Message", msg)];

        match action.as_str() {
            "" => return err("Missing action in request"),
            "login" => {
                let r = self.login(session, m);
                if !session.authenticated {
                    return vec![r];
                }
                // Asterisk follows a successful login with FullyBooted.
                let up = self.sim_secs(now) as i64;
                return vec![
                    r,
                    Message::event("FullyBooted")
                        .with("Privilege", "system,all")
                        .with("Uptime", up.to_string())
                        .with("LastReload", up.to_string())
                        .with("Status", "Fully Booted"),
                ];
            }
            "challenge" => {
                if !m
                    .get("AuthType")
                    .is_some_and(|a| a.eq_ignore_ascii_case("md5"))
                {
                    return err("Must specify AuthType");
                }
                let c = format!("{:09}", self.rng.gen_range(0..1_000_000_000u32));
                session.challenge = Some(c.clone());
                return vec![reply("Success", id).with("Challenge", c)];
            }
            "ping" => {
                return vec![reply("Success", id)
                    .with("Ping", "Pong")
                    .with("Timestamp", format!("{}.000000", self.sim_epoch(now)))]
            }
            "logoff" => {
                session.closing = true;
                return vec![reply("Goodbye", id).with("Message", "Thanks for all the fish.")];
            }
            _ => {}
        }
        if !session.authenticated {
            return err("Permission denied");
        }
        if let Some((_, _, privs)) = ACTIONS
            .iter()
            .find(|(name, _, _)| name.eq_ignore_ascii_case(&action))
        {
            if !session.may_write(privs) {
                return err("Permission denied");
            }
        }
        match action.as_str() {
            "originate" => self.originate(m, now, events),
            "hangup" => {
                let Some(ch) = m.get("Channel") else {
                    return err("No channel specified");
                };
                let cause = m
                    .get("Cause")
                    .and_then(|c| c.trim().parse().ok())
                    .unwrap_or(16);
                match self.by_channel.get(ch).copied() {
                    Some(call) => {
                        self.end_by_hangup(call, cause, now, events);
                        vec![ok("Channel Hungup")]
                    }
                    None => err("No such channel"),
                }
            }
            "dbput" => {
                let (Some(f), Some(k)) = (m.get("Family"), m.get("Key")) else {
                    return err(if m.get("Family").is_none() {
                        "No family specified."
                    } else {
                        "No key specified."
                    });
                };
                let v = m.get("Val").or_else(|| m.get("Value")).unwrap_or("");
                self.db.insert(format!("/{f}/{k}"), v.to_owned());
                vec![ok("Updated database successfully")]
            }
            "dbget" => {
                let (Some(f), Some(k)) = (m.get("Family"), m.get("Key")) else {
                    return err("No family or key specified.");
                };
                match self.db.get(&format!("/{f}/{k}")) {
                    Some(v) => {
                        let v = v.clone();
                        vec![
                            reply("Success", id)
                                .with("EventList", "start")
                                .with("Message", "Result will follow"),
                            list_event("DBGetResponse", id)
                                .with("Family", f)
                                .with("Key", k)
                                .with("Val", v),
                            complete("DBGetComplete", id, 1),
                        ]
                    }
                    None => err("Database entry not found"),
                }
            }
            "dbdel" => {
                let (Some(f), Some(k)) = (m.get("Family"), m.get("Key")) else {
                    return err("No family or key specified.");
                };
                if self.db.remove(&format!("/{f}/{k}")).is_some() {
                    vec![ok("Key deleted successfully")]
                } else {
                    err("Database entry not found")
                }
            }
            "dbdeltree" => {
                let Some(f) = m.get("Family") else {
                    return err("No family specified.");
                };
                let prefix = match m.get("Key") {
                    Some(k) => format!("/{f}/{k}"),
                    None => format!("/{f}"),
                };
                let sub = format!("{prefix}/");
                let before = self.db.len();
                self.db.retain(|k, _| k != &prefix && !k.starts_with(&sub));
                if self.db.len() < before {
                    vec![ok("Key tree deleted successfully")]
                } else {
                    err("Database entry not found")
                }
            }
            "queuestatus" => self.queue_status(m, now),
            "queuesummary" => self.queue_summary(m, now),
            "coreshowchannels" | "status" => self.channels_list(&action, id, now),
            "command" => {
                let cmd = m.get("Command").unwrap_or("").trim().to_owned();
                let mut known = true;
                let out: Vec<String> = match cmd.as_str() {
                    "core show version" => vec![format!(
                        "Asterisk 20.0.0 (oml-pbxsim, AMI {}) simulated",
                        self.cfg.ami_version
                    )],
                    "core show channels" | "core show channels count" => vec![
                        format!("{} active channels", self.calls.len()),
                        format!("{} active calls", self.calls.len()),
                    ],
                    "manager reload" => {
                        self.reload_manager_file();
                        Vec::new()
                    }
                    c if c.starts_with("manager show user ") => {
                        let who = c["manager show user ".len()..].trim();
                        let perms = if who == self.cfg.username {
                            Some((ALL_PERMS.to_owned(), ALL_PERMS.to_owned()))
                        } else {
                            self.cfg
                                .users
                                .iter()
                                .chain(&self.file_users)
                                .find(|u| u.username == who)
                                .map(|u| (u.read.join(","), u.write.join(",")))
                        };
                        match perms {
                            Some((read, write)) => vec![
                                String::new(),
                                format!("{:>18}: {who}", "username"),
                                format!("{:>18}: <Set>", "secret"),
                                format!("{:>18}: {read}", "read perm"),
                                format!("{:>18}: {write}", "write perm"),
                            ],
                            None => vec![format!("There is no manager called {who}")],
                        }
                    }
                    "database show" => self
                        .db
                        .iter()
                        .map(|(k, v)| format!("{k:<40}: {v}"))
                        .chain(std::iter::once(format!("{} results found.", self.db.len())))
                        .collect(),
                    _ => {
                        // Asterisk 22 answers an unknown CLI command with an
                        // Error whose Output names it; the help hint drops
                        // the last word.
                        known = false;
                        let words: Vec<&str> = cmd.split_whitespace().collect();
                        let hint = words[..words.len().saturating_sub(1)].join(" ");
                        vec![format!(
                            "No such command '{cmd}' (type 'core show help {hint}' for other possible commands)"
                        )]
                    }
                };
                let mut r = reply(if known { "Success" } else { "Error" }, id)
                    .with("Message", "Command output follows");
                for l in out {
                    r.push("Output", &l);
                }
                vec![r]
            }
            "reload" => {
                let module = m.get("Module").unwrap_or("").trim().to_ascii_lowercase();
                if module.is_empty() || module == "manager" {
                    self.reload_manager_file();
                }
                vec![ok("Module Reloaded")]
            }
            "listcommands" => {
                let mut r = reply("Success", id);
                // Asterisk lists only what the user may send.
                for (name, synopsis, privs) in ACTIONS {
                    if session.may_write(privs) {
                        r.push(name, &format!("{synopsis}  (Priv: {privs})"));
                    }
                }
                vec![r]
            }
            "coresettings" => vec![reply("Success", id)
                .with("AMIversion", "11.0.0")
                .with(
                    "AsteriskVersion",
                    format!("20.0.0-oml-pbxsim-{}", self.cfg.ami_version),
                )
                .with("SystemName", "")
                .with("CoreMaxCalls", "0")
                .with("CoreMaxLoadAvg", "0.000000")
                .with("CoreRunUser", "")
                .with("CoreRunGroup", "")
                .with("CoreMaxFilehandles", "0")
                .with("CoreRealTimeEnabled", "No")
                .with("CoreCDRenabled", "No")
                .with("CoreHTTPenabled", "No")
                .with("SoundsSearchCustomDir", "No")],
            "events" => {
                vec![reply("Success", id).with("Events", m.get("EventMask").unwrap_or("On"))]
            }
            _ => err(&format!(
                "Invalid/unknown command: {}. Use Action: ListCommands to show available commands.",
                m.action_name().unwrap_or("")
            )),
        }
    }

    fn login(&mut self, session: &mut Session, m: &Message) -> Message {
        let id = m.action_id();
        use secrecy::ExposeSecret;
        let who = m.get("Username").unwrap_or("");
        let (user_ok, secret, perms) = if who == self.cfg.username {
            (true, self.cfg.secret.expose_secret(), None)
        } else if let Some(u) = self
            .cfg
            .users
            .iter()
            .chain(&self.file_users)
            .find(|u| u.username == who)
        {
            (
                true,
                u.secret.expose_secret(),
                Some((u.read.clone(), u.write.clone())),
            )
        } else {
            (false, "", None)
        };
        let pass_ok = if m
            .get("AuthType")
            .is_some_and(|a| a.eq_ignore_ascii_case("md5"))
        {
            match (&session.challenge, m.get("Key")) {
                (Some(c), Some(k)) => {
                    oml_ami::actions::md5_key(c, secret) == k.to_ascii_lowercase()
                }
                _ => false,
            }
        } else {
            m.get("Secret").is_some_and(|s| s == secret)
        };
        if user_ok && pass_ok {
            session.authenticated = true;
            session.perms = perms;
            reply("Success", id).with("Message", "Authentication accepted")
        } else {
            // Asterisk closes the connection after a failed login.
            session.authenticated = false;
            session.closing = true;
            reply("Error", id).with("Message", "Authentication failed")
        }
    }

    fn originate(&mut self, m: &Message, now: Instant, events: &mut Vec<Message>) -> Vec<Message> {
        let id = m.action_id();
        let Some(dial) = m.get("Channel").filter(|c| !c.is_empty()) else {
            return vec![reply("Error", id).with("Message", "Channel not specified")];
        };
        let has_exten = m.get("Exten").is_some();
        let has_app = m.get("Application").is_some();
        if !has_exten && !has_app {
            return vec![reply("Error", id).with("Message", "Exten not specified")];
        }
        if has_exten {
            let ctx = m.get("Context").unwrap_or("default");
            if !self.context_exists(ctx) {
                return vec![reply("Error", id).with("Message", "Extension does not exist.")];
            }
        }
        self.stats.originates += 1;
        let n = self.next_id();
        let number = number_of(dial);
        let local_ctx = local_context(dial);
        let (caller_num, caller_name) = split_caller_id(m.get("CallerID").unwrap_or(""));
        let uniqueid = m
            .get("ChannelId")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}.{n}", self.epoch_at_start));
        let base = dial.rsplit_once('/').map_or(dial, |(b, tail)| {
            // `Local/555@ctx/n`: drop the `/n` option.
            if tail.len() <= 2 && b.contains('@') {
                b
            } else {
                dial
            }
        });
        let channel = format!("{base}-{n:08x};1");
        let other = match &local_ctx {
            Some(ctx) => {
                let m2 = self.next_id();
                Some(Half {
                    channel: format!("{base}-{n:08x};2"),
                    uniqueid: m
                        .get("OtherChannelId")
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("{}.{m2}", self.epoch_at_start)),
                    context: ctx.clone(),
                })
            }
            None => None,
        };
        // A Local channel into a context the dialplan lacks cannot be
        // placed: Asterisk queues the Originate, then reports Reason 0.
        let channel_ok = local_ctx.as_deref().is_none_or(|c| self.context_exists(c));
        let timeout_s = m
            .get("Timeout")
            .and_then(|t| t.trim().parse::<f64>().ok())
            .map_or(30.0, |ms| ms / 1000.0);

        let model = self.cfg.customers.clone();
        let forced = self.cfg.numbers.get(&number).copied();
        let outcome = if channel_ok {
            forced
        } else {
            Some(NumberOutcome::Fail)
        };
        let outcome = outcome.unwrap_or_else(|| {
            let x: f64 = self.rng.gen();
            if x < model.answer_rate {
                NumberOutcome::Answer
            } else if x < model.answer_rate + model.busy_rate {
                NumberOutcome::Busy
            } else if x < model.answer_rate + model.busy_rate + model.congestion_rate {
                NumberOutcome::Congestion
            } else {
                NumberOutcome::NoAnswer
            }
        });
        let (ring_s, outcome) = match outcome {
            NumberOutcome::Answer => {
                let t = model.time_to_answer.sample(&mut self.rng);
                if t < timeout_s {
                    (t, NumberOutcome::Answer)
                } else {
                    (timeout_s, NumberOutcome::NoAnswer)
                }
            }
            NumberOutcome::Busy => (self.rng.gen_range(1.0..4.0), NumberOutcome::Busy),
            NumberOutcome::Congestion => (self.rng.gen_range(0.2..1.0), NumberOutcome::Congestion),
            NumberOutcome::NoAnswer => (
                model.no_answer_after.sample(&mut self.rng).min(timeout_s),
                NumberOutcome::NoAnswer,
            ),
            NumberOutcome::Fail => (0.0, NumberOutcome::Fail),
        };
        let call = Call {
            channel: channel.clone(),
            uniqueid,
            number,
            context: m.get("Context").unwrap_or("").to_owned(),
            exten: m.get("Exten").unwrap_or("").to_owned(),
            application: m.get("Application").unwrap_or("").to_owned(),
            data: m.get("Data").unwrap_or("").to_owned(),
            caller_num,
            caller_name,
            action_id: id.map(str::to_owned),
            state: CallState::Ringing,
            queue: None,
            original_position: 0,
            joined_at: 0.0,
            connected_at: 0.0,
            agent: None,
            ring_outcome: outcome,
            dial: dial.to_owned(),
            chan_id_given: m.get("ChannelId").is_some(),
            other,
        };
        if outcome != NumberOutcome::Fail {
            events.push(self.channel_event("Newchannel", &call, 0, "Down"));
            events.extend(self.half2_event("Newchannel", &call, 4, "Ring"));
        }
        self.by_channel.insert(channel, n);
        self.calls.insert(n, call);
        self.schedule(now, ring_s, Timer::Ring(n));
        vec![reply("Success", id).with("Message", "Originate successfully queued")]
    }

    // ----- timers ------------------------------------------------------

    /// Fires every timer due at `now`, appending the resulting events.
    pub fn advance(&mut self, now: Instant, events: &mut Vec<Message>) {
        while let Some(Reverse((at, _, t))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            // Handle each timer at its own due time, so a late wake-up
            // does not stretch simulated hold and talk times.
            match t {
                Timer::Ring(c) => self.ring_end(c, at, events),
                Timer::Abandon(c) => self.abandon(c, at, events),
                Timer::TalkEnd(c) => self.talk_end(c, 16, true, at, events),
                Timer::WrapupEnd(a) => self.wrapup_end(a, at, events),
            }
        }
    }

    fn ring_end(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        if call.state != CallState::Ringing {
            return;
        }
        let outcome = call.ring_outcome;
        let (reason, cause, txt) = match outcome {
            NumberOutcome::Answer => (4, 0, ""),
            NumberOutcome::Busy => (5, 17, "User busy"),
            NumberOutcome::Congestion => (8, 34, "Circuit/channel congestion"),
            NumberOutcome::NoAnswer => (3, 19, "No answer"),
            NumberOutcome::Fail => (0, 0, ""),
        };
        match outcome {
            NumberOutcome::Answer => self.stats.answered += 1,
            NumberOutcome::Busy => self.stats.busy += 1,
            NumberOutcome::Congestion => self.stats.congestion += 1,
            NumberOutcome::NoAnswer => self.stats.no_answer += 1,
            NumberOutcome::Fail => self.stats.failed += 1,
        }
        if outcome != NumberOutcome::Answer {
            let call = self.remove_call(c).expect("present");
            events.push(self.originate_response(&call, false, reason));
            if outcome != NumberOutcome::Fail {
                if call.other.is_some() {
                    // Asterisk: the originated ;1 half never got an answer,
                    // so it ends with cause 0 unless it timed out (19);
                    // the customer's cause is on the ;2 half.
                    let first = if outcome == NumberOutcome::NoAnswer {
                        cause
                    } else {
                        0
                    };
                    events.push(self.hangup_event(&call, first, cause_text(first)));
                    events.extend(self.half2_hangup(&call, cause));
                } else {
                    events.push(self.hangup_event(&call, cause, txt));
                }
            }
            return;
        }
        let call = self.calls.get(&c).expect("present");
        events.extend(self.half2_event("Newstate", call, 6, "Up"));
        events.push(self.channel_event("Newstate", call, 6, "Up"));
        events.push(self.originate_response(call, true, reason));
        // Where does the answered call go?
        let queue = if call.application.eq_ignore_ascii_case("Queue") {
            let q = call.data.split(',').next().unwrap_or("").trim();
            self.cfg
                .routes
                .get(q)
                .cloned()
                .unwrap_or_else(|| q.to_owned())
        } else {
            self.cfg
                .routes
                .get(&call.context)
                .cloned()
                .unwrap_or_else(|| self.default_queue.clone())
        };
        let queue = if self.queues.contains_key(&queue) {
            queue
        } else {
            self.default_queue.clone()
        };
        let sim_now = self.sim_secs(now);
        let q = self.queues.get_mut(&queue).expect("queue exists");
        q.waiting.push_back(c);
        let position = q.waiting.len();
        let call = self.calls.get_mut(&c).expect("present");
        call.state = CallState::Queued;
        call.queue = Some(queue.clone());
        call.original_position = position;
        call.joined_at = sim_now;
        let call = self.calls.get(&c).expect("present");
        events.push(
            self.channel_event("QueueCallerJoin", call, 6, "Up")
                .with("Queue", &queue)
                .with("Position", position.to_string())
                .with("Count", position.to_string()),
        );
        let patience = self.cfg.customers.patience.sample(&mut self.rng);
        self.schedule(now, patience, Timer::Abandon(c));
        self.dispatch(&queue, now, events);
    }

    /// Connects waiting callers of `queue` to free agents, longest-idle
    /// (lowest index among free) first.
    fn dispatch(&mut self, queue: &str, now: Instant, events: &mut Vec<Message>) {
        loop {
            let Some(q) = self.queues.get(queue) else {
                return;
            };
            if q.waiting.is_empty() {
                return;
            }
            let Some(&a) = q
                .agents
                .iter()
                .find(|&&a| self.agents[a].call.is_none() && !self.agents[a].wrapup)
            else {
                return;
            };
            let q = self.queues.get_mut(queue).expect("exists");
            let c = q.waiting.pop_front().expect("non-empty");
            let count = q.waiting.len();
            let sim_now = self.sim_secs(now);
            let epoch = self.sim_epoch(now);
            let call = self.calls.get_mut(&c).expect("queued call exists");
            call.state = CallState::Talking;
            call.agent = Some(a);
            call.connected_at = sim_now;
            let hold = (sim_now - call.joined_at).max(0.0);
            self.queues.get_mut(queue).expect("exists").hold_total += hold;
            self.agents[a].call = Some(c);
            self.agents[a].calls_taken += 1;
            self.agents[a].last_call = epoch;
            self.stats.connected += 1;
            let call = self.calls.get(&c).expect("present");
            // The agent is rung (answering at once), then the caller leaves
            // the queue and is bridged, as app_queue reports it.
            events.push(self.agent_event("AgentCalled", call, a));
            events.push(
                self.channel_event("QueueCallerLeave", call, 6, "Up")
                    .with("Queue", queue)
                    .with("Count", count.to_string())
                    .with("Position", "1"),
            );
            events.push(
                self.agent_event("AgentConnect", call, a)
                    .with("HoldTime", (hold.round() as i64).to_string())
                    .with("RingTime", "0"),
            );
            events.push(self.member_status(a));
            let talk = self.cfg.talk_time.sample(&mut self.rng);
            self.schedule(now, talk, Timer::TalkEnd(c));
        }
    }

    fn abandon(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        if call.state != CallState::Queued {
            return;
        }
        self.abandon_queued(c, 16, true, now, events);
    }

    /// A queued call ends: the customer hung up (`by_customer`, the ;2
    /// half goes first) or a Hangup action ended the ;1 half.
    fn abandon_queued(
        &mut self,
        c: u64,
        cause: u32,
        by_customer: bool,
        now: Instant,
        events: &mut Vec<Message>,
    ) {
        let sim_now = self.sim_secs(now);
        let call = self.remove_call(c).expect("present");
        if by_customer {
            events.extend(self.half2_hangup(&call, cause));
        }
        let queue = call.queue.clone().unwrap_or_default();
        let mut position = 0;
        let mut count = 0;
        if let Some(q) = self.queues.get_mut(&queue) {
            if let Some(i) = q.waiting.iter().position(|&x| x == c) {
                q.waiting.remove(i);
                position = i + 1;
            }
            q.abandoned += 1;
            count = q.waiting.len();
        }
        self.stats.abandoned += 1;
        let hold = (sim_now - call.joined_at).max(0.0);
        events.push(
            self.channel_event("QueueCallerAbandon", &call, 6, "Up")
                .with("Queue", &queue)
                .with("Position", position.to_string())
                .with("OriginalPosition", call.original_position.to_string())
                .with("HoldTime", (hold.round() as i64).to_string()),
        );
        events.push(
            self.channel_event("QueueCallerLeave", &call, 6, "Up")
                .with("Queue", &queue)
                .with("Count", count.to_string())
                .with("Position", position.to_string()),
        );
        events.push(self.hangup_event(&call, cause, cause_text(cause)));
        if !by_customer {
            events.extend(self.half2_hangup(&call, cause));
        }
    }

    /// A connected call ends with `cause`: `by_customer` when the customer
    /// (the ;2 half) hung up, else a Hangup action on the ;1 half.
    fn talk_end(
        &mut self,
        c: u64,
        cause: u32,
        by_customer: bool,
        now: Instant,
        events: &mut Vec<Message>,
    ) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        if call.state != CallState::Talking {
            return;
        }
        let sim_now = self.sim_secs(now);
        let call = self.remove_call(c).expect("present");
        let a = call.agent.expect("talking call has an agent");
        let talk = (sim_now - call.connected_at).max(0.0);
        let hold = (call.connected_at - call.joined_at).max(0.0);
        if let Some(q) = call.queue.as_ref().and_then(|q| self.queues.get_mut(q)) {
            q.completed += 1;
            q.talk_total += talk;
        }
        self.stats.completed += 1;
        if by_customer {
            events.extend(self.half2_hangup(&call, cause));
        }
        // Either way the caller side of the queue (;1) left: app_queue
        // says `caller`.
        events.push(
            self.agent_event("AgentComplete", &call, a)
                .with("HoldTime", (hold.round() as i64).to_string())
                .with("TalkTime", (talk.round() as i64).to_string())
                .with("Reason", "caller"),
        );
        events.push(self.hangup_event(&call, cause, cause_text(cause)));
        if !by_customer {
            events.extend(self.half2_hangup(&call, cause));
        }
        self.agents[a].call = None;
        self.agents[a].wrapup = true;
        let w = self.cfg.wrapup_time.sample(&mut self.rng);
        if w > 0.0 {
            self.agents[a].acw_paused = true;
            events.push(self.member_pause(a));
        }
        events.push(self.member_status(a));
        self.schedule(now, w, Timer::WrapupEnd(a));
    }

    fn wrapup_end(&mut self, a: usize, now: Instant, events: &mut Vec<Message>) {
        if !self.agents[a].wrapup {
            return;
        }
        self.agents[a].wrapup = false;
        if self.agents[a].acw_paused {
            self.agents[a].acw_paused = false;
            events.push(self.member_pause(a));
        }
        let queue = self.agents[a].queue.clone();
        self.dispatch(&queue, now, events);
    }

    fn end_by_hangup(&mut self, c: u64, cause: u32, now: Instant, events: &mut Vec<Message>) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        match call.state {
            CallState::Ringing => {
                let call = self.remove_call(c).expect("present");
                self.stats.failed += 1;
                events.push(self.originate_response(&call, false, 1));
                events.push(self.hangup_event(&call, cause, cause_text(cause)));
                events.extend(self.half2_hangup(&call, cause));
            }
            CallState::Queued => self.abandon_queued(c, cause, false, now, events),
            CallState::Talking => self.talk_end(c, cause, false, now, events),
        }
    }

    fn remove_call(&mut self, c: u64) -> Option<Call> {
        let call = self.calls.remove(&c)?;
        self.by_channel.remove(&call.channel);
        Some(call)
    }

    // ----- lists -------------------------------------------------------

    fn queue_status(&self, m: &Message, now: Instant) -> Vec<Message> {
        let id = m.action_id();
        let only = m.get("Queue");
        let mut out = vec![reply("Success", id)
            .with("EventList", "start")
            .with("Message", "Queue status will follow")];
        let sim_now = self.sim_secs(now);
        for (name, q) in &self.queues {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            let done = q.completed.max(1) as f64;
            out.push(
                list_event("QueueParams", id)
                    .with("Queue", name)
                    .with("Max", "0")
                    .with("Strategy", "rrordered")
                    .with("Calls", q.waiting.len().to_string())
                    .with(
                        "Holdtime",
                        ((q.hold_total / done).round() as i64).to_string(),
                    )
                    .with(
                        "TalkTime",
                        ((q.talk_total / done).round() as i64).to_string(),
                    )
                    .with("Completed", q.completed.to_string())
                    .with("Abandoned", q.abandoned.to_string())
                    .with("ServiceLevel", "0")
                    .with("ServicelevelPerf", "0.0")
                    .with("ServicelevelPerf2", "0.0")
                    .with("Weight", "0"),
            );
            for &a in &q.agents {
                // QueueStatus names the member `Name` / `Location` (the
                // QueueMemberStatus event says `MemberName` / `Interface`).
                out.push(self.member_fields(
                    list_event("QueueMember", id),
                    a,
                    ("Name", "Location"),
                ));
            }
            for (i, &c) in q.waiting.iter().enumerate() {
                let call = &self.calls[&c];
                out.push(
                    list_event("QueueEntry", id)
                        .with("Queue", name)
                        .with("Position", (i + 1).to_string())
                        .with("Channel", &call.channel)
                        .with("Uniqueid", &call.uniqueid)
                        .with("CallerIDNum", &call.caller_num)
                        .with("CallerIDName", &call.caller_name)
                        .with("ConnectedLineNum", &call.number)
                        .with("ConnectedLineName", "<unknown>")
                        .with(
                            "Wait",
                            (((sim_now - call.joined_at).max(0.0)).round() as i64).to_string(),
                        )
                        .with("Priority", "0"),
                );
            }
        }
        let n = out.len() - 1;
        out.push(complete("QueueStatusComplete", id, n));
        out
    }

    fn queue_summary(&self, m: &Message, now: Instant) -> Vec<Message> {
        let id = m.action_id();
        let only = m.get("Queue");
        let sim_now = self.sim_secs(now);
        let mut out = vec![reply("Success", id)
            .with("EventList", "start")
            .with("Message", "Queue summary will follow")];
        for (name, q) in &self.queues {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            let available = q
                .agents
                .iter()
                .filter(|&&a| self.agents[a].call.is_none() && !self.agents[a].wrapup)
                .count();
            let longest = q
                .waiting
                .front()
                .map_or(0.0, |c| sim_now - self.calls[c].joined_at);
            let done = q.completed.max(1) as f64;
            out.push(
                list_event("QueueSummary", id)
                    .with("Queue", name)
                    .with("LoggedIn", q.agents.len().to_string())
                    .with("Available", available.to_string())
                    .with("Callers", q.waiting.len().to_string())
                    .with(
                        "HoldTime",
                        ((q.hold_total / done).round() as i64).to_string(),
                    )
                    .with(
                        "TalkTime",
                        ((q.talk_total / done).round() as i64).to_string(),
                    )
                    .with(
                        "LongestHoldTime",
                        (longest.max(0.0).round() as i64).to_string(),
                    ),
            );
        }
        let n = out.len() - 1;
        out.push(complete("QueueSummaryComplete", id, n));
        out
    }

    fn channels_list(&self, action: &str, id: Option<&str>, now: Instant) -> Vec<Message> {
        let (ev, done, msg) = if action == "status" {
            ("Status", "StatusComplete", "Channel status will follow")
        } else {
            (
                "CoreShowChannel",
                "CoreShowChannelsComplete",
                "Channels will follow",
            )
        };
        let mut out = vec![reply("Success", id)
            .with("EventList", "start")
            .with("Message", msg)];
        let sim_now = self.sim_secs(now);
        let mut calls: Vec<(&u64, &Call)> = self.calls.iter().collect();
        calls.sort_by_key(|(k, _)| **k);
        for (_, call) in calls {
            let (state, desc) = if call.state == CallState::Ringing {
                (5, "Ringing")
            } else {
                (6, "Up")
            };
            let mut e = self.channel_fields(list_event(ev, id), call, state, desc);
            let app = match call.state {
                CallState::Ringing => "AppDial",
                CallState::Queued | CallState::Talking => "Queue",
            };
            e.push("Application", app);
            e.push("ApplicationData", call.queue.as_deref().unwrap_or(""));
            let dur = if call.state == CallState::Talking {
                sim_now - call.connected_at
            } else {
                sim_now - call.joined_at
            };
            let secs = dur.max(0.0) as i64;
            e.push(
                "Duration",
                &format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60),
            );
            e.push(
                "BridgeId",
                if call.state == CallState::Talking {
                    "sim-bridge"
                } else {
                    ""
                },
            );
            out.push(e);
        }
        let n = out.len() - 1;
        out.push(complete(done, id, n));
        out
    }

    // ----- event builders ----------------------------------------------

    fn channel_fields(&self, m: Message, call: &Call, state: u8, desc: &str) -> Message {
        m.with("Channel", &call.channel)
            .with("ChannelState", state.to_string())
            .with("ChannelStateDesc", desc)
            .with("CallerIDNum", &call.number)
            .with("CallerIDName", "<unknown>")
            .with("ConnectedLineNum", &call.caller_num)
            .with("ConnectedLineName", &call.caller_name)
            .with("Language", "en")
            .with("AccountCode", "")
            .with("Context", &call.context)
            .with("Exten", &call.exten)
            .with("Priority", "1")
            .with("Uniqueid", &call.uniqueid)
            .with("Linkedid", &call.uniqueid)
    }

    fn channel_event(&self, name: &str, call: &Call, state: u8, desc: &str) -> Message {
        self.channel_fields(
            Message::event(name).with("Privilege", "call,all"),
            call,
            state,
            desc,
        )
    }

    fn originate_response(&self, call: &Call, success: bool, reason: u32) -> Message {
        let mut m = Message::event("OriginateResponse").with("Privilege", "call,all");
        if let Some(a) = &call.action_id {
            m.push("ActionID", a);
        }
        // Asterisk names the created channel on success, the requested
        // dial string on failure.
        let channel = if success { &call.channel } else { &call.dial };
        let uniqueid = if success || call.chan_id_given {
            call.uniqueid.as_str()
        } else {
            "<unknown>"
        };
        m.with("Response", if success { "Success" } else { "Failure" })
            .with("Channel", channel)
            .with("Context", &call.context)
            .with("Exten", &call.exten)
            .with("Application", &call.application)
            .with("Data", &call.data)
            .with("Reason", reason.to_string())
            .with("Uniqueid", uniqueid)
            .with("CallerIDNum", &call.caller_num)
            .with("CallerIDName", &call.caller_name)
    }

    /// An event of the ;2 half of a Local call (none for other channels).
    fn half2_event(&self, name: &str, call: &Call, state: u8, desc: &str) -> Option<Message> {
        let h = call.other.as_ref()?;
        Some(
            Message::event(name)
                .with("Privilege", "call,all")
                .with("Channel", &h.channel)
                .with("ChannelState", state.to_string())
                .with("ChannelStateDesc", desc)
                .with("CallerIDNum", &call.caller_num)
                .with("CallerIDName", &call.caller_name)
                .with("ConnectedLineNum", &call.number)
                .with("ConnectedLineName", "<unknown>")
                .with("Language", "en")
                .with("AccountCode", "")
                .with("Context", &h.context)
                .with("Exten", &call.number)
                .with("Priority", "1")
                .with("Uniqueid", &h.uniqueid)
                .with("Linkedid", &call.uniqueid),
        )
    }

    fn half2_hangup(&self, call: &Call, cause: u32) -> Option<Message> {
        Some(
            self.half2_event("Hangup", call, 6, "Up")?
                .with("Cause", cause.to_string())
                .with("Cause-txt", cause_text(cause)),
        )
    }

    /// Whether the simulated dialplan has `ctx`. With no routes configured
    /// every context exists (all calls go to the default queue); with
    /// routes, only the routed contexts and `SimConfig::dial_contexts`.
    fn context_exists(&self, ctx: &str) -> bool {
        self.cfg.routes.is_empty()
            || self.cfg.routes.contains_key(ctx)
            || self.cfg.dial_contexts.iter().any(|c| c == ctx)
    }

    fn hangup_event(&self, call: &Call, cause: u32, txt: &str) -> Message {
        self.channel_event("Hangup", call, 6, "Up")
            .with("Cause", cause.to_string())
            .with("Cause-txt", txt)
    }

    fn agent_event(&self, name: &str, call: &Call, a: usize) -> Message {
        let ag = &self.agents[a];
        let agent_uid = format!("{}.agent{}", self.epoch_at_start, a + 1);
        self.channel_event(name, call, 6, "Up")
            .with(
                "DestChannel",
                format!("{}-{:08x};1", ag.interface.trim_end_matches("/n"), a + 1),
            )
            .with("DestChannelState", "6")
            .with("DestChannelStateDesc", "Up")
            .with("DestCallerIDNum", format!("agent{}", a + 1))
            .with("DestCallerIDName", &ag.name)
            .with("DestConnectedLineNum", &call.number)
            .with("DestConnectedLineName", "<unknown>")
            .with("DestLanguage", "en")
            .with("DestAccountCode", "")
            .with("DestContext", "from-queue")
            .with("DestExten", &call.exten)
            .with("DestPriority", "1")
            .with("DestUniqueid", &agent_uid)
            .with("DestLinkedid", &call.uniqueid)
            .with("Queue", call.queue.as_deref().unwrap_or(""))
            .with("MemberName", &ag.name)
            .with("Interface", &ag.interface)
    }

    /// The fields describing queue member `a`; `keys` names its name and
    /// interface fields, which differ between events and list responses.
    fn member_fields(&self, m: Message, a: usize, keys: (&str, &str)) -> Message {
        let ag = &self.agents[a];
        let in_call = ag.call.is_some();
        m.with("Queue", &ag.queue)
            .with(keys.0, &ag.name)
            .with(keys.1, &ag.interface)
            .with("StateInterface", &ag.interface)
            .with("Membership", "static")
            .with("Penalty", "0")
            .with("CallsTaken", ag.calls_taken.to_string())
            .with("LastCall", ag.last_call.to_string())
            .with("LastPause", "0")
            .with("LoginTime", ag.login_time.to_string())
            .with("InCall", if in_call { "1" } else { "0" })
            .with("Status", if in_call { "2" } else { "1" })
            .with("Paused", if ag.acw_paused { "1" } else { "0" })
            .with("PausedReason", if ag.acw_paused { "ACW" } else { "" })
            .with("Wrapuptime", "0")
    }

    fn member_status(&self, a: usize) -> Message {
        self.member_fields(
            Message::event("QueueMemberStatus").with("Privilege", "agent,all"),
            a,
            ("MemberName", "Interface"),
        )
        .with("Ringinuse", "0")
    }

    /// `QueueMemberPause`: the member was paused or unpaused (here, the
    /// wrap-up pause after a call).
    fn member_pause(&self, a: usize) -> Message {
        self.member_fields(
            Message::event("QueueMemberPause").with("Privilege", "agent,all"),
            a,
            ("MemberName", "Interface"),
        )
    }
}

/// The permission classes of the (single, all-powerful) simulated user, as
/// `manager show user` prints them.
const ALL_PERMS: &str = "system,call,log,verbose,command,agent,user,config,dtmf,reporting,cdr,dialplan,originate,agi,cc,aoc,test,security,message,all";

/// The actions pbxsim answers, as `ListCommands` lists them: name,
/// synopsis and privilege classes, worded like Asterisk 22.
const ACTIONS: &[(&str, &str, &str)] = &[
    ("Challenge", "Generate Challenge for MD5 Auth.", "<none>"),
    ("Command", "Execute Asterisk CLI Command.", "command,all"),
    (
        "CoreSettings",
        "Show PBX core settings (version etc).",
        "system,reporting,all",
    ),
    (
        "CoreShowChannels",
        "List currently active channels.",
        "system,reporting,all",
    ),
    ("DBDel", "Delete DB entry.", "system,all"),
    ("DBDelTree", "Delete DB Tree.", "system,all"),
    ("DBGet", "Get DB Entry.", "system,reporting,all"),
    ("DBPut", "Put DB entry.", "system,all"),
    ("Events", "Control Event Flow.", "<none>"),
    ("Hangup", "Hangup channel.", "system,call,all"),
    ("ListCommands", "List available manager commands.", "<none>"),
    ("Login", "Login Manager.", "<none>"),
    ("Logoff", "Logoff Manager.", "<none>"),
    ("Originate", "Originate a call.", "originate,all"),
    ("Ping", "Keepalive command.", "<none>"),
    ("QueueStatus", "Show queue status.", "<none>"),
    ("QueueSummary", "Show queue summary.", "<none>"),
    ("Reload", "Send a reload event.", "system,config,all"),
    (
        "Status",
        "List channel status.",
        "system,call,reporting,all",
    ),
];

fn reply(status: &str, id: Option<&str>) -> Message {
    let m = Message::response(status);
    match id {
        Some(i) => m.with("ActionID", i),
        None => m,
    }
}

fn list_event(name: &str, id: Option<&str>) -> Message {
    let m = Message::event(name);
    match id {
        Some(i) => m.with("ActionID", i),
        None => m,
    }
}

fn complete(name: &str, id: Option<&str>, items: usize) -> Message {
    list_event(name, id)
        .with("EventList", "Complete")
        .with("ListItems", items.to_string())
}

fn cause_text(cause: u32) -> &'static str {
    match cause {
        0 => "Unknown",
        16 => "Normal Clearing",
        17 => "User busy",
        19 => "No answer",
        21 => "Call Rejected",
        34 => "Circuit/channel congestion",
        _ => "Unknown",
    }
}

/// The context of a Local channel: `Local/5551@from-oml/n` → `from-oml`;
/// `None` for other channel technologies.
fn local_context(dial: &str) -> Option<String> {
    let rest = dial
        .get(..6)
        .filter(|t| t.eq_ignore_ascii_case("Local/"))
        .map(|_| &dial[6..])?;
    let after = rest.split_once('@').map_or("default", |(_, c)| c);
    Some(after.split('/').next().unwrap_or(after).to_owned())
}

/// `"Name" <123>` → (`123`, `Name`); `123` → (`123`, ``).
fn split_caller_id(s: &str) -> (String, String) {
    match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if b > a => (
            s[a + 1..b].trim().to_owned(),
            s[..a].trim().trim_matches('"').to_owned(),
        ),
        _ => (s.trim().to_owned(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Dist, QueueConfig};
    use secrecy::SecretString;

    fn world(agents: usize) -> (World, Instant) {
        let mut cfg = SimConfig::new("u", SecretString::from("s"), agents);
        cfg.customers.time_to_answer = Dist::Fixed(10.0);
        cfg.customers.patience = Dist::Fixed(30.0);
        cfg.talk_time = Dist::Fixed(60.0);
        cfg.wrapup_time = Dist::Fixed(5.0);
        let now = Instant::now();
        (World::new(cfg, now), now)
    }

    fn logged_in() -> Session {
        Session {
            authenticated: true,
            ..Session::default()
        }
    }

    fn names(ev: &[Message]) -> Vec<&str> {
        ev.iter().map(|e| e.event_name().unwrap_or("?")).collect()
    }

    #[test]
    fn number_extraction() {
        assert_eq!(number_of("Local/5551234@from-oml/n"), "5551234");
        assert_eq!(number_of("PJSIP/5551234@trunk"), "5551234");
        assert_eq!(number_of("SIP/trunk/5551234"), "5551234");
    }

    #[test]
    fn manager_file_users_follow_manager_reload() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("oml_manager.conf");
        std::fs::write(
            &file,
            "[general]\nenabled = yes\n\n[omlami]\nsecret = old ; first\nread = all\nwrite = all\n",
        )
        .unwrap();
        let mut cfg = SimConfig::new("u", SecretString::from("s"), 1);
        cfg.manager_file = Some(file.clone());
        let now = Instant::now();
        let mut w = World::new(cfg, now);
        let mut ev = Vec::new();
        let login = |w: &mut World, secret: &str| {
            let mut s = Session::default();
            let r = w.handle(
                &mut s,
                &oml_ami::actions::login_plain("omlami", secret),
                now,
                &mut Vec::new(),
            );
            r[0].response_status() == Some("Success")
        };
        assert!(login(&mut w, "old"));
        std::fs::write(&file, "[omlami]\nsecret = new\n").unwrap();
        // Not reread until a reload.
        assert!(login(&mut w, "old"));
        let mut admin = logged_in();
        let r = w.handle(
            &mut admin,
            &Message::action("Command").with("Command", "manager reload"),
            now,
            &mut ev,
        );
        assert_eq!(r[0].response_status(), Some("Success"));
        assert!(login(&mut w, "new"));
        assert!(!login(&mut w, "old"));
        // `oml asterisk check` reads the user's permissions from the CLI.
        let r = w.handle(
            &mut admin,
            &Message::action("Command").with("Command", "manager show user omlami"),
            now,
            &mut ev,
        );
        assert!(
            r[0].output_lines()
                .iter()
                .any(|l| l.trim() == "read perm: all"),
            "{:?}",
            r[0].output_lines()
        );
        // `Reload` with Module: manager rereads it too.
        std::fs::write(&file, "[omlami]\nsecret = third\n").unwrap();
        w.handle(
            &mut admin,
            &Message::action("Reload").with("Module", "manager"),
            now,
            &mut ev,
        );
        assert!(login(&mut w, "third"));
        let users = crate::config::parse_manager_users(
            "[general]\nsecret=x\n[a]\nsecret => p\nwrite = system, command\n",
        );
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].write, ["system", "command"]);
    }

    #[test]
    fn login_plain_md5_and_wrong_secret() {
        let (mut w, now) = world(1);
        let mut ev = Vec::new();
        let mut s = Session::default();
        let r = w.handle(&mut s, &Message::action("Ping"), now, &mut ev);
        assert_eq!(r[0].get("Ping"), Some("Pong"));
        let r = w.handle(&mut s, &Message::action("DBGet"), now, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Permission denied"));
        let r = w.handle(
            &mut s,
            &oml_ami::actions::login_plain("u", "bad"),
            now,
            &mut ev,
        );
        assert_eq!(r[0].get("Message"), Some("Authentication failed"));
        let r = w.handle(&mut s, &oml_ami::actions::challenge(), now, &mut ev);
        let ch = r[0].get("Challenge").unwrap().to_owned();
        let r = w.handle(
            &mut s,
            &oml_ami::actions::login_md5("u", &ch, "s"),
            now,
            &mut ev,
        );
        assert_eq!(r[0].response_status(), Some("Success"));
        assert!(s.authenticated);
        let r = w.handle(&mut s, &Message::action("Frobnicate"), now, &mut ev);
        assert_eq!(
            r[0].get("Message"),
            Some("Invalid/unknown command: Frobnicate. Use Action: ListCommands to show available commands.")
        );
    }

    #[test]
    fn astdb() {
        let (mut w, now) = world(1);
        let mut ev = Vec::new();
        let mut s = logged_in();
        let mut h = |m: Message| w.handle(&mut s, &m, now, &mut ev);
        use oml_ami::actions as a;
        assert_eq!(
            h(a::db_put("OML/CAMP/1", "NAME", "x: y"))[0].response_status(),
            Some("Success")
        );
        h(a::db_put("OML/CAMP/1", "RATE", "3"));
        h(a::db_put("OML/CAMP/10", "NAME", "other"));
        let r = h(a::db_get("OML/CAMP/1", "NAME"));
        assert_eq!(r[1].get("Val"), Some("x: y"));
        assert_eq!(r[2].get("EventList"), Some("Complete"));
        assert_eq!(
            h(a::db_del("OML/CAMP/1", "RATE"))[0].response_status(),
            Some("Success")
        );
        assert_eq!(
            h(a::db_del("OML/CAMP/1", "RATE"))[0].response_status(),
            Some("Error")
        );
        assert_eq!(
            h(a::db_deltree("OML/CAMP/1", None))[0].response_status(),
            Some("Success")
        );
        assert_eq!(
            h(a::db_get("OML/CAMP/1", "NAME"))[0].get("Message"),
            Some("Database entry not found")
        );
        // The sibling family with a common prefix survives.
        assert_eq!(
            h(a::db_get("OML/CAMP/10", "NAME"))[1].get("Val"),
            Some("other")
        );
    }

    #[test]
    fn answered_call_full_sequence() {
        let (mut w, t0) = world(1);
        let mut s = logged_in();
        let mut ev = Vec::new();
        let o = oml_ami::Originate::to_extension("Local/5551000@from-oml/n", "oml-campaign", "1");
        let mut m = o.to_message().with("ActionID", "o1");
        m.set("Timeout", "30000");
        w.cfg
            .numbers
            .insert("5551000".into(), NumberOutcome::Answer);
        let r = w.handle(&mut s, &m, t0, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Originate successfully queued"));
        // The ;1 half we originated and the ;2 customer half.
        assert_eq!(names(&ev), ["Newchannel", "Newchannel"]);
        assert!(ev[1].get("Channel").unwrap().ends_with(";2"));
        assert_eq!(ev[1].get("Linkedid"), ev[0].get("Uniqueid"));
        ev.clear();
        w.advance(t0 + Duration::from_secs(10), &mut ev);
        assert_eq!(
            names(&ev),
            [
                "Newstate",
                "Newstate",
                "OriginateResponse",
                "QueueCallerJoin",
                "AgentCalled",
                "QueueCallerLeave",
                "AgentConnect",
                "QueueMemberStatus"
            ]
        );
        let or = oml_ami::OriginateResponse::from_message(&ev[2]).unwrap();
        assert_eq!(or.outcome, oml_ami::OriginateOutcome::Answered);
        assert_eq!(or.action_id.as_deref(), Some("o1"));
        assert!(or.channel.ends_with(";1"), "{or:?}");
        assert_eq!(ev[3].get("Queue"), Some("oml-default"));
        assert_eq!(ev[7].get("InCall"), Some("1"));
        ev.clear();
        w.advance(t0 + Duration::from_secs(70), &mut ev);
        // The customer (;2) hangs up, the queue reports, then ;1 goes.
        // The agent goes into wrap-up: paused with reason ACW before its
        // device is reported free, so nobody mistakes it for a free agent.
        assert_eq!(
            names(&ev),
            [
                "Hangup",
                "AgentComplete",
                "Hangup",
                "QueueMemberPause",
                "QueueMemberStatus"
            ]
        );
        assert!(ev[0].get("Channel").unwrap().ends_with(";2"));
        assert_eq!(ev[0].get("Cause"), Some("16"));
        assert_eq!(ev[1].get("TalkTime"), Some("60"));
        assert!(ev[2].get("Channel").unwrap().ends_with(";1"));
        assert_eq!(ev[2].get("Cause"), Some("16"));
        for m in &ev[3..] {
            assert_eq!(
                (m.get("Paused"), m.get("PausedReason"), m.get("InCall")),
                (Some("1"), Some("ACW"), Some("0"))
            );
        }
        assert_eq!(w.free_agents(), 0, "wrap-up");
        ev.clear();
        w.advance(t0 + Duration::from_secs(76), &mut ev);
        assert_eq!(names(&ev), ["QueueMemberPause"]);
        assert_eq!(ev[0].get("Paused"), Some("0"));
        assert_eq!(w.free_agents(), 1);
        assert_eq!(w.stats().completed, 1);
    }

    #[test]
    fn waiting_caller_abandons_when_no_agent() {
        let (mut w, t0) = world(0);
        w.cfg.customers.answer_rate = 1.0;
        let mut s = logged_in();
        let mut ev = Vec::new();
        let m = oml_ami::Originate::to_application("PJSIP/777@trunk", "Queue", "oml-default,t")
            .to_message();
        w.handle(&mut s, &m, t0, &mut ev);
        ev.clear();
        w.advance(t0 + Duration::from_secs(10), &mut ev);
        assert!(names(&ev).contains(&"QueueCallerJoin"));
        ev.clear();
        w.advance(t0 + Duration::from_secs(41), &mut ev);
        assert_eq!(
            names(&ev),
            ["QueueCallerAbandon", "QueueCallerLeave", "Hangup"]
        );
        assert_eq!(ev[0].get("HoldTime"), Some("30"));
        assert_eq!(w.stats().abandoned, 1);
        assert_eq!(w.active_calls(), 0);
    }

    #[test]
    fn busy_congestion_noanswer_fail() {
        let (mut w, t0) = world(1);
        let mut s = logged_in();
        for (n, o) in [
            ("1", NumberOutcome::Busy),
            ("2", NumberOutcome::Congestion),
            ("3", NumberOutcome::NoAnswer),
            ("4", NumberOutcome::Fail),
        ] {
            w.cfg.numbers.insert(n.into(), o);
        }
        let mut ev = Vec::new();
        for n in ["1", "2", "3", "4"] {
            let m = oml_ami::Originate::to_extension(&format!("Local/{n}@from-oml/n"), "c", "1")
                .to_message()
                .with("ActionID", n);
            w.handle(&mut s, &m, t0, &mut ev);
        }
        ev.clear();
        w.advance(t0 + Duration::from_secs(31), &mut ev);
        let mut reasons: Vec<(String, u32)> = ev
            .iter()
            .filter_map(oml_ami::OriginateResponse::from_message)
            .map(|o| (o.action_id.unwrap(), o.reason))
            .collect();
        reasons.sort();
        assert_eq!(
            reasons,
            [
                ("1".into(), 5),
                ("2".into(), 8),
                ("3".into(), 3),
                ("4".into(), 0)
            ]
        );
        // Per number: (cause of ;1, cause of ;2), as Asterisk reports a
        // Local channel pair: the customer's cause is on ;2.
        let mut causes: HashMap<String, (Option<u32>, Option<u32>)> = HashMap::new();
        for h in ev.iter().filter_map(oml_ami::Hangup::from_message) {
            let e = causes.entry(number_of(&h.channel)).or_default();
            if h.channel.ends_with(";1") {
                e.0 = Some(h.cause);
            } else {
                e.1 = Some(h.cause);
            }
        }
        assert_eq!(causes.len(), 3, "{causes:?}");
        assert_eq!(causes["1"], (Some(0), Some(17)));
        assert_eq!(causes["2"], (Some(0), Some(34)));
        assert_eq!(causes["3"], (Some(19), Some(19)));
        // A failed OriginateResponse names the dial string and, without
        // ChannelId, Uniqueid `<unknown>`.
        let busy = ev
            .iter()
            .find(|e| e.event_name() == Some("OriginateResponse") && e.action_id() == Some("1"))
            .unwrap();
        assert_eq!(busy.get("Channel"), Some("Local/1@from-oml/n"));
        assert_eq!(busy.get("Uniqueid"), Some("<unknown>"));
    }

    #[test]
    fn routes_and_queue_status_lists() {
        let (mut w, t0) = world(0);
        w.cfg.queues.push(QueueConfig {
            name: "sales".into(),
            agents: 0,
        });
        w.queues.entry("sales".into()).or_default();
        w.cfg.routes.insert("camp-7".into(), "sales".into());
        w.cfg.customers.answer_rate = 1.0;
        let mut s = logged_in();
        let mut ev = Vec::new();
        w.handle(
            &mut s,
            &oml_ami::Originate::to_extension("Local/9@from-oml/n", "camp-7", "1").to_message(),
            t0,
            &mut ev,
        );
        ev.clear();
        w.advance(t0 + Duration::from_secs(25), &mut ev);
        let join = ev
            .iter()
            .find(|e| e.event_name() == Some("QueueCallerJoin"))
            .unwrap();
        assert_eq!(join.get("Queue"), Some("sales"));
        let r = w.handle(
            &mut s,
            &oml_ami::actions::queue_status(Some("sales")).with("ActionID", "q"),
            t0,
            &mut ev,
        );
        assert_eq!(
            names(&r[1..]),
            ["QueueParams", "QueueEntry", "QueueStatusComplete"]
        );
        assert_eq!(r[3].get("ListItems"), Some("2"));
        let r = w.handle(&mut s, &oml_ami::actions::core_show_channels(), t0, &mut ev);
        assert_eq!(
            names(&r[1..]),
            ["CoreShowChannel", "CoreShowChannelsComplete"]
        );
    }

    #[test]
    fn unknown_contexts_and_hangup_cause() {
        let (mut w, t0) = world(1);
        w.cfg.routes.insert("camp".into(), "oml-default".into());
        w.cfg.customers.answer_rate = 1.0;
        let mut s = logged_in();
        let mut ev = Vec::new();
        // A Context the dialplan lacks: refused at once.
        let m = oml_ami::Originate::to_extension("Local/5@from-oml/n", "nowhere", "1").to_message();
        let r = w.handle(&mut s, &m, t0, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Extension does not exist."));
        assert!(ev.is_empty());
        // A Local channel into a missing context: queued, then Reason 0.
        let m = oml_ami::Originate::to_extension("Local/5@nowhere/n", "camp", "1")
            .to_message()
            .with("ActionID", "x");
        let r = w.handle(&mut s, &m, t0, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Originate successfully queued"));
        w.advance(t0 + Duration::from_secs(1), &mut ev);
        let or = ev
            .iter()
            .find_map(oml_ami::OriginateResponse::from_message)
            .unwrap();
        assert_eq!((or.success, or.reason, or.uniqueid), (false, 0, None));
        // A Hangup action's Cause reaches both halves.
        ev.clear();
        let m = oml_ami::Originate::to_extension("Local/6@from-oml/n", "camp", "1")
            .to_message()
            .with("ChannelId", "A")
            .with("OtherChannelId", "B");
        w.handle(&mut s, &m, t0, &mut ev);
        w.advance(t0 + Duration::from_secs(11), &mut ev);
        let ch = ev
            .iter()
            .find_map(oml_ami::OriginateResponse::from_message)
            .unwrap()
            .channel;
        ev.clear();
        let h = Message::action("Hangup")
            .with("Channel", &ch)
            .with("Cause", "21");
        let r = w.handle(&mut s, &h, t0 + Duration::from_secs(12), &mut ev);
        assert_eq!(r[0].response_status(), Some("Success"));
        let hups: Vec<(String, u32)> = ev
            .iter()
            .filter_map(oml_ami::Hangup::from_message)
            .map(|h| (h.uniqueid, h.cause))
            .collect();
        assert_eq!(hups, [("A".into(), 21), ("B".into(), 21)]);
    }

    #[test]
    fn limited_user_permissions() {
        let (mut w, now) = world(1);
        w.cfg.users.push(crate::config::SimUser {
            username: "lim".into(),
            secret: SecretString::from("p"),
            read: vec!["system".into()],
            write: vec!["system".into(), "command".into(), "reporting".into()],
        });
        let mut ev = Vec::new();
        let mut s = Session::default();
        let r = w.handle(
            &mut s,
            &oml_ami::actions::login_plain("lim", "p"),
            now,
            &mut ev,
        );
        assert_eq!(r[0].response_status(), Some("Success"));
        let o = oml_ami::Originate::to_extension("Local/1@from-oml/n", "c", "1").to_message();
        let r = w.handle(&mut s, &o, now, &mut ev);
        assert_eq!(r[0].get("Message"), Some("Permission denied"));
        let r = w.handle(&mut s, &Message::action("ListCommands"), now, &mut ev);
        let allowed = oml_ami::check::parse_list_commands(&r[0]);
        assert!(allowed.contains("command") && allowed.contains("ping"));
        assert!(!allowed.contains("originate"));
        let r = w.handle(
            &mut s,
            &oml_ami::actions::command("manager show user lim"),
            now,
            &mut ev,
        );
        let lines: Vec<String> = r[0].output_lines().into_iter().map(str::to_owned).collect();
        assert_eq!(
            oml_ami::check::parse_read_perm(&lines).unwrap(),
            ["system".to_owned()].into_iter().collect()
        );
        assert!(s.may_read("system,all"));
        assert!(!s.may_read("call,all"));
        assert!(logged_in().may_read("call,all"));
    }

    #[test]
    fn same_seed_same_outcomes() {
        let run = || {
            let (mut w, t0) = world(2);
            let mut s = logged_in();
            let mut ev = Vec::new();
            for i in 0..50 {
                let m = oml_ami::Originate::to_extension(&format!("Local/{i}@x/n"), "c", "1")
                    .to_message();
                w.handle(&mut s, &m, t0, &mut ev);
            }
            w.advance(t0 + Duration::from_secs(3600), &mut ev);
            (w.stats(), ev.len())
        };
        assert_eq!(run(), run());
    }
}
