//! The real OMniLeads inventories (1.2.0, 1.4.0, 1.12.0) read as they are;
//! the cluster layout refused; edits keep every other byte (proptest).

use oml_ops::inventory::{Edit, EditAction, Era, Inventory, InventoryError, SshTarget};
use proptest::prelude::*;
use secrecy::ExposeSecret;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

#[test]
fn every_fixture_round_trips_byte_for_byte() {
    for name in [
        "oml-1.2.0.inventory",
        "oml-1.4.0.inventory",
        "oml-1.12.0.inventory",
        "oml-1.4.0-cluster.inventory",
    ] {
        let inv = Inventory::load(fixture(name)).unwrap();
        assert_eq!(inv.to_text(), text(name), "{name}");
    }
}

#[test]
fn omnileads_1_2_0_self_hosted_2019() {
    let cfg = Inventory::load(fixture("oml-1.2.0.inventory"))
        .unwrap()
        .config()
        .unwrap();
    assert_eq!(cfg.era, Era::V2019);
    assert_eq!(cfg.ip.to_string(), "192.168.95.100");
    assert_eq!(cfg.fqdn.as_deref(), Some("oml-aio.example.com"));
    assert_eq!(cfg.connection, SshTarget::Local);
    assert_eq!(cfg.ami_user, "omnileadsami");
    assert_eq!(cfg.ami_password.expose_secret(), "5_MeO_DMT");
    assert_eq!(cfg.postgres.password.expose_secret(), "admin123");
    assert_eq!(cfg.postgres.database, "omnileads");
    assert_eq!(cfg.recording_format, "mp3");
    assert_eq!(cfg.install_prefix, PathBuf::from("/opt/omnileads/"));
}

/// 1.4.0 and 1.12.0 leave the passwords commented out for the administrator:
/// the typed view says which, at which line; set through `edit`, they work.
#[test]
fn omnileads_1_4_0_prodenv_aio_2020_needs_its_passwords() {
    let mut inv = Inventory::load(fixture("oml-1.4.0.inventory")).unwrap();
    let InventoryError::Invalid(problems) = inv.config().unwrap_err() else {
        panic!("expected missing passwords")
    };
    let vars: Vec<_> = problems
        .iter()
        .map(|p| (p.variable.clone().unwrap(), p.line))
        .collect();
    assert_eq!(
        vars,
        vec![
            ("postgres_password".into(), Some(59)),
            ("admin_pass".into(), Some(64))
        ],
        "{problems:?}"
    );
    for (k, v) in [
        ("postgres_password", "pg-S3cret"),
        ("admin_pass", "adm1n;=x"),
        ("TZ", "America/Argentina/Cordoba"),
    ] {
        let r = inv.edit(&Edit::set(k, v)).unwrap();
        assert_eq!(r.action, EditAction::Uncommented, "{k}");
    }
    let cfg = inv.config().unwrap();
    assert_eq!(cfg.era, Era::V2020);
    assert_eq!(cfg.ip.to_string(), "192.168.95.100");
    assert_eq!(cfg.fqdn, None);
    assert_eq!(cfg.login_failure_limit, 10);
    assert_eq!(cfg.session_cookie_age_s, 3600);
    assert_eq!(cfg.admin_password.expose_secret(), "adm1n;=x");
    assert_eq!(cfg.time_zone.name(), "America/Argentina/Cordoba");
    // Exactly three lines differ from the shipped file.
    let before = text("oml-1.4.0.inventory");
    let after = inv.to_text();
    let changed: Vec<_> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 3, "{changed:?}");
    assert_eq!(before.lines().count(), after.lines().count());
}

#[test]
fn omnileads_1_12_0_node_host_2020() {
    let mut inv = Inventory::load(fixture("oml-1.12.0.inventory")).unwrap();
    let InventoryError::Invalid(problems) = inv.config().unwrap_err() else {
        panic!("expected missing passwords")
    };
    let names: Vec<_> = problems
        .iter()
        .filter_map(|p| p.variable.as_deref())
        .collect();
    assert_eq!(
        names,
        ["postgres_password", "ami_password", "admin_pass"],
        "{problems:?}"
    );
    for (k, v) in [
        ("postgres_password", "pg"),
        ("ami_password", "ami"),
        ("admin_pass", "adm"),
    ] {
        inv.edit(&Edit::set(k, v)).unwrap();
    }
    let cfg = inv.config().unwrap();
    assert_eq!(cfg.ip.to_string(), "10.20.30.40");
    assert_eq!(
        cfg.connection,
        SshTarget::Ssh {
            user: "root".into(),
            port: 2222
        }
    );
    // ami_user is commented out in 1.12.0: OMniLeads' default applies.
    assert_eq!(cfg.ami_user, "omnileadsami");
}

#[test]
fn shipped_inventories_without_a_host_line_say_which_line_to_uncomment() {
    let shipped = "/work/shared/fixtures/omnileads-inventories/oml-1.4.0.inventory";
    let t = text("oml-1.4.0.inventory").replace(
        "192.168.95.100 ansible_connection=local",
        "#localhost ansible_connection=local",
    );
    let e = Inventory::parse(&t)
        .unwrap()
        .config()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no host in [prodenv-aio]") && e.contains("line 12 or 13"),
        "{e}"
    );
    let _ = shipped;
}

#[test]
fn cluster_inventory_is_refused_with_an_explanation() {
    let e = Inventory::load(fixture("oml-1.4.0-cluster.inventory"))
        .unwrap()
        .config()
        .unwrap_err();
    let InventoryError::Unsupported { explanation } = &e else {
        panic!("{e}")
    };
    assert!(explanation.contains("cluster inventory"), "{explanation}");
    assert!(
        explanation.contains("[omniapp] hostname (line 31)"),
        "{explanation}"
    );
    assert!(explanation.contains("all-in-one"), "{explanation}");
}

#[test]
fn bad_inventories_fail_with_the_line_number() {
    let good = text("oml-1.2.0.inventory");
    // Syntax error.
    let bad = good.replace("[everyone:vars]", "[everyone:vars");
    match Inventory::parse(&bad) {
        Err(InventoryError::Syntax { line, .. }) => assert_eq!(line, 28),
        other => panic!("{other:?}"),
    }
    // Missing password.
    let bad = good.replace("ami_password=5_MeO_DMT", "#ami_password=5_MeO_DMT");
    let e = Inventory::parse(&bad)
        .unwrap()
        .config()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 41: `ami_password`: is required but commented out at line 41"),
        "{e}"
    );
    // Invalid IP.
    let bad = good.replace("ansible_host=192.168.95.100", "ansible_host=192.168.95");
    let e = Inventory::parse(&bad)
        .unwrap()
        .config()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 13: `ansible_host`: `192.168.95` is not an IP address"),
        "{e}"
    );
}

#[test]
fn saving_an_edit_writes_the_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory");
    std::fs::copy(fixture("oml-1.2.0.inventory"), &path).unwrap();
    let mut inv = Inventory::load(&path).unwrap();
    inv.edit(&Edit::HostAddress("192.168.95.101".parse().unwrap()))
        .unwrap();
    inv.save().unwrap();
    let again = Inventory::load(&path).unwrap();
    assert_eq!(again.config().unwrap().ip.to_string(), "192.168.95.101");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text("oml-1.2.0.inventory")
            .replace("ansible_host=192.168.95.100", "ansible_host=192.168.95.101")
    );
}

/// Values an administrator could type: anything on one line.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_./-]{0,20}",
        "[ -~]{0,24}",
        Just("\"quoted\"".to_string()),
        Just(" padded ".to_string()),
        Just("a;b=c#d".to_string()),
        Just("back\\slash\\".to_string()),
        Just("{{ not a template }}".to_string()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("postgres_password".to_string()),
        Just("ami_password".to_string()),
        Just("TZ".to_string()),
        Just("admin_pass".to_string()),
        Just("LOGIN_FAILURE_LIMIT".to_string()),
        Just("brand_new_variable".to_string()),
        "[a-z][a-z_]{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// parse → edit → print → parse reads back exactly the value set, and
    /// every line but the edited one (or the added one) is byte-identical.
    #[test]
    fn edit_round_trips(fixture_name in prop_oneof![Just("oml-1.2.0.inventory"), Just("oml-1.4.0.inventory"), Just("oml-1.12.0.inventory")],
                        k in key(), v in value()) {
        let original = text(fixture_name);
        let mut inv = Inventory::parse(&original).unwrap();
        let report = inv.edit(&Edit::set(k.clone(), v.clone())).unwrap();
        let printed = inv.to_text();
        let again = Inventory::parse(&printed).unwrap();
        prop_assert_eq!(again.var(&k).map(|r| r.value), Some(v.clone()));
        let before: Vec<&str> = original.split_inclusive('\n').collect();
        let after: Vec<&str> = printed.split_inclusive('\n').collect();
        let edited = report.line - 1;
        match report.action {
            EditAction::Added => {
                prop_assert_eq!(after.len(), before.len() + 1);
                let mut without = after.clone();
                without.remove(edited);
                prop_assert_eq!(without, before);
            }
            _ => {
                prop_assert_eq!(after.len(), before.len());
                for (i, (a, b)) in before.iter().zip(after.iter()).enumerate() {
                    if i != edited {
                        prop_assert_eq!(a, b, "line {} changed", i + 1);
                    }
                }
            }
        }
        // Setting the same value again changes nothing.
        let r2 = inv.edit(&Edit::set(k, v)).unwrap();
        prop_assert_eq!(r2.action, EditAction::Unchanged);
        prop_assert_eq!(inv.to_text(), printed);
    }

    /// Any text made of inventory-like lines prints back byte for byte.
    #[test]
    fn parse_print_is_identity(lines in proptest::collection::vec(prop_oneof![
        Just("[everyone:vars]".to_string()),
        Just("[omnileads-aio]".to_string()),
        Just("[everyone:children]".to_string()),
        Just("".to_string()),
        Just("   ".to_string()),
        Just("# comment = with equals".to_string()),
        Just(";semicolon comment".to_string()),
        Just("#TZ=UTC".to_string()),
        Just("omnileads-aio".to_string()),
        "[a-z_]{1,8}=[ -~]{0,12}",
        "[a-z_]{1,8} = \"[a-z;= ]{0,8}\"",
    ], 0..30), crlf in any::<bool>(), final_eol in any::<bool>()) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut t = lines.join(eol);
        if final_eol && !t.is_empty() { t.push_str(eol); }
        if let Ok(inv) = Inventory::parse(&t) {
            prop_assert_eq!(inv.to_text(), t);
        }
    }
}
