//! A restore writes only where this host says: a self-consistent archive
//! whose `config/oml.toml` names other folders (`config_root`,
//! `backup_dir`) and whose `generated/` holds an administrator's file for
//! a folder oml never renders (a systemd drop-in for ssh) verifies, but
//! nothing of it lands outside this host's roots; the plan lists every
//! file written outside the data folder. And restored files keep the
//! owners and modes of what they replace (run as root on a data folder of
//! another user, as in production).

mod common;

use common::*;
use oml_backup::backup::{create, BackupOptions};
use oml_backup::placement::{put_back_admin_files, HostFiles};
use oml_backup::restore::{inspect, restore, RestoreTarget};
use oml_backup::writer::WriteOptions;
use oml_backup::{Format, NoProgress};
use oml_store::Backend;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const QUEUES: &str = "etc/asterisk/oml_queues.conf";
const CUSTOM: &str = "etc/asterisk/oml_extensions_custom.conf";
const EVIL: &str = "etc/systemd/system/ssh.service.d/evil_override.conf";

fn host() -> HostFiles {
    HostFiles {
        rendered: vec![PathBuf::from(QUEUES)],
        re_render: true,
        is_admin_owned: |p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.ends_with("_custom.conf") || n.ends_with("_override.conf")
        },
    }
}

fn options(with_recordings: bool) -> BackupOptions {
    BackupOptions {
        with_recordings,
        write: WriteOptions::new(Format::Zst),
        output: None,
    }
}

/// Everything under `dir`, as relative paths.
fn tree(dir: &Path) -> Vec<String> {
    fingerprint(dir, &[])
        .into_iter()
        .map(|(p, _)| p.trim_start_matches(&dir.display().to_string()).to_string())
        .collect()
}

#[tokio::test]
async fn an_archive_never_chooses_where_its_files_go() {
    // The hostile installation the archive is made from: its oml.toml
    // names another configuration root and backup folder, and it has a
    // drop-in for ssh among its "generated" files.
    let hostile_ts = oml_store::testing::sqlite().await;
    let mut hostile = install(hostile_ts.dir.as_ref().unwrap().path());
    let elsewhere = tempfile::tempdir().unwrap();
    let evil_root = elsewhere.path().join("evil-root");
    std::fs::write(
        &hostile.layout.config_file,
        format!(
            "[paths]\nconfig_root = \"{}\"\nbackup_dir = \"{}\"\n",
            evil_root.display(),
            elsewhere.path().join("evil-backups").display()
        ),
    )
    .unwrap();
    let gen = &hostile.layout.generated_root;
    for (rel, text) in [
        (CUSTOM, "[custom]\n"),
        (EVIL, "[Service]\nExecStartPre=/bin/evil\n"),
    ] {
        std::fs::create_dir_all(gen.join(rel).parent().unwrap()).unwrap();
        std::fs::write(gen.join(rel), text).unwrap();
    }
    hostile.layout.generated_files = [QUEUES, CUSTOM, EVIL].map(PathBuf::from).to_vec();
    let out = create(
        &hostile_ts.store,
        &hostile.layout,
        &options(false),
        &NoProgress,
    )
    .await
    .unwrap();
    // It is self-consistent: it verifies.
    oml_backup::reader::process(
        &out.path,
        &Default::default(),
        &mut oml_backup::reader::VerifyOnly,
        &NoProgress,
    )
    .unwrap();

    // This host.
    let ts = oml_store::testing::sqlite().await;
    let inst = install(ts.dir.as_ref().unwrap().path());
    let host_config = format!(
        "[paths]\nbackup_dir = \"backup\"\nconfig_root = \"{}\"\n",
        inst.layout.generated_root.display()
    );
    std::fs::write(&inst.layout.config_file, &host_config).unwrap();
    ts.store.close().await;
    let mut target = RestoreTarget::new(inst.layout.clone(), Backend::Sqlite, None);
    target.host = host();

    // The plan names every file written outside the data folder, and what
    // goes nowhere.
    let insp = inspect(&out.path, &target).unwrap();
    let root = &inst.layout.generated_root;
    assert_eq!(insp.outside, vec![root.join(CUSTOM), root.join(QUEUES)]);
    // Without an inventory nothing is re-rendered, and the plan says so by
    // not listing the rendered files.
    let mut no_inventory = target.clone();
    no_inventory.host.re_render = false;
    let insp_bare = inspect(&out.path, &no_inventory).unwrap();
    assert_eq!(insp_bare.outside, vec![root.join(CUSTOM)]);
    assert!(
        insp.ignored.len() == 1 && insp.ignored[0].contains(EVIL),
        "{:?}",
        insp.ignored
    );
    let text = insp.describe(&out.path, &inst.layout.data_dir).join("\n");
    assert!(
        text.contains("writes outside the data folder")
            && text.contains(&root.join(CUSTOM).display().to_string())
            && text.contains("not restored (no place on this host):"),
        "{text}"
    );

    let report = restore(&out.path, &target, &NoProgress).await.unwrap();
    // The restored oml.toml keeps this host's [paths].
    let cfg = oml_config::Config::load(&inst.layout.data_dir).unwrap();
    assert_eq!(&cfg.paths.config_root, root);
    assert_eq!(cfg.paths.backup_dir, inst.layout.backup_dir);
    // The administrator's files go back only into folders oml renders.
    let archived = report.generated.unwrap();
    let written = put_back_admin_files(&archived, root, &target.host).unwrap();
    assert_eq!(written, vec![root.join(CUSTOM)]);
    assert_eq!(
        std::fs::read_to_string(root.join(CUSTOM)).unwrap(),
        "[custom]\n"
    );
    assert!(
        !tree(root).iter().any(|p| p.contains("ssh.service.d")),
        "{:?}",
        tree(root)
    );
    assert!(!evil_root.exists());
    assert!(!elsewhere.path().join("evil-backups").exists());
}

/// A throwaway user and group that owns the data folder, as `oml` does.
const OWNER: u32 = 4242;

fn chown_all(dir: &Path) {
    std::os::unix::fs::chown(dir, Some(OWNER), Some(OWNER)).unwrap();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            chown_all(&e.path());
        } else {
            std::os::unix::fs::chown(e.path(), Some(OWNER), Some(OWNER)).unwrap();
        }
    }
}

fn owner_mode(p: &Path) -> (u32, u32, u32) {
    let m = p
        .metadata()
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

#[tokio::test]
async fn restored_files_keep_the_owner_and_mode_of_what_they_replace() {
    if oml_backup::ownership::current_uid() != 0 {
        println!("SKIPPED: changing owners needs root (CI runs the tests as root)");
        return;
    }
    let ts = oml_store::testing::sqlite().await;
    let inst = install(ts.dir.as_ref().unwrap().path());
    let l = &inst.layout;
    let out = create(&ts.store, l, &options(true), &NoProgress)
        .await
        .unwrap();
    ts.store.close().await;
    let db = l.data_dir.join("oml.db");
    let inventory = l.inventory.clone().unwrap();
    let (kept, gone) = (
        l.recordings_dir.join("2026/11/call-2.mp3"),
        l.recordings_dir.join("call-3.opus"),
    );
    // The service user's data folder; the database group-readable.
    chown_all(&l.data_dir);
    for (p, mode) in [
        (&db, 0o640),
        (&l.config_file, 0o644),
        (&inventory, 0o640),
        (&kept, 0o640),
    ] {
        std::fs::set_permissions(p, PermissionsExt::from_mode(mode)).unwrap();
    }
    std::fs::remove_file(&gone).unwrap();
    let before = |p: &Path| owner_mode(p);
    let expected: Vec<_> = [&db, &l.config_file, &inventory, &kept, &l.recordings_dir]
        .into_iter()
        .map(|p| (p.clone(), before(p)))
        .collect();
    let live_before = fingerprint(&l.data_dir, &[&l.backup_dir]);

    // Root restoring into another user's data folder: refused unless told.
    let mut target = RestoreTarget::new(l.clone(), Backend::Sqlite, None);
    let err = restore(&out.path, &target, &NoProgress).await.unwrap_err();
    assert!(err.to_string().contains("--fix-ownership"), "{err}");
    assert!(err.to_string().contains(&format!("uid {OWNER}")), "{err}");
    assert_eq!(fingerprint(&l.data_dir, &[&l.backup_dir]), live_before);

    target.fix_ownership = true;
    restore(&out.path, &target, &NoProgress).await.unwrap();
    for (p, want) in &expected {
        assert_eq!(owner_mode(p), *want, "{}", p.display());
    }
    // A file the restore brings back that was not there: the folder's owner.
    assert_eq!(owner_mode(&gone).0, OWNER);
    assert_eq!(owner_mode(&gone).1, OWNER);
    for side in ["oml.db-wal", "oml.db-shm"] {
        let p = l.data_dir.join(side);
        if p.exists() {
            assert_eq!(owner_mode(&p).0, OWNER, "{side}");
        }
    }
}

/// The Debian package links the data folder's oml.toml to the conffile
/// /etc/oml/oml.toml: a restore leaves the link and its file alone and
/// keeps the archive's configuration aside (with this host's [paths]).
#[tokio::test]
async fn a_linked_oml_toml_stays_a_link_and_the_archive_config_is_kept_aside() {
    let ts = oml_store::testing::sqlite().await;
    let inst = install(ts.dir.as_ref().unwrap().path());
    std::fs::write(
        &inst.layout.config_file,
        "[dialer]\ndefault_country = \"54\"\n\n[paths]\nbackup_dir = \"backup\"\n",
    )
    .unwrap();
    let out = create(&ts.store, &inst.layout, &options(false), &NoProgress)
        .await
        .unwrap();
    ts.store.close().await;

    let etc = tempfile::tempdir().unwrap();
    let conffile = etc.path().join("oml.toml");
    let live_text = "# the package's conffile\n[paths]\nbackup_dir = \"backup\"\n";
    std::fs::write(&conffile, live_text).unwrap();
    std::fs::remove_file(&inst.layout.config_file).unwrap();
    std::os::unix::fs::symlink(&conffile, &inst.layout.config_file).unwrap();

    let mut target = RestoreTarget::new(inst.layout.clone(), Backend::Sqlite, None);
    target.host = host();
    let report = restore(&out.path, &target, &NoProgress).await.unwrap();
    let meta = std::fs::symlink_metadata(&inst.layout.config_file).unwrap();
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    assert_eq!(std::fs::read_to_string(&conffile).unwrap(), live_text);
    let aside = report
        .config_aside
        .expect("the archive's oml.toml kept aside");
    assert!(aside.starts_with(&inst.layout.data_dir), "{aside:?}");
    assert!(std::fs::read_to_string(&aside)
        .unwrap()
        .contains("default_country = \"54\""));
    assert!(!report.replaced.iter().any(|r| r.ends_with("oml.toml")));
}
