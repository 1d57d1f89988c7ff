//! What the operator reads: the list of archives (`oml backup list`, as a
//! table or JSON), and the restore plan: what the archive is, what it
//! replaces, and every file written outside the data folder. Pure text, so
//! tests read what the operator is shown.

use crate::backup::BackupOutcome;
use crate::catalog::Listed;
use crate::manifest::Manifest;
use crate::restore::Inspection;
use std::path::Path;

/// A written backup: notes and warnings (for stderr), then the summary
/// lines (for stdout). `backup_dir` decides how to name it for restore.
pub fn backup_written(
    o: &BackupOutcome,
    notes: &[String],
    backup_dir: &Path,
) -> (Vec<String>, Vec<String>) {
    let mut err: Vec<String> = o
        .removed_leftovers
        .iter()
        .map(|p| {
            format!(
                "note: removed {} (left by a backup that was killed)",
                p.display()
            )
        })
        .collect();
    err.extend(
        notes
            .iter()
            .chain(&o.skipped)
            .map(|s| format!("warning: not backed up: {s}")),
    );
    let size = std::fs::metadata(&o.path).map(|m| m.len()).unwrap_or(0);
    let name = if o.path.parent() == Some(backup_dir) {
        o.name.clone()
    } else {
        o.path.display().to_string()
    };
    let out = vec![
        format!(
            "backup written: {} ({}, {} files, {} of data)",
            o.path.display(),
            human(size),
            o.manifest.files.len(),
            human(o.manifest.total_size())
        ),
        format!("components: {}", o.manifest.components.join(", ")),
        format!("restore it with: oml restore {name}"),
    ];
    (err, out)
}

/// An archive that verified completely.
pub fn verified(path: &Path, m: &Manifest) -> String {
    format!(
        "{}: OK — {} files, {} checked against the manifest (oml {}, schema {}, {} database, made on {} at {})",
        path.display(),
        m.files.len(),
        human(m.total_size()),
        m.oml_version,
        m.schema_version,
        m.database_backend,
        m.hostname,
        m.created_at
    )
}

/// `1.5 GiB`-style sizes.
pub fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The archives as JSON, one object each.
pub fn list_json(items: &[Listed]) -> serde_json::Value {
    let v: Vec<_> = items
        .iter()
        .map(|i| {
            let m = i.manifest.as_ref().ok();
            serde_json::json!({
                "name": i.name,
                "size": i.size,
                "created_at": m.map(|m| m.created_at.clone()),
                "oml_version": m.map(|m| m.oml_version.clone()),
                "schema_version": m.map(|m| m.schema_version),
                "hostname": m.map(|m| m.hostname.clone()),
                "components": m.map(|m| m.components.clone()),
                "manifest_error": i.manifest.as_ref().err(),
                "verified": i.verified.as_ref().map(|r| r.is_ok()),
                "verify_error": i.verified.as_ref().and_then(|r| r.as_ref().err()),
            })
        })
        .collect();
    serde_json::Value::Array(v)
}

/// Whether every listed archive is readable (and verifies, when checked).
pub fn all_good(items: &[Listed]) -> bool {
    items
        .iter()
        .all(|i| i.manifest.is_ok() && !matches!(i.verified, Some(Err(_))))
}

/// The archives as a table with a header line.
pub fn list_table(items: &[Listed]) -> Vec<String> {
    let mut out = vec![format!(
        "{:<36} {:<20} {:>10} {:<8} {:<16} VERIFIES",
        "NAME", "CREATED (UTC)", "SIZE", "VERSION", "HOST"
    )];
    for i in items {
        let (created, version, host) = match &i.manifest {
            Ok(m) => (
                m.created_at
                    .replace('T', " ")
                    .trim_end_matches('Z')
                    .to_string(),
                m.oml_version.clone(),
                m.hostname.clone(),
            ),
            Err(_) => ("?".into(), "?".into(), "?".into()),
        };
        let verifies = match (&i.manifest, &i.verified) {
            (Err(e), _) | (Ok(_), Some(Err(e))) => format!("NO: {e}"),
            (Ok(_), None) => "manifest ok (full check: --verify)".into(),
            (Ok(_), Some(Ok(()))) => "yes".into(),
        };
        out.push(format!(
            "{:<36} {:<20} {:>10} {:<8} {:<16} {}",
            i.name,
            created,
            human(i.size),
            version,
            host,
            verifies
        ));
    }
    out
}

impl Inspection {
    /// The plan's lines for a restore of `archive` into `data_dir`.
    pub fn describe(&self, archive: &Path, data_dir: &Path) -> Vec<String> {
        let m = &self.manifest;
        let mut out = Vec::new();
        if let Some(change) = &self.host_change {
            out.push(format!(
                "host:       {change}; host-dependent files will be re-rendered for this host"
            ));
        }
        out.push(format!("archive:    {}", archive.display()));
        out.push(format!(
            "made:       {} on {} ({}) by oml {}",
            m.created_at, m.hostname, m.ip, m.oml_version
        ));
        out.push(format!(
            "contents:   {} ({} files, {})",
            m.components.join(", "),
            m.files.len(),
            human(m.total_size())
        ));
        let (have, can) = self.schema;
        out.push(if have < can {
            format!("schema:     {have}, migrated forward to {can} after the restore")
        } else {
            format!("schema:     {have}")
        });
        out.push("replaces:".into());
        out.extend(self.replaces.iter().map(|r| format!("  {r}")));
        if !m.has_component("recordings") {
            out.push(
                "recordings: not in this archive; the current recordings are kept as they are"
                    .into(),
            );
        }
        if !self.outside.is_empty() {
            out.push(format!(
                "writes outside the data folder {}:",
                data_dir.display()
            ));
            out.extend(self.outside.iter().map(|p| format!("  {}", p.display())));
        }
        if !self.ignored.is_empty() {
            out.push("not restored (no place on this host):".into());
            out.extend(self.ignored.iter().map(|i| format!("  {i}")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_sizes() {
        assert_eq!(super::human(512), "512 B");
        assert_eq!(super::human(1536), "1.5 KiB");
        assert_eq!(super::human(3 << 30), "3.0 GiB");
    }
}
