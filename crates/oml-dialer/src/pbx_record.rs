//! The durable record the PBX keeps of each attempt, read when the engine
//! was not watching (a restart, a lost AMI link, a database outage). oml's
//! dialplan (`oml_extensions.conf.j2`; pbxsim emulates it) writes each
//! attempt's milestones to AstDB under `OML/CALL/<instance>/<channel id>`
//! (the instance names the oml database that placed the call, see
//! `oml_store::dialplan::INSTANCE_VAR`; older calls have none): `ANSWERED`,
//! `QUEUED`, `CONNECTED` (epoch seconds) and, when the customer's leg hangs
//! up, `ENDED` and its Q.850 `CAUSE`; the campaign's call path adds `AMD`
//! (`AMD()`'s status) and `ABANDONMSG` (the abandon message started), so a
//! machine or a message played keeps its outcome too. Reconciliation reads
//! the whole family with one `DBGetTree` and decides from it instead of
//! storing `unknown`. Pure: messages in, records out.

use std::collections::{HashMap, HashSet};

use oml_ami::Message;

/// The AstDB family holding every attempt's record.
pub const FAMILY: &str = oml_store::dialplan::RECORD_ROOT;

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
    /// The agent who took the call (`AGENT`: the queue member's name, else
    /// its interface).
    pub agent: Option<String>,
}

/// The records in a `DBGetTree` answer (its `DBGetTreeResponse` events,
/// `Key: /OML/CALL/[<instance>/]<channel id>/<FIELD>`), by channel id,
/// whatever oml database placed them (a listener's view; the engine reads
/// its own with [`parse_instance`]). Entries outside the family or with
/// values that are not numbers (but `AMD`'s status and `AGENT`) are left
/// out.
pub fn parse_tree(events: &[Message]) -> HashMap<String, PbxRecord> {
    parse(events, |_| true).records
}

/// The records of the calls placed by the database with instance id
/// `instance` (`OML/CALL/<instance>/<channel id>`) and the older records
/// without an instance (`OML/CALL/<channel id>`, placed before instances:
/// named in [`Tree::legacy`]); other instances' records are left out.
pub fn parse_instance(events: &[Message], instance: &str) -> Tree {
    parse(events, |i| i.is_empty() || i == instance)
}

/// What [`parse_instance`] found.
#[derive(Debug, Default)]
pub struct Tree {
    /// By channel id.
    pub records: HashMap<String, PbxRecord>,
    /// The channel ids whose record has no instance (the family
    /// `OML/CALL/<channel id>`).
    pub legacy: HashSet<String>,
}

/// `/OML/CALL/<id>/<FIELD>` → `("", id, FIELD)`,
/// `/OML/CALL/<instance>/<id>/<FIELD>` → `(instance, id, FIELD)`.
fn split_key(key: &str) -> Option<(&str, &str, &str)> {
    let rest = key
        .strip_prefix('/')?
        .strip_prefix(FAMILY)?
        .strip_prefix('/')?;
    let (path, field) = rest.rsplit_once('/')?;
    match path.split_once('/') {
        None => Some(("", path, field)),
        Some((instance, id)) if !id.contains('/') && !instance.is_empty() => {
            Some((instance, id, field))
        }
        Some(_) => None,
    }
}

fn parse(events: &[Message], keep: impl Fn(&str) -> bool) -> Tree {
    let mut out = Tree::default();
    for e in events {
        let (Some(key), Some(val)) = (e.get("Key"), e.get("Val")) else {
            continue;
        };
        let Some((instance, id, field)) = split_key(key) else {
            continue;
        };
        if !keep(instance) {
            continue;
        }
        if instance.is_empty() && !out.legacy.contains(id) {
            out.legacy.insert(id.to_owned());
        }
        let records = &mut out.records;
        match field {
            "AMD" => {
                records.entry(id.to_owned()).or_default().machine = val.trim() == "MACHINE";
                continue;
            }
            "AGENT" => {
                let agent = val.trim();
                if !agent.is_empty() {
                    records.entry(id.to_owned()).or_default().agent = Some(agent.to_owned());
                }
                continue;
            }
            _ => {}
        }
        let Ok(n) = val.trim().parse::<i64>() else {
            continue;
        };
        let r = records.entry(id.to_owned()).or_default();
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
            entry("/OML/CALL/oml-1-2-1/AGENT", "Agent 1"),
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
                agent: Some("Agent 1".into()),
                ..PbxRecord::default()
            }
        );
        assert_eq!(r["oml-1-3-1"].cause, Some(17));
        assert_eq!(r["oml-1-3-1"].answered_s, None);
    }

    #[test]
    fn an_engine_reads_its_instances_records_and_the_older_ones() {
        let events = [
            entry("/OML/CALL/a1b2c3d4e5f6/oml-1-1-1/CAUSE", "16"),
            entry("/OML/CALL/a1b2c3d4e5f6/oml-1-1-1/AGENT", "Agent 2"),
            // Another database's call, same channel id.
            entry("/OML/CALL/0f0f0f0f0f0f/oml-1-1-1/CAUSE", "17"),
            entry("/OML/CALL/0f0f0f0f0f0f/oml-1-9-1/CAUSE", "34"),
            // Placed before instances.
            entry("/OML/CALL/oml-1-2-1/CAUSE", "19"),
            // Not a record.
            entry("/OML/CALL/a/b/c/CAUSE", "1"),
        ];
        let t = parse_instance(&events, "a1b2c3d4e5f6");
        let mut ids: Vec<&str> = t.records.keys().map(String::as_str).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["oml-1-1-1", "oml-1-2-1"]);
        assert_eq!(t.records["oml-1-1-1"].cause, Some(16));
        assert_eq!(t.records["oml-1-1-1"].agent.as_deref(), Some("Agent 2"));
        assert_eq!(t.records["oml-1-2-1"].cause, Some(19));
        assert_eq!(t.legacy, HashSet::from(["oml-1-2-1".to_string()]));
        // The other database sees its own.
        let t = parse_instance(&events, "0f0f0f0f0f0f");
        assert_eq!(t.records["oml-1-1-1"].cause, Some(17));
        assert_eq!(t.records["oml-1-9-1"].cause, Some(34));
        assert_eq!(t.records.len(), 3);
        // A listener sees every channel id.
        assert_eq!(parse_tree(&events).len(), 3);
    }
}
