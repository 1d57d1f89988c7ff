//! The AMI action dispatcher: one action in, the replies for its client
//! out (events for everyone go to the caller's list). Permission checks,
//! the CLI commands oml runs (`Command`), `Reload`, `ListCommands`,
//! `CoreSettings`; the calls, queues and AstDB each answer their own
//! actions in their files.

use std::time::Instant;

use oml_ami::Message;
use rand::Rng;

use super::reply::reply;
use super::session::{Session, ACTIONS, ALL_PERMS};
use super::World;

impl World {
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
        let start = events.len();
        let out = self.answer_action(session, m, now, events);
        self.run_dialplan(&events[start..], now);
        out
    }

    fn answer_action(
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
            "hangup" => self.hangup_action(m, now, events),
            "redirect" => self.redirect_action(m, now, events),
            "dbput" | "dbget" | "dbgettree" | "dbdel" | "dbdeltree" => self.db.handle(&action, m),
            "queuestatus" => self.queue_status(m, now),
            "queuesummary" => self.queue_summary(m, now),
            "queueadd" => self.queue_add(m, now, events),
            "queueremove" => self.queue_remove(m, events),
            "queuepause" => self.queue_pause(m, now, events),
            "coreshowchannels" | "status" => self.channels_list(&action, id, now),
            "command" => self.command(m, id),
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
                let mask = m.get("EventMask").unwrap_or("On");
                session.set_event_mask(mask);
                vec![reply("Success", id).with("Events", mask)]
            }
            "filter" => match session.add_filter(m) {
                Ok(msg) => vec![ok(msg)],
                Err(e) => err(&e),
            },
            _ => err(&format!(
                "Invalid/unknown command: {}. Use Action: ListCommands to show available commands.",
                m.action_name().unwrap_or("")
            )),
        }
    }

    /// `Command`: the few CLI commands oml runs, with Asterisk's output.
    fn command(&mut self, m: &Message, id: Option<&str>) -> Vec<Message> {
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
            "database show" => self.db.show(),
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
}
