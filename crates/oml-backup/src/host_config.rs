//! The archive's `config/oml.toml` comes back with this host's `[paths]`:
//! where backups, recordings, the inventory and the rendered configuration
//! live is a property of the host, not of the data, so an archive (made
//! elsewhere, or forged) never chooses a folder oml later writes into. The
//! rest of the file (comments included) is the archive's, and it must be a
//! valid oml.toml before anything changes.

use toml_edit::DocumentMut;

/// The archive's configuration text with its `[paths]` table replaced by
/// the live one's (removed when the live file has none, so the defaults,
/// all inside the data folder, apply). `Err` names what is wrong.
pub fn keep_host_paths(archived: &str, live: Option<&str>) -> Result<String, String> {
    let mut doc: DocumentMut = archived
        .parse()
        .map_err(|e: toml_edit::TomlError| one_line(&e.to_string()))?;
    doc.remove("paths");
    if let Some(live) = live {
        let live: DocumentMut = live.parse().map_err(|e: toml_edit::TomlError| {
            format!(
                "this host's oml.toml does not parse: {}",
                one_line(&e.to_string())
            )
        })?;
        if let Some(paths) = live.get("paths") {
            doc.insert("paths", paths.clone());
        }
    }
    let text = doc.to_string();
    oml_config::Config::parse(&text, "config/oml.toml").map_err(|e| e.to_string())?;
    Ok(text)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archives_paths_never_survive() {
        let archived = "# kept\n[lockout]\nlogin_failure_limit = 7\n\n[paths]\nconfig_root = \"/\"\nbackup_dir = \"/etc\"\n";
        let live = "[paths]\nconfig_root = \"/srv/root\"\n";
        let out = keep_host_paths(archived, Some(live)).unwrap();
        let c = oml_config::Config::parse(&out, "t").unwrap();
        assert_eq!(c.paths.config_root, std::path::PathBuf::from("/srv/root"));
        assert_eq!(c.paths.backup_dir, std::path::PathBuf::from("backup"));
        assert_eq!(c.lockout.login_failure_limit, 7);
        assert!(out.contains("# kept"), "{out}");
        let none = keep_host_paths(archived, None).unwrap();
        assert!(!none.contains("[paths]"), "{none}");
    }

    #[test]
    fn an_invalid_archived_configuration_is_refused() {
        assert!(
            keep_host_paths("[lockout]\nlogin_failure_limit = 0\n", None)
                .unwrap_err()
                .contains("login_failure_limit")
        );
        assert!(keep_host_paths("[[[", None).is_err());
    }
}
