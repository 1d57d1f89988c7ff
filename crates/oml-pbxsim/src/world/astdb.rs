//! AstDB, Asterisk's small key/value database (`/family/key` → value),
//! and the five AMI actions on it (`DBPut`, `DBGet`, `DBGetTree`, `DBDel`,
//! `DBDelTree`) with Asterisk 22's replies. oml's configuration writes
//! campaign settings here and its dialplan each attempt's record (see
//! `dialplan.rs`), so the simulator keeps a real store rather than a stub;
//! it is pure data, tested without a World.

use std::collections::BTreeMap;

use oml_ami::Message;

use super::reply::{complete, list_event, reply};

/// The database: full keys (`/OML/CAMP/1/NAME`) to values, sorted as
/// `database show` lists them.
#[derive(Debug, Default)]
pub(super) struct AstDb {
    entries: BTreeMap<String, String>,
}

impl AstDb {
    /// Sets `/family/key` (what the dialplan's `Set(DB(family/key)=v)` does).
    pub(super) fn put(&mut self, family: &str, key: &str, value: &str) {
        self.entries
            .insert(format!("/{family}/{key}"), value.to_owned());
    }

    /// The value of `/family/key` (the dialplan's `${DB(family/key)}`).
    pub(super) fn get(&self, family: &str, key: &str) -> Option<&str> {
        self.entries
            .get(&format!("/{family}/{key}"))
            .map(String::as_str)
    }

    /// Answers one of `dbput`, `dbget`, `dbgettree`, `dbdel`, `dbdeltree`
    /// (lower case).
    pub(super) fn handle(&mut self, action: &str, m: &Message) -> Vec<Message> {
        let id = m.action_id();
        let ok = |msg: &str| vec![reply("Success", id).with("Message", msg)];
        let err = |msg: &str| vec![reply("Error", id).with("Message", msg)];
        match action {
            "dbput" => {
                let (Some(f), Some(k)) = (m.get("Family"), m.get("Key")) else {
                    return err(if m.get("Family").is_none() {
                        "No family specified."
                    } else {
                        "No key specified."
                    });
                };
                let v = m.get("Val").or_else(|| m.get("Value")).unwrap_or("");
                self.entries.insert(format!("/{f}/{k}"), v.to_owned());
                ok("Updated database successfully")
            }
            "dbget" => {
                let (Some(f), Some(k)) = (m.get("Family"), m.get("Key")) else {
                    return err("No family or key specified.");
                };
                match self.entries.get(&format!("/{f}/{k}")) {
                    Some(v) => vec![
                        reply("Success", id)
                            .with("EventList", "start")
                            .with("Message", "Result will follow"),
                        list_event("DBGetResponse", id)
                            .with("Family", f)
                            .with("Key", k)
                            .with("Val", v),
                        complete("DBGetComplete", id, 1),
                    ],
                    None => err("Database entry not found"),
                }
            }
            "dbgettree" => {
                // Asterisk 22: every entry under the family (and key), in
                // key order, each as a DBGetTreeResponse with its full key;
                // an empty tree is a success with no items.
                let prefix = match (m.get("Family"), m.get("Key")) {
                    (Some(f), Some(k)) => format!("/{f}/{k}"),
                    (Some(f), None) => format!("/{f}"),
                    (None, _) => String::new(),
                };
                let sub = format!("{prefix}/");
                let items: Vec<Message> = self
                    .entries
                    .iter()
                    .filter(|(k, _)| prefix.is_empty() || *k == &prefix || k.starts_with(&sub))
                    .map(|(k, v)| {
                        list_event("DBGetTreeResponse", id)
                            .with("Key", k)
                            .with("Val", v)
                    })
                    .collect();
                let n = items.len();
                let mut out = vec![reply("Success", id)
                    .with("EventList", "start")
                    .with("Message", "Result will follow")];
                out.extend(items);
                out.push(complete("DBGetTreeComplete", id, n));
                out
            }
            "dbdel" => {
                let (Some(f), Some(k)) = (m.get("Family"), m.get("Key")) else {
                    return err("No family or key specified.");
                };
                if self.entries.remove(&format!("/{f}/{k}")).is_some() {
                    ok("Key deleted successfully")
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
                let before = self.entries.len();
                self.entries
                    .retain(|k, _| k != &prefix && !k.starts_with(&sub));
                if self.entries.len() < before {
                    ok("Key tree deleted successfully")
                } else {
                    err("Database entry not found")
                }
            }
            other => err(&format!("{other} is not an AstDB action")),
        }
    }

    /// The lines of the CLI's `database show`.
    pub(super) fn show(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(k, v)| format!("{k:<40}: {v}"))
            .chain(std::iter::once(format!(
                "{} results found.",
                self.entries.len()
            )))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{logged_in, world};
    use oml_ami::actions as a;

    #[test]
    fn astdb() {
        let (mut w, now) = world(1);
        let mut ev = Vec::new();
        let mut s = logged_in();
        let mut h = |m| w.handle(&mut s, &m, now, &mut ev);
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
    fn get_tree_lists_a_family_with_full_keys() {
        let mut db = super::AstDb::default();
        db.put("OML/CALL/oml-1-2-1", "CAUSE", "17");
        db.put("OML/CALL/oml-1-2-1", "ENDED", "100");
        db.put("OML/CALL/oml-1-2-10", "CAUSE", "16");
        db.put("OML/CAMP/1", "NAME", "x");
        let m = oml_ami::Message::action("DBGetTree").with("Family", "OML/CALL/oml-1-2-1");
        let r = db.handle("dbgettree", &m);
        let keys: Vec<_> = r[1..r.len() - 1]
            .iter()
            .map(|e| (e.get("Key").unwrap(), e.get("Val").unwrap()))
            .collect();
        assert_eq!(
            keys,
            [
                ("/OML/CALL/oml-1-2-1/CAUSE", "17"),
                ("/OML/CALL/oml-1-2-1/ENDED", "100")
            ]
        );
        assert_eq!(r.last().unwrap().get("ListItems"), Some("2"));
        let all = db.handle(
            "dbgettree",
            &oml_ami::Message::action("DBGetTree").with("Family", "OML/CALL"),
        );
        assert_eq!(all.len(), 5);
        let none = db.handle(
            "dbgettree",
            &oml_ami::Message::action("DBGetTree").with("Family", "NOPE"),
        );
        assert_eq!(none[0].response_status(), Some("Success"));
        assert_eq!(none[1].get("ListItems"), Some("0"));
    }

    #[test]
    fn store_alone_without_a_world() {
        let mut db = super::AstDb::default();
        let r = db.handle("dbput", &a::db_put("F", "K", "v"));
        assert_eq!(r[0].response_status(), Some("Success"));
        assert_eq!(
            db.show(),
            [format!("{:<40}: v", "/F/K"), "1 results found.".into()]
        );
        let r = db.handle("dbdeltree", &a::db_deltree("F", Some("K")));
        assert_eq!(r[0].get("Message"), Some("Key tree deleted successfully"));
        assert_eq!(db.show(), ["0 results found."]);
    }
}
