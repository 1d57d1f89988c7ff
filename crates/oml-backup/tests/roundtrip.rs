//! Backup → change → restore gives back exactly the backed-up installation,
//! on SQLite and on PostgreSQL, in both archive formats.

mod common;

use common::*;
use oml_backup::backup::{create, BackupOptions};
use oml_backup::restore::{restore, RestoreTarget};
use oml_backup::writer::WriteOptions;
use oml_backup::{Format, NoProgress};
use oml_store::{Backend, OpenMode, Store};
use std::os::unix::fs::PermissionsExt;

async fn round_trip(format: Format) {
    for ts in oml_store::testing::backends().await {
        let data_root = tempfile::tempdir().unwrap();
        let data_dir = ts
            .dir
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_else(|| data_root.path().to_path_buf());
        let inst = install(&data_dir);
        let layout = inst.layout.clone();
        add_user(&ts.store, "alice").await;
        ts.store.set_setting("greeting", "hello").await.unwrap();
        let before_users = usernames(&ts.store).await;
        let rec_before = fingerprint(&layout.recordings_dir, &[]);

        let options = BackupOptions {
            with_recordings: true,
            write: WriteOptions::new(format),
            output: None,
        };
        let out = create(&ts.store, &layout, &options, &NoProgress)
            .await
            .unwrap();
        let mode = std::fs::metadata(&out.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}: archive mode", ts.label);
        assert_eq!(
            out.manifest.components,
            ["database", "config", "inventory", "generated", "recordings"],
            "{}",
            ts.label
        );
        assert_eq!(
            out.manifest.files.len(),
            7,
            "{}: {:?}",
            ts.label,
            out.manifest.files
        );
        // Already-compressed media is stored, not recompressed: its bytes
        // appear verbatim in a .tar.zst.
        if format == Format::Zst {
            let archive = std::fs::read(&out.path).unwrap();
            let mp3 = std::fs::read(layout.recordings_dir.join("2026/11/call-2.mp3")).unwrap();
            assert!(
                archive.windows(4096).any(|w| w == &mp3[100_000..104_096]),
                "{}: mp3 bytes not stored verbatim",
                ts.label
            );
        }

        // Change everything.
        add_user(&ts.store, "bob").await;
        ts.store.set_setting("greeting", "changed").await.unwrap();
        std::fs::write(
            &layout.config_file,
            "[lockout]\nlogin_failure_limit = 9\n\n[paths]\nbackup_dir = \"backup\"\n",
        )
        .unwrap();
        std::fs::remove_file(layout.recordings_dir.join("call-3.opus")).unwrap();
        std::fs::write(layout.recordings_dir.join("new.wav"), b"new").unwrap();
        ts.store.close().await;

        let target = RestoreTarget::new(
            layout.clone(),
            ts.store.backend(),
            ts.url.clone().map(Into::into),
        );
        let report = restore(&out.path, &target, &NoProgress).await.unwrap();
        let store = Store::open(&ts.location, OpenMode::Existing).await.unwrap();
        assert_eq!(usernames(&store).await, before_users, "{}", ts.label);
        assert_eq!(
            store.setting("greeting").await.unwrap().as_deref(),
            Some("hello"),
            "{}",
            ts.label
        );
        store.close().await;
        // The archive's settings, with this host's [paths].
        let config = std::fs::read_to_string(&layout.config_file).unwrap();
        assert!(!config.contains("login_failure_limit"), "{config}");
        assert!(
            config.contains("[paths]\nbackup_dir = \"backup\"\n"),
            "{config}"
        );
        assert_eq!(
            fingerprint(&layout.recordings_dir, &[]),
            rec_before,
            "{}",
            ts.label
        );
        let gen = report
            .generated
            .expect("generated files kept for re-rendering");
        assert_eq!(
            std::fs::read_to_string(gen.join("etc/asterisk/oml_queues.conf")).unwrap(),
            "[sales]\nstrategy=rrmemory\n"
        );
        // Nothing of the staging or the previous state is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(&data_dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".oml-restore"))
            .collect();
        assert!(leftovers.is_empty(), "{}: {leftovers:?}", ts.label);
        if ts.store.backend() == Backend::Postgres {
            eprintln!("postgresql round trip ({format:?}) ok");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn round_trip_zst_on_every_backend() {
    round_trip(Format::Zst).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn round_trip_tgz_on_every_backend() {
    round_trip(Format::Tgz).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tgz_archive_is_readable_by_gnu_tar() {
    let ts = oml_store::testing::sqlite().await;
    let inst = install(ts.dir.as_ref().unwrap().path());
    let options = BackupOptions {
        with_recordings: true,
        write: WriteOptions::new(Format::Tgz),
        output: None,
    };
    let out = create(&ts.store, &inst.layout, &options, &NoProgress)
        .await
        .unwrap();
    let listing = std::process::Command::new("tar")
        .arg("tzf")
        .arg(&out.path)
        .output()
        .unwrap();
    assert!(listing.status.success());
    let text = String::from_utf8(listing.stdout).unwrap();
    assert_eq!(text.lines().next(), Some("manifest.json"));
    assert!(text.contains("recordings/2026/11/call-2.mp3"));
}
