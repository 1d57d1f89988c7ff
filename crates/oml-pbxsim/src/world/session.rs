//! Who may do what: the per-connection login state, logins (plain and
//! MD5 challenge, further users from the config and the manager file) and
//! the read/write permission classes that filter actions and events, as
//! manager.conf does. Kept apart from the action handlers so permission
//! rules are read and tested in one place.

use oml_ami::Message;

use super::reply::reply;
use super::World;

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
    /// The classes asked for with `Login`'s or the `Events` action's
    /// `Events`/`EventMask`: `None` = every class (`on`), empty = `off`.
    pub event_mask: Option<Vec<String>>,
    /// `Filter` actions of this session: (include?, regular expression
    /// matched against the event's text), as Asterisk keeps them.
    pub filters: Vec<(bool, regex::bytes::Regex)>,
}

impl Session {
    /// Whether this session receives an event whose `Privilege` header is
    /// `privilege` (e.g. `call,all`).
    pub fn may_read(&self, privilege: &str) -> bool {
        let mask_ok = match &self.event_mask {
            None => true,
            Some(mask) => has_class(mask, privilege),
        };
        mask_ok
            && match &self.perms {
                None => true,
                Some((read, _)) => has_class(read, privilege),
            }
    }

    /// Whether the user's read classes (alone, without the session's
    /// event mask) let it see an event of `privilege`.
    pub fn may_read_class(&self, privilege: &str) -> bool {
        match &self.perms {
            None => true,
            Some((read, _)) => has_class(read, privilege),
        }
    }

    /// Whether an event (its encoded text) passes the session's filters:
    /// with include filters it must match one of them, and it must match
    /// no exclude filter (Asterisk's `match_filter`).
    pub fn passes(&self, event: &[u8]) -> bool {
        if self.filters.is_empty() {
            return true;
        }
        let mut includes = self.filters.iter().filter(|(inc, _)| *inc).peekable();
        let included = includes.peek().is_none() || includes.any(|(_, re)| re.is_match(event));
        included
            && !self
                .filters
                .iter()
                .any(|(inc, re)| !*inc && re.is_match(event))
    }

    /// Sets the event mask from a `Login`'s `Events` or an `Events`
    /// action's `EventMask` (`on`, `off` or a list of classes).
    pub(super) fn set_event_mask(&mut self, mask: &str) {
        let m = mask.trim();
        self.event_mask = if m.eq_ignore_ascii_case("on") || m.eq_ignore_ascii_case("yes") {
            None
        } else if m.eq_ignore_ascii_case("off") || m.eq_ignore_ascii_case("no") {
            Some(Vec::new())
        } else {
            Some(
                m.split(',')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .collect(),
            )
        };
    }

    /// `Filter` (`Operation: Add`): adds one filter; the answer's status
    /// and message.
    pub(super) fn add_filter(&mut self, m: &Message) -> Result<&'static str, String> {
        let op = m.get("Operation").unwrap_or("Add").trim();
        if !op.eq_ignore_ascii_case("add") {
            return Err(format!("Unknown operation '{op}'"));
        }
        let Some(f) = m.get("Filter").filter(|f| !f.is_empty()) else {
            return Err("Filter parameter is required".into());
        };
        let (include, re) = match f.strip_prefix('!') {
            Some(r) => (false, r),
            None => (true, f),
        };
        let re = regex::bytes::Regex::new(re).map_err(|_| "Filter Not Added".to_owned())?;
        self.filters.push((include, re));
        Ok("Filter Added")
    }

    /// Whether this session may send an action of classes `privs`
    /// (`<none>` = anyone).
    pub(super) fn may_write(&self, privs: &str) -> bool {
        match &self.perms {
            None => true,
            Some((_, write)) => privs == "<none>" || has_class(write, privs),
        }
    }
}

/// Whether `classes` (a user's list) grants one of the classes in
/// `wanted` (`a,b,all`); `all` in the user's list grants everything.
pub(super) fn has_class(classes: &[String], wanted: &str) -> bool {
    classes.iter().any(|c| c.eq_ignore_ascii_case("all"))
        || wanted
            .split(',')
            .map(str::trim)
            .filter(|w| !w.eq_ignore_ascii_case("all"))
            .any(|w| classes.iter().any(|c| c.eq_ignore_ascii_case(w)))
}

/// The permission classes of the (single, all-powerful) simulated user, as
/// `manager show user` prints them.
pub(super) const ALL_PERMS: &str = "system,call,log,verbose,command,agent,user,config,dtmf,reporting,cdr,dialplan,originate,agi,cc,aoc,test,security,message,all";

/// The actions pbxsim answers, as `ListCommands` lists them: name,
/// synopsis and privilege classes, worded like Asterisk 22.
pub(super) const ACTIONS: &[(&str, &str, &str)] = &[
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
    (
        "DBGetTree",
        "Get DB entries, optionally at a particular family/k",
        "system,reporting,all",
    ),
    ("DBPut", "Put DB entry.", "system,all"),
    ("Events", "Control Event Flow.", "<none>"),
    (
        "Filter",
        "Dynamically add filters for the current manager session.",
        "system,all",
    ),
    ("Hangup", "Hangup channel.", "system,call,all"),
    ("ListCommands", "List available manager commands.", "<none>"),
    ("Login", "Login Manager.", "<none>"),
    ("Logoff", "Logoff Manager.", "<none>"),
    ("Originate", "Originate a call.", "originate,all"),
    ("Ping", "Keepalive command.", "<none>"),
    ("QueueAdd", "Add interface to queue.", "agent,all"),
    (
        "QueuePause",
        "Makes a queue member temporarily unavailable.",
        "agent,all",
    ),
    ("QueueRemove", "Remove interface from queue.", "agent,all"),
    ("QueueStatus", "Show queue status.", "<none>"),
    ("QueueSummary", "Show queue summary.", "<none>"),
    ("Redirect", "Redirect (transfer) a call.", "call,all"),
    ("Reload", "Send a reload event.", "system,config,all"),
    (
        "Status",
        "List channel status.",
        "system,call,reporting,all",
    ),
];

impl World {
    /// Rereads the users of `SimConfig::manager_file`, as `manager reload`
    /// does; an unreadable file keeps the users read before.
    pub(super) fn reload_manager_file(&mut self) {
        if let Some(path) = &self.cfg.manager_file {
            if let Ok(text) = std::fs::read_to_string(path) {
                self.file_users = crate::config::parse_manager_users(&text);
            }
        }
    }

    pub(super) fn login(&mut self, session: &mut Session, m: &Message) -> Message {
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
            if let Some(mask) = m.get("Events") {
                session.set_event_mask(mask);
            }
            reply("Success", id).with("Message", "Authentication accepted")
        } else {
            // Asterisk closes the connection after a failed login.
            session.authenticated = false;
            session.closing = true;
            reply("Error", id).with("Message", "Authentication failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use oml_ami::Message;
    use secrecy::SecretString;

    use crate::config::SimConfig;
    use crate::world::testkit::{logged_in, world};
    use crate::world::{Session, World};

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
    fn filters_and_event_masks_choose_the_events_sent() {
        let (mut w, now) = crate::world::testkit::world(1);
        let mut s = logged_in();
        let ev = |name: &str| format!("Event: {name}\r\nPrivilege: call,all\r\n\r\n");
        assert!(s.passes(ev("VarSet").as_bytes()));
        let add = |w: &mut World, s: &mut Session, f: &str| {
            w.handle(s, &oml_ami::actions::filter_add(f), now, &mut Vec::new())[0]
                .response_status()
                .map(str::to_owned)
        };
        assert_eq!(
            add(&mut w, &mut s, "Event: (Newchannel|Hangup)").as_deref(),
            Some("Success")
        );
        assert_eq!(
            add(&mut w, &mut s, "!Event: Hangup[A-Za-z]").as_deref(),
            Some("Success")
        );
        assert!(s.passes(ev("Newchannel").as_bytes()));
        assert!(s.passes(ev("Hangup").as_bytes()));
        assert!(!s.passes(ev("HangupRequest").as_bytes()));
        assert!(!s.passes(ev("VarSet").as_bytes()));
        // Like Asterisk, Filter needs the system class.
        let mut limited = Session {
            authenticated: true,
            perms: Some((vec!["call".into()], vec!["call".into()])),
            ..Session::default()
        };
        assert_eq!(
            add(&mut w, &mut limited, "Event: X").as_deref(),
            Some("Error")
        );
        // Login's Events mask: only the classes asked for.
        let mut m = Session::default();
        m.set_event_mask("agent,user");
        assert!(m.may_read("agent,all") && !m.may_read("call,all"));
        m.set_event_mask("off");
        assert!(!m.may_read("agent,all"));
        m.set_event_mask("on");
        assert!(m.may_read("call,all"));
    }
}
