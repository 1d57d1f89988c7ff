//! The durable record the PBX keeps of each attempt, read when the engine
//! was not watching (a restart, a lost AMI link, a database outage). oml's
//! dialplan (`oml_extensions.conf.j2`; pbxsim emulates it) writes each
//! attempt's milestones to AstDB under `OML/CALL/<channel id>`: `ANSWERED`,
//! `QUEUED`, `CONNECTED` (epoch seconds) and, when the customer's leg hangs
//! up, `ENDED` and its Q.850 `CAUSE`; the campaign's call path adds `AMD`
//! (`AMD()`'s status) and `ABANDONMSG` (the abandon message started), so a
//! machine or a message played keeps its outcome too. Reconciliation reads
//! the whole family with one `DBGetTree` and decides from it instead of
//! storing `unknown`. Pure: messages in, records out.

use std::collections::HashMap;

use oml_ami::Message;

/// The AstDB family holding every attempt's record.
pub const FAMILY: &str = "OML/CALL";

/// What the PBX recorded of one attempt (PBX epoch seconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PbxRecord {
    pub answered_s: Option<i64>,
    pub queued_s: Option<i64>,
    pub connected_s: Option<i64>,
    pub ended_s: Option<i64>,
    /// The customer leg's hangup cause.
    pub cause: Option<u32>,
    /// `AMD()` said `MACHINE`.
    pub machine: bool,
    /// When the abandon message started.
    pub abandon_message_s: Option<i64>,
}

/// The records in a `DBGetTree` answer (its `DBGetTreeResponse` events,
/// `Key: /OML/CALL/<channel id>/<FIELD>`), by channel id. Entries outside
/// the family or with values that are not numbers (but `AMD`'s status)
/// are left out.
pub fn parse_tree(events: &[Message]) -> HashMap<String, PbxRecord> {
    let prefix = format!("/{FAMILY}/");
    let mut out: HashMap<String, PbxRecord> = HashMap::new();
    for e in events {
        let (Some(key), Some(val)) = (e.get("Key"), e.get("Val")) else {
            continue;
        };
        let Some((id, field)) = key
            .strip_prefix(&prefix)
            .and_then(|rest| rest.rsplit_once('/'))
        else {
            continue;
        };
        if field == "AMD" {
            out.entry(id.to_owned()).or_default().machine = val.trim() == "MACHINE";
            continue;
        }
        let Ok(n) = val.trim().parse::<i64>() else {
            continue;
        };
        let r = out.entry(id.to_owned()).or_default();
        match field {
            "ANSWERED" => r.answered_s = Some(n),
            "QUEUED" => r.queued_s = Some(n),
            "CONNECTED" => r.connected_s = Some(n),
            "ENDED" => r.ended_s = Some(n),
            "CAUSE" => r.cause = u32::try_from(n).ok(),
            "ABANDONMSG" => r.abandon_message_s = Some(n),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, val: &str) -> Message {
        Message::event("DBGetTreeResponse")
            .with("Key", key)
            .with("Val", val)
    }

    #[test]
    fn records_by_channel_id() {
        // As Asterisk 22 answers DBGetTree (captured on the bench).
        let events = [
            entry("/OML/CALL/oml-1-2-1/ANSWERED", "1796655514"),
            entry("/OML/CALL/oml-1-2-1/CAUSE", "16"),
            entry("/OML/CALL/oml-1-2-1/CONNECTED", "1796655514"),
            entry("/OML/CALL/oml-1-2-1/ENDED", "1796655518"),
            entry("/OML/CALL/oml-1-2-1/QUEUED", "1796655514"),
            entry("/OML/CALL/oml-1-3-1/CAUSE", "17"),
            entry("/OML/CALL/oml-1-3-1/ENDED", "1796655513"),
            entry("/OML/CALL/oml-1-4-1/CAUSE", "not a number"),
            entry("/OML/CALL/oml-1-5-1/AMD", "MACHINE"),
            entry("/OML/CALL/oml-1-6-1/AMD", "HUMAN"),
            entry("/OML/CALL/oml-1-6-1/ABANDONMSG", "1796655520"),
            entry("/OML/CAMP/1/NAME", "sales"),
            Message::event("DBGetTreeComplete").with("ListItems", "9"),
        ];
        let r = parse_tree(&events);
        assert_eq!(r.len(), 4, "{r:?}");
        assert!(r["oml-1-5-1"].machine);
        assert!(!r["oml-1-6-1"].machine);
        assert_eq!(r["oml-1-6-1"].abandon_message_s, Some(1796655520));
        assert_eq!(
            r["oml-1-2-1"],
            PbxRecord {
                answered_s: Some(1796655514),
                queued_s: Some(1796655514),
                connected_s: Some(1796655514),
                ended_s: Some(1796655518),
                cause: Some(16),
                ..PbxRecord::default()
            }
        );
        assert_eq!(r["oml-1-3-1"].cause, Some(17));
        assert_eq!(r["oml-1-3-1"].answered_s, None);
    }
}
