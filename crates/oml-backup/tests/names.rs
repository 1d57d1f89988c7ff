//! Property test for archive member names: no entry of an archive may
//! choose where a file goes. Absolute paths, `..`, control characters
//! (newlines, NUL), symbolic and hard links, devices and FIFOs are refused,
//! whatever else the archive holds, and a refused restore leaves what is
//! stored exactly as it was, with nothing written outside the data folder.

mod common;

use common::*;
use oml_backup::backup::{create, BackupOptions};
use oml_backup::manifest::{check_archive_path, Limits};
use oml_backup::restore::{restore, RestoreTarget};
use oml_backup::writer::WriteOptions;
use oml_backup::{Format, NoProgress};
use oml_store::Backend;
use proptest::prelude::*;
use std::path::{Component, Path, PathBuf};

/// Names an attacker would try, built from parts.
fn hostile_name() -> impl Strategy<Value = String> {
    let top = prop::sample::select(vec![
        "generated",
        "recordings",
        "config",
        "database",
        "inventory",
        "",
    ]);
    let part = prop_oneof![
        Just("..".to_string()),
        Just(".".to_string()),
        Just(String::new()),
        "[a-z]{1,8}",
        "[a-z]{1,4}\n[a-z]{1,4}",
        "[a-z]{1,4}\r",
        "[a-z]{1,4}\t[a-z]{1,2}",
        "[a-z]{1,4}\u{1b}\\[2J",
    ];
    (prop::bool::ANY, top, prop::collection::vec(part, 1..5)).prop_map(|(absolute, top, parts)| {
        let mut s = if absolute {
            "/".to_string()
        } else {
            String::new()
        };
        s.push_str(top);
        for p in parts {
            s.push('/');
            s.push_str(&p);
        }
        s.chars().take(90).collect()
    })
}

fn kind() -> impl Strategy<Value = tar::EntryType> {
    prop::sample::select(vec![
        tar::EntryType::Regular,
        tar::EntryType::Symlink,
        tar::EntryType::Link,
        tar::EntryType::Char,
        tar::EntryType::Block,
        tar::EntryType::Fifo,
    ])
}

/// What a name accepted by the archive rules is: relative, plain parts
/// only, no control characters; joined to a folder it stays inside it.
fn plain(name: &str) -> bool {
    let p = Path::new(name.trim_end_matches('/'));
    !name.chars().any(char::is_control)
        && p.components().all(|c| matches!(c, Component::Normal(_)))
        && Path::new("/staging").join(p).starts_with("/staging")
}

proptest! {
    #[test]
    fn accepted_names_cannot_leave_their_folder(name in hostile_name()) {
        if check_archive_path(&name, &Limits::default()).is_ok() {
            prop_assert!(plain(&name), "accepted {name:?}");
        }
    }

    #[test]
    fn arbitrary_strings_never_escape(name in "\\PC{0,40}") {
        if check_archive_path(&name, &Limits::default()).is_ok() {
            prop_assert!(plain(&name), "accepted {name:?}");
        }
    }
}

struct Fixture {
    _ts: oml_store::testing::TestStore,
    inst: Install,
    archive: PathBuf,
    extracted: tempfile::TempDir,
    work: tempfile::TempDir,
}

fn fixture(rt: &tokio::runtime::Runtime) -> Fixture {
    rt.block_on(async {
        let ts = oml_store::testing::sqlite().await;
        let inst = install(ts.dir.as_ref().unwrap().path());
        let options = BackupOptions {
            with_recordings: true,
            write: WriteOptions::new(Format::Zst),
            output: None,
        };
        let out = create(&ts.store, &inst.layout, &options, &NoProgress)
            .await
            .unwrap();
        add_user(&ts.store, "bob").await;
        ts.store.close().await;
        let extracted = tempfile::tempdir().unwrap();
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
        let mut all = All(extracted.path().to_path_buf());
        oml_backup::reader::process(&out.path, &Default::default(), &mut all, &NoProgress).unwrap();
        Fixture {
            _ts: ts,
            inst,
            archive: out.path,
            extracted,
            work: tempfile::tempdir().unwrap(),
        }
    })
}

impl Fixture {
    /// The real archive with one hostile entry inserted at `at` (and
    /// listed in the manifest, so the archive is otherwise consistent).
    fn forged(&self, name: &str, kind: tar::EntryType, at: usize) -> PathBuf {
        let mut m = manifest_of(&self.archive);
        let payload = b"written by the archive".to_vec();
        let mut entries = Vec::new();
        for f in &m.files {
            let data = std::fs::read(self.extracted.path().join(&f.path)).unwrap();
            entries.push((
                raw_header(&f.path, tar::EntryType::Regular, data.len() as u64),
                data,
            ));
        }
        let size = if kind == tar::EntryType::Regular {
            payload.len()
        } else {
            0
        };
        let mut h = raw_header(name, kind, size as u64);
        if matches!(kind, tar::EntryType::Symlink | tar::EntryType::Link) {
            h.set_link_name("/tmp").unwrap();
            h.set_cksum();
        }
        m.files.push(entry(name, &payload[..size]));
        entries.insert(at.min(entries.len()), (h, payload[..size].to_vec()));
        let p = self.work.path().join("forged.tar.zst");
        forge(&p, &m, entries);
        p
    }

    fn live(&self) -> Vec<(String, String)> {
        let l = &self.inst.layout;
        let mut v = fingerprint(&l.data_dir, &[&l.backup_dir]);
        v.extend(fingerprint(&l.generated_root, &[]));
        v
    }
}

#[test]
fn no_entry_chooses_where_a_file_goes_and_a_refusal_changes_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fx = fixture(&rt);
    let config = ProptestConfig {
        cases: 40,
        ..ProptestConfig::default()
    };
    proptest!(config, |(name in hostile_name(), kind in kind(), at in 0usize..8)| {
        let plainly_ok = kind == tar::EntryType::Regular
            && check_archive_path(&name, &Limits::default()).is_ok();
        prop_assume!(!plainly_ok);
        let archive = fx.forged(&name, kind, at);
        let before = fx.live();
        // `/..` or `/tmp` exist already: "written" means it came to exist.
        let existed = Path::new(&name).exists();
        let target = RestoreTarget::new(fx.inst.layout.clone(), Backend::Sqlite, None);
        let refused = rt.block_on(restore(&archive, &target, &NoProgress));
        prop_assert!(refused.is_err(), "{name:?} ({kind:?}) was accepted");
        prop_assert_eq!(fx.live(), before, "{:?} ({:?}) changed what is stored", name, kind);
        if name.starts_with('/') && !existed {
            prop_assert!(!Path::new(&name).exists(), "{name:?} was written");
        }
    });
}
