//! `oml regenerate-asterisk`: the AstDB families the dialplan reads
//! (`OML/CAMP/<id>/...`, `OML/AGENT/<id>/...`, `OML/TRUNK/<id>/...`,
//! `OML/GLOBALS/...`), rewritten on every enabled Asterisk server.
//!
//! [`desired`] computes the entries from the database (pure). [`sync_server`]
//! reads what a server holds (`DBGet`), and only when something differs
//! rewrites the families (`DBDelTree` then `DBPut`) and asks for a reload: a
//! second run finds nothing to do and says so. Index entries
//! (`OML/GLOBALS/CAMPAIGNS` = `1,2,5`, ...) let a run see that a campaign,
//! agent or trunk was deleted since the last one. Agent `STATUS` is live
//! state the dialplan writes: it is kept, and only created when missing.

use crate::render::{queue_name, DialerData, RenderContext};
use std::collections::{BTreeMap, BTreeSet};

/// The families regenerate-asterisk owns, deleted and rewritten whole.
pub const FAMILIES: [&str; 4] = ["OML/CAMP", "OML/AGENT", "OML/TRUNK", "OML/GLOBALS"];

/// One AstDB entry: `family` (e.g. `OML/CAMP/3`), `key`, `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub family: String,
    pub key: String,
    pub value: String,
    /// Live state: the server's value wins; `value` is only the initial one.
    pub live: bool,
}

impl Entry {
    fn new(family: String, key: &str, value: impl ToString) -> Entry {
        Entry {
            family,
            key: key.into(),
            value: value.to_string(),
            live: false,
        }
    }
    /// `OML/CAMP/3/QNAME`.
    pub fn path(&self) -> String {
        format!("{}/{}", self.family, self.key)
    }
}

/// The entries the database calls for, in a stable order.
pub fn desired(ctx: &RenderContext) -> Vec<Entry> {
    desired_from(
        &ctx.data,
        ctx.inventory.time_zone.name(),
        &ctx.inventory.recording_format,
    )
}

/// [`desired`] from its parts.
pub fn desired_from(data: &DialerData, time_zone: &str, recording_format: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let trunk = |id: i64| data.trunks.iter().find(|t| t.id == id);
    for c in &data.campaigns {
        let f = format!("OML/CAMP/{}", c.id);
        let outcid = if c.caller_id.is_empty() {
            trunk(c.trunk_id)
                .map(|t| t.caller_id.clone())
                .unwrap_or_default()
        } else {
            c.caller_id.clone()
        };
        let route = c.route();
        out.push(Entry::new(f.clone(), "NAME", &c.name));
        out.push(Entry::new(f.clone(), "QNAME", queue_name(c)));
        out.push(Entry::new(f.clone(), "TYPE", &c.mode));
        out.push(Entry::new(f.clone(), "STATE", &c.state));
        for (key, value) in crate::render::call_path_entries(&c.call_path) {
            out.push(Entry::new(f.clone(), key, value));
        }
        out.push(Entry::new(f.clone(), "RINGTIME", c.ring_timeout_s));
        out.push(Entry::new(f.clone(), "QUEUETIME", c.abandon_seconds));
        out.push(Entry::new(f.clone(), "OUTCID", outcid));
        out.push(Entry::new(f.clone(), "TRUNK", c.trunk_id));
        out.push(Entry::new(f.clone(), "DESTCONTEXT", &route.context));
        out.push(Entry::new(f.clone(), "DESTEXTEN", &route.exten));
        out.push(Entry::new(
            f.clone(),
            "MAXABANDON",
            format!("{:.4}", c.max_abandon_rate),
        ));
    }
    let agents: Vec<_> = data.agents.iter().filter(|a| a.active).collect();
    for a in &agents {
        let f = format!("OML/AGENT/{}", a.id);
        out.push(Entry::new(f.clone(), "NAME", &a.username));
        out.push(Entry::new(f.clone(), "SIP", a.sip_extension()));
        out.push(Entry {
            live: true,
            ..Entry::new(f, "STATUS", "OFFLINE")
        });
    }
    for t in &data.trunks {
        let f = format!("OML/TRUNK/{}", t.id);
        out.push(Entry::new(f.clone(), "TECH", t.tech()));
        out.push(Entry::new(f.clone(), "NAME", &t.name));
        out.push(Entry::new(f.clone(), "CHANNELS", t.max_channels));
        out.push(Entry::new(f.clone(), "CALLERID", &t.caller_id));
        out.push(Entry::new(f, "DIALSTRING", &t.dial_string));
    }
    let ids = |v: Vec<i64>| v.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let g = "OML/GLOBALS".to_string();
    out.push(Entry::new(
        g.clone(),
        "CAMPAIGNS",
        ids(data.campaigns.iter().map(|c| c.id).collect()),
    ));
    out.push(Entry::new(
        g.clone(),
        "AGENTS",
        ids(agents.iter().map(|a| a.id).collect()),
    ));
    out.push(Entry::new(
        g.clone(),
        "TRUNKS",
        ids(data.trunks.iter().map(|t| t.id).collect()),
    ));
    out.push(Entry::new(g.clone(), "TZ", time_zone));
    out.push(Entry::new(g, "RECFORMAT", recording_format));
    out
}

/// A failed AstDB/AMI operation (the message names the action).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AstDbError(pub String);

/// What regenerate-asterisk needs of an Asterisk server.
#[allow(async_fn_in_trait)]
pub trait AstDb {
    /// `DBGet`: `None` when the entry does not exist.
    async fn get(&mut self, family: &str, key: &str) -> Result<Option<String>, AstDbError>;
    /// `DBPut`.
    async fn put(&mut self, family: &str, key: &str, value: &str) -> Result<(), AstDbError>;
    /// `DBDelTree` of a whole family (absent is fine).
    async fn del_tree(&mut self, family: &str) -> Result<(), AstDbError>;
    /// Ask Asterisk to reload its configuration.
    async fn reload(&mut self) -> Result<(), AstDbError>;
}

/// What differs between the server and the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AstDbDiff {
    /// Entries missing on the server (`OML/CAMP/3/QNAME`).
    pub added: Vec<String>,
    /// Entries whose value differs.
    pub changed: Vec<String>,
    /// Campaigns/agents/trunks the server still has but the database no
    /// longer does (`OML/CAMP/7`).
    pub removed: Vec<String>,
}

impl AstDbDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Compares the desired entries with the server's current values (pure).
pub fn compare(desired: &[Entry], current: &BTreeMap<String, Option<String>>) -> AstDbDiff {
    let mut d = AstDbDiff::default();
    for e in desired {
        match current.get(&e.path()).cloned().flatten() {
            None => d.added.push(e.path()),
            Some(v) if !e.live && v != e.value => d.changed.push(e.path()),
            Some(_) => {}
        }
    }
    // Index entries: ids the server knows that are no longer wanted.
    for (index, family) in [
        ("CAMPAIGNS", "OML/CAMP"),
        ("AGENTS", "OML/AGENT"),
        ("TRUNKS", "OML/TRUNK"),
    ] {
        let path = format!("OML/GLOBALS/{index}");
        let wanted: BTreeSet<&str> = desired
            .iter()
            .find(|e| e.path() == path)
            .map(|e| e.value.split(',').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        if let Some(Some(old)) = current.get(&path) {
            for id in old.split(',').filter(|s| !s.is_empty()) {
                if !wanted.contains(id) {
                    d.removed.push(format!("{family}/{id}"));
                }
            }
        }
    }
    d
}

/// What happened on one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Every entry already matched, no file changed: nothing written.
    Unchanged { entries: usize },
    /// Entries differ (dry run: nothing written).
    WouldRewrite {
        diff: AstDbDiff,
        entries: usize,
        reload: bool,
    },
    /// Families rewritten (`puts` entries), then reloaded if `reloaded`.
    Rewritten {
        diff: AstDbDiff,
        puts: usize,
        reloaded: bool,
    },
    /// AstDB matched; only the configuration files changed: reloaded.
    Reloaded,
}

impl std::fmt::Display for SyncOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts = |d: &AstDbDiff| {
            format!(
                "{} missing, {} different, {} removed",
                d.added.len(),
                d.changed.len(),
                d.removed.len()
            )
        };
        match self {
            SyncOutcome::Unchanged { entries } => write!(
                f,
                "unchanged: all {entries} AstDB entries already match, nothing to do"
            ),
            SyncOutcome::WouldRewrite {
                diff,
                entries,
                reload,
            } => write!(
                f,
                "would rewrite {} ({}) with {entries} entries{}",
                FAMILIES.join(", "),
                counts(diff),
                if *reload { ", then reload" } else { "" }
            ),
            SyncOutcome::Rewritten {
                diff,
                puts,
                reloaded,
            } => write!(
                f,
                "rewrote AstDB ({}): deleted {}, put {puts} entries{}",
                counts(diff),
                FAMILIES.join(", "),
                if *reloaded { ", reloaded" } else { "" }
            ),
            SyncOutcome::Reloaded => write!(
                f,
                "AstDB already matches; configuration files changed: reloaded"
            ),
        }
    }
}

/// One AMI step of an AstDB plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AstDbOp {
    DelTree(String),
    Put {
        family: String,
        key: String,
        value: String,
    },
    Reload,
}

impl std::fmt::Display for AstDbOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AstDbOp::DelTree(fam) => write!(f, "DBDelTree {fam}"),
            AstDbOp::Put { family, key, value } => write!(f, "DBPut {family}/{key} = {value}"),
            AstDbOp::Reload => f.write_str("Reload"),
        }
    }
}

/// What one server needs: the differences found and the steps that fix
/// them (empty when nothing is to be done). Built without I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AstDbPlan {
    pub diff: AstDbDiff,
    pub ops: Vec<AstDbOp>,
    pub entries: usize,
}

/// Plans one server from the desired entries and its current values (`None`
/// = absent). Live entries keep the server's value.
pub fn plan_astdb(
    desired: &[Entry],
    current: &BTreeMap<String, Option<String>>,
    files_changed: bool,
) -> AstDbPlan {
    let diff = compare(desired, current);
    let mut ops = Vec::new();
    if !diff.is_empty() {
        ops.extend(FAMILIES.iter().map(|f| AstDbOp::DelTree(f.to_string())));
        for e in desired {
            let value = match (e.live, current.get(&e.path())) {
                (true, Some(Some(live))) => live.clone(),
                _ => e.value.clone(),
            };
            ops.push(AstDbOp::Put {
                family: e.family.clone(),
                key: e.key.clone(),
                value,
            });
        }
    }
    if !diff.is_empty() || files_changed {
        ops.push(AstDbOp::Reload);
    }
    AstDbPlan {
        diff,
        ops,
        entries: desired.len(),
    }
}

impl AstDbPlan {
    /// Runs the steps in order; what happened, for the report.
    pub async fn apply<D: AstDb>(&self, db: &mut D) -> Result<SyncOutcome, AstDbError> {
        let mut puts = 0;
        let mut reloaded = false;
        for op in &self.ops {
            match op {
                AstDbOp::DelTree(f) => db.del_tree(f).await?,
                AstDbOp::Put { family, key, value } => {
                    db.put(family, key, value).await?;
                    puts += 1;
                }
                AstDbOp::Reload => {
                    db.reload().await?;
                    reloaded = true;
                }
            }
        }
        Ok(self.outcome_after(puts, reloaded))
    }

    fn outcome_after(&self, puts: usize, reloaded: bool) -> SyncOutcome {
        match (self.diff.is_empty(), reloaded) {
            (true, false) => SyncOutcome::Unchanged {
                entries: self.entries,
            },
            (true, true) => SyncOutcome::Reloaded,
            (false, _) => SyncOutcome::Rewritten {
                diff: self.diff.clone(),
                puts,
                reloaded,
            },
        }
    }

    /// What a dry run reports.
    pub fn preview(&self) -> SyncOutcome {
        if self.ops.is_empty() {
            SyncOutcome::Unchanged {
                entries: self.entries,
            }
        } else {
            SyncOutcome::WouldRewrite {
                diff: self.diff.clone(),
                entries: self.entries,
                reload: self.ops.contains(&AstDbOp::Reload),
            }
        }
    }
}

/// Reads a server's current values of the desired entries (`DBGet`) and
/// those of the index entries.
pub async fn read_current<D: AstDb>(
    db: &mut D,
    desired: &[Entry],
) -> Result<BTreeMap<String, Option<String>>, AstDbError> {
    let mut current = BTreeMap::new();
    for e in desired {
        current.insert(e.path(), db.get(&e.family, &e.key).await?);
    }
    Ok(current)
}

/// Brings one server's AstDB to `desired`: reads, plans ([`plan_astdb`]),
/// and unless `dry_run` applies the plan. Writes only when something
/// differs; reloads when it wrote or `files_changed`.
pub async fn sync_server<D: AstDb>(
    db: &mut D,
    desired: &[Entry],
    files_changed: bool,
    dry_run: bool,
) -> Result<SyncOutcome, AstDbError> {
    let current = read_current(db, desired).await?;
    let plan = plan_astdb(desired, &current, files_changed);
    if dry_run {
        return Ok(plan.preview());
    }
    plan.apply(db).await
}

/// An AstDB kept in memory: the model the tests compare real servers with.
#[derive(Debug, Default, Clone)]
pub struct MemoryAstDb {
    pub entries: BTreeMap<String, String>,
    pub reloads: usize,
    pub writes: usize,
}

impl AstDb for MemoryAstDb {
    async fn get(&mut self, family: &str, key: &str) -> Result<Option<String>, AstDbError> {
        Ok(self.entries.get(&format!("{family}/{key}")).cloned())
    }
    async fn put(&mut self, family: &str, key: &str, value: &str) -> Result<(), AstDbError> {
        self.writes += 1;
        self.entries
            .insert(format!("{family}/{key}"), value.to_string());
        Ok(())
    }
    async fn del_tree(&mut self, family: &str) -> Result<(), AstDbError> {
        self.writes += 1;
        let prefix = format!("{family}/");
        self.entries.retain(|k, _| !k.starts_with(&prefix));
        Ok(())
    }
    async fn reload(&mut self) -> Result<(), AstDbError> {
        self.reloads += 1;
        Ok(())
    }
}

/// [`AstDb`] over a live AMI connection.
pub struct AmiAstDb {
    pub client: oml_ami::AmiClient,
}

fn ami_err(action: &str, family: &str, e: impl std::fmt::Display) -> AstDbError {
    AstDbError(format!("{action} {family}: {e}"))
}

impl AstDb for AmiAstDb {
    async fn get(&mut self, family: &str, key: &str) -> Result<Option<String>, AstDbError> {
        self.client
            .db_get(family, key)
            .await
            .map_err(|e| ami_err("DBGet", &format!("{family}/{key}"), e))
    }
    async fn put(&mut self, family: &str, key: &str, value: &str) -> Result<(), AstDbError> {
        self.client
            .db_put(family, key, value)
            .await
            .map_err(|e| ami_err("DBPut", &format!("{family}/{key}"), e))
    }
    async fn del_tree(&mut self, family: &str) -> Result<(), AstDbError> {
        self.client
            .db_deltree(family, None)
            .await
            .map(drop)
            .map_err(|e| ami_err("DBDelTree", family, e))
    }
    /// Reloads the modules whose files oml writes, one by one (a module
    /// this Asterisk does not load is skipped), rather than everything.
    async fn reload(&mut self) -> Result<(), AstDbError> {
        for module in RELOAD_MODULES {
            if let Err(e) = self.client.reload(Some(module)).await {
                let text = e.to_string().to_ascii_lowercase();
                if !(text.contains("no such module")
                    || text.contains("not loaded")
                    || text.contains("not found"))
                {
                    return Err(ami_err("Reload", module, e));
                }
            }
        }
        Ok(())
    }
}

/// The modules that read the files `regenerate-asterisk` writes.
pub const RELOAD_MODULES: [&str; 5] = [
    "manager",
    "pbx_config.so",
    "app_queue.so",
    "res_pjsip.so",
    "res_musiconhold.so",
];

/// Connects to a configured server over AMI.
pub async fn connect(server: &crate::render::Server) -> Result<AmiAstDb, AstDbError> {
    let cfg = oml_ami::ClientConfig::new(
        format!("{}:{}", server.host, server.ami_port),
        server.ami_user.clone(),
        server.ami_secret.clone(),
    );
    let client = oml_ami::AmiClient::connect(cfg).await.map_err(|e| {
        AstDbError(format!(
            "cannot connect to AMI at {}:{} as {}: {e}",
            server.host, server.ami_port, server.ami_user
        ))
    })?;
    Ok(AmiAstDb { client })
}

/// The outcome on one server, for the report.
#[derive(Debug)]
pub struct ServerReport {
    pub server: String,
    pub result: Result<SyncOutcome, AstDbError>,
}

/// Runs [`sync_server`] on every enabled server; one failing does not stop
/// the others.
pub async fn sync_all(
    ctx: &RenderContext,
    files_changed: bool,
    dry_run: bool,
) -> Vec<ServerReport> {
    let entries = desired(ctx);
    let mut reports = Vec::new();
    for s in ctx.data.servers.iter().filter(|s| s.enabled) {
        let result = async {
            let mut db = connect(s).await?;
            let r = sync_server(&mut db, &entries, files_changed, dry_run).await;
            let _ = db.client.logoff().await;
            r
        }
        .await;
        reports.push(ServerReport {
            server: format!("{} ({}:{})", s.name, s.host, s.ami_port),
            result,
        });
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Agent, Campaign, Trunk};

    fn data() -> DialerData {
        DialerData {
            servers: vec![],
            trunks: vec![Trunk {
                id: 1,
                name: "local".into(),
                dial_string: "Local/${num}@from-oml/n".into(),
                max_channels: 30,
                server_id: None,
                caller_id: "5551000".into(),
            }],
            campaigns: vec![Campaign {
                id: 3,
                name: "Spring sale".into(),
                mode: "predictive".into(),
                trunk_id: 1,
                delivery_context: "".into(),
                delivery_exten: "s".into(),
                queue_name: "".into(),
                ring_timeout_s: 25,
                abandon_seconds: 2,
                max_abandon_rate: 0.03,
                caller_id: "".into(),
                state: "running".into(),
                call_path: Default::default(),
            }],
            agents: vec![Agent {
                id: 7,
                extension: "1007".into(),
                username: "ana".into(),
                active: true,
            }],
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn desired_entries_carry_the_campaign_keys() {
        let e = desired_from(&data(), "UTC", "mp3");
        let get = |p: &str| e.iter().find(|x| x.path() == p).map(|x| x.value.clone());
        assert_eq!(get("OML/CAMP/3/QNAME").as_deref(), Some("3_Springsale"));
        assert_eq!(
            get("OML/CAMP/3/OUTCID").as_deref(),
            Some("5551000"),
            "falls back to the trunk's caller id"
        );
        assert_eq!(get("OML/CAMP/3/RINGTIME").as_deref(), Some("25"));
        assert_eq!(get("OML/AGENT/7/SIP").as_deref(), Some("1007"));
        assert_eq!(get("OML/TRUNK/1/TECH").as_deref(), Some("Local"));
        assert_eq!(get("OML/GLOBALS/CAMPAIGNS").as_deref(), Some("3"));
    }

    #[test]
    fn plans_list_the_steps() {
        let e = desired_from(&data(), "UTC", "mp3");
        let empty = BTreeMap::new();
        let p = plan_astdb(&e, &empty, false);
        assert_eq!(p.diff.added.len(), e.len());
        assert_eq!(p.ops[..4], FAMILIES.map(|f| AstDbOp::DelTree(f.into())));
        assert_eq!(p.ops.len(), 4 + e.len() + 1);
        assert_eq!(p.ops.last(), Some(&AstDbOp::Reload));
        assert_eq!(p.ops[4].to_string(), "DBPut OML/CAMP/3/NAME = Spring sale");
        // Everything in place: no step; files changed: only a reload.
        let mut current: BTreeMap<_, _> = e
            .iter()
            .map(|x| (x.path(), Some(x.value.clone())))
            .collect();
        assert!(plan_astdb(&e, &current, false).ops.is_empty());
        assert_eq!(plan_astdb(&e, &current, true).ops, vec![AstDbOp::Reload]);
        // A live value that differs is not a difference, and is kept.
        current.insert("OML/AGENT/7/STATUS".into(), Some("READY".into()));
        assert!(plan_astdb(&e, &current, false).ops.is_empty());
        current.insert("OML/CAMP/3/RINGTIME".into(), Some("99".into()));
        let p = plan_astdb(&e, &current, false);
        assert_eq!(p.diff.changed, vec!["OML/CAMP/3/RINGTIME".to_string()]);
        assert!(p.ops.contains(&AstDbOp::Put {
            family: "OML/AGENT/7".into(),
            key: "STATUS".into(),
            value: "READY".into()
        }));
    }

    #[test]
    fn second_run_changes_nothing_and_live_status_survives() {
        block_on(async {
            let e = desired_from(&data(), "UTC", "mp3");
            let mut db = MemoryAstDb::default();
            db.entries
                .insert("OML/CAMP/99/QNAME".into(), "stale".into());
            db.entries
                .insert("OML/GLOBALS/CAMPAIGNS".into(), "3,99".into());
            let dry = sync_server(&mut db, &e, false, true).await.unwrap();
            assert!(
                matches!(&dry, SyncOutcome::WouldRewrite { diff, .. } if diff.removed == vec!["OML/CAMP/99".to_string()]),
                "{dry:?}"
            );
            assert_eq!(db.writes, 0, "a dry run writes nothing");
            let first = sync_server(&mut db, &e, false, false).await.unwrap();
            assert!(matches!(
                first,
                SyncOutcome::Rewritten { reloaded: true, .. }
            ));
            assert!(!db.entries.contains_key("OML/CAMP/99/QNAME"));
            for x in &e {
                assert_eq!(db.entries.get(&x.path()), Some(&x.value), "{}", x.path());
            }
            // The dialplan marks the agent ready; regenerate keeps it.
            db.entries
                .insert("OML/AGENT/7/STATUS".into(), "READY".into());
            let (writes, reloads) = (db.writes, db.reloads);
            let second = sync_server(&mut db, &e, false, false).await.unwrap();
            assert_eq!(second, SyncOutcome::Unchanged { entries: e.len() });
            assert_eq!((db.writes, db.reloads), (writes, reloads));
            // A changed campaign rewrites and keeps the live status.
            let mut d = data();
            d.campaigns[0].ring_timeout_s = 30;
            let e2 = desired_from(&d, "UTC", "mp3");
            let third = sync_server(&mut db, &e2, false, false).await.unwrap();
            assert!(
                matches!(&third, SyncOutcome::Rewritten { diff, .. } if diff.changed == vec!["OML/CAMP/3/RINGTIME".to_string()])
            );
            assert_eq!(db.entries["OML/AGENT/7/STATUS"], "READY");
            // Only files changed: reload without writing.
            let w = db.writes;
            assert_eq!(
                sync_server(&mut db, &e2, true, false).await.unwrap(),
                SyncOutcome::Reloaded
            );
            assert_eq!(db.writes, w);
        });
    }
}
