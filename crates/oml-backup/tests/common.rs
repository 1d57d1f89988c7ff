//! Shared fixtures for the integration tests: an installation (database,
//! configuration, inventory, generated files, recordings) in temporary
//! folders, a fingerprint of everything on disk, and a forger of archives.

#![allow(dead_code)]

use oml_backup::manifest::{FileEntry, Manifest};
use oml_backup::Layout;
use oml_store::{NewUser, Role, Store};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Install {
    pub layout: Layout,
    pub _root: tempfile::TempDir,
}

/// Pseudo-random, incompressible bytes (a stand-in for encoded audio).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Files of an installation around `data_dir`.
pub fn install(data_dir: &Path) -> Install {
    let root = tempfile::tempdir().unwrap();
    let mut layout = Layout::defaults(data_dir);
    layout.generated_root = root.path().join("sysroot");
    layout.generated_files = vec![PathBuf::from("etc/asterisk/oml_queues.conf")];
    layout.inventory = Some(data_dir.join("inventory"));
    std::fs::create_dir_all(data_dir).unwrap();
    std::fs::write(&layout.config_file, "[paths]\nbackup_dir = \"backup\"\n").unwrap();
    std::fs::write(
        layout.inventory.as_ref().unwrap(),
        "[omnileads-aio]\nlocalhost ansible_connection=local\n",
    )
    .unwrap();
    let gen = layout.generated_root.join("etc/asterisk");
    std::fs::create_dir_all(&gen).unwrap();
    std::fs::write(gen.join("oml_queues.conf"), "[sales]\nstrategy=rrmemory\n").unwrap();
    let rec = &layout.recordings_dir;
    std::fs::create_dir_all(rec.join("2026/11")).unwrap();
    std::fs::write(
        rec.join("2026/11/call-1.wav"),
        b"RIFF....WAVEfmt ".repeat(4000),
    )
    .unwrap();
    std::fs::write(rec.join("2026/11/call-2.mp3"), noise(300_000, 7)).unwrap();
    std::fs::write(rec.join("call-3.opus"), noise(50_000, 9)).unwrap();
    Install {
        layout,
        _root: root,
    }
}

pub async fn add_user(store: &Store, name: &str) {
    let pw = SecretString::from("a-long-password-1".to_string());
    store
        .create_user(&NewUser {
            username: name,
            password: &pw,
            role: Role::Agent,
            must_change_password: false,
        })
        .await
        .unwrap();
}

pub async fn usernames(store: &Store) -> Vec<String> {
    let mut v: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    v.sort();
    v
}

/// Path and SHA-256 of every file under `dir` except `skip`, sorted.
pub fn fingerprint(dir: &Path, skip: &[&Path]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if skip.iter().any(|s| p.starts_with(s)) {
                continue;
            }
            // A file that vanishes while we walk (SQLite's -wal/-shm as a
            // pool closes) was transient, not live data.
            let Ok(m) = p.symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                out.push((p.display().to_string(), "dir".into()));
                stack.push(p);
            } else {
                let Ok(bytes) = std::fs::read(&p) else {
                    continue;
                };
                out.push((p.display().to_string(), hex::encode(Sha256::digest(&bytes))));
            }
        }
    }
    out.sort();
    out
}

/// The manifest of a real archive, to forge variations of it.
pub fn manifest_of(path: &Path) -> Manifest {
    oml_backup::reader::read_manifest(path, &Default::default())
        .unwrap()
        .0
}

pub fn entry(path: &str, content: &[u8]) -> FileEntry {
    FileEntry {
        path: path.into(),
        size: content.len() as u64,
        sha256: hex::encode(Sha256::digest(content)),
    }
}

/// A regular-file header with `name` written raw (no path checks), so
/// forged names like `../x` reach the archive.
pub fn raw_header(name: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    h
}

/// Writes a `.tar.zst`: the manifest first, then the given raw entries.
pub fn forge(path: &Path, manifest: &Manifest, entries: Vec<(tar::Header, Vec<u8>)>) {
    let f = std::fs::File::create(path).unwrap();
    let enc = zstd::stream::write::Encoder::new(f, 3).unwrap();
    let mut b = tar::Builder::new(enc);
    let json = serde_json::to_vec(manifest).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(json.len() as u64);
    h.set_mode(0o600);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, "manifest.json", &json[..]).unwrap();
    for (h, data) in entries {
        b.append(&h, &data[..]).unwrap();
    }
    let enc = b.into_inner().unwrap();
    enc.finish().unwrap().flush().unwrap();
}
