//! Helpers shared by the command-line tests: the `oml` command on a data
//! folder, and a byte-for-byte picture of a folder to prove that a refused
//! or dry-run command changed nothing.

#![allow(dead_code)] // each test file uses its own subset

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// `oml --data-dir DATA`, with the environment that could redirect it removed.
pub fn oml(data: &Path) -> Command {
    let mut c = Command::cargo_bin("oml").unwrap();
    c.env_remove("OML_DATABASE_URL")
        .env_remove("OML_HOME")
        .env_remove("OML_INVENTORY")
        .arg("--data-dir")
        .arg(data);
    c
}

/// Every file under `dir` with its bytes, sorted by path.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == ".oml-running.lock") {
                // The empty lock file any command may create: not a change.
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// This machine's host name, as oml reads it.
pub fn hostname() -> String {
    oml_ops::network::HostFacts::collect().unwrap().hostname
}

/// Asserts two snapshots are identical, naming the paths that differ
/// (not their bytes).
pub fn assert_same(before: &[(PathBuf, Vec<u8>)], after: &[(PathBuf, Vec<u8>)], what: &str) {
    if before == after {
        return;
    }
    let mut differ: Vec<String> = Vec::new();
    for (p, b) in before {
        match after.iter().find(|(q, _)| q == p) {
            None => differ.push(format!("removed {}", p.display())),
            Some((_, a)) if a != b => differ.push(format!("changed {}", p.display())),
            _ => {}
        }
    }
    for (p, _) in after {
        if !before.iter().any(|(q, _)| q == p) {
            differ.push(format!("added {}", p.display()));
        }
    }
    panic!("{what}: {}", differ.join(", "));
}
