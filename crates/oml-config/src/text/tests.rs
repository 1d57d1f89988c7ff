//! The commented defaults cover every key, and edits change only the key
//! they name (byte for byte everywhere else).

use super::*;
use crate::{Config, Dialer, Paths, Web};
use std::collections::BTreeSet;

/// `table.key` of every key a text sets.
fn keys(text: &str) -> BTreeSet<String> {
    let doc: toml::Table = text.parse().unwrap();
    let mut out = BTreeSet::new();
    for (table, inner) in doc {
        for key in inner.as_table().unwrap().keys() {
            out.insert(format!("{table}.{key}"));
        }
    }
    out
}

/// The defaults with the commented example keys (`# key = value`) switched on.
fn uncommented() -> String {
    DEFAULT_TEXT
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest
                    .split_once(" = ")
                    .is_some_and(|(k, _)| !k.contains(' ')) =>
            {
                rest
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_commented_defaults_are_the_defaults() {
    assert_eq!(Config::parse(DEFAULT_TEXT, "t").unwrap(), Config::default());
    assert!(DEFAULT_TEXT.lines().filter(|l| l.starts_with('#')).count() > 20);
}

#[test]
fn the_commented_defaults_name_every_key() {
    let every = Config {
        web: Web {
            tls_cert: Some("/c".into()),
            tls_key: Some("/k".into()),
            ..Web::default()
        },
        paths: Paths {
            inventory: Some("/i".into()),
            ..Paths::default()
        },
        dialer: Dialer {
            node_name: Some("n".into()),
            default_country: Some("54".into()),
            ..Dialer::default()
        },
        ..Config::default()
    };
    let all = toml::to_string(&every).unwrap();
    let shown = uncommented();
    // Strict parsing: a misspelt example key is an error here.
    Config::parse(&shown, "default.toml").unwrap();
    assert_eq!(keys(&shown), keys(&all));
}

const ADMINS: &str = "\
# my notes about this host
[dialer]
ami_rate_limit = 50   # the carrier allows 50/s

# lock-out as agreed with security
[lockout]
cool_off_seconds = 900
login_failure_limit = 5 # keep in sync with the inventory

[web]
session_idle_seconds = 600
trusted_proxies = [ \"10.0.0.1\" ]  # the balancer
";

#[test]
fn a_changed_key_is_the_only_change() {
    let mut t = ConfigText::parse(ADMINS, "t").unwrap();
    t.set("lockout.login_failure_limit", 7).unwrap();
    assert_eq!(
        t.text().unwrap(),
        ADMINS.replace("login_failure_limit = 5 #", "login_failure_limit = 7 #")
    );
}

#[test]
fn an_equal_value_changes_nothing() {
    let mut t = ConfigText::parse(ADMINS, "t").unwrap();
    t.set("dialer.ami_rate_limit", 50).unwrap();
    t.set("web.session_idle_seconds", 600).unwrap();
    t.add_to_list("web.trusted_proxies", "10.0.0.1").unwrap();
    assert_eq!(t.text().unwrap(), ADMINS);
}

#[test]
fn added_keys_go_to_the_end_of_their_table_or_file() {
    let mut t = ConfigText::parse(ADMINS, "t").unwrap();
    t.add_to_list("web.trusted_proxies", "127.0.0.1").unwrap();
    t.set("dialer.default_country", "AR").unwrap();
    t.set("paths.inventory", "/etc/oml/inventory").unwrap();
    let expected = ADMINS
        .replace("[ \"10.0.0.1\" ]", "[ \"10.0.0.1\", \"127.0.0.1\" ]")
        .replace(
            "ami_rate_limit = 50   # the carrier allows 50/s\n",
            "ami_rate_limit = 50   # the carrier allows 50/s\ndefault_country = \"AR\"\n",
        )
        + "\n[paths]\ninventory = \"/etc/oml/inventory\"\n";
    assert_eq!(t.text().unwrap(), expected);
}

#[test]
fn an_invalid_result_is_refused_and_names_the_key() {
    let mut t = ConfigText::parse(ADMINS, "oml.toml").unwrap();
    t.set("lockout.login_failure_limit", 0).unwrap();
    let e = t.text().unwrap_err().to_string();
    assert!(e.contains("lockout.login_failure_limit"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CONFIG_FILE);
    std::fs::write(&path, ADMINS).unwrap();
    assert!(t.write(&path).is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ADMINS, "untouched");
    assert!(ConfigText::parse("[web]\nlisten = 1\n", "oml.toml").is_err());
    assert!(ConfigText::parse(ADMINS, "t")
        .unwrap()
        .set("nodot", 1)
        .is_err());
}

#[test]
fn a_missing_file_reads_as_the_commented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let t = ConfigText::read(dir.path()).unwrap();
    assert_eq!(t.text().unwrap(), DEFAULT_TEXT);
    t.write(&dir.path().join(CONFIG_FILE)).unwrap();
    let again = ConfigText::read(dir.path()).unwrap();
    assert_eq!(again.text().unwrap(), DEFAULT_TEXT);
}

#[cfg(unix)]
#[test]
fn writing_through_a_link_keeps_the_link_and_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc.toml");
    std::fs::write(&etc, ADMINS).unwrap();
    std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join(CONFIG_FILE);
    std::os::unix::fs::symlink(&etc, &link).unwrap();
    let mut t = ConfigText::read(dir.path()).unwrap();
    t.set("dialer.ami_rate_limit", 60).unwrap();
    t.write(&link).unwrap();
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    let text = std::fs::read_to_string(&etc).unwrap();
    assert!(
        text.contains("ami_rate_limit = 60   # the carrier"),
        "{text}"
    );
    let mode = std::fs::metadata(&etc).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn a_commented_example_becomes_the_setting_in_its_place() {
    let mut t = ConfigText::defaults("t");
    t.set("dialer.default_country", "AR").unwrap();
    assert_eq!(
        t.text().unwrap(),
        DEFAULT_TEXT.replace("# default_country = \"54\"", "default_country = \"AR\"")
    );
    // Only the example in the key's own table counts.
    let mut t = ConfigText::parse("[web]\n# inventory = \"/x\"\n[paths]\n", "t").unwrap();
    t.set("paths.inventory", "/i").unwrap();
    assert_eq!(
        t.text().unwrap(),
        "[web]\n# inventory = \"/x\"\n[paths]\ninventory = \"/i\"\n"
    );
}

/// Text that is already there is not written again: `oml init` run by the
/// service user leaves the package's conffile (not writable by it) alone.
#[cfg(unix)]
#[test]
fn an_unchanged_file_is_not_rewritten() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CONFIG_FILE);
    std::fs::write(&path, ADMINS).unwrap();
    let before = std::fs::metadata(&path).unwrap().ino();
    let t = ConfigText::read(dir.path()).unwrap();
    t.write(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), before);
    let mut t = ConfigText::read(dir.path()).unwrap();
    t.set("dialer.ami_rate_limit", 61).unwrap();
    t.write(&path).unwrap();
    assert_ne!(std::fs::metadata(&path).unwrap().ino(), before);
}
