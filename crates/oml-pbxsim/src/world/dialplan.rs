//! The AstDB writes of oml's rendered dialplan (oml_extensions.conf.j2),
//! emulated from the events pbxsim sends, so that a dialer reconciling
//! after a restart reads the same record on pbxsim as on Asterisk. Each
//! attempt's record lives under `OML/CALL/<ChannelId>`:
//!
//! | key | written when | Asterisk dialplan |
//! |---|---|---|
//! | `ANSWERED` | the call enters the Originate's context | campaign context |
//! | `QUEUED` | it joins the queue | before `Queue()` |
//! | `CONNECTED`, `AGENT` | an agent takes it | `Queue()`'s gosub on the agent |
//! | `CAUSE`, `ENDED` | the customer's `;2` half hangs up | its hangup handler |
//! | `AMD` | `AMD()`'s verdict (`UserEvent` `OmlAmd`'s `Status`) | campaign context |
//! | `RECFILE` | recording starts (`OmlRecording`'s `File`) | campaign context |
//! | `ABANDONMSG` | the abandon message starts (`OmlAbandonMessage`) | extension `abandon` |
//!
//! Values are the PBX's epoch seconds (`${EPOCH}`), the cause is the Q.850
//! code (`${HANGUPCAUSE}`).

use oml_ami::Message;

use super::astdb::AstDb;

/// Key of the agent who took the call (`oml_store::dialplan::AGENT_KEY`;
/// pbxsim depends on no oml crate but the AMI codec).
const AGENT_KEY: &str = "AGENT";

/// The AstDB family of all attempt records.
pub(super) const FAMILY: &str = "OML/CALL";

/// Writes to `db` what the dialplan would for `events` at PBX time `epoch`.
pub(super) fn record(db: &mut AstDb, events: &[Message], epoch: i64) {
    let at = epoch.to_string();
    for e in events {
        let field = |f: &str| e.get(f).filter(|v| !v.is_empty());
        let (key, writes): (Option<&str>, &[(&str, Option<&str>)]) = match e.event_name() {
            Some("OriginateResponse") if e.get("Response") == Some("Success") => {
                (field("Uniqueid"), &[("ANSWERED", None)])
            }
            Some("QueueCallerJoin") => (field("Linkedid"), &[("QUEUED", None)]),
            Some("AgentConnect") => {
                // The member's name, else its interface (as the gosub's
                // ${IF(...)} in the rendered dialplan).
                let agent = field("MemberName").or(field("Interface"));
                if let (Some(key), Some(agent)) = (field("Linkedid"), agent) {
                    db.put(&format!("{FAMILY}/{key}"), AGENT_KEY, agent);
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
            Some("Hangup")
                if e.get("Channel")
                    .is_some_and(|c| c.starts_with("Local/") && c.ends_with(";2")) =>
            {
                (
                    field("Linkedid"),
                    &[("CAUSE", Some("Cause")), ("ENDED", None)],
                )
            }
            _ => continue,
        };
        let Some(key) = key else {
            continue;
        };
        let family = format!("{FAMILY}/{key}");
        for (name, from) in writes {
            let v = match from {
                Some(f) => e.get(f).unwrap_or("0"),
                None => &at,
            };
            db.put(&family, name, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestones_of_a_connected_call_and_a_busy_one() {
        let mut db = AstDb::default();
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
        record(&mut db, &events, 1000);
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
}
