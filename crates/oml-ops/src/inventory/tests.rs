//! Unit tests of the inventory: layouts, validation messages, edits.

use super::*;
use secrecy::ExposeSecret;

const AIO_2019: &str = "\
[omnileads-aio]
oml.example.com ansible_connection=local ansible_user=root ansible_host=10.1.2.3  #(self-hosted)

[everyone:children]
omnileads-aio

[everyone:vars]
install_prefix=/opt/omnileads/
postgres_password=admin123
admin_pass=\"p;a=ss\"
ami_user=omnileadsami
ami_password=5_MeO_DMT
#TZ=America/Argentina/Cordoba
LOGIN_FAILURE_LIMIT=3

[omnileads-aio:vars]
omni_ip=\"{{ ansible_host }}\"
";

fn problems(text: &str) -> Vec<Problem> {
    match Inventory::parse(text).unwrap().config() {
        Err(InventoryError::Invalid(p)) => p,
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn reads_a_2019_aio_inventory() {
    let inv = Inventory::parse(AIO_2019).unwrap();
    let cfg = inv.config().unwrap();
    assert_eq!(cfg.era, Era::V2019);
    assert_eq!(cfg.ip.to_string(), "10.1.2.3");
    assert_eq!(cfg.fqdn.as_deref(), Some("oml.example.com"));
    assert_eq!(cfg.connection, SshTarget::Local);
    assert_eq!(cfg.admin_password.expose_secret(), "p;a=ss");
    assert_eq!(cfg.time_zone, chrono_tz::UTC);
    assert_eq!(cfg.login_failure_limit, 3);
    let v = inv.var("ami_password").unwrap();
    assert_eq!((v.line, v.origin.as_str()), (12, "everyone"));
}

#[test]
fn group_vars_override_parent_vars_and_host_vars_win() {
    let text = "[prodenv-aio]\n10.0.0.9 ansible_connection=local TZ=UTC\n[everyone:children]\nprodenv-aio\n\
                [everyone:vars]\nSCA=100\nTZ=Europe/Paris\n[prodenv-aio:vars]\nSCA=200\n";
    let inv = Inventory::parse(text).unwrap();
    assert_eq!(inv.var("SCA").unwrap().value, "200");
    assert_eq!(inv.var("TZ").unwrap().origin, "host");
}

#[test]
fn missing_and_invalid_values_name_line_and_variable() {
    let text = AIO_2019
        .replace("ansible_host=10.1.2.3", "ansible_host=10.1.2.300")
        .replace("postgres_password=admin123\n", "#postgres_password=x\n")
        .replace("LOGIN_FAILURE_LIMIT=3", "LOGIN_FAILURE_LIMIT=-1")
        .replace("#TZ=America/Argentina/Cordoba", "TZ=Mars/Olympus")
        .replace("ami_password=5_MeO_DMT", "ami_password=");
    let p = problems(&text);
    let find = |var: &str| {
        p.iter()
            .find(|x| x.variable.as_deref() == Some(var))
            .unwrap_or_else(|| panic!("{var}: {p:?}"))
    };
    assert_eq!(find("ansible_host").line, Some(2));
    assert!(find("ansible_host").message.contains("10.1.2.300"));
    assert_eq!(find("postgres_password").line, Some(9));
    assert!(find("postgres_password")
        .message
        .contains("commented out at line 9"));
    assert_eq!(find("LOGIN_FAILURE_LIMIT").line, Some(14));
    assert_eq!(find("TZ").line, Some(13));
    assert_eq!(find("ami_password").line, Some(12));
    let shown = InventoryError::Invalid(p.clone()).to_string();
    assert!(
        shown.contains("line 14: `LOGIN_FAILURE_LIMIT`: `-1` is not a positive integer"),
        "{shown}"
    );
}

#[test]
fn placeholder_and_localhost_hosts_are_explained() {
    let p = problems(&AIO_2019.replace("ansible_host=10.1.2.3", "ansible_host=X.X.X.X"));
    assert!(p[0].message.contains("placeholder"), "{p:?}");
    let p = problems("[prodenv-aio]\nlocalhost ansible_connection=local\n[prodenv-aio:vars]\npostgres_password=a\nami_password=b\nadmin_pass=c\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message
            .contains("write the IP in place of `localhost`"),
        "{p:?}"
    );
}

#[test]
fn no_host_points_at_the_commented_host_lines() {
    let inv = Inventory::parse("[prodenv-aio]\n#localhost ansible_connection=local ansible_user=root #(x)\n#X.X.X.X ansible_ssh_port=22 ansible_user=root\n").unwrap();
    let e = inv.config().unwrap_err().to_string();
    assert!(
        e.contains("no host in [prodenv-aio]") && e.contains("line 2 or 3"),
        "{e}"
    );
}

#[test]
fn cluster_and_container_layouts_are_refused() {
    let cluster = "[omniapp]\napp ansible_ssh_port=22 ansible_host=10.0.0.2\n[prodenv-aio]\n";
    let e = Inventory::parse(cluster).unwrap().config().unwrap_err();
    assert!(
        matches!(&e, InventoryError::Unsupported { explanation } if explanation.contains("cluster") && explanation.contains("[omniapp] app (line 2)")),
        "{e}"
    );
    // 2019 placeholders in the cluster groups are not a cluster.
    let placeholders = format!("[omniapp]\nomniapp ansible_ssh_port=22 ansible_user=root ansible_host=X.X.X.X #cluster server\n{AIO_2019}");
    assert!(Inventory::parse(&placeholders).unwrap().config().is_ok());
    let docker = "[prodenv-container]\nlocalhost ansible_connection=local\n[prodenv-aio]\n";
    let e = Inventory::parse(docker)
        .unwrap()
        .config()
        .unwrap_err()
        .to_string();
    assert!(e.contains("Docker"), "{e}");
}

#[test]
fn templated_values_are_not_evaluated() {
    let text = AIO_2019.replace(
        "ami_user=omnileadsami",
        "ami_user=\"{{ lookup('env','X') }}\"",
    );
    let p = problems(&text);
    assert_eq!(p[0].variable.as_deref(), Some("ami_user"));
    assert!(p[0].message.contains("Ansible template"));
}

#[test]
fn edit_changes_only_the_value_bytes() {
    let mut inv = Inventory::parse(AIO_2019).unwrap();
    let r = inv.edit(&Edit::set("ami_password", "n3w=pass#x")).unwrap();
    assert_eq!((r.line, r.action), (12, EditAction::Changed));
    let text = inv.to_text();
    assert_eq!(
        text,
        AIO_2019.replace("ami_password=5_MeO_DMT", "ami_password=n3w=pass#x")
    );
    assert_eq!(
        inv.config().unwrap().ami_password.expose_secret(),
        "n3w=pass#x"
    );
    // Quoted values stay quoted.
    inv.edit(&Edit::set("admin_pass", "a\"b")).unwrap();
    assert!(inv.to_text().contains("admin_pass=\"a\\\"b\"\n"));
    assert_eq!(inv.config().unwrap().admin_password.expose_secret(), "a\"b");
    // Same value: unchanged.
    let r = inv.edit(&Edit::set("LOGIN_FAILURE_LIMIT", "3")).unwrap();
    assert_eq!(r.action, EditAction::Unchanged);
}

#[test]
fn edit_uncomments_an_offered_variable_in_place() {
    let mut inv = Inventory::parse(AIO_2019).unwrap();
    let r = inv.edit(&Edit::set("TZ", "Europe/Madrid")).unwrap();
    assert_eq!((r.line, r.action), (13, EditAction::Uncommented));
    assert_eq!(
        inv.to_text(),
        AIO_2019.replace("#TZ=America/Argentina/Cordoba", "TZ=Europe/Madrid")
    );
    assert_eq!(inv.config().unwrap().time_zone, chrono_tz::Europe::Madrid);
}

#[test]
fn edit_adds_a_missing_variable_after_the_last_one() {
    let mut inv = Inventory::parse(AIO_2019).unwrap();
    let r = inv.edit(&Edit::set("extern_ip", "auto")).unwrap();
    assert_eq!((r.line, r.action), (15, EditAction::Added));
    assert_eq!(
        inv.to_text(),
        AIO_2019.replace(
            "LOGIN_FAILURE_LIMIT=3\n",
            "LOGIN_FAILURE_LIMIT=3\nextern_ip=auto\n"
        )
    );
    assert_eq!(inv.config().unwrap().extern_ip, ExternIp::Auto);
}

#[test]
fn edit_host_address_in_each_layout() {
    let mut inv = Inventory::parse(AIO_2019).unwrap();
    inv.edit(&Edit::HostAddress("10.9.9.9".parse().unwrap()))
        .unwrap();
    assert_eq!(
        inv.to_text(),
        AIO_2019.replace("ansible_host=10.1.2.3", "ansible_host=10.9.9.9")
    );
    let t2020 = "[prodenv-aio]\r\n10.0.0.1 ansible_connection=local ansible_user=root #(self)\r\n";
    let mut inv = Inventory::parse(t2020).unwrap();
    inv.edit(&Edit::HostAddress("10.0.0.2".parse().unwrap()))
        .unwrap();
    assert_eq!(inv.to_text(), t2020.replace("10.0.0.1", "10.0.0.2"));
    let named = "[prodenv-aio]\nmyhost ansible_connection=local #(self)\n";
    let mut inv = Inventory::parse(named).unwrap();
    inv.edit(&Edit::HostAddress("10.0.0.3".parse().unwrap()))
        .unwrap();
    assert_eq!(
        inv.to_text(),
        "[prodenv-aio]\nmyhost ansible_connection=local ansible_host=10.0.0.3 #(self)\n"
    );
}

#[test]
fn edit_rejects_multi_line_values_and_bad_names() {
    let mut inv = Inventory::parse(AIO_2019).unwrap();
    assert!(inv.edit(&Edit::set("TZ", "a\nb")).is_err());
    assert!(inv.edit(&Edit::set("bad name", "x")).is_err());
    assert_eq!(inv.to_text(), AIO_2019);
}

#[test]
fn debug_output_never_shows_passwords() {
    let inv = Inventory::parse(AIO_2019).unwrap();
    let cfg = inv.config().unwrap();
    let shown = format!("{inv:?} {cfg:?} {:?}", inv.document());
    for secret in ["admin123", "5_MeO_DMT", "p;a=ss"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
}

/// Issue 16 item 11: `set` validates as `check` does and writes nothing
/// when refused; problems already there do not block other edits.
#[test]
fn checked_edit_refuses_invalid_values_and_changes_nothing() {
    let mut inv = Inventory::parse(AIO_2019).unwrap();
    let e = inv.edit_checked(&Edit::set("TZ", "Mars/Base")).unwrap_err();
    assert!(
        matches!(&e, InventoryError::Invalid(p) if p.iter().any(|p| p.variable.as_deref() == Some("TZ"))),
        "{e}"
    );
    assert_eq!(inv.to_text(), AIO_2019, "a refused set changes nothing");
    let e = inv
        .edit_checked(&Edit::set("LOGIN_FAILURE_LIMIT", "many"))
        .unwrap_err();
    assert!(e.to_string().contains("LOGIN_FAILURE_LIMIT"), "{e}");
    assert_eq!(inv.to_text(), AIO_2019);
    inv.edit_checked(&Edit::set("TZ", "America/Argentina/Cordoba"))
        .unwrap();
    assert_eq!(
        inv.config().unwrap().time_zone.name(),
        "America/Argentina/Cordoba"
    );

    // A password still missing does not block setting something else.
    let without = AIO_2019.replace("postgres_password=admin123\n", "");
    let mut inv = Inventory::parse(&without).unwrap();
    inv.edit_checked(&Edit::set("TZ", "UTC")).unwrap();
    inv.edit_checked(&Edit::set("postgres_password", "s3cret"))
        .unwrap();
    inv.config().unwrap();
}

/// Issue 16 item 11: `[everyone:vars]` that applies to no host is named,
/// with its line, instead of "missing: add it under [everyone:vars]".
#[test]
fn vars_of_a_group_the_host_is_not_in_are_explained() {
    let text = AIO_2019.replace("[everyone:children]\nomnileads-aio\n", "");
    let ps = problems(&text);
    let p = ps
        .iter()
        .find(|p| p.variable.as_deref() == Some("postgres_password"))
        .unwrap();
    assert!(
        p.message.contains("line 7 sets it under [everyone:vars]")
            && p.message
                .contains("[everyone:children] does not list `omnileads-aio`"),
        "{p}"
    );
    // And `set` adds the value where the host reads it, checked.
    let mut inv = Inventory::parse(&text).unwrap();
    let r = inv.edit(&Edit::set("TZ", "UTC")).unwrap();
    assert_eq!(
        inv.var("TZ").unwrap().value,
        "UTC",
        "added at line {}",
        r.line
    );
    let lone = "[prodenv-aio]\n10.0.0.9 ansible_connection=local\n[everyone:vars]\nTZ=UTC\n";
    let mut inv = Inventory::parse(lone).unwrap();
    let e = inv.edit_checked(&Edit::set("TZ", "Mars/Base")).unwrap_err();
    assert!(e.to_string().contains("TZ"), "{e}");
    assert_eq!(inv.to_text(), lone);
    inv.edit_checked(&Edit::set("TZ", "Europe/Madrid")).unwrap();
    assert_eq!(inv.var("TZ").unwrap().value, "Europe/Madrid");
    assert!(
        inv.to_text()
            .contains("[prodenv-aio:vars]\nTZ=Europe/Madrid"),
        "{}",
        inv.to_text()
    );
    let ps = problems(lone);
    let p = ps
        .iter()
        .find(|p| p.variable.as_deref() == Some("ami_password"))
        .unwrap();
    assert!(p.message.contains("under [prodenv-aio:vars]"), "{p}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any single-line value (outside input) set on any variable: the
        /// edit is refused, or the inventory still parses and reads the
        /// value back exactly.
        #[test]
        fn any_value_is_refused_or_read_back(value in "[^\r\n]{0,40}", key in prop::sample::select(vec!["TZ", "SCA", "ami_user", "postgres_password", "custom_var"])) {
            let mut inv = Inventory::parse(AIO_2019).unwrap();
            if inv.edit(&Edit::set(key, &value)).is_ok() {
                let again = Inventory::parse(&inv.to_text()).unwrap();
                prop_assert_eq!(again.var(key).map(|v| v.value), Some(value.clone()));
                let _ = again.config();
            }
            let mut checked = Inventory::parse(AIO_2019).unwrap();
            if checked.edit_checked(&Edit::set(key, &value)).is_err() {
                prop_assert_eq!(checked.to_text(), AIO_2019);
            }
        }

        /// Any text: parsed or refused with a line, never a panic.
        #[test]
        fn any_text_parses_or_is_refused(text in "(\\[[a-z:-]{0,12}\\]|[a-zA-Z_]{1,8}=[^\n]{0,10}|#[^\n]{0,10}|[^\n]{0,16})(\n(\\[[a-z:-]{0,12}\\]|[a-zA-Z_]{1,8}=[^\n]{0,10}|[^\n]{0,16})){0,8}") {
            if let Ok(inv) = Inventory::parse(&text) {
                let _ = inv.config();
            }
        }
    }
}
