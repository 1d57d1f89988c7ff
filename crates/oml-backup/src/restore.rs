//! `oml restore`: checks the archive against this installation, extracts
//! and verifies it into staging places next to the live ones, migrates the
//! restored database forward, then swaps everything in under a journal.
//!
//! The journal (`<data-dir>/.oml-restore-journal.json`, written with fsync
//! before each phase) is what makes a kill at any moment harmless:
//! [`recover`] finds it on the next start and either removes the staging
//! leftovers (interrupted before the swap), puts the previous state back
//! (interrupted during the swap) or finishes the clean-up (after commit).

use crate::error::{BackupError, Result};
use crate::manifest::{Limits, Manifest};
use crate::pg::PgUrl;
use crate::placement::{is_inside, place, HostFiles, Placement};
use crate::progress::Progress;
use crate::reader::{process, read_manifest, Destination};
use crate::writer::{sync_dir, write_atomic};
use crate::Layout;
use oml_store::{Backend, Location, OpenMode, Store};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The installation being restored into.
#[derive(Debug, Clone)]
pub struct RestoreTarget {
    pub layout: Layout,
    pub backend: Backend,
    /// The live database URL when PostgreSQL.
    pub pg_url: Option<SecretString>,
    /// What oml renders on this host: the only folders the archive's
    /// administrator files may go back into.
    pub host: HostFiles,
    /// Run even though this process is not the data folder's owner; the
    /// restored files get the owners of what they replace.
    pub fix_ownership: bool,
}

impl RestoreTarget {
    /// A target with no rendered files known and ownership left as it is.
    pub fn new(layout: Layout, backend: Backend, pg_url: Option<SecretString>) -> Self {
        RestoreTarget {
            layout,
            backend,
            pg_url,
            host: HostFiles::default(),
            fix_ownership: false,
        }
    }
}

/// What the archive is, compared with this installation; nothing changed.
#[derive(Debug)]
pub struct Inspection {
    pub manifest: Manifest,
    /// `Some(description)` when the archive comes from another host name or IP.
    pub host_change: Option<String>,
    /// Schema version of the archive and of this binary.
    pub schema: (i64, i64),
    /// What a restore would replace, for the plan shown to the operator.
    pub replaces: Vec<String>,
    /// Every file or folder outside the data folder the restore and the
    /// re-render after it will write (shown, and asked about, first).
    pub outside: Vec<PathBuf>,
    /// The archive's generated files that go nowhere, with the reason.
    pub ignored: Vec<String>,
}

/// Reads the manifest and checks compatibility: backend, schema version.
pub fn inspect(archive: &Path, target: &RestoreTarget) -> Result<Inspection> {
    let (manifest, _) = read_manifest(archive, &Limits::default())?;
    let supported = oml_store::latest_schema_version();
    if manifest.schema_version > supported {
        return Err(BackupError::SchemaTooNew {
            found: manifest.schema_version,
            supported,
            needed_version: manifest.oml_version.clone(),
        });
    }
    if manifest.database_backend != target.backend.to_string() {
        return Err(BackupError::Incompatible(format!(
            "the archive holds a {} database but this installation uses {}: restore it with {}",
            manifest.database_backend,
            target.backend,
            if manifest.database_backend == "postgresql" {
                "--database-url (or OML_DATABASE_URL) pointing at a PostgreSQL database"
            } else {
                "no --database-url, into a data folder"
            }
        )));
    }
    let (host, ip) = (crate::hostname(), crate::primary_ip());
    let host_change = (manifest.hostname != host || manifest.ip != ip).then(|| {
        format!(
            "the archive was made on {} ({}), this host is {} ({})",
            manifest.hostname, manifest.ip, host, ip
        )
    });
    let plan = Plan::new(target, "PLAN", &manifest);
    let mut replaces: Vec<String> = plan
        .moves
        .iter()
        .filter(|m| m.new.is_some())
        .map(|m| m.live.display().to_string())
        .collect();
    if let Some(pg) = &plan.pg {
        replaces.push(format!("PostgreSQL database {}", pg.live));
    }
    let (outside, ignored) = writes_outside(target, &plan, &manifest);
    Ok(Inspection {
        schema: (manifest.schema_version, supported),
        manifest,
        host_change,
        replaces,
        outside,
        ignored,
    })
}

/// What lands outside the data folder: swapped parts that live elsewhere
/// (an inventory in /etc/oml, a recordings folder on another disk), the
/// administrator's files put back and the files re-rendered for this host;
/// and the archive's generated files that go nowhere.
fn writes_outside(
    target: &RestoreTarget,
    plan: &Plan,
    m: &Manifest,
) -> (Vec<PathBuf>, Vec<String>) {
    let l = &target.layout;
    let mut outside: Vec<PathBuf> = plan
        .moves
        .iter()
        .filter(|mv| mv.new.is_some() && !is_inside(&mv.live, &l.data_dir))
        .map(|mv| mv.live.clone())
        .collect();
    let mut ignored = Vec::new();
    for f in &m.files {
        let Some(rel) = f.path.strip_prefix("generated/") else {
            continue;
        };
        match place(rel, &target.host) {
            Placement::AdminFile(p) => outside.push(l.generated_root.join(p)),
            Placement::Rendered => {}
            Placement::Ignored(why) => ignored.push(format!("{}: {why}", f.path)),
        }
    }
    if target.host.re_render {
        outside.extend(
            target
                .host
                .rendered
                .iter()
                .map(|r| l.generated_root.join(r)),
        );
    }
    outside.retain(|p| !is_inside(p, &l.data_dir));
    outside.sort();
    outside.dedup();
    (outside, ignored)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Phase {
    Staging,
    Swapping,
    Committed,
}

/// One live path replaced by a staged one; the previous one kept at `old`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Move {
    live: PathBuf,
    new: Option<PathBuf>,
    old: PathBuf,
    live_existed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PgSwitch {
    live: String,
    fresh: String,
    old: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Journal {
    phase: Phase,
    moves: Vec<Move>,
    /// Staging folders removed at the end, whatever happens.
    scratch: Vec<PathBuf>,
    pg: Option<PgSwitch>,
}

/// Where each restored part goes before and after the swap.
struct Plan {
    moves: Vec<Move>,
    scratch: Vec<PathBuf>,
    pg: Option<PgSwitch>,
    db_stage: PathBuf,
    config_new: PathBuf,
    /// The live oml.toml is a link (the Debian package links it to the
    /// conffile /etc/oml/oml.toml): the link and its file stay as they
    /// are, and the archive's configuration is kept aside for the
    /// administrator to compare.
    config_aside: bool,
    inventory_new: PathBuf,
    generated_new: PathBuf,
    recordings_new: PathBuf,
}

fn sibling(live: &Path, stamp: &str, what: &str) -> PathBuf {
    let name = live
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into());
    live.parent()
        .unwrap_or(Path::new("."))
        .join(format!(".oml-restore-{stamp}-{what}-{name}"))
}

impl Plan {
    fn new(target: &RestoreTarget, stamp: &str, m: &Manifest) -> Plan {
        let l = &target.layout;
        let mut moves = Vec::new();
        let db_stage = l.data_dir.join(format!(".oml-restore-{stamp}-db"));
        let mut pg = None;
        let mut add = |live: PathBuf, new: Option<PathBuf>| {
            let old = sibling(&live, stamp, "old");
            let live_existed = live.symlink_metadata().is_ok();
            moves.push(Move {
                live,
                new,
                old,
                live_existed,
            });
        };
        match target.backend {
            Backend::Sqlite => {
                let db = l.data_dir.join(oml_store::SQLITE_FILE);
                add(db.clone(), Some(db_stage.join(oml_store::SQLITE_FILE)));
                for suffix in ["-wal", "-shm"] {
                    let mut p = db.clone().into_os_string();
                    p.push(suffix);
                    add(PathBuf::from(p), None);
                }
            }
            Backend::Postgres => {
                if let Some(url) = target.pg_url.as_ref().and_then(|u| PgUrl::parse(u).ok()) {
                    let live = url.database.clone();
                    pg = Some(PgSwitch {
                        fresh: format!("{live}_r{stamp}"),
                        old: format!("{live}_pre{stamp}"),
                        live,
                    });
                }
            }
        }
        let inventory = l
            .inventory
            .clone()
            .unwrap_or_else(|| l.data_dir.join("inventory"));
        let config_new = sibling(&l.config_file, stamp, "new");
        let inventory_new = sibling(&inventory, stamp, "new");
        // Generated files are not swapped in: the binary re-renders them for
        // this host; the archive's copies are kept aside for it.
        let generated_new = l.data_dir.join(format!(".oml-restore-{stamp}-generated"));
        let recordings_new = sibling(&l.recordings_dir, stamp, "new");
        let config_aside = l
            .config_file
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink());
        if m.has_component("config") && !config_aside {
            add(l.config_file.clone(), Some(config_new.clone()));
        }
        if m.has_component("inventory") {
            add(inventory.clone(), Some(inventory_new.clone()));
        }
        if m.has_component("recordings") {
            add(l.recordings_dir.clone(), Some(recordings_new.clone()));
        }
        let mut scratch = vec![db_stage.clone(), generated_new.clone()];
        if config_aside {
            scratch.push(config_new.clone());
        }
        scratch.extend(moves.iter().filter_map(|m| m.new.clone()));
        Plan {
            moves,
            scratch,
            pg,
            db_stage,
            config_new,
            config_aside,
            inventory_new,
            generated_new,
            recordings_new,
        }
    }
}

/// Maps verified archive entries to their staging places.
struct Staging<'a> {
    plan: &'a Plan,
    backend: Backend,
    free_in: PathBuf,
    files: u64,
}

impl Staging<'_> {
    fn map(&self, archive_path: &str) -> Result<Option<PathBuf>> {
        let (top, rest) = archive_path
            .trim_end_matches('/')
            .split_once('/')
            .unwrap_or((archive_path, ""));
        let p = match (top, rest, self.backend) {
            ("database", "oml.db", Backend::Sqlite) => self.plan.db_stage.join("oml.db"),
            ("database", "oml.pgdump", Backend::Postgres) => self.plan.db_stage.join("oml.pgdump"),
            ("config", "oml.toml", _) => self.plan.config_new.clone(),
            ("inventory", "inventory", _) => self.plan.inventory_new.clone(),
            ("generated", r, _) if !r.is_empty() => self.plan.generated_new.join(r),
            ("recordings", r, _) if !r.is_empty() => self.plan.recordings_new.join(r),
            ("generated" | "recordings", "", _) => return Ok(None),
            _ => {
                return Err(BackupError::refused(
                    archive_path,
                    "this entry has no place in an installation",
                ))
            }
        };
        Ok(Some(p))
    }
}

impl Destination for Staging<'_> {
    fn accept_manifest(&mut self, m: &Manifest) -> Result<()> {
        let need = m.total_size();
        if let Some(free) = crate::free_space(&self.free_in) {
            if free < need {
                return Err(BackupError::Other(format!(
                    "not enough disk space to restore: {need} bytes needed, {free} free in {}",
                    self.free_in.display()
                )));
            }
        }
        Ok(())
    }
    fn file_for(&mut self, p: &str) -> Result<Option<PathBuf>> {
        self.files += 1;
        if self.files == 2 {
            crate::pause_point("restore-extract");
        }
        self.map(p)
    }
    fn dir_for(&mut self, p: &str) -> Result<Option<PathBuf>> {
        self.map(p)
    }
}

const JOURNAL_NAME: &str = ".oml-restore-journal.json";

fn journal_path(data_dir: &Path) -> PathBuf {
    data_dir.join(JOURNAL_NAME)
}

fn save(data_dir: &Path, j: &Journal) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(j).map_err(|e| BackupError::Other(e.to_string()))?;
    write_atomic(&journal_path(data_dir), &bytes, 0o600)
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    match p.symlink_metadata() {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn exists(p: &Path) -> bool {
    p.symlink_metadata().is_ok()
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| BackupError::io("cannot move", from, e))?;
    if let Some(dir) = to.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// What a successful restore did.
#[derive(Debug)]
pub struct RestoreReport {
    pub manifest: Manifest,
    pub replaced: Vec<String>,
    pub schema_before: i64,
    pub schema_after: i64,
    /// The archive's generated files (verified; an empty folder when it
    /// has none), kept for the caller's re-render, which removes the folder
    /// when done: one left behind is finished by the next command.
    pub generated: Option<PathBuf>,
    /// The archive's oml.toml (with this host's `[paths]`), kept here
    /// because the live oml.toml is a link that the restore leaves alone.
    pub config_aside: Option<PathBuf>,
}

/// Restores `archive` into `target`. Check with [`inspect`] first.
pub async fn restore(
    archive: &Path,
    target: &RestoreTarget,
    progress: &(dyn Progress + Send),
) -> Result<RestoreReport> {
    let data_dir = &target.layout.data_dir;
    crate::ownership::check_user(data_dir, target.fix_ownership)?;
    std::fs::create_dir_all(data_dir).map_err(|e| BackupError::io("cannot create", data_dir, e))?;
    recover(data_dir, target.pg_url.as_ref()).await?;
    // Compatibility first (schema, backend): refused before any change.
    let first = inspect(archive, target)?.manifest;
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let plan = Plan::new(target, &stamp, &first);
    let pg = match (&target.backend, &target.pg_url) {
        (Backend::Postgres, Some(u)) => Some(PgUrl::parse(u)?),
        (Backend::Postgres, None) => {
            return Err(BackupError::Other(
                "no PostgreSQL URL to restore into".into(),
            ))
        }
        _ => None,
    };
    if let Some(s) = &plan.pg {
        if s.fresh.len() > 63 {
            return Err(BackupError::Other(format!(
                "database name {} is too long to stage a restore next to it (PostgreSQL allows 63 bytes)",
                s.live
            )));
        }
    }
    let mut journal = Journal {
        phase: Phase::Staging,
        moves: plan.moves.clone(),
        scratch: plan.scratch.clone(),
        pg: plan.pg.clone(),
    };
    save(data_dir, &journal)?;
    let staged = stage(archive, target, &plan, pg.as_ref(), progress).await;
    let manifest = match staged {
        Ok(m) => m,
        Err(e) => {
            abort(data_dir, &journal, pg.as_ref()).await;
            return Err(e);
        }
    };
    journal.phase = Phase::Swapping;
    save(data_dir, &journal)?;
    match swap(&journal, target, pg.as_ref()).await {
        Ok(schema_after) => {
            journal.phase = Phase::Committed;
            save(data_dir, &journal)?;
            let generated = data_dir.join(format!("{RESTORED_GENERATED}{stamp}"));
            // Kept (empty when the archive has no generated files) until
            // the caller's re-render is done: its presence tells the next
            // command that re-render is still due.
            let kept = if exists(&plan.generated_new) {
                std::fs::rename(&plan.generated_new, &generated)
            } else {
                std::fs::create_dir(&generated)
            };
            let generated = kept.is_ok().then_some(generated);
            let config_aside = if plan.config_aside && exists(&plan.config_new) {
                let aside = data_dir.join(format!("oml.toml.restored-{stamp}"));
                std::fs::rename(&plan.config_new, &aside)
                    .ok()
                    .map(|_| aside)
            } else {
                None
            };
            finish(data_dir, &journal, pg.as_ref()).await?;
            if target.backend == Backend::Sqlite {
                database_side_files_like_the_database(data_dir)?;
            }
            Ok(RestoreReport {
                replaced: journal
                    .moves
                    .iter()
                    .filter(|m| m.new.is_some())
                    .map(|m| m.live.display().to_string())
                    .chain(
                        journal
                            .pg
                            .iter()
                            .map(|p| format!("PostgreSQL database {}", p.live)),
                    )
                    .collect(),
                schema_before: manifest.schema_version,
                manifest,
                schema_after,
                generated,
                config_aside,
            })
        }
        Err(e) => {
            let rolled = rollback(data_dir, &journal, pg.as_ref()).await;
            Err(BackupError::RestoreFailed(match rolled {
                Ok(()) => e.to_string(),
                Err(r) => format!("{e}; rolling back also failed: {r} (run any oml command to retry the roll-back)"),
            }))
        }
    }
}

/// Names the folder (in the data folder) that keeps the archive's generated
/// files from the end of a restore until the re-render for this host is
/// done: one left behind means that re-render was interrupted.
pub const RESTORED_GENERATED: &str = "restored-generated-";

/// The folders of re-renders a kill interrupted, oldest first.
pub fn pending_renders(data_dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(data_dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(RESTORED_GENERATED))
                && e.file_type().is_ok_and(|t| t.is_dir())
        })
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// The database's `-wal`/`-shm` files, made by this process when it opened
/// the restored database, get the database file's owner and mode.
fn database_side_files_like_the_database(data_dir: &Path) -> Result<()> {
    let db = data_dir.join(oml_store::SQLITE_FILE);
    let Ok(like) = db.metadata() else {
        return Ok(());
    };
    for suffix in ["-wal", "-shm"] {
        let mut side = db.clone().into_os_string();
        side.push(suffix);
        let side = PathBuf::from(side);
        if exists(&side) {
            crate::ownership::apply(&side, &like)?;
        }
    }
    Ok(())
}

/// Extracts and verifies into staging, then prepares the database.
async fn stage(
    archive: &Path,
    target: &RestoreTarget,
    plan: &Plan,
    pg: Option<&PgUrl>,
    progress: &(dyn Progress + Send),
) -> Result<Manifest> {
    std::fs::create_dir_all(&plan.db_stage)
        .map_err(|e| BackupError::io("cannot create", &plan.db_stage, e))?;
    for m in &plan.moves {
        if let Some(new) = &m.new {
            if m.live
                .symlink_metadata()
                .map(|x| x.is_dir())
                .unwrap_or(false)
                || *new == plan.recordings_new
            {
                std::fs::create_dir_all(new)
                    .map_err(|e| BackupError::io("cannot create", new, e))?;
            }
        }
    }
    let mut dest = Staging {
        plan,
        backend: target.backend,
        free_in: target.layout.data_dir.clone(),
        files: 0,
    };
    let manifest =
        crate::backup::blocking(|| process(archive, &Limits::default(), &mut dest, progress))?;
    if exists(&plan.config_new) {
        keep_host_paths_in(&plan.config_new, &target.layout.config_file)?;
    }
    for dir in [&plan.generated_new, &plan.recordings_new] {
        if dir.exists() {
            let _ = crate::syncfs(dir);
        }
    }
    match target.backend {
        Backend::Sqlite => {
            let file = plan.db_stage.join(oml_store::SQLITE_FILE);
            // One connection puts the file in WAL mode first: a pool whose
            // connections all try to switch the mode at once gets "database
            // is locked".
            single_connection(&file, "PRAGMA journal_mode = WAL").await?;
            let store = Store::open(
                &Location::DataDir(plan.db_stage.clone()),
                OpenMode::Existing,
            )
            .await?;
            store.close().await;
            // Everything into the main file, so `oml.db` alone is moved.
            single_connection(&file, "PRAGMA wal_checkpoint(TRUNCATE)").await?;
            for suffix in ["-wal", "-shm"] {
                let mut side = file.clone().into_os_string();
                side.push(suffix);
                let side = PathBuf::from(side);
                if side.metadata().map(|m| m.len() == 0).unwrap_or(false) || suffix == "-shm" {
                    let _ = std::fs::remove_file(&side);
                }
            }
            let _ = crate::syncfs(&plan.db_stage);
        }
        Backend::Postgres => {
            let (pg, sw) = (pg.expect("pg url"), plan.pg.as_ref().expect("pg plan"));
            pg.create(&sw.fresh).await?;
            pg.restore(&sw.fresh, &plan.db_stage.join("oml.pgdump"))
                .await?;
            let store = Store::open(&pg.location(&sw.fresh), OpenMode::Existing).await?;
            store.close().await;
        }
    }
    // Owners and modes last, once every staged file has its final content.
    for m in &plan.moves {
        if let Some(new) = m.new.as_ref().filter(|n| exists(n)) {
            crate::ownership::match_live(new, &m.live, &target.layout.data_dir)?;
        }
    }
    Ok(manifest)
}

/// Rewrites the staged `config/oml.toml` with this host's `[paths]`;
/// refuses (before any change) an archived configuration that is invalid.
fn keep_host_paths_in(staged: &Path, live: &Path) -> Result<()> {
    let refused = |why: String| {
        BackupError::Incompatible(format!(
            "the archive's config/oml.toml cannot be used: {why}; nothing was changed"
        ))
    };
    let archived = std::fs::read_to_string(staged).map_err(|e| refused(e.to_string()))?;
    let live = match std::fs::read_to_string(live) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(BackupError::io("cannot read", live, e)),
    };
    let text = crate::host_config::keep_host_paths(&archived, live.as_deref()).map_err(refused)?;
    write_atomic(staged, text.as_bytes(), 0o600)
}

/// Moves the staged parts in, switches the database, checks it opens.
async fn swap(j: &Journal, target: &RestoreTarget, pg: Option<&PgUrl>) -> Result<i64> {
    for (i, m) in j.moves.iter().enumerate() {
        if exists(&m.live) {
            rename(&m.live, &m.old)?;
        }
        if let Some(new) = &m.new {
            rename(new, &m.live)?;
        }
        if i == 0 {
            crate::pause_point("restore-swap");
        }
    }
    let location = match (&j.pg, pg) {
        (Some(sw), Some(pg)) => {
            pg.rename_all(&[(&sw.live, &sw.old), (&sw.fresh, &sw.live)])
                .await?;
            crate::pause_point("restore-switch");
            pg.location(&sw.live)
        }
        _ => Location::DataDir(target.layout.data_dir.clone()),
    };
    let store = Store::open(&location, OpenMode::Existing).await?;
    let v = store.schema_version().await?.unwrap_or(0);
    store.close().await;
    Ok(v)
}

/// Interrupted before the swap: the staged copies go, nothing else changed.
async fn abort(data_dir: &Path, j: &Journal, pg: Option<&PgUrl>) {
    for p in &j.scratch {
        let _ = remove_any(p);
    }
    if let (Some(sw), Some(pg)) = (&j.pg, pg) {
        let _ = pg.drop_db(&sw.fresh).await;
    }
    let _ = std::fs::remove_file(journal_path(data_dir));
}

/// Interrupted or failed during the swap: the previous state comes back.
async fn rollback(data_dir: &Path, j: &Journal, pg: Option<&PgUrl>) -> Result<()> {
    for m in j.moves.iter().rev() {
        if exists(&m.old) {
            if exists(&m.live) {
                remove_any(&m.live).map_err(|e| BackupError::io("cannot remove", &m.live, e))?;
            }
            rename(&m.old, &m.live)?;
        } else if !m.live_existed && m.new.is_some() && exists(&m.live) {
            remove_any(&m.live).map_err(|e| BackupError::io("cannot remove", &m.live, e))?;
        }
    }
    if let (Some(sw), Some(pg)) = (&j.pg, pg) {
        if pg.exists(&sw.old).await? {
            if pg.exists(&sw.live).await? {
                pg.rename_all(&[(&sw.live, &sw.fresh), (&sw.old, &sw.live)])
                    .await?;
            } else {
                pg.rename_all(&[(&sw.old, &sw.live)]).await?;
            }
        }
    }
    abort(data_dir, j, pg).await;
    Ok(())
}

/// After commit: the previous state is no longer needed.
async fn finish(data_dir: &Path, j: &Journal, pg: Option<&PgUrl>) -> Result<()> {
    for m in &j.moves {
        remove_any(&m.old).map_err(|e| BackupError::io("cannot remove", &m.old, e))?;
    }
    if let (Some(sw), Some(pg)) = (&j.pg, pg) {
        pg.drop_db(&sw.old).await?;
    }
    for p in &j.scratch {
        let _ = remove_any(p);
    }
    std::fs::remove_file(journal_path(data_dir))
        .map_err(|e| BackupError::io("cannot remove", journal_path(data_dir), e))?;
    sync_dir(data_dir)
}

/// Completes or undoes a restore that was interrupted (kill, power loss).
/// Cheap when there is nothing to do. Returns what it did.
pub async fn recover(data_dir: &Path, pg_url: Option<&SecretString>) -> Result<Option<String>> {
    let path = journal_path(data_dir);
    // A journal write killed half-way leaves its temporary file.
    crate::leftovers::clean(data_dir, JOURNAL_NAME)?;
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(BackupError::io("cannot read", &path, e)),
    };
    let j: Journal = serde_json::from_slice(&bytes).map_err(|e| {
        BackupError::Other(format!(
            "{} is damaged ({e}); inspect the .oml-restore-* files next to the data and remove it by hand",
            path.display()
        ))
    })?;
    let pg = match (&j.pg, pg_url) {
        (Some(_), Some(u)) => Some(PgUrl::parse(u)?),
        (Some(_), None) => {
            return Err(BackupError::Other(format!(
                "an interrupted PostgreSQL restore needs finishing: run oml again with --database-url ({} found)",
                path.display()
            )))
        }
        _ => None,
    };
    let what = match j.phase {
        Phase::Staging => {
            abort(data_dir, &j, pg.as_ref()).await;
            "an interrupted restore had not changed anything; its staging files were removed"
        }
        Phase::Swapping => {
            rollback(data_dir, &j, pg.as_ref()).await?;
            "an interrupted restore was rolled back; the previous installation is back in place"
        }
        Phase::Committed => {
            finish(data_dir, &j, pg.as_ref()).await?;
            "an interrupted restore had completed; its clean-up was finished"
        }
    };
    Ok(Some(what.to_string()))
}

/// Runs one statement on a single connection to the SQLite file `file`.
async fn single_connection(file: &Path, sql: &str) -> Result<()> {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .busy_timeout(std::time::Duration::from_secs(10))
        .connect()
        .await?;
    sqlx::query(sql).execute(&mut conn).await?;
    sqlx::Connection::close(conn).await?;
    Ok(())
}
