//! Connection check of one AMI server: can we reach it, log in, how fast
//! does it answer, which Asterisk is it, and may this user originate calls
//! and read the events the dialer lives on?
//!
//! Used by `oml asterisk check`, the console's "test connection" and deploy
//! pre-flight. [`run_check`] does the I/O; everything that decides what the
//! answers mean (parsing `ListCommands` and `manager show user`, classifying
//! connect errors, the verdict and its text) is pure and tested alone.

use std::collections::BTreeSet;
use std::fmt;
use std::io::ErrorKind;
use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::client::{AmiClient, AuthKind, ClientConfig};
use crate::error::AmiError;
use crate::message::Message;

/// Event classes (manager.conf `read =`) the dialer needs: `call` carries
/// Newchannel, OriginateResponse and Hangup; `agent` the queue events.
pub const REQUIRED_READ: [&str; 2] = ["call", "agent"];

/// What to check and how patiently.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// `host:port`.
    pub addr: String,
    /// AMI user (manager.conf section).
    pub username: String,
    /// AMI secret (never printed).
    pub secret: SecretString,
    /// Login kind; MD5 keeps the secret off the wire.
    pub auth: AuthKind,
    /// Limit for connecting, each login step and each action.
    pub timeout: Duration,
    /// Pings sent to measure the round trip (at least 1).
    pub pings: u32,
}

impl CheckConfig {
    /// Defaults: MD5 login, 5 s timeout, 5 pings.
    pub fn new(addr: impl Into<String>, username: impl Into<String>, secret: SecretString) -> Self {
        Self {
            addr: addr.into(),
            username: username.into(),
            secret,
            auth: AuthKind::Md5,
            timeout: Duration::from_secs(5),
            pings: 5,
        }
    }
}

/// Why the check could not even log in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fatal {
    /// The host name does not resolve.
    UnknownHost(String),
    /// Nothing answered: timeout, no route, host down.
    Unreachable(String),
    /// The host answered but nothing listens on the port.
    Refused(String),
    /// Something listens but does not speak AMI (or went silent).
    NotAmi(String),
    /// The server rejected the user name or secret.
    WrongCredentials(String),
    /// Logged in, but the server stopped answering.
    Lost(String),
}

impl Fatal {
    /// What the administrator should do about it.
    pub fn fix(&self) -> &'static str {
        match self {
            Fatal::UnknownHost(_) => "check the host name (or use the IP address); the name does not resolve from this machine",
            Fatal::Unreachable(_) => "check the host address, that the machine is up and that no firewall drops TCP to the AMI port",
            Fatal::Refused(_) => "the host is up but nothing listens on that port: check the port (default 5038), that Asterisk runs, and manager.conf [general] enabled = yes, port and bindaddr",
            Fatal::NotAmi(_) => "something accepted the connection but sent no AMI greeting: check the port number (manager.conf [general] port; not the SIP, HTTP or ARI port), and that no firewall or proxy answers for a host that is down",
            Fatal::WrongCredentials(_) => "check the user and secret: the user is a section of manager.conf with that secret, and its permit/deny lines must allow this machine's address; run `manager reload` after editing",
            Fatal::Lost(_) => "the server dropped the connection after login: look at Asterisk's log (manager.conf writetimeout, overload)",
        }
    }

    /// Process exit code for `oml asterisk check`.
    pub fn exit_code(&self) -> u8 {
        match self {
            Fatal::WrongCredentials(_) => EXIT_LOGIN,
            _ => EXIT_CONNECT,
        }
    }

    fn headline(&self) -> String {
        match self {
            Fatal::UnknownHost(d) => format!("cannot resolve the host ({d})"),
            Fatal::Unreachable(d) => format!("host unreachable ({d})"),
            Fatal::Refused(d) => format!("connection refused ({d})"),
            Fatal::NotAmi(d) => format!("not an AMI server ({d})"),
            Fatal::WrongCredentials(d) => format!("login refused ({d})"),
            Fatal::Lost(d) => format!("connection lost ({d})"),
        }
    }
}

/// Exit code: all well.
pub const EXIT_OK: u8 = 0;
/// Exit code: could not reach an AMI server.
pub const EXIT_CONNECT: u8 = 2;
/// Exit code: the login was refused.
pub const EXIT_LOGIN: u8 = 3;
/// Exit code: logged in, but a permission is missing or could not be verified.
pub const EXIT_PERMISSION: u8 = 4;

/// Whether the user holds a permission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Yes.
    Granted,
    /// No: what is missing and how to grant it.
    Missing(String),
    /// Could not be told: why, and how to make it checkable.
    Unknown(String),
}

impl Permission {
    /// `true` for [`Permission::Granted`].
    pub fn is_granted(&self) -> bool {
        matches!(self, Permission::Granted)
    }
}

/// Ping round trips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundTrip {
    /// Fastest.
    pub min: Duration,
    /// Median.
    pub median: Duration,
    /// Slowest.
    pub max: Duration,
    /// How many pings were measured.
    pub samples: u32,
}

impl RoundTrip {
    /// Summary of measured durations; `None` when empty.
    pub fn from_samples(samples: &[Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort();
        Some(Self {
            min: s[0],
            median: s[s.len() / 2],
            max: s[s.len() - 1],
            samples: u32::try_from(s.len()).unwrap_or(u32::MAX),
        })
    }
}

/// The outcome of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// `host:port` checked.
    pub addr: String,
    /// User checked.
    pub username: String,
    /// Set when the check stopped before or at login.
    pub fatal: Option<Fatal>,
    /// Asterisk version (`CoreSettings` or `core show version`), if readable.
    pub version: Option<String>,
    /// Ping round trip.
    pub round_trip: Option<RoundTrip>,
    /// May the user send `Originate`?
    pub originate: Permission,
    /// May the user read call and agent events?
    pub events: Permission,
}

impl CheckReport {
    fn fatal(cfg: &CheckConfig, f: Fatal) -> Self {
        let not_checked = || Permission::Unknown("not checked: no login".into());
        Self {
            addr: cfg.addr.clone(),
            username: cfg.username.clone(),
            fatal: Some(f),
            version: None,
            round_trip: None,
            originate: not_checked(),
            events: not_checked(),
        }
    }

    /// All well: logged in, may originate and read events.
    pub fn is_ok(&self) -> bool {
        self.fatal.is_none() && self.originate.is_granted() && self.events.is_granted()
    }

    /// Process exit code: [`EXIT_OK`], [`EXIT_CONNECT`], [`EXIT_LOGIN`] or
    /// [`EXIT_PERMISSION`].
    pub fn exit_code(&self) -> u8 {
        match &self.fatal {
            Some(f) => f.exit_code(),
            None if self.is_ok() => EXIT_OK,
            None => EXIT_PERMISSION,
        }
    }

    /// The problems, each with what to fix, in the order to fix them.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(f) = &self.fatal {
            out.push(format!("{}: {}", f.headline(), f.fix()));
            return out;
        }
        for (what, p) in [("originate", &self.originate), ("events", &self.events)] {
            match p {
                Permission::Granted => {}
                Permission::Missing(fix) => out.push(format!("{what}: {fix}")),
                Permission::Unknown(fix) => out.push(format!("{what}: cannot verify: {fix}")),
            }
        }
        out
    }
}

fn perm_text(p: &Permission) -> String {
    match p {
        Permission::Granted => "yes".into(),
        Permission::Missing(_) => "NO".into(),
        Permission::Unknown(_) => "unknown".into(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

impl fmt::Display for CheckReport {
    /// The human report `oml asterisk check` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "AMI server:     {}", self.addr)?;
        writeln!(f, "user:           {}", self.username)?;
        let (conn, login) = match &self.fatal {
            None => ("ok", "ok"),
            Some(Fatal::WrongCredentials(_)) => ("ok", "FAILED"),
            Some(_) => ("FAILED", "not tried"),
        };
        writeln!(f, "connection:     {conn}")?;
        writeln!(f, "login:          {login}")?;
        if self.fatal.is_none() {
            writeln!(
                f,
                "version:        {}",
                self.version
                    .as_deref()
                    .unwrap_or("unknown (no permission to read it)")
            )?;
            match &self.round_trip {
                Some(rt) => writeln!(
                    f,
                    "round trip:     {} median ({} min, {} max, {} pings)",
                    ms(rt.median),
                    ms(rt.min),
                    ms(rt.max),
                    rt.samples
                )?,
                None => writeln!(f, "round trip:     unknown")?,
            }
            writeln!(f, "may originate:  {}", perm_text(&self.originate))?;
            writeln!(f, "reads events:   {}", perm_text(&self.events))?;
        }
        let problems = self.problems();
        if problems.is_empty() {
            write!(f, "result:         all well")
        } else {
            write!(f, "result:         {} problem(s)", problems.len())?;
            for p in problems {
                write!(f, "\n  - {p}")?;
            }
            Ok(())
        }
    }
}

/// Classifies a failed first connection or login.
pub fn classify_connect_error(e: &AmiError) -> Fatal {
    match e {
        AmiError::Connect { addr, source } => {
            let d = format!("{addr}: {source}");
            let text = source.to_string().to_ascii_lowercase();
            match source.kind() {
                ErrorKind::ConnectionRefused => Fatal::Refused(d),
                _ if text.contains("lookup")
                    || text.contains("resolve")
                    || text.contains("name or service") =>
                {
                    Fatal::UnknownHost(d)
                }
                ErrorKind::InvalidInput => Fatal::UnknownHost(d),
                _ => Fatal::Unreachable(d),
            }
        }
        AmiError::Auth { message, .. } if message.contains("challenge") => Fatal::WrongCredentials(
            format!("{message}; the server may not support MD5 login, try --auth plain"),
        ),
        AmiError::Auth { message, .. } => Fatal::WrongCredentials(message.clone()),
        AmiError::NotAmi { addr, got } => Fatal::NotAmi(format!("{addr} sent {got:?}")),
        other => Fatal::Lost(other.to_string()),
    }
}

/// The actions a `ListCommands` response names: the user may send exactly
/// these (Asterisk lists only actions within the user's write permission).
/// Names are lower-cased.
pub fn parse_list_commands(m: &Message) -> BTreeSet<String> {
    m.iter()
        .filter(|(k, v)| {
            !k.eq_ignore_ascii_case("Response")
                && !k.eq_ignore_ascii_case("ActionID")
                && !k.eq_ignore_ascii_case("Message")
                && v.contains("(Priv:")
        })
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect()
}

/// The `read perm:` classes in the output of `manager show user NAME`,
/// lower-cased; `None` when the output has no such line (unknown user,
/// different CLI).
pub fn parse_read_perm(lines: &[String]) -> Option<BTreeSet<String>> {
    lines.iter().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if !k.trim().eq_ignore_ascii_case("read perm") {
            return None;
        }
        Some(
            v.split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty() && c != "<none>")
                .collect(),
        )
    })
}

/// Verdict on `Originate` from the `ListCommands` answer (`None` when the
/// server refused or does not know `ListCommands`).
pub fn originate_permission(allowed: Option<&BTreeSet<String>>, user: &str) -> Permission {
    match allowed {
        Some(set) if set.contains("originate") => Permission::Granted,
        Some(_) => Permission::Missing(format!(
            "user {user} may not send Originate: add `originate` to `write =` in its manager.conf section, then `manager reload`"
        )),
        None => Permission::Unknown(format!(
            "the server does not answer ListCommands (not a real Asterisk?), so the write permissions of {user} cannot be listed; make sure its `write =` in manager.conf includes originate"
        )),
    }
}

/// Verdict on reading events from the read classes (`None` when they
/// could not be read).
pub fn events_permission(
    read: Option<&BTreeSet<String>>,
    user: &str,
    why_unknown: &str,
) -> Permission {
    match read {
        Some(set) if set.contains("all") => Permission::Granted,
        Some(set) => {
            let missing: Vec<&str> = REQUIRED_READ
                .iter()
                .copied()
                .filter(|c| !set.contains(*c))
                .collect();
            if missing.is_empty() {
                Permission::Granted
            } else {
                Permission::Missing(format!(
                    "user {user} does not receive {} events: add {} to `read =` in its manager.conf section, then `manager reload`",
                    missing.join(" and "),
                    missing.join(",")
                ))
            }
        }
        None => Permission::Unknown(why_unknown.to_owned()),
    }
}

/// Connects, logs in, measures, asks for permissions and logs off. Never
/// fails: every problem is in the report.
pub async fn run_check(cfg: &CheckConfig) -> CheckReport {
    let mut cc = ClientConfig::new(cfg.addr.clone(), cfg.username.clone(), cfg.secret.clone());
    cc.auth = cfg.auth;
    cc.rate_limit = None;
    cc.ping_interval = None;
    cc.connect_timeout = cfg.timeout;
    cc.action_timeout = cfg.timeout;
    let client = match AmiClient::connect(cc).await {
        Ok(c) => c,
        Err(e) => return CheckReport::fatal(cfg, classify_connect_error(&e)),
    };

    let mut samples = Vec::new();
    for _ in 0..cfg.pings.max(1) {
        let t0 = Instant::now();
        match client.ping().await {
            Ok(()) => samples.push(t0.elapsed()),
            Err(AmiError::ActionFailed { .. }) => break,
            Err(e) => {
                let _ = client.logoff().await;
                return CheckReport::fatal(cfg, Fatal::Lost(e.to_string()));
            }
        }
    }

    let allowed = match client.send(Message::action("ListCommands")).await {
        Ok(r) if r.is_success() => Some(parse_list_commands(&r.message)),
        _ => None,
    };
    let may = |action: &str| allowed.as_ref().is_none_or(|a| a.contains(action));

    let mut version = None;
    if may("coresettings") {
        if let Ok(r) = client.send(Message::action("CoreSettings")).await {
            version = r.get("AsteriskVersion").map(|v| format!("Asterisk {v}"));
        }
    }
    if version.is_none() && may("command") {
        if let Ok(lines) = client.command("core show version").await {
            version = lines.into_iter().find(|l| !l.trim().is_empty()).map(|l| {
                // "Asterisk 22.1.0 built by ... on ..." -> "Asterisk 22.1.0"
                l.split(" built by ").next().unwrap_or(&l).trim().to_owned()
            });
        }
    }

    let originate = originate_permission(allowed.as_ref(), &cfg.username);
    let (read, why) = if may("command") {
        match client
            .command(&format!("manager show user {}", cfg.username))
            .await
        {
            Ok(lines) => (
                parse_read_perm(&lines),
                format!(
                    "`manager show user {}` printed no `read perm:` line (not a real Asterisk?); make sure its `read =` in manager.conf includes {}",
                    cfg.username,
                    REQUIRED_READ.join(",")
                ),
            ),
            Err(e) => (None, format!("`manager show user` failed: {e}")),
        }
    } else {
        (
            None,
            format!(
                "user {} may not run CLI commands, so its read permissions cannot be listed: add `command` to its `write =` (or check by hand that `read =` includes {})",
                cfg.username,
                REQUIRED_READ.join(",")
            ),
        )
    };
    let events = events_permission(read.as_ref(), &cfg.username, &why);
    let _ = client.logoff().await;

    CheckReport {
        addr: cfg.addr.clone(),
        username: cfg.username.clone(),
        fatal: None,
        version,
        round_trip: RoundTrip::from_samples(&samples),
        originate,
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn list_commands_keeps_only_actions() {
        let m = Message::response("Success")
            .with("ActionID", "1")
            .with("Originate", "Originate a call.  (Priv: originate,all)")
            .with("Ping", "Keepalive command.  (Priv: <none>)")
            .with("Message", "not an action");
        assert_eq!(parse_list_commands(&m), set(&["originate", "ping"]));
    }

    #[test]
    fn read_perm_line_is_parsed() {
        let out: Vec<String> = [
            "",
            "          username: omllimited",
            "            secret: <Set>",
            "         read perm: system,Call",
            "        write perm: system,command,reporting",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(parse_read_perm(&out), Some(set(&["system", "call"])));
        assert_eq!(parse_read_perm(&["No such user".to_string()]), None);
        let none = vec!["read perm: <none>".to_string()];
        assert_eq!(parse_read_perm(&none), Some(BTreeSet::new()));
    }

    #[test]
    fn originate_verdicts() {
        assert!(originate_permission(Some(&set(&["originate"])), "u").is_granted());
        match originate_permission(Some(&set(&["ping"])), "u") {
            Permission::Missing(fix) => {
                assert!(fix.contains("write =") && fix.contains("originate"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            originate_permission(None, "u"),
            Permission::Unknown(_)
        ));
    }

    #[test]
    fn events_need_call_and_agent() {
        assert!(events_permission(Some(&set(&["all"])), "u", "").is_granted());
        assert!(events_permission(Some(&set(&["call", "agent", "system"])), "u", "").is_granted());
        match events_permission(Some(&set(&["system"])), "u", "") {
            Permission::Missing(fix) => {
                assert!(fix.contains("call,agent"), "{fix}");
                assert!(fix.contains("read ="), "{fix}");
            }
            other => panic!("{other:?}"),
        }
        match events_permission(Some(&set(&["call"])), "u", "") {
            Permission::Missing(fix) => {
                assert!(fix.contains("agent") && !fix.contains("call,"), "{fix}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            events_permission(None, "u", "why"),
            Permission::Unknown("why".into())
        );
    }

    #[test]
    fn connect_errors_are_classified() {
        let io = |k: ErrorKind, msg: &str| AmiError::Connect {
            addr: "h:1".into(),
            source: std::io::Error::new(k, msg.to_owned()),
        };
        assert!(matches!(
            classify_connect_error(&io(ErrorKind::ConnectionRefused, "refused")),
            Fatal::Refused(_)
        ));
        assert!(matches!(
            classify_connect_error(&io(ErrorKind::TimedOut, "connect timed out")),
            Fatal::Unreachable(_)
        ));
        assert!(matches!(
            classify_connect_error(&io(
                ErrorKind::Other,
                "failed to lookup address information"
            )),
            Fatal::UnknownHost(_)
        ));
        let auth = AmiError::Auth {
            addr: "h:1".into(),
            username: "u".into(),
            message: "Authentication failed".into(),
        };
        let f = classify_connect_error(&auth);
        assert_eq!(f, Fatal::WrongCredentials("Authentication failed".into()));
        assert_eq!(f.exit_code(), EXIT_LOGIN);
        let not_ami = AmiError::NotAmi {
            addr: "h:1".into(),
            got: "HTTP/1.1 400".into(),
        };
        assert!(matches!(classify_connect_error(&not_ami), Fatal::NotAmi(_)));
    }

    fn report() -> CheckReport {
        CheckReport {
            addr: "127.0.0.1:5038".into(),
            username: "oml".into(),
            fatal: None,
            version: Some("Asterisk 22.1.0".into()),
            round_trip: RoundTrip::from_samples(&[
                Duration::from_micros(300),
                Duration::from_micros(100),
            ]),
            originate: Permission::Granted,
            events: Permission::Granted,
        }
    }

    #[test]
    fn verdict_and_exit_codes() {
        let mut r = report();
        assert!(r.is_ok());
        assert_eq!(r.exit_code(), EXIT_OK);
        assert!(r.problems().is_empty());
        let text = r.to_string();
        assert!(text.contains("Asterisk 22.1.0"));
        assert!(text.contains("all well"));

        r.events = Permission::Unknown("grant command".into());
        assert!(!r.is_ok());
        assert_eq!(r.exit_code(), EXIT_PERMISSION);
        assert_eq!(
            r.problems(),
            vec!["events: cannot verify: grant command".to_string()]
        );

        r.originate = Permission::Missing("add originate".into());
        assert_eq!(r.problems().len(), 2);
        assert!(r.to_string().contains("may originate:  NO"));

        r.fatal = Some(Fatal::Refused("h:1: refused".into()));
        assert_eq!(r.exit_code(), EXIT_CONNECT);
        let p = r.problems();
        assert_eq!(p.len(), 1, "only the fatal problem is shown: {p:?}");
        assert!(p[0].contains("enabled = yes"));
        assert!(!r.to_string().contains("may originate"));
    }

    #[test]
    fn round_trip_summary() {
        let rt = RoundTrip::from_samples(&[
            Duration::from_millis(3),
            Duration::from_millis(1),
            Duration::from_millis(2),
        ])
        .unwrap();
        assert_eq!(rt.min, Duration::from_millis(1));
        assert_eq!(rt.median, Duration::from_millis(2));
        assert_eq!(rt.max, Duration::from_millis(3));
        assert_eq!(rt.samples, 3);
        assert_eq!(RoundTrip::from_samples(&[]), None);
    }

    #[test]
    fn report_debug_has_no_secret_field() {
        let cfg = CheckConfig::new("h:1", "u", SecretString::from("hunter2"));
        assert!(!format!("{cfg:?}").contains("hunter2"));
        let r = CheckReport::fatal(&cfg, Fatal::Refused("x".into()));
        assert!(!format!("{r:?}").contains("hunter2"));
    }
}
