//! Damaged, forged and unsafe archives are refused with a message naming
//! the problem, and the live installation stays byte-identical.

mod common;

use common::*;
use oml_backup::backup::{create, BackupOptions};
use oml_backup::restore::{restore, RestoreTarget};
use oml_backup::writer::WriteOptions;
use oml_backup::{BackupError, Format, NoProgress};
use oml_store::Backend;
use std::path::{Path, PathBuf};

struct Fixture {
    _ts: oml_store::testing::TestStore,
    inst: Install,
    archive: PathBuf,
    work: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let ts = oml_store::testing::sqlite().await;
    let inst = install(ts.dir.as_ref().unwrap().path());
    add_user(&ts.store, "alice").await;
    let options = BackupOptions {
        with_recordings: true,
        write: WriteOptions::new(Format::Zst),
        output: None,
    };
    let out = create(&ts.store, &inst.layout, &options, &NoProgress)
        .await
        .unwrap();
    // Live data differs from the archive, so a wrongful restore would show.
    add_user(&ts.store, "bob").await;
    ts.store.close().await;
    // The last pooled connection checkpoints and removes the WAL as it
    // closes, on the driver's own thread: wait for that, so the "before"
    // fingerprint is not taken half-way through it.
    let wal = ts.dir.as_ref().unwrap().path().join("oml.db-wal");
    for _ in 0..100 {
        if !wal.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Fixture {
        _ts: ts,
        inst,
        archive: out.path,
        work: tempfile::tempdir().unwrap(),
    }
}

impl Fixture {
    fn live(&self) -> Vec<(String, String)> {
        let l = &self.inst.layout;
        let mut v = fingerprint(&l.data_dir, &[&l.backup_dir]);
        v.extend(fingerprint(&l.generated_root, &[]));
        v
    }

    /// Restores `archive`; asserts it is refused with `needle` in the
    /// message and that nothing live changed.
    async fn refused(&self, archive: &Path, needle: &str) {
        let before = self.live();
        let target = RestoreTarget::new(self.inst.layout.clone(), Backend::Sqlite, None);
        let err = restore(archive, &target, &NoProgress)
            .await
            .expect_err("the archive must be refused");
        let msg = err.to_string();
        assert!(msg.contains(needle), "expected {needle:?} in: {msg}");
        assert_eq!(self.live(), before, "live data changed after: {msg}");
        // The same archive also fails plain verification (schema aside).
        if !matches!(err, BackupError::SchemaTooNew { .. }) {
            assert!(oml_backup::reader::process(
                archive,
                &Default::default(),
                &mut oml_backup::reader::VerifyOnly,
                &NoProgress
            )
            .is_err());
        }
    }

    fn copy(&self, name: &str) -> PathBuf {
        let p = self.work.path().join(name);
        std::fs::copy(&self.archive, &p).unwrap();
        p
    }

    /// A forged archive: the real manifest plus extra entries, with the
    /// real files too so only the bad entry is wrong.
    fn forged(&self, name: &str, extra: Vec<(tar::Header, Vec<u8>)>) -> PathBuf {
        let m = manifest_of(&self.archive);
        let mut entries = Vec::new();
        for f in &m.files {
            let data = std::fs::read(self.source_of(&f.path)).unwrap();
            let mut h = tar::Header::new_gnu();
            h.set_path(&f.path).unwrap();
            h.set_size(data.len() as u64);
            h.set_mode(0o600);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            entries.push((h, data));
        }
        let at = entries.len() / 2;
        for (i, e) in extra.into_iter().enumerate() {
            entries.insert(at + i, e);
        }
        let p = self.work.path().join(name);
        forge(&p, &m, entries);
        p
    }

    /// The content the archive holds for `archive_path` (from a verified
    /// extraction of the good archive).
    fn source_of(&self, archive_path: &str) -> PathBuf {
        let dir = self.work.path().join("good");
        if !dir.exists() {
            struct All(PathBuf);
            impl oml_backup::reader::Destination for All {
                fn accept_manifest(&mut self, _: &oml_backup::Manifest) -> oml_backup::Result<()> {
                    Ok(())
                }
                fn file_for(&mut self, p: &str) -> oml_backup::Result<Option<PathBuf>> {
                    Ok(Some(self.0.join(p)))
                }
                fn dir_for(&mut self, _: &str) -> oml_backup::Result<Option<PathBuf>> {
                    Ok(None)
                }
            }
            oml_backup::reader::process(
                &self.archive,
                &Default::default(),
                &mut All(dir.clone()),
                &NoProgress,
            )
            .unwrap();
        }
        dir.join(archive_path)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_archive_verifies() {
    let f = fixture().await;
    let m = oml_backup::reader::process(
        &f.archive,
        &Default::default(),
        &mut oml_backup::reader::VerifyOnly,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(m.files.len(), 7);
    // The forger itself produces acceptable archives: a control for the
    // tests below.
    let control = f.forged("control.tar.zst", vec![]);
    oml_backup::reader::process(
        &control,
        &Default::default(),
        &mut oml_backup::reader::VerifyOnly,
        &NoProgress,
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupted_byte_in_stored_media_names_the_file() {
    let f = fixture().await;
    let p = f.copy("flip.tar.zst");
    let mut bytes = std::fs::read(&p).unwrap();
    let mp3 = std::fs::read(f.inst.layout.recordings_dir.join("2026/11/call-2.mp3")).unwrap();
    let at = bytes
        .windows(64)
        .position(|w| w == &mp3[200_000..200_064])
        .expect("stored media found verbatim");
    bytes[at + 10] ^= 0x01;
    std::fs::write(&p, bytes).unwrap();
    f.refused(
        &p,
        "checksum mismatch for \"recordings/2026/11/call-2.mp3\"",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupted_byte_in_compressed_data_is_refused() {
    let f = fixture().await;
    let p = f.copy("flip2.tar.zst");
    let mut bytes = std::fs::read(&p).unwrap();
    // Inside the first (compressed) frame: manifest and database.
    bytes[600] ^= 0x40;
    std::fs::write(&p, bytes).unwrap();
    f.refused(&p, "refused").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_archive_is_refused() {
    let f = fixture().await;
    let p = f.copy("short.tar.zst");
    let len = std::fs::metadata(&p).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    file.set_len(len * 6 / 10).unwrap();
    f.refused(&p, "truncated").await;
    // Cut in the very last bytes (frame end) too.
    let p = f.copy("short2.tar.zst");
    let file = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    file.set_len(len - 3).unwrap();
    f.refused(&p, "refused").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_checksum_in_the_manifest_is_refused() {
    let f = fixture().await;
    let mut m = manifest_of(&f.archive);
    let i = m
        .files
        .iter()
        .position(|e| e.path == "config/oml.toml")
        .unwrap();
    m.files[i].sha256 = "0".repeat(64);
    let mut entries = Vec::new();
    for e in &m.files {
        let data = std::fs::read(f.source_of(&e.path)).unwrap();
        entries.push((
            raw_header(&e.path, tar::EntryType::Regular, data.len() as u64),
            data,
        ));
    }
    let p = f.work.path().join("sum.tar.zst");
    forge(&p, &m, entries);
    f.refused(&p, "checksum mismatch for \"config/oml.toml\"")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn archive_from_a_newer_schema_is_refused() {
    let f = fixture().await;
    let mut m = manifest_of(&f.archive);
    m.schema_version = oml_store::latest_schema_version() + 1;
    m.oml_version = "9.9.9".into();
    let p = f.work.path().join("newer.tar.zst");
    forge(&p, &m, vec![]);
    f.refused(&p, "install oml 9.9.9 or newer").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn path_traversal_is_refused() {
    let f = fixture().await;
    let p = f.forged(
        "dotdot.tar.zst",
        vec![(
            raw_header("recordings/../../evil", tar::EntryType::Regular, 4),
            b"evil".to_vec(),
        )],
    );
    f.refused(&p, "recordings/../../evil").await;
    let p = f.forged(
        "abs.tar.zst",
        vec![(
            raw_header("/tmp/evil", tar::EntryType::Regular, 4),
            b"evil".to_vec(),
        )],
    );
    f.refused(&p, "/tmp/evil").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn links_and_devices_are_refused() {
    let f = fixture().await;
    let mut sym = raw_header("recordings/link", tar::EntryType::Symlink, 0);
    sym.set_link_name("/etc/passwd").unwrap();
    sym.set_cksum();
    let p = f.forged("sym.tar.zst", vec![(sym, vec![])]);
    f.refused(&p, "\"recordings/link\" is a symbolic link")
        .await;

    let mut hard = raw_header("recordings/hard", tar::EntryType::Link, 0);
    hard.set_link_name("config/oml.toml").unwrap();
    hard.set_cksum();
    let p = f.forged("hard.tar.zst", vec![(hard, vec![])]);
    f.refused(&p, "\"recordings/hard\" is a hard link").await;

    let p = f.forged(
        "dev.tar.zst",
        vec![(
            raw_header("recordings/dev", tar::EntryType::Char, 0),
            vec![],
        )],
    );
    f.refused(&p, "\"recordings/dev\" is a character device")
        .await;

    let p = f.forged(
        "fifo.tar.zst",
        vec![(
            raw_header("recordings/fifo", tar::EntryType::Fifo, 0),
            vec![],
        )],
    );
    f.refused(&p, "\"recordings/fifo\" is a FIFO").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_10_gb_sparse_entry_is_refused_without_writing_it() {
    let f = fixture().await;
    let ten_gb: u64 = 10 << 30;
    let mut h = raw_header("recordings/huge.wav", tar::EntryType::GNUSparse, 512);
    {
        let gnu = h.as_gnu_mut().unwrap();
        // One data block at the very end of a 10 GB file.
        let off = format!("{:012o}", ten_gb - 512);
        let len = format!("{:012o}", 512);
        gnu.sparse[0].offset.copy_from_slice(off.as_bytes());
        gnu.sparse[0].numbytes.copy_from_slice(len.as_bytes());
        let real = format!("{:012o}", ten_gb);
        gnu.realsize.copy_from_slice(real.as_bytes());
    }
    h.set_cksum();
    let p = f.forged("sparse.tar.zst", vec![(h, vec![7u8; 512])]);
    let free_before = oml_backup::free_space(&f.inst.layout.data_dir).unwrap();
    f.refused(&p, "\"recordings/huge.wav\" is a sparse file")
        .await;
    let free_after = oml_backup::free_space(&f.inst.layout.data_dir).unwrap();
    assert!(
        free_before.abs_diff(free_after) < 1 << 30,
        "disk use moved by {} bytes",
        free_before.abs_diff(free_after)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_not_in_the_manifest_is_refused() {
    let f = fixture().await;
    let p = f.forged(
        "extra.tar.zst",
        vec![(
            raw_header("recordings/extra.wav", tar::EntryType::Regular, 3),
            b"abc".to_vec(),
        )],
    );
    f.refused(&p, "\"recordings/extra.wav\" is not listed in the manifest")
        .await;
}
