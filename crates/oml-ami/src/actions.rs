//! Builders for the AMI actions the product uses. Each returns a
//! [`Message`] ready for [`crate::AmiClient::send`]; the client adds the
//! `ActionID`. Field names follow Asterisk's manager documentation.

use std::time::Duration;

use crate::message::Message;

/// An `Originate` action: call `channel`, then on answer run either
/// `context`/`exten`/`priority` or `application`/`data`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Originate {
    /// Channel to call, e.g. `Local/5551234@from-oml/n` or `PJSIP/100`.
    pub channel: String,
    /// Dialplan context to enter on answer.
    pub context: Option<String>,
    /// Extension in `context`.
    pub exten: Option<String>,
    /// Priority in `exten` (Asterisk's default is 1).
    pub priority: Option<String>,
    /// Application to run on answer instead of a dialplan location.
    pub application: Option<String>,
    /// Arguments of `application`.
    pub data: Option<String>,
    /// How long to ring before giving up; sent in milliseconds.
    pub timeout: Option<Duration>,
    /// Caller ID, e.g. `"Sales" <5550000>`.
    pub caller_id: Option<String>,
    /// Channel variables, sent as one `Variable: NAME=VALUE` each.
    pub variables: Vec<(String, String)>,
    /// Account code (CDR).
    pub account: Option<String>,
    /// Uniqueid to give the channel (Asterisk 13+ `ChannelId`).
    pub channel_id: Option<String>,
    /// Uniqueid of the second leg of a Local channel (`OtherChannelId`).
    pub other_channel_id: Option<String>,
    /// `Async: true` (default): the action returns at once and the result
    /// comes later as an `OriginateResponse` event with the same ActionID.
    pub asynchronous: bool,
}

impl Originate {
    /// Call `channel` and on answer go to `context`,`exten`,1. Async.
    pub fn to_extension(channel: &str, context: &str, exten: &str) -> Self {
        Self {
            channel: channel.to_owned(),
            context: Some(context.to_owned()),
            exten: Some(exten.to_owned()),
            priority: Some("1".to_owned()),
            asynchronous: true,
            ..Self::default()
        }
    }

    /// Call `channel` and on answer run `application(data)`. Async.
    pub fn to_application(channel: &str, application: &str, data: &str) -> Self {
        Self {
            channel: channel.to_owned(),
            application: Some(application.to_owned()),
            data: Some(data.to_owned()),
            asynchronous: true,
            ..Self::default()
        }
    }

    /// Adds a channel variable.
    pub fn variable(mut self, name: &str, value: &str) -> Self {
        self.variables.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The wire message.
    pub fn to_message(&self) -> Message {
        let mut m = Message::action("Originate").with("Channel", &self.channel);
        let opt = |m: &mut Message, k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.push(k, v);
            }
        };
        opt(&mut m, "Context", &self.context);
        opt(&mut m, "Exten", &self.exten);
        opt(&mut m, "Priority", &self.priority);
        opt(&mut m, "Application", &self.application);
        opt(&mut m, "Data", &self.data);
        if let Some(t) = self.timeout {
            m.push("Timeout", &t.as_millis().to_string());
        }
        opt(&mut m, "CallerID", &self.caller_id);
        opt(&mut m, "Account", &self.account);
        opt(&mut m, "ChannelId", &self.channel_id);
        opt(&mut m, "OtherChannelId", &self.other_channel_id);
        for (k, v) in &self.variables {
            m.push("Variable", &format!("{k}={v}"));
        }
        m.push("Async", if self.asynchronous { "true" } else { "false" });
        m
    }
}

/// `Login` with a plain secret. Its `Debug`/`Display` redact the secret.
pub fn login_plain(username: &str, secret: &str) -> Message {
    Message::action("Login")
        .with("Username", username)
        .with("Secret", secret)
}

/// `Filter` adding one event filter to this session (Asterisk >= 10): a
/// regular expression matched against each event's text, `!` first to
/// exclude what it matches.
pub fn filter_add(regex: &str) -> Message {
    Message::action("Filter")
        .with("Operation", "Add")
        .with("Filter", regex)
}

/// `Challenge` for MD5 login.
pub fn challenge() -> Message {
    Message::action("Challenge").with("AuthType", "MD5")
}

/// `Login` answering an MD5 challenge: key = md5(challenge + secret), hex.
pub fn login_md5(username: &str, challenge: &str, secret: &str) -> Message {
    Message::action("Login")
        .with("AuthType", "MD5")
        .with("Username", username)
        .with("Key", md5_key(challenge, secret))
}

/// Lower-case hex MD5 of `challenge` followed by `secret`, as Asterisk
/// computes it for `AuthType: MD5`.
pub fn md5_key(challenge: &str, secret: &str) -> String {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(challenge.as_bytes());
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// `Hangup` of `channel` (a name or a regular expression `/re/`), with an
/// optional Q.850 cause.
pub fn hangup(channel: &str, cause: Option<u32>) -> Message {
    let mut m = Message::action("Hangup").with("Channel", channel);
    if let Some(c) = cause {
        m.push("Cause", &c.to_string());
    }
    m
}

/// `DBPut family/key = value`.
pub fn db_put(family: &str, key: &str, value: &str) -> Message {
    Message::action("DBPut")
        .with("Family", family)
        .with("Key", key)
        .with("Val", value)
}

/// `DBGet family/key` (answered by a `DBGetResponse` event list).
pub fn db_get(family: &str, key: &str) -> Message {
    Message::action("DBGet")
        .with("Family", family)
        .with("Key", key)
}

/// `DBGetTree` of a family (or a key tree in it): every entry below, each
/// as a `DBGetTreeResponse` event with its full key (Asterisk 16.28+).
pub fn db_get_tree(family: &str, key: Option<&str>) -> Message {
    let mut m = Message::action("DBGetTree").with("Family", family);
    if let Some(k) = key {
        m.push("Key", k);
    }
    m
}

/// `DBDel family/key`.
pub fn db_del(family: &str, key: &str) -> Message {
    Message::action("DBDel")
        .with("Family", family)
        .with("Key", key)
}

/// `DBDelTree family[/key]`.
pub fn db_deltree(family: &str, key: Option<&str>) -> Message {
    let mut m = Message::action("DBDelTree").with("Family", family);
    if let Some(k) = key {
        m.push("Key", k);
    }
    m
}

/// `QueueStatus`, optionally for one queue.
pub fn queue_status(queue: Option<&str>) -> Message {
    let mut m = Message::action("QueueStatus");
    if let Some(q) = queue {
        m.push("Queue", q);
    }
    m
}

/// `QueueSummary`, optionally for one queue.
pub fn queue_summary(queue: Option<&str>) -> Message {
    let mut m = Message::action("QueueSummary");
    if let Some(q) = queue {
        m.push("Queue", q);
    }
    m
}

/// `CoreShowChannels`.
pub fn core_show_channels() -> Message {
    Message::action("CoreShowChannels")
}

/// `Command` (a CLI command, e.g. `core show version`).
pub fn command(cli: &str) -> Message {
    Message::action("Command").with("Command", cli)
}

/// `Reload`, of one module or everything.
pub fn reload(module: Option<&str>) -> Message {
    let mut m = Message::action("Reload");
    if let Some(x) = module {
        m.push("Module", x);
    }
    m
}

/// `Status`, of one channel or all.
pub fn status(channel: Option<&str>) -> Message {
    let mut m = Message::action("Status");
    if let Some(c) = channel {
        m.push("Channel", c);
    }
    m
}

/// `Ping`.
pub fn ping() -> Message {
    Message::action("Ping")
}

/// `Logoff`.
pub fn logoff() -> Message {
    Message::action("Logoff")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn originate_fields() {
        let mut o = Originate::to_extension("Local/555@from-oml/n", "oml-campaign", "1")
            .variable("OMLCAMP", "7")
            .variable("OMLCONTACT", "42");
        o.timeout = Some(Duration::from_secs(25));
        o.channel_id = Some("c-1".into());
        let m = o.to_message();
        assert_eq!(m.action_name(), Some("Originate"));
        assert_eq!(m.get("Timeout"), Some("25000"));
        assert_eq!(m.get("ChannelId"), Some("c-1"));
        assert_eq!(m.get("Async"), Some("true"));
        assert_eq!(
            m.get_all("Variable").collect::<Vec<_>>(),
            ["OMLCAMP=7", "OMLCONTACT=42"]
        );
    }

    #[test]
    fn md5_key_is_lower_hex_of_challenge_then_secret() {
        // md5("123456789" + "secret")
        assert_eq!(md5_key("123", "abc"), {
            use md5::{Digest, Md5};
            hex::encode(Md5::digest(b"123abc"))
        });
        assert_eq!(md5_key("", ""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
