//! What earlier runs left and what changes under a running backup: files
//! that vanish while the backup reads them are skipped and reported (the
//! backup still succeeds and verifies), and the leftovers of killed backups
//! are removed by the next backup and by prune.

mod common;

use common::*;
use oml_backup::backup::{create, BackupOptions};
use oml_backup::writer::WriteOptions;
use oml_backup::{Format, NoProgress, Progress};
use std::path::PathBuf;
use std::sync::Mutex;

/// Deletes a file when the named phase starts (the backup's own progress
/// reports are the exact moments: "checksums" before any file is read,
/// "archive" after the manifest was made and before the content is written).
struct DeleteAt {
    phase: &'static str,
    file: Mutex<Option<PathBuf>>,
}

impl Progress for DeleteAt {
    fn start(&self, phase: &str, _total: u64) {
        if phase == self.phase {
            if let Some(f) = self.file.lock().unwrap().take() {
                std::fs::remove_file(f).unwrap();
            }
        }
    }
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

async fn vanishing_at(phase: &'static str) {
    let ts = oml_store::testing::sqlite().await;
    let inst = install(ts.dir.as_ref().unwrap().path());
    let gone = inst.layout.recordings_dir.join("2026/11/call-1.wav");
    let progress = DeleteAt {
        phase,
        file: Mutex::new(Some(gone.clone())),
    };
    let options = BackupOptions {
        with_recordings: true,
        write: WriteOptions::new(Format::Zst),
        output: None,
    };
    let out = create(&ts.store, &inst.layout, &options, &progress)
        .await
        .unwrap_or_else(|e| panic!("{phase}: the backup failed: {e}"));
    assert!(!gone.exists(), "{phase}: the file was not deleted");
    assert!(
        out.skipped
            .iter()
            .any(|s| s.contains("call-1.wav") && s.contains("vanished")),
        "{phase}: {:?}",
        out.skipped
    );
    let m = oml_backup::reader::process(
        &out.path,
        &Default::default(),
        &mut oml_backup::reader::VerifyOnly,
        &NoProgress,
    )
    .unwrap_or_else(|e| panic!("{phase}: the archive does not verify: {e}"));
    let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    assert!(
        !paths.contains(&"recordings/2026/11/call-1.wav"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"recordings/2026/11/call-2.mp3"),
        "{paths:?}"
    );
    assert!(paths.contains(&"database/oml.db"), "{paths:?}");
}

#[tokio::test]
async fn a_file_vanishing_before_it_is_hashed_is_skipped_and_reported() {
    vanishing_at("checksums").await;
}

#[tokio::test]
async fn a_file_vanishing_after_the_manifest_is_made_is_skipped_and_reported() {
    vanishing_at("archive").await;
}

/// The id of a process that has ended.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[tokio::test]
async fn killed_backups_leftovers_are_removed_by_the_next_backup_and_by_prune() {
    let ts = oml_store::testing::sqlite().await;
    let inst = install(ts.dir.as_ref().unwrap().path());
    let dir = &inst.layout.backup_dir;
    let plant = || {
        let pid = dead_pid();
        let partial = dir.join(format!(".20260101-000000-oml-backup.tar.zst.partial-{pid}"));
        let snap = dir.join(format!(".snapshot-{pid}"));
        std::fs::create_dir_all(&snap).unwrap();
        std::fs::write(snap.join("oml.db"), b"half a snapshot").unwrap();
        std::fs::write(&partial, b"half an archive").unwrap();
        let mut v = vec![partial, snap];
        v.sort();
        v
    };
    std::fs::create_dir_all(dir).unwrap();
    let planted = plant();
    let options = BackupOptions {
        with_recordings: false,
        write: WriteOptions::new(Format::Zst),
        output: None,
    };
    let out = create(&ts.store, &inst.layout, &options, &NoProgress)
        .await
        .unwrap();
    assert_eq!(out.removed_leftovers, planted);
    assert!(planted.iter().all(|p| !p.exists()));

    let planted = plant();
    let dry = oml_backup::catalog::prune(dir, 5, true).unwrap();
    assert_eq!(dry.leftovers, planted);
    assert!(
        planted.iter().all(|p| p.exists()),
        "a dry run removed something"
    );
    let pruned = oml_backup::catalog::prune(dir, 5, false).unwrap();
    assert_eq!(pruned.leftovers, planted);
    assert!(pruned.archives.is_empty());
    assert!(planted.iter().all(|p| !p.exists()));
    assert!(
        out.path.exists(),
        "prune removed the archive it should keep"
    );
}
