//! The archive's table of contents (`manifest.json`, always the first entry)
//! and the pure rules around it: archive names, which archive paths are
//! allowed, and which files count as already-compressed media.

use serde::{Deserialize, Serialize};

/// The manifest layout this code writes and reads.
pub const MANIFEST_FORMAT: u32 = 1;
/// Name of the first archive entry.
pub const MANIFEST_NAME: &str = "manifest.json";

/// Top-level folders an archive may contain, one per component.
pub const COMPONENTS: &[&str] = &["database", "config", "inventory", "generated", "recordings"];

/// Compression of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// tar in zstd frames (default): fast, multi-threaded.
    Zst,
    /// tar in gzip members: what the original `backup-restore.sh` wrote.
    Tgz,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Zst => ".tar.zst",
            Format::Tgz => ".tgz",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "zst" | "zstd" => Ok(Format::Zst),
            "tgz" | "gz" => Ok(Format::Tgz),
            other => Err(format!("unknown format {other:?}: use zst or tgz")),
        }
    }
}

/// One file in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path inside the archive, `component/relative/path`.
    pub path: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
}

/// What `manifest.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub oml_version: String,
    pub schema_version: i64,
    /// `sqlite` or `postgresql`.
    pub database_backend: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub created_at_ms: i64,
    pub hostname: String,
    pub ip: String,
    /// Components present, in archive order.
    pub components: Vec<String>,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    pub fn has_component(&self, c: &str) -> bool {
        self.components.iter().any(|x| x == c)
    }

    /// Checks the manifest's own consistency: known format, every path safe
    /// and under a known component, no duplicates, well-formed checksums.
    pub fn validate(&self, limits: &Limits) -> Result<(), String> {
        if self.format != MANIFEST_FORMAT {
            return Err(format!(
                "manifest format {} is not understood (this oml reads format {MANIFEST_FORMAT})",
                self.format
            ));
        }
        if self.files.len() as u64 > limits.max_entries {
            return Err(format!(
                "the manifest lists {} files, more than the limit of {}",
                self.files.len(),
                limits.max_entries
            ));
        }
        let mut seen = std::collections::HashSet::with_capacity(self.files.len());
        let mut total: u64 = 0;
        for f in &self.files {
            check_archive_path(&f.path, limits)?;
            if f.path == MANIFEST_NAME {
                return Err("the manifest lists itself".into());
            }
            if !seen.insert(f.path.as_str()) {
                return Err(format!("the manifest lists {} twice", f.path));
            }
            if f.sha256.len() != 64 || !f.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("the manifest's SHA-256 of {} is malformed", f.path));
            }
            total = total.saturating_add(f.size);
        }
        if total > limits.max_total_bytes {
            return Err(format!(
                "the manifest announces {total} bytes, more than the limit of {}",
                limits.max_total_bytes
            ));
        }
        for c in &self.components {
            if !COMPONENTS.contains(&c.as_str()) {
                return Err(format!("unknown component {c:?} in the manifest"));
            }
        }
        Ok(())
    }
}

/// Bounds applied while reading an archive, so a forged one cannot fill the
/// disk or the memory.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_manifest_bytes: u64,
    pub max_entries: u64,
    pub max_total_bytes: u64,
    pub max_path_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_manifest_bytes: 256 << 20,
            max_entries: 5_000_000,
            max_total_bytes: 64 << 40,
            max_path_len: 4096,
        }
    }
}

/// The safe-path rule for archive entries: relative, UTF-8, no `..`, no `.`,
/// no empty component, no backslash or NUL, under a known component (or the
/// manifest itself). Returns the reason when refused.
pub fn check_archive_path(path: &str, limits: &Limits) -> Result<(), String> {
    if path.is_empty() {
        return Err("an entry has an empty path".into());
    }
    if path.len() > limits.max_path_len {
        return Err(format!(
            "entry path longer than {} bytes",
            limits.max_path_len
        ));
    }
    if path.starts_with('/') {
        return Err(format!("entry {path:?} has an absolute path"));
    }
    if path.contains('\\') || path.contains('\0') {
        return Err(format!("entry {path:?} contains a backslash or NUL"));
    }
    if path.chars().any(char::is_control) {
        return Err(format!(
            "entry {path:?} contains a control character (newline, tab...)"
        ));
    }
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    for part in trimmed.split('/') {
        match part {
            ".." => return Err(format!("entry {path:?} contains '..'")),
            "." | "" => return Err(format!("entry {path:?} has an empty or '.' component")),
            _ => {}
        }
    }
    if trimmed == MANIFEST_NAME {
        return Ok(());
    }
    let top = trimmed.split('/').next().unwrap_or("");
    if !COMPONENTS.contains(&top) {
        return Err(format!(
            "entry {path:?} is outside the known folders ({})",
            COMPONENTS.join(", ")
        ));
    }
    Ok(())
}

/// `YYYYMMDD-HHMMSS-oml-backup.tar.zst` for a UTC time.
pub fn archive_name(at: chrono::DateTime<chrono::Utc>, format: Format) -> String {
    let ext = match format {
        Format::Zst => "tar.zst",
        Format::Tgz => "tgz",
    };
    format!("{}-oml-backup.{ext}", at.format("%Y%m%d-%H%M%S"))
}

/// Whether a file name looks like one of our archives (partial files excluded).
pub fn is_archive_name(name: &str) -> bool {
    let stem = name
        .strip_suffix("-oml-backup.tar.zst")
        .or_else(|| name.strip_suffix("-oml-backup.tgz"));
    match stem {
        Some(s) => {
            s.len() == 15
                && s.as_bytes()[8] == b'-'
                && s.bytes()
                    .enumerate()
                    .all(|(i, b)| i == 8 || b.is_ascii_digit())
        }
        None => false,
    }
}

/// Refuses a bare archive name that could leave the backup folder.
pub fn check_bare_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the backup name is empty".into());
    }
    if name.contains('/') || name.contains('\\') || name.contains("..") || name.contains('\0') {
        return Err(format!(
            "the backup name {name:?} contains '/' or '..': give a bare name from `oml backup list`, or a path starting with ./ or /"
        ));
    }
    Ok(())
}

/// Names of archives to delete so that the newest `keep` stay (names sort by
/// time because they start with `YYYYMMDD-HHMMSS`).
pub fn prune_plan(names: &[String], keep: usize) -> Vec<String> {
    let mut sorted: Vec<&String> = names.iter().filter(|n| is_archive_name(n)).collect();
    sorted.sort();
    let cut = sorted.len().saturating_sub(keep);
    sorted[..cut].iter().map(|s| s.to_string()).collect()
}

/// Already-compressed media and archives: stored without recompression.
pub fn is_precompressed(path: &str) -> bool {
    const EXT: &[&str] = &[
        "mp3", "ogg", "opus", "oga", "m4a", "aac", "flac", "gz", "tgz", "zst", "xz", "bz2", "zip",
        "7z", "jpg", "jpeg", "png", "gif", "webp", "mp4", "webm", "gsm", "g729",
    ];
    match path.rsplit_once('.') {
        Some((_, ext)) => {
            let ext = ext.to_ascii_lowercase();
            EXT.contains(&ext.as_str())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let t = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let z = archive_name(t, Format::Zst);
        let g = archive_name(t, Format::Tgz);
        assert_eq!(z, "20261118-110640-oml-backup.tar.zst");
        assert_eq!(g, "20261118-110640-oml-backup.tgz");
        assert!(is_archive_name(&z) && is_archive_name(&g));
        assert!(!is_archive_name(
            ".20261118-110640-oml-backup.tar.zst.partial"
        ));
        assert!(!is_archive_name("2026111x-084640-oml-backup.tgz"));
    }

    #[test]
    fn unsafe_paths_are_refused() {
        let l = Limits::default();
        for bad in [
            "/etc/passwd",
            "../x",
            "database/../../x",
            "recordings/./a",
            "recordings//a",
            "elsewhere/file",
            "config\\x",
            "",
        ] {
            assert!(check_archive_path(bad, &l).is_err(), "{bad}");
        }
        for good in [
            "manifest.json",
            "database/oml.db",
            "recordings/2026/a.mp3",
            "generated/",
        ] {
            assert!(check_archive_path(good, &l).is_ok(), "{good}");
        }
    }

    #[test]
    fn bare_names_cannot_escape() {
        assert!(check_bare_name("../x").is_err());
        assert!(check_bare_name("a/b").is_err());
        assert!(check_bare_name("..").is_err());
        assert!(check_bare_name("20261118-110640-oml-backup.tgz").is_ok());
    }

    #[test]
    fn prune_keeps_the_newest() {
        let names: Vec<String> = [
            "20260101-000000-oml-backup.tar.zst",
            "20260301-000000-oml-backup.tgz",
            "20260201-000000-oml-backup.tar.zst",
            "notes.txt",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            prune_plan(&names, 1),
            vec![
                "20260101-000000-oml-backup.tar.zst".to_string(),
                "20260201-000000-oml-backup.tar.zst".to_string()
            ]
        );
        assert!(prune_plan(&names, 5).is_empty());
        assert_eq!(prune_plan(&names, 0).len(), 3);
    }

    #[test]
    fn manifest_validation_catches_duplicates_and_bad_sums() {
        let f = FileEntry {
            path: "config/oml.toml".into(),
            size: 1,
            sha256: "a".repeat(64),
        };
        let mut m = Manifest {
            format: MANIFEST_FORMAT,
            oml_version: "0.1.0".into(),
            schema_version: 1,
            database_backend: "sqlite".into(),
            created_at: String::new(),
            created_at_ms: 0,
            hostname: "h".into(),
            ip: "127.0.0.1".into(),
            components: vec!["config".into()],
            files: vec![f.clone()],
        };
        assert!(m.validate(&Limits::default()).is_ok());
        m.files.push(f);
        assert!(m
            .validate(&Limits::default())
            .unwrap_err()
            .contains("twice"));
        m.files.pop();
        m.files[0].sha256 = "zz".into();
        assert!(m.validate(&Limits::default()).is_err());
    }

    #[test]
    fn media_is_recognised() {
        assert!(is_precompressed("recordings/a.MP3"));
        assert!(is_precompressed("recordings/x.opus"));
        assert!(!is_precompressed("recordings/a.wav"));
        assert!(!is_precompressed("database/oml.db"));
    }
}
