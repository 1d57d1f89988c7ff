//! The dialer's configuration objects: Asterisk servers, trunks, campaigns
//! and their reschedule rules. Validation happens here, before anything is
//! stored, so a bad value is refused when configured, never at dial time.

use crate::ami_values::{
    check_dial_string, check_dialplan_name, check_extension, check_header_value, check_secret_value,
};
use crate::call_path::{self, db::bind_upsert, CallPath};
use crate::compliance::{breaches, Breach};
use crate::{now_ms, on_pool, Result, Store, StoreError};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// The default dial string: hand the number to the `from-oml` dialplan.
pub const DEFAULT_DIAL_STRING: &str = "Local/${num}@from-oml/n";

// ---------------------------------------------------------------- servers

/// An Asterisk server the dialer drives over AMI. The secret stays out of
/// `Debug` and serialisation.
#[derive(Clone, Serialize)]
pub struct AsteriskServer {
    pub id: i64,
    pub name: String,
    pub host: String,
    pub ami_port: u16,
    pub ami_user: String,
    #[serde(skip)]
    pub ami_secret: SecretString,
    pub enabled: bool,
}

impl std::fmt::Debug for AsteriskServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsteriskServer")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("host", &self.host)
            .field("ami_port", &self.ami_port)
            .field("ami_user", &self.ami_user)
            .field("ami_secret", &"<redacted>")
            .field("enabled", &self.enabled)
            .finish()
    }
}

/// Fields of a server to create or replace.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub name: String,
    pub host: String,
    pub ami_port: u16,
    pub ami_user: String,
    pub ami_secret: SecretString,
    pub enabled: bool,
}

impl ServerSpec {
    pub fn validate(&self) -> Result<()> {
        check_name("server name", &self.name)?;
        if self.host.trim().is_empty() || self.host.contains(char::is_whitespace) {
            return Err(StoreError::invalid(
                "host",
                "give a host name or IP address without spaces",
            ));
        }
        if self.ami_port == 0 {
            return Err(StoreError::invalid("AMI port", "must be 1-65535"));
        }
        if self.ami_user.trim().is_empty() {
            return Err(StoreError::invalid("AMI user", "it is empty"));
        }
        check_header_value("AMI user", &self.ami_user)?;
        if self.ami_secret.expose_secret().is_empty() {
            return Err(StoreError::invalid("AMI secret", "it is empty"));
        }
        check_secret_value("AMI secret", self.ami_secret.expose_secret())?;
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct ServerRow {
    id: i64,
    name: String,
    host: String,
    ami_port: i64,
    ami_user: String,
    ami_secret: String,
    enabled: bool,
}

impl From<ServerRow> for AsteriskServer {
    fn from(r: ServerRow) -> Self {
        AsteriskServer {
            id: r.id,
            name: r.name,
            host: r.host,
            ami_port: u16::try_from(r.ami_port).unwrap_or(5038),
            ami_user: r.ami_user,
            ami_secret: SecretString::from(r.ami_secret),
            enabled: r.enabled,
        }
    }
}

const SERVER_COLUMNS: &str = "id, name, host, ami_port, ami_user, ami_secret, enabled";

// ----------------------------------------------------------------- trunks

/// A way out to the public network: a dial-string template on a server.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Trunk {
    pub id: i64,
    pub name: String,
    /// `${num}` is replaced by the number to call.
    pub dial_string: String,
    pub max_channels: i64,
    pub server_id: Option<i64>,
    pub caller_id: String,
}

/// Fields of a trunk to create or replace.
#[derive(Debug, Clone)]
pub struct TrunkSpec {
    pub name: String,
    pub dial_string: String,
    pub max_channels: i64,
    /// The server's name; `None` = any enabled server.
    pub server: Option<String>,
    pub caller_id: String,
}

impl TrunkSpec {
    pub fn validate(&self) -> Result<()> {
        check_name("trunk name", &self.name)?;
        if !self.dial_string.contains("${num}") {
            return Err(StoreError::invalid(
                "dial string",
                format!(
                    "`{}` has no ${{num}} where the number goes (e.g. {DEFAULT_DIAL_STRING})",
                    self.dial_string
                ),
            ));
        }
        check_dial_string("dial string", &self.dial_string)?;
        check_header_value("caller ID", &self.caller_id)?;
        if self.max_channels < 1 {
            return Err(StoreError::invalid("max channels", "must be at least 1"));
        }
        Ok(())
    }
}

impl Trunk {
    /// The channel to originate for `number`.
    pub fn dial(&self, number: &str) -> String {
        self.dial_string.replace("${num}", number)
    }
}

const TRUNK_COLUMNS: &str = "id, name, dial_string, max_channels, server_id, caller_id";

// -------------------------------------------------------------- campaigns

/// How calls are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignMode {
    Preview,
    Progressive,
    Predictive,
}

/// Over which period the abandon rate is held under the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AbandonWindow {
    /// Per campaign over 30 days (US rule).
    Us,
    /// Per campaign over 24 hours (UK rule).
    Uk,
}

impl AbandonWindow {
    pub fn millis(self) -> i64 {
        match self {
            AbandonWindow::Us => 30 * 24 * 3_600_000,
            AbandonWindow::Uk => 24 * 3_600_000,
        }
    }
}

/// Running state of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignState {
    Stopped,
    Running,
    Paused,
    Finished,
}

macro_rules! text_enum {
    ($t:ty { $($v:ident => $s:literal),+ $(,)? }, $field:literal) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl std::str::FromStr for $t {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($s => Ok(Self::$v),)+
                    other => Err(StoreError::invalid(
                        $field,
                        format!("`{other}` is not one of {}", [$($s),+].join(", ")),
                    )),
                }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(CampaignMode { Preview => "preview", Progressive => "progressive", Predictive => "predictive" }, "mode");
text_enum!(AbandonWindow { Us => "us", Uk => "uk" }, "abandon window");
text_enum!(CampaignState { Stopped => "stopped", Running => "running", Paused => "paused", Finished => "finished" }, "campaign state");
text_enum!(Backoff { Fixed => "fixed", Multiplied => "multiplied" }, "back-off");
text_enum!(RetryOutcome { Busy => "busy", NoAnswer => "no_answer", Congestion => "congestion", Failed => "failed", Abandoned => "abandoned", Machine => "machine" }, "outcome");

/// How the delay between retries grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    /// Always `retry_after_s`.
    Fixed,
    /// `retry_after_s × attempts so far`.
    Multiplied,
}

/// Outcomes that may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryOutcome {
    Busy,
    NoAnswer,
    Congestion,
    Failed,
    Abandoned,
    /// Answered by an answering machine (`AMD()`); without a rule of its
    /// own, a machine follows the `no_answer` rule.
    Machine,
}

/// What to do after an outcome: retry up to `max_attempts` in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RescheduleRule {
    pub outcome: RetryOutcome,
    pub max_attempts: i64,
    pub retry_after_s: i64,
    pub backoff: Backoff,
}

impl RescheduleRule {
    /// Parses `OUTCOME:MAX_ATTEMPTS:RETRY_AFTER_S[:fixed|multiplied]`,
    /// e.g. `busy:3:300:multiplied`.
    pub fn parse(text: &str) -> Result<RescheduleRule> {
        let parts: Vec<&str> = text.split(':').collect();
        if !(3..=4).contains(&parts.len()) {
            return Err(StoreError::invalid(
                "reschedule rule",
                format!("`{text}`: write OUTCOME:MAX_ATTEMPTS:RETRY_AFTER_S[:fixed|multiplied], e.g. busy:3:300:fixed"),
            ));
        }
        let number = |s: &str, what: &'static str| {
            s.parse::<i64>().map_err(|_| {
                StoreError::invalid(what, format!("`{s}` in `{text}` is not a whole number"))
            })
        };
        let rule = RescheduleRule {
            outcome: parts[0].parse()?,
            max_attempts: number(parts[1], "max attempts")?,
            retry_after_s: number(parts[2], "retry after")?,
            backoff: parts
                .get(3)
                .map(|b| b.parse())
                .transpose()?
                .unwrap_or(Backoff::Fixed),
        };
        rule.validate()?;
        Ok(rule)
    }

    /// The rule as [`RescheduleRule::parse`] reads it: `busy:3:300:fixed`.
    pub fn to_text(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.outcome.as_str(),
            self.max_attempts,
            self.retry_after_s,
            self.backoff.as_str()
        )
    }

    pub fn validate(&self) -> Result<()> {
        if !(1..=100).contains(&self.max_attempts) {
            return Err(StoreError::invalid("max attempts", "must be 1-100"));
        }
        if self.retry_after_s < 0 {
            return Err(StoreError::invalid("retry after", "must not be negative"));
        }
        Ok(())
    }

    /// Seconds to wait before attempt number `attempts + 1`, or `None` when
    /// `attempts` (made so far) has reached the maximum.
    pub fn delay_after(&self, attempts: i64) -> Option<i64> {
        if attempts >= self.max_attempts {
            return None;
        }
        Some(match self.backoff {
            Backoff::Fixed => self.retry_after_s,
            Backoff::Multiplied => self.retry_after_s.saturating_mul(attempts.max(1)),
        })
    }
}

/// The rules a new campaign gets unless told otherwise.
pub fn default_reschedule_rules() -> Vec<RescheduleRule> {
    use RetryOutcome::*;
    // In outcome-name order, the order in which rules are listed everywhere.
    [
        (Abandoned, 2, 3600),
        (Busy, 3, 300),
        (Congestion, 3, 600),
        (Failed, 2, 1800),
        (NoAnswer, 3, 1800),
    ]
    .into_iter()
    .map(|(outcome, max_attempts, retry_after_s)| RescheduleRule {
        outcome,
        max_attempts,
        retry_after_s,
        backoff: Backoff::Fixed,
    })
    .collect()
}

/// An outbound campaign.
#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub mode: CampaignMode,
    pub trunk_id: i64,
    /// Where answered calls go: empty for the campaign's own rendered
    /// context, else a dialplan context and extension of the
    /// administrator's that puts the call in `queue_name`. Read both through
    /// [`crate::dialplan::route`].
    pub delivery_context: String,
    pub delivery_exten: String,
    /// The queue answered calls reach, whose agents the campaign counts
    /// (empty on campaigns of schema 6 and earlier: see
    /// [`crate::dialplan::default_queue`]).
    pub queue_name: String,
    /// Fraction, e.g. 0.03 for 3 %.
    pub max_abandon_rate: f64,
    pub abandon_window: AbandonWindow,
    /// A live answer not connected to an agent within this is abandoned.
    pub abandon_seconds: i64,
    pub ring_timeout_s: i64,
    /// Set explicitly to allow settings beyond the rule set of
    /// `abandon_window` (see [`crate::compliance`]); reports show it.
    pub non_compliant: bool,
    pub caller_id: String,
    /// IANA name, e.g. `America/Argentina/Buenos_Aires`.
    pub time_zone: String,
    /// Minutes after local midnight; dialing happens in [start, end).
    pub window_start_minute: i64,
    pub window_end_minute: i64,
    /// Bit 0 = Monday ... bit 6 = Sunday.
    pub days_mask: i64,
    pub priority: i64,
    pub state: CampaignState,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Campaign {
    /// The settings beyond the rule set of its abandon window.
    pub fn breaches(&self) -> Vec<Breach> {
        breaches(
            self.abandon_window,
            self.max_abandon_rate,
            self.abandon_seconds,
            self.ring_timeout_s,
        )
    }
}

/// Fields of a campaign to create or replace.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignSpec {
    pub name: String,
    pub mode: CampaignMode,
    pub trunk: String,
    pub delivery_context: String,
    pub delivery_exten: String,
    pub queue_name: String,
    pub max_abandon_rate: f64,
    pub abandon_window: AbandonWindow,
    pub abandon_seconds: i64,
    pub ring_timeout_s: i64,
    /// Allows settings beyond the rule set's limits; stored and reported.
    pub non_compliant: bool,
    pub caller_id: String,
    pub time_zone: String,
    pub window_start_minute: i64,
    pub window_end_minute: i64,
    pub days_mask: i64,
    pub priority: i64,
    pub rules: Vec<RescheduleRule>,
}

impl CampaignSpec {
    /// A campaign with the usual defaults, delivering through its own
    /// context (see [`crate::dialplan`]).
    pub fn new(name: &str, trunk: &str) -> CampaignSpec {
        CampaignSpec {
            name: name.into(),
            mode: CampaignMode::Predictive,
            trunk: trunk.into(),
            delivery_context: String::new(),
            delivery_exten: String::new(),
            queue_name: String::new(),
            max_abandon_rate: 0.03,
            abandon_window: AbandonWindow::Us,
            abandon_seconds: 2,
            ring_timeout_s: 25,
            non_compliant: false,
            caller_id: String::new(),
            time_zone: "UTC".into(),
            window_start_minute: 9 * 60,
            window_end_minute: 21 * 60,
            days_mask: 0b001_1111,
            priority: 10,
            rules: default_reschedule_rules(),
        }
    }

    /// The settings beyond the rule set of its abandon window.
    pub fn breaches(&self) -> Vec<Breach> {
        breaches(
            self.abandon_window,
            self.max_abandon_rate,
            self.abandon_seconds,
            self.ring_timeout_s,
        )
    }

    pub fn validate(&self) -> Result<()> {
        check_name("campaign name", &self.name)?;
        let (ctx, exten) = (self.delivery_context.trim(), self.delivery_exten.trim());
        if !ctx.is_empty() {
            check_dialplan_name("delivery context", &self.delivery_context)?;
        }
        if !exten.is_empty() {
            check_extension("delivery extension", &self.delivery_exten)?;
        }
        if ctx.is_empty() != exten.is_empty() {
            let missing = if ctx.is_empty() {
                "delivery context"
            } else {
                "delivery extension"
            };
            return Err(StoreError::invalid(
                missing,
                "give both the context and the extension (CONTEXT,EXTEN), or neither for the campaign's own context",
            ));
        }
        if !self.queue_name.is_empty() {
            check_dialplan_name("queue", &self.queue_name)?;
        }
        check_header_value("caller ID", &self.caller_id)?;
        if !(0.0..=1.0).contains(&self.max_abandon_rate) || self.max_abandon_rate.is_nan() {
            return Err(StoreError::invalid(
                "max abandon rate",
                "must be a fraction between 0 and 1 (0.03 = 3 %)",
            ));
        }
        if !(1..=60).contains(&self.abandon_seconds) {
            return Err(StoreError::invalid("abandon seconds", "must be 1-60"));
        }
        if !(5..=300).contains(&self.ring_timeout_s) {
            return Err(StoreError::invalid("ring timeout", "must be 5-300 seconds"));
        }
        if !self.non_compliant {
            if let Some(b) = self.breaches().into_iter().next() {
                return Err(StoreError::invalid(
                    b.field,
                    format!(
                        "{}; to store it anyway mark the campaign non-compliant \
                         (--non-compliant, or the console's checkbox)",
                        b.message
                    ),
                ));
            }
        }
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(StoreError::invalid(
                "time zone",
                format!(
                    "`{}` is not an IANA time zone name (e.g. America/Argentina/Buenos_Aires)",
                    self.time_zone
                ),
            ));
        }
        for (what, m) in [
            ("window start", self.window_start_minute),
            ("window end", self.window_end_minute),
        ] {
            if !(0..=24 * 60).contains(&m) {
                return Err(StoreError::invalid(what, "must be between 00:00 and 24:00"));
            }
        }
        if self.window_end_minute <= self.window_start_minute {
            return Err(StoreError::invalid(
                "time window",
                format!(
                    "it ends ({}) before it starts ({})",
                    format_minute(self.window_end_minute),
                    format_minute(self.window_start_minute)
                ),
            ));
        }
        if !(1..=127).contains(&self.days_mask) {
            return Err(StoreError::invalid(
                "days",
                "choose at least one day of the week",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for r in &self.rules {
            r.validate()?;
            if !seen.insert(r.outcome) {
                return Err(StoreError::invalid(
                    "reschedule rules",
                    format!("outcome `{}` appears twice", r.outcome),
                ));
            }
        }
        Ok(())
    }
}

/// `HH:MM` for a minute of the day.
/// A rate written `3%` or `0.03` → 0.03.
pub fn parse_rate(s: &str) -> Result<f64> {
    let t = s.trim();
    let bad = || {
        StoreError::invalid(
            "max abandon rate",
            "write a percentage like 3% or a fraction like 0.03",
        )
    };
    let v = if let Some(p) = t.strip_suffix('%') {
        p.trim().parse::<f64>().map_err(|_| bad())? / 100.0
    } else {
        let v = t.parse::<f64>().map_err(|_| bad())?;
        if v > 1.0 {
            return Err(StoreError::invalid(
                "max abandon rate",
                format!("a bare number is a fraction (0.03 = 3 %); write {t}% if you mean percent"),
            ));
        }
        v
    };
    if !(0.0..=1.0).contains(&v) {
        return Err(bad());
    }
    Ok(v)
}

/// Calling hours written `09:00-21:00` → (540, 1260) minutes.
pub fn parse_window(s: &str) -> Result<(i64, i64)> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| StoreError::invalid("time window", "write START-END, e.g. 09:00-21:00"))?;
    Ok((parse_minute(a)?, parse_minute(b)?))
}

pub fn format_minute(m: i64) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Parses `HH:MM` (00:00–24:00) into minutes after midnight.
pub fn parse_minute(text: &str) -> Result<i64> {
    let bad = || StoreError::invalid("time", format!("`{text}` is not HH:MM"));
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let h: i64 = h.parse().map_err(|_| bad())?;
    let m: i64 = m.parse().map_err(|_| bad())?;
    if !(0..60).contains(&m) || !(0..=24).contains(&h) || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Parses days like `mon-fri`, `mon,wed,fri`, `all` into a bit mask.
pub fn parse_days(text: &str) -> Result<i64> {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let index = |d: &str| {
        NAMES
            .iter()
            .position(|n| *n == d.trim().to_ascii_lowercase().get(..3).unwrap_or(""))
            .ok_or_else(|| StoreError::invalid("days", format!("`{d}` is not a day (mon..sun)")))
    };
    if text.trim().eq_ignore_ascii_case("all") {
        return Ok(127);
    }
    let mut mask = 0;
    for part in text.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (index(a)?, index(b)?);
                if b < a {
                    return Err(StoreError::invalid(
                        "days",
                        format!("`{part}` runs backwards"),
                    ));
                }
                for i in a..=b {
                    mask |= 1 << i;
                }
            }
            None => mask |= 1 << index(part)?,
        }
    }
    Ok(mask)
}

/// The days of a mask as text, e.g. `mon,tue,wed,thu,fri`.
pub fn format_days(mask: i64) -> String {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: i64,
    name: String,
    mode: String,
    trunk_id: i64,
    delivery_context: String,
    delivery_exten: String,
    queue_name: String,
    max_abandon_rate: f64,
    abandon_window: String,
    abandon_seconds: i64,
    ring_timeout_s: i64,
    non_compliant: bool,
    caller_id: String,
    time_zone: String,
    window_start_minute: i64,
    window_end_minute: i64,
    days_mask: i64,
    priority: i64,
    state: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = StoreError;
    fn try_from(r: CampaignRow) -> Result<Campaign> {
        Ok(Campaign {
            id: r.id,
            name: r.name,
            mode: r.mode.parse()?,
            trunk_id: r.trunk_id,
            delivery_context: r.delivery_context,
            delivery_exten: r.delivery_exten,
            queue_name: r.queue_name,
            max_abandon_rate: r.max_abandon_rate,
            abandon_window: r.abandon_window.parse()?,
            abandon_seconds: r.abandon_seconds,
            ring_timeout_s: r.ring_timeout_s,
            non_compliant: r.non_compliant,
            caller_id: r.caller_id,
            time_zone: r.time_zone,
            window_start_minute: r.window_start_minute,
            window_end_minute: r.window_end_minute,
            days_mask: r.days_mask,
            priority: r.priority,
            state: r.state.parse()?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const CAMPAIGN_COLUMNS: &str =
    "id, name, mode, trunk_id, delivery_context, delivery_exten, queue_name, \
     max_abandon_rate, abandon_window, abandon_seconds, ring_timeout_s, caller_id, time_zone, \
     window_start_minute, window_end_minute, days_mask, priority, state, created_at, updated_at, \
     non_compliant";

pub(crate) fn check_name(field: &'static str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(StoreError::invalid(field, "it is empty"));
    }
    if name.chars().count() > 64 {
        return Err(StoreError::invalid(
            field,
            "it is longer than 64 characters",
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(StoreError::invalid(
            field,
            format!("character {c:?} is not allowed (use letters, digits, . _ -)"),
        ));
    }
    Ok(())
}

fn map_unique(e: sqlx::Error, what: &'static str, name: &str) -> StoreError {
    let e = StoreError::from(e);
    if e.is_unique_violation() {
        StoreError::AlreadyExists {
            what,
            name: name.into(),
        }
    } else {
        e
    }
}

fn not_found(what: &'static str, name: &str) -> StoreError {
    StoreError::NotFound {
        what,
        name: name.into(),
    }
}

impl Store {
    // ------------------------------------------------------------ servers

    pub async fn create_server(&self, s: &ServerSpec) -> Result<AsteriskServer> {
        s.validate()?;
        let now = now_ms();
        let sql = format!(
            "INSERT INTO asterisk_servers (name, host, ami_port, ami_user, ami_secret, enabled, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {SERVER_COLUMNS}"
        );
        let row = on_pool!(self, |p| sqlx::query_as::<_, ServerRow>(&sql)
            .bind(&s.name)
            .bind(s.host.trim())
            .bind(i64::from(s.ami_port))
            .bind(&s.ami_user)
            .bind(s.ami_secret.expose_secret())
            .bind(s.enabled)
            .bind(now)
            .fetch_one(p)
            .await)
        .map_err(|e| map_unique(e, "Asterisk server", &s.name))?;
        Ok(row.into())
    }

    /// Replaces every field of the server called `name`.
    pub async fn update_server(&self, name: &str, s: &ServerSpec) -> Result<AsteriskServer> {
        s.validate()?;
        let sql = format!(
            "UPDATE asterisk_servers SET name = $1, host = $2, ami_port = $3, ami_user = $4, ami_secret = $5,
             enabled = $6, updated_at = $7 WHERE name = $8 RETURNING {SERVER_COLUMNS}"
        );
        let row = on_pool!(self, |p| sqlx::query_as::<_, ServerRow>(&sql)
            .bind(&s.name)
            .bind(s.host.trim())
            .bind(i64::from(s.ami_port))
            .bind(&s.ami_user)
            .bind(s.ami_secret.expose_secret())
            .bind(s.enabled)
            .bind(now_ms())
            .bind(name)
            .fetch_optional(p)
            .await)
        .map_err(|e| map_unique(e, "Asterisk server", &s.name))?;
        row.map(Into::into)
            .ok_or_else(|| not_found("Asterisk server", name))
    }

    pub async fn servers(&self) -> Result<Vec<AsteriskServer>> {
        let sql = format!("SELECT {SERVER_COLUMNS} FROM asterisk_servers ORDER BY name");
        let rows = on_pool!(self, |p| sqlx::query_as::<_, ServerRow>(&sql)
            .fetch_all(p)
            .await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn server_by_name(&self, name: &str) -> Result<Option<AsteriskServer>> {
        let sql = format!("SELECT {SERVER_COLUMNS} FROM asterisk_servers WHERE name = $1");
        let row = on_pool!(self, |p| sqlx::query_as::<_, ServerRow>(&sql)
            .bind(name)
            .fetch_optional(p)
            .await?);
        Ok(row.map(Into::into))
    }

    pub async fn server_by_id(&self, id: i64) -> Result<Option<AsteriskServer>> {
        let sql = format!("SELECT {SERVER_COLUMNS} FROM asterisk_servers WHERE id = $1");
        let row = on_pool!(self, |p| sqlx::query_as::<_, ServerRow>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await?);
        Ok(row.map(Into::into))
    }

    /// Deletes a server; refused while a trunk uses it.
    pub async fn delete_server(&self, name: &str) -> Result<()> {
        let server = self
            .server_by_name(name)
            .await?
            .ok_or_else(|| not_found("Asterisk server", name))?;
        let users: Vec<String> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT name FROM trunks WHERE server_id = $1 ORDER BY name"
        )
        .bind(server.id)
        .fetch_all(p)
        .await?);
        if !users.is_empty() {
            return Err(StoreError::invalid(
                "Asterisk server",
                format!(
                    "`{name}` is used by trunk(s) {}: move or remove them first",
                    users.join(", ")
                ),
            ));
        }
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM asterisk_servers WHERE id = $1"
        )
        .bind(server.id)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    // ------------------------------------------------------------- trunks

    async fn resolve_server(&self, server: &Option<String>) -> Result<Option<i64>> {
        match server {
            None => Ok(None),
            Some(name) => Ok(Some(
                self.server_by_name(name)
                    .await?
                    .ok_or_else(|| not_found("Asterisk server", name))?
                    .id,
            )),
        }
    }

    pub async fn create_trunk(&self, t: &TrunkSpec) -> Result<Trunk> {
        t.validate()?;
        let server_id = self.resolve_server(&t.server).await?;
        let sql = format!(
            "INSERT INTO trunks (name, dial_string, max_channels, server_id, caller_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {TRUNK_COLUMNS}"
        );
        on_pool!(self, |p| sqlx::query_as::<_, Trunk>(&sql)
            .bind(&t.name)
            .bind(&t.dial_string)
            .bind(t.max_channels)
            .bind(server_id)
            .bind(&t.caller_id)
            .bind(now_ms())
            .fetch_one(p)
            .await)
        .map_err(|e| map_unique(e, "trunk", &t.name))
    }

    pub async fn update_trunk(&self, name: &str, t: &TrunkSpec) -> Result<Trunk> {
        t.validate()?;
        let server_id = self.resolve_server(&t.server).await?;
        let sql = format!(
            "UPDATE trunks SET name = $1, dial_string = $2, max_channels = $3, server_id = $4, caller_id = $5,
             updated_at = $6 WHERE name = $7 RETURNING {TRUNK_COLUMNS}"
        );
        on_pool!(self, |p| sqlx::query_as::<_, Trunk>(&sql)
            .bind(&t.name)
            .bind(&t.dial_string)
            .bind(t.max_channels)
            .bind(server_id)
            .bind(&t.caller_id)
            .bind(now_ms())
            .bind(name)
            .fetch_optional(p)
            .await)
        .map_err(|e| map_unique(e, "trunk", &t.name))?
        .ok_or_else(|| not_found("trunk", name))
    }

    pub async fn trunks(&self) -> Result<Vec<Trunk>> {
        let sql = format!("SELECT {TRUNK_COLUMNS} FROM trunks ORDER BY name");
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Trunk>(&sql)
            .fetch_all(p)
            .await?))
    }

    pub async fn trunk_by_name(&self, name: &str) -> Result<Option<Trunk>> {
        let sql = format!("SELECT {TRUNK_COLUMNS} FROM trunks WHERE name = $1");
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Trunk>(&sql)
            .bind(name)
            .fetch_optional(p)
            .await?))
    }

    pub async fn trunk_by_id(&self, id: i64) -> Result<Option<Trunk>> {
        let sql = format!("SELECT {TRUNK_COLUMNS} FROM trunks WHERE id = $1");
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Trunk>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await?))
    }

    /// Deletes a trunk; refused while a campaign uses it.
    pub async fn delete_trunk(&self, name: &str) -> Result<()> {
        let trunk = self
            .trunk_by_name(name)
            .await?
            .ok_or_else(|| not_found("trunk", name))?;
        let users: Vec<String> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT name FROM campaigns WHERE trunk_id = $1 ORDER BY name"
        )
        .bind(trunk.id)
        .fetch_all(p)
        .await?);
        if !users.is_empty() {
            return Err(StoreError::invalid(
                "trunk",
                format!(
                    "`{name}` is used by campaign(s) {}: change them first",
                    users.join(", ")
                ),
            ));
        }
        on_pool!(self, |p| sqlx::query("DELETE FROM trunks WHERE id = $1")
            .bind(trunk.id)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    // ---------------------------------------------------------- campaigns

    /// Creates a campaign (state `stopped`) and its reschedule rules, in one
    /// transaction.
    pub async fn create_campaign(&self, c: &CampaignSpec) -> Result<Campaign> {
        self.write_campaign(None, c, None).await
    }

    /// [`Self::create_campaign`] with its call path settings (checked
    /// against the campaign's rule set), in the same transaction.
    pub async fn create_campaign_with(
        &self,
        c: &CampaignSpec,
        call_path: Option<&CallPath>,
    ) -> Result<Campaign> {
        self.write_campaign(None, c, call_path).await
    }

    /// [`Self::update_campaign`] replacing its call path settings too
    /// (`None` keeps them), in the same transaction.
    pub async fn update_campaign_with(
        &self,
        name: &str,
        c: &CampaignSpec,
        call_path: Option<&CallPath>,
    ) -> Result<Campaign> {
        self.write_campaign(Some(name), c, call_path).await
    }

    /// Replaces every field of the campaign called `name` (not its state)
    /// and its reschedule rules, in one transaction.
    pub async fn update_campaign(&self, name: &str, c: &CampaignSpec) -> Result<Campaign> {
        self.write_campaign(Some(name), c, None).await
    }

    /// Inserts (`existing` `None`) or replaces a campaign with its rules
    /// and, when given, its call path settings.
    async fn write_campaign(
        &self,
        existing: Option<&str>,
        c: &CampaignSpec,
        call_path: Option<&CallPath>,
    ) -> Result<Campaign> {
        c.validate()?;
        if let Some(cp) = call_path {
            cp.validate(c.mode, c.abandon_window, c.non_compliant)?;
        }
        let trunk = self
            .trunk_by_name(&c.trunk)
            .await?
            .ok_or_else(|| not_found("trunk", &c.trunk))?;
        let sql = match existing {
            None => format!(
                "INSERT INTO campaigns (name, mode, trunk_id, delivery_context, delivery_exten, queue_name,
                   max_abandon_rate, abandon_window, abandon_seconds, ring_timeout_s, caller_id, time_zone,
                   window_start_minute, window_end_minute, days_mask, priority, state, created_at, updated_at,
                   non_compliant)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'stopped', $17, $17, $18)
                 RETURNING {CAMPAIGN_COLUMNS}"
            ),
            Some(_) => format!(
                "UPDATE campaigns SET name = $1, mode = $2, trunk_id = $3, delivery_context = $4,
                   delivery_exten = $5, queue_name = $6, max_abandon_rate = $7, abandon_window = $8,
                   abandon_seconds = $9, ring_timeout_s = $10, caller_id = $11, time_zone = $12,
                   window_start_minute = $13, window_end_minute = $14, days_mask = $15, priority = $16,
                   updated_at = $17, non_compliant = $18
                 WHERE name = $19 RETURNING {CAMPAIGN_COLUMNS}"
            ),
        };
        let row = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let mut query = sqlx::query_as::<_, CampaignRow>(&sql)
                .bind(&c.name)
                .bind(c.mode.as_str())
                .bind(trunk.id)
                .bind(&c.delivery_context)
                .bind(&c.delivery_exten)
                .bind(&c.queue_name)
                .bind(c.max_abandon_rate)
                .bind(c.abandon_window.as_str())
                .bind(c.abandon_seconds)
                .bind(c.ring_timeout_s)
                .bind(&c.caller_id)
                .bind(&c.time_zone)
                .bind(c.window_start_minute)
                .bind(c.window_end_minute)
                .bind(c.days_mask)
                .bind(c.priority)
                .bind(now_ms())
                .bind(c.non_compliant);
            if let Some(name) = existing {
                query = query.bind(name);
            }
            let row = query
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| map_unique(e, "campaign", &c.name))?
                .ok_or_else(|| not_found("campaign", existing.unwrap_or(&c.name)))?;
            sqlx::query("DELETE FROM reschedule_rules WHERE campaign_id = $1")
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
            for r in &c.rules {
                sqlx::query(
                    "INSERT INTO reschedule_rules (campaign_id, outcome, max_attempts, retry_after_s, backoff)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(row.id)
                .bind(r.outcome.as_str())
                .bind(r.max_attempts)
                .bind(r.retry_after_s)
                .bind(r.backoff.as_str())
                .execute(&mut *tx)
                .await?;
            }
            if let Some(cp) = call_path {
                bind_upsert!(sqlx::query(call_path::db::UPSERT), row.id, cp, now_ms())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            row
        });
        row.try_into()
    }

    pub async fn campaigns(&self) -> Result<Vec<Campaign>> {
        let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns ORDER BY priority DESC, name");
        let rows = on_pool!(self, |p| sqlx::query_as::<_, CampaignRow>(&sql)
            .fetch_all(p)
            .await?);
        rows.into_iter().map(Campaign::try_from).collect()
    }

    pub async fn campaign_by_name(&self, name: &str) -> Result<Option<Campaign>> {
        let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE name = $1");
        let row = on_pool!(self, |p| sqlx::query_as::<_, CampaignRow>(&sql)
            .bind(name)
            .fetch_optional(p)
            .await?);
        row.map(Campaign::try_from).transpose()
    }

    pub async fn campaign_by_id(&self, id: i64) -> Result<Option<Campaign>> {
        let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1");
        let row = on_pool!(self, |p| sqlx::query_as::<_, CampaignRow>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await?);
        row.map(Campaign::try_from).transpose()
    }

    /// Sets a campaign's running state.
    pub async fn set_campaign_state(&self, name: &str, state: CampaignState) -> Result<()> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE campaigns SET state = $1, updated_at = $2 WHERE name = $3"
        )
        .bind(state.as_str())
        .bind(now_ms())
        .bind(name)
        .execute(p)
        .await?
        .rows_affected());
        if n == 0 {
            return Err(not_found("campaign", name));
        }
        Ok(())
    }

    /// The stored campaign as a spec, to edit.
    pub async fn campaign_spec(&self, c: &Campaign) -> Result<CampaignSpec> {
        let trunk = self.trunk_by_id(c.trunk_id).await?.ok_or_else(|| {
            StoreError::invalid(
                "trunk",
                format!("campaign `{}` refers to a missing trunk", c.name),
            )
        })?;
        Ok(CampaignSpec {
            name: c.name.clone(),
            mode: c.mode,
            trunk: trunk.name,
            delivery_context: c.delivery_context.clone(),
            delivery_exten: c.delivery_exten.clone(),
            queue_name: c.queue_name.clone(),
            max_abandon_rate: c.max_abandon_rate,
            abandon_window: c.abandon_window,
            abandon_seconds: c.abandon_seconds,
            ring_timeout_s: c.ring_timeout_s,
            non_compliant: c.non_compliant,
            caller_id: c.caller_id.clone(),
            time_zone: c.time_zone.clone(),
            window_start_minute: c.window_start_minute,
            window_end_minute: c.window_end_minute,
            days_mask: c.days_mask,
            priority: c.priority,
            rules: self.reschedule_rules(c.id).await?,
        })
    }

    /// The reschedule rules of a campaign.
    pub async fn reschedule_rules(&self, campaign_id: i64) -> Result<Vec<RescheduleRule>> {
        let rows: Vec<(String, i64, i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT outcome, max_attempts, retry_after_s, backoff FROM reschedule_rules
             WHERE campaign_id = $1 ORDER BY id"
        )
        .bind(campaign_id)
        .fetch_all(p)
        .await?);
        rows.into_iter()
            .map(|(o, m, r, b)| {
                Ok(RescheduleRule {
                    outcome: o.parse()?,
                    max_attempts: m,
                    retry_after_s: r,
                    backoff: b.parse()?,
                })
            })
            .collect()
    }

    /// Every campaign's reschedule rules, by campaign id, in one query (the
    /// engine reads them with the configuration every second; one query
    /// per campaign made most of an idle node's transactions).
    pub async fn all_reschedule_rules(
        &self,
    ) -> Result<std::collections::HashMap<i64, Vec<RescheduleRule>>> {
        let rows: Vec<(i64, String, i64, i64, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT campaign_id, outcome, max_attempts, retry_after_s, backoff FROM reschedule_rules
             ORDER BY campaign_id, id"
        )
        .fetch_all(p)
        .await?
        });
        let mut out: std::collections::HashMap<i64, Vec<RescheduleRule>> =
            std::collections::HashMap::new();
        for (c, o, m, r, b) in rows {
            out.entry(c).or_default().push(RescheduleRule {
                outcome: o.parse()?,
                max_attempts: m,
                retry_after_s: r,
                backoff: b.parse()?,
            });
        }
        Ok(out)
    }

    /// Deletes a campaign with its contacts and call records.
    pub async fn delete_campaign(&self, name: &str) -> Result<()> {
        let n = on_pool!(self, |p| sqlx::query(
            "DELETE FROM campaigns WHERE name = $1"
        )
        .bind(name)
        .execute(p)
        .await?
        .rows_affected());
        if n == 0 {
            return Err(not_found("campaign", name));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_windows() {
        assert!((parse_rate("3%").unwrap() - 0.03).abs() < 1e-12);
        assert!((parse_rate("0.05").unwrap() - 0.05).abs() < 1e-12);
        assert!(parse_rate("3").unwrap_err().to_string().contains("3%"));
        assert!(parse_rate("150%").is_err());
        assert!(parse_rate("x").is_err());
        assert_eq!(parse_window("09:00-21:30").unwrap(), (540, 1290));
        assert!(parse_window("09:00").is_err());
    }

    #[test]
    fn rules_parse_and_back_off() {
        let r = RescheduleRule::parse("busy:3:300:multiplied").unwrap();
        assert_eq!(r.outcome, RetryOutcome::Busy);
        assert_eq!(r.delay_after(1), Some(300));
        assert_eq!(r.delay_after(2), Some(600));
        assert_eq!(r.delay_after(3), None);
        let f = RescheduleRule::parse("no_answer:2:60").unwrap();
        assert_eq!(f.backoff, Backoff::Fixed);
        assert_eq!(f.delay_after(1), Some(60));
        assert!(RescheduleRule::parse("busy:x:300").is_err());
        assert!(RescheduleRule::parse("ringing:3:300").is_err());
        assert!(RescheduleRule::parse("busy:0:300").is_err());
    }

    #[test]
    fn days_and_minutes_parse() {
        assert_eq!(parse_days("mon-fri").unwrap(), 31);
        assert_eq!(parse_days("sat,sun").unwrap(), 96);
        assert_eq!(parse_days("all").unwrap(), 127);
        assert_eq!(format_days(31), "mon,tue,wed,thu,fri");
        assert!(parse_days("fri-mon").is_err());
        assert!(parse_days("funday").is_err());
        assert_eq!(parse_minute("09:30").unwrap(), 570);
        assert_eq!(parse_minute("24:00").unwrap(), 1440);
        assert!(parse_minute("24:01").is_err());
        assert!(parse_minute("9").is_err());
    }

    #[test]
    fn campaign_validation_names_the_field() {
        let mut c = CampaignSpec::new("sales", "t1");
        assert!(c.validate().is_ok());
        c.window_end_minute = 8 * 60;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("time window") && e.contains("08:00"), "{e}");
        let mut c = CampaignSpec::new("sales", "t1");
        c.time_zone = "Mars/Olympus".into();
        assert!(c.validate().unwrap_err().to_string().contains("time zone"));
        let mut c = CampaignSpec::new("sales", "t1");
        c.max_abandon_rate = 3.0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("abandon rate"));
    }

    #[test]
    fn settings_beyond_the_rules_need_the_non_compliant_mark() {
        let mut c = CampaignSpec::new("sales", "t1");
        c.ring_timeout_s = 10;
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("ring timeout") && e.contains("FCC") && e.contains("15 s"),
            "{e}"
        );
        assert!(e.contains("--non-compliant"), "{e}");
        c.abandon_window = AbandonWindow::Uk;
        assert!(c.validate().unwrap_err().to_string().contains("Ofcom"));
        c.non_compliant = true;
        assert!(c.validate().is_ok());
        c.ring_timeout_s = 4;
        assert!(
            c.validate().is_err(),
            "the hard bounds hold even for a non-compliant campaign"
        );
        let mut c = CampaignSpec::new("sales", "t1");
        c.abandon_seconds = 3;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("abandon seconds"));
        let mut c = CampaignSpec::new("sales", "t1");
        c.max_abandon_rate = 0.04;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max abandon rate"));
    }

    #[test]
    fn dial_string_needs_the_number() {
        let t = TrunkSpec {
            name: "t".into(),
            dial_string: "PJSIP/carrier".into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        };
        assert!(t.validate().unwrap_err().to_string().contains("${num}"));
        let trunk = Trunk {
            id: 1,
            name: "t".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 1,
            server_id: None,
            caller_id: String::new(),
        };
        assert_eq!(trunk.dial("5551234"), "Local/5551234@from-oml/n");
    }
}
