//! The AstDB writes of oml's rendered dialplan (oml_extensions.conf.j2),
//! emulated from the events pbxsim sends, so that a dialer reconciling
//! after a restart reads the same record on pbxsim as on Asterisk. Each
//! attempt's record lives under `OML/CALL/<instance>/<ChannelId>`, the
//! instance being the Originate's `OMLINSTANCE` (the oml database that
//! placed the call; `OML/CALL/<ChannelId>` for a call without one):
//!
//! | key | written when | Asterisk dialplan |
//! |---|---|---|
//! | `ANSWERED` | the call enters the Originate's context | campaign context |
//! | `QUEUED` | it joins the queue | before `Queue()` |
//! | `CONNECTED` | an agent takes it | `Queue()`'s gosub on the agent |
//! | `AGENT` | the answered (`;1`) half of a call an agent took hangs up | its hangup handler (`oml-attempt-agent`) |
//! | `CAUSE`, `ENDED` | the customer's `;2` half hangs up | its hangup handler |
//! | `AMD` | `AMD()`'s verdict (`UserEvent` `OmlAmd`'s `Status`) | campaign context |
//! | `RECFILE` | recording starts (`OmlRecording`'s `File`) | campaign context |
//! | `ABANDONMSG` | the abandon message starts (`OmlAbandonMessage`) | extension `abandon` |
//!
//! Values are the PBX's epoch seconds (`${EPOCH}`), the cause is the Q.850
//! code (`${HANGUPCAUSE}`).

use std::collections::HashMap;

use oml_ami::Message;

use super::astdb::AstDb;

/// Key of the agent who took the call (`oml_store::dialplan::AGENT_KEY`;
/// pbxsim depends on no oml crate but the AMI codec).
const AGENT_KEY: &str = "AGENT";

/// The AstDB family of all attempt records.
pub(super) const FAMILY: &str = "OML/CALL";

/// The channel variable naming the oml database that placed a call
/// (`oml_store::dialplan::INSTANCE_VAR`).
const INSTANCE_VAR: &str = "OMLINSTANCE";

/// What the dialplan knows of each call still up, by its channel id (the
/// linkedid of all its legs): where its record lives, and the agent who
/// took it (the `MEMBERNAME` Queue() sets on the answered channel).
#[derive(Debug, Default)]
pub(super) struct Records {
    calls: HashMap<String, CallRecord>,
    /// Calls removed since the last events were recorded: forgotten once
    /// their last events are.
    ended: Vec<String>,
}

#[derive(Debug)]
struct CallRecord {
    family: String,
    agent: Option<String>,
}

impl Records {
    /// An Originate placed the call `linkedid`, with its `Variable:`
    /// headers (`OMLINSTANCE`, with any `_`/`__` inheritance prefix).
    pub(super) fn placed(&mut self, linkedid: &str, originate: &Message) {
        let instance = originate
            .get_all("Variable")
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.split_once('='))
            .find(|(k, _)| k.trim().trim_start_matches('_') == INSTANCE_VAR)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty());
        let family = match instance {
            Some(i) => format!("{FAMILY}/{i}/{linkedid}"),
            None => format!("{FAMILY}/{linkedid}"),
        };
        self.calls.insert(
            linkedid.to_owned(),
            CallRecord {
                family,
                agent: None,
            },
        );
    }

    /// The call `linkedid` is gone; its last events may still be recorded.
    pub(super) fn removed(&mut self, linkedid: &str) {
        self.ended.push(linkedid.to_owned());
    }

    pub(super) fn family(&self, linkedid: &str) -> String {
        match self.calls.get(linkedid) {
            Some(c) => c.family.clone(),
            None => format!("{FAMILY}/{linkedid}"),
        }
    }
}

/// Writes to `db` what the dialplan would for `events` at PBX time `epoch`.
pub(super) fn record(db: &mut AstDb, records: &mut Records, events: &[Message], epoch: i64) {
    let at = epoch.to_string();
    for e in events {
        let field = |f: &str| e.get(f).filter(|v| !v.is_empty());
        let (key, writes): (Option<&str>, &[(&str, Option<&str>)]) = match e.event_name() {
            Some("OriginateResponse") if e.get("Response") == Some("Success") => {
                (field("Uniqueid"), &[("ANSWERED", None)])
            }
            Some("QueueCallerJoin") => (field("Linkedid"), &[("QUEUED", None)]),
            Some("AgentConnect") => {
                // The member's name, else its interface (as the hangup
                // handler's GotoIf in the rendered dialplan), written as
                // the answered half hangs up.
                let agent = field("MemberName").or(field("Interface"));
                if let (Some(key), Some(agent)) = (field("Linkedid"), agent) {
                    if let Some(c) = records.calls.get_mut(key) {
                        c.agent = Some(agent.to_owned());
                    }
                }
                (field("Linkedid"), &[("CONNECTED", None)])
            }
            // The campaign's call path (`call_path.rs`): AMD()'s status,
            // the recording's name, the abandon message's start.
            Some("UserEvent") => match e.get("UserEvent") {
                Some("OmlAmd") => (field("Linkedid"), &[("AMD", Some("Status"))]),
                Some("OmlRecording") => (field("Linkedid"), &[("RECFILE", Some("File"))]),
                Some("OmlAbandonMessage") => (field("Linkedid"), &[("ABANDONMSG", None)]),
                _ => continue,
            },
            Some("Hangup") => {
                let channel = e.get("Channel").unwrap_or("");
                let local = channel.starts_with("Local/");
                if local && channel.ends_with(";2") {
                    (
                        field("Linkedid"),
                        &[("CAUSE", Some("Cause")), ("ENDED", None)],
                    )
                } else {
                    // The answered half (`oml-attempt-agent`): the agent,
                    // if one took the call.
                    if let Some(key) = field("Linkedid") {
                        if let Some(agent) = records.calls.get_mut(key).and_then(|c| c.agent.take())
                        {
                            db.put(&records.family(key), AGENT_KEY, &agent);
                        }
                    }
                    continue;
                }
            }
            _ => continue,
        };
        let Some(key) = key else {
            continue;
        };
        let family = records.family(key);
        for (name, from) in writes {
            let v = match from {
                Some(f) => e.get(f).unwrap_or("0"),
                None => &at,
            };
            db.put(&family, name, v);
        }
    }
    for gone in std::mem::take(&mut records.ended) {
        records.calls.remove(&gone);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestones_of_a_connected_call_and_a_busy_one() {
        let mut db = AstDb::default();
        let mut records = Records::default();
        let originate = |id: &str| {
            let mut m = Message::action("Originate").with("ChannelId", id);
            m.push("Variable", "OMLCAMPID=1");
            m
        };
        records.placed("oml-1-2-1", &originate("oml-1-2-1"));
        records.placed("oml-1-3-1", &originate("oml-1-3-1"));
        let ev = |name: &str| Message::event(name);
        let events = [
            ev("OriginateResponse")
                .with("Response", "Success")
                .with("Uniqueid", "oml-1-2-1"),
            ev("QueueCallerJoin")
                .with("Uniqueid", "oml-1-2-1")
                .with("Linkedid", "oml-1-2-1"),
            ev("AgentConnect")
                .with("Linkedid", "oml-1-2-1")
                .with("MemberName", "ana")
                .with("Interface", "Local/1001@agents"),
            // The ;1 half's end is not the customer's: not recorded.
            ev("Hangup")
                .with("Channel", "Local/5551@from-oml-00000001;1")
                .with("Linkedid", "oml-1-2-1")
                .with("Cause", "0"),
            ev("Hangup")
                .with("Channel", "Local/5551@from-oml-00000001;2")
                .with("Linkedid", "oml-1-2-1")
                .with("Cause", "16"),
            ev("OriginateResponse")
                .with("Response", "Failure")
                .with("Uniqueid", "oml-1-3-1"),
            ev("Hangup")
                .with("Channel", "Local/5552@from-oml-00000002;2")
                .with("Linkedid", "oml-1-3-1")
                .with("Cause", "17"),
        ];
        record(&mut db, &mut records, &events, 1000);
        let m = Message::action("DBGetTree").with("Family", FAMILY);
        let got: Vec<String> = db
            .handle("dbgettree", &m)
            .iter()
            .filter_map(|e| Some(format!("{}={}", e.get("Key")?, e.get("Val")?)))
            .collect();
        assert_eq!(
            got,
            [
                "/OML/CALL/oml-1-2-1/AGENT=ana",
                "/OML/CALL/oml-1-2-1/ANSWERED=1000",
                "/OML/CALL/oml-1-2-1/CAUSE=16",
                "/OML/CALL/oml-1-2-1/CONNECTED=1000",
                "/OML/CALL/oml-1-2-1/ENDED=1000",
                "/OML/CALL/oml-1-2-1/QUEUED=1000",
                "/OML/CALL/oml-1-3-1/CAUSE=17",
                "/OML/CALL/oml-1-3-1/ENDED=1000",
            ]
        );
    }

    /// A call placed with `OMLINSTANCE` keeps its record under its
    /// instance; the agent comes as the answered half hangs up.
    #[test]
    fn an_instance_keeps_its_records_apart() {
        let mut db = AstDb::default();
        let mut records = Records::default();
        let mut o = Message::action("Originate").with("ChannelId", "oml-1-2-1");
        o.push("Variable", "OMLCAMPID=1");
        o.push("Variable", "__OMLINSTANCE=a1b2c3d4e5f6");
        records.placed("oml-1-2-1", &o);
        let ev = |name: &str| Message::event(name).with("Linkedid", "oml-1-2-1");
        record(
            &mut db,
            &mut records,
            &[ev("AgentConnect").with("MemberName", "Agent 1")],
            1000,
        );
        let family = "OML/CALL/a1b2c3d4e5f6/oml-1-2-1";
        assert_eq!(db.get(family, "CONNECTED"), Some("1000"));
        assert_eq!(db.get(family, AGENT_KEY), None, "written at the hang-up");
        records.removed("oml-1-2-1");
        record(
            &mut db,
            &mut records,
            &[
                ev("Hangup")
                    .with("Channel", "Local/5551@from-oml-00000001;2")
                    .with("Cause", "16"),
                ev("Hangup")
                    .with("Channel", "Local/5551@from-oml-00000001;1")
                    .with("Cause", "16"),
            ],
            1004,
        );
        assert_eq!(db.get(family, "CAUSE"), Some("16"));
        assert_eq!(db.get(family, "ENDED"), Some("1004"));
        assert_eq!(db.get(family, AGENT_KEY), Some("Agent 1"));
        assert_eq!(db.get("OML/CALL/oml-1-2-1", "CAUSE"), None);
        assert!(records.calls.is_empty(), "forgotten once ended");
    }
}
