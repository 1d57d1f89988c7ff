//! `oml deploy --change-network` as an administrator runs it: the inventory
//! is checked against this machine before anything is written, files are
//! re-rendered for the new address, and the services to restart are named.
//! Files go under a temporary `--root`, so nothing is restarted here.

mod common;

use assert_cmd::Command;
use common::{assert_same, hostname, snapshot};
use predicates::prelude::*;
use std::path::PathBuf;

struct Install {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    root: PathBuf,
    inventory: PathBuf,
}

fn oml(i: &Install) -> Command {
    common::oml(&i.data)
}

fn inventory(host_name: &str, ip: &str) -> String {
    format!(
        "[omnileads-aio]\n\
         {host_name} ansible_connection=local ansible_user=root ansible_host={ip}  #(self-hosted)\n\
         \n\
         [everyone:children]\n\
         omnileads-aio\n\
         \n\
         [everyone:vars]\n\
         postgres_password=pg-secret-1\n\
         admin_pass=admin-secret-1\n\
         ami_user=omnileadsami\n\
         ami_password=ami-secret-1\n\
         TZ=America/Argentina/Cordoba\n"
    )
}

fn install(ip: &str) -> Install {
    let tmp = tempfile::tempdir().unwrap();
    let i = Install {
        data: tmp.path().join("data"),
        root: tmp.path().join("root"),
        inventory: tmp.path().join("inventory"),
        _tmp: tmp,
    };
    let pw = i._tmp.path().join("pw");
    std::fs::write(&pw, "a fine admin password\n").unwrap();
    oml(&i)
        .arg("init")
        .arg("--admin-password-file")
        .arg(&pw)
        .assert()
        .success();
    std::fs::write(&i.inventory, inventory(&hostname(), ip)).unwrap();
    i
}

fn change_network(i: &Install) -> Command {
    let mut c = oml(i);
    c.args(["deploy", "--change-network", "--inventory"])
        .arg(&i.inventory)
        .arg("--root")
        .arg(&i.root);
    c
}

fn kamailio_cfg(i: &Install) -> String {
    std::fs::read_to_string(i.root.join("etc/kamailio/kamailio.cfg")).unwrap()
}

/// A non-loopback IPv4 address of this machine, if it has one.
fn other_local_ipv4() -> Option<String> {
    oml_ops::network::HostFacts::collect()
        .unwrap()
        .addresses
        .into_iter()
        .find(|a| a.is_ipv4() && !a.is_loopback())
        .map(|a| a.to_string())
}

#[test]
fn change_network_rewrites_every_host_file_and_names_what_to_restart() {
    let i = install("127.0.0.1");
    change_network(&i)
        .arg("--yes")
        .assert()
        .success()
        .stdout(predicate::str::contains("create    "))
        .stdout(predicate::str::contains("systemctl restart kamailio"))
        .stdout(predicate::str::contains("nginx -t"))
        .stdout(predicate::str::contains(
            "nothing restarted (the files were written under",
        ));
    assert!(kamailio_cfg(&i).contains("listen=udp:127.0.0.1:5060"));
    // Run again: everything already matches.
    change_network(&i)
        .arg("--yes")
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to change"));

    let Some(new_ip) = other_local_ipv4() else {
        eprintln!("SKIPPED: this machine has no non-loopback IPv4 address to move to");
        return;
    };
    std::fs::write(&i.inventory, inventory(&hostname(), &new_ip)).unwrap();
    // The dry run shows the change and writes nothing.
    let before = snapshot(&i.root);
    change_network(&i)
        .arg("--dry-run")
        .assert()
        .success()
        .stdout(predicate::str::contains("update    "))
        .stdout(predicate::str::contains(format!(
            "+listen=udp:{new_ip}:5060"
        )))
        .stdout(predicate::str::contains("ami-secret-1").not())
        .stdout(predicate::str::contains("nothing written"));
    assert_same(&before, &snapshot(&i.root), "dry run wrote nothing");
    // Without --yes and without a terminal: refused, nothing written.
    change_network(&i)
        .assert()
        .failure()
        .stderr(predicate::str::contains("add --yes"));
    assert_same(&before, &snapshot(&i.root), "nothing changed");
    // Applied: the address moved, and only the services whose files changed restart.
    change_network(&i)
        .arg("--yes")
        .assert()
        .success()
        .stdout(predicate::str::contains("update    "))
        .stdout(predicate::str::contains("systemctl restart kamailio"))
        .stdout(predicate::str::contains("systemctl restart rtpengine"))
        .stdout(predicate::str::contains("systemctl reload nginx"))
        .stdout(predicate::str::contains("systemctl restart oml").not());
    let cfg = kamailio_cfg(&i);
    assert!(cfg.contains(&format!("listen=udp:{new_ip}:5060")), "{cfg}");
    assert!(cfg.contains(&format!("listens on {new_ip},")), "{cfg}");
    assert!(!cfg.contains("listens on 127.0.0.1"), "{cfg}");
}

#[test]
fn an_inventory_that_is_not_this_machine_changes_nothing() {
    let i = install("127.0.0.1");
    change_network(&i).arg("--yes").assert().success();
    let before = snapshot(&i.root);
    // An address from the documentation range, on no interface here.
    std::fs::write(&i.inventory, inventory(&hostname(), "198.51.100.77")).unwrap();
    change_network(&i)
        .arg("--yes")
        .assert()
        .failure()
        .stderr(predicate::str::contains("line 2"))
        .stderr(predicate::str::contains("`ansible_host`"))
        .stderr(predicate::str::contains(
            "198.51.100.77 is not an address of this machine",
        ))
        .stderr(predicate::str::contains("nothing was changed"));
    assert_same(&before, &snapshot(&i.root), "nothing changed");
    // Another machine's name.
    std::fs::write(
        &i.inventory,
        inventory("not-this-machine.example.com", "127.0.0.1"),
    )
    .unwrap();
    change_network(&i)
        .arg("--yes")
        .assert()
        .failure()
        .stderr(predicate::str::contains("`inventory_hostname`"))
        .stderr(predicate::str::contains("hostnamectl set-hostname"));
    assert_same(&before, &snapshot(&i.root), "nothing changed");
}

#[test]
fn deploy_without_a_task_says_which_exist() {
    let i = install("127.0.0.1");
    oml(&i)
        .arg("deploy")
        .assert()
        .failure()
        .stderr(predicate::str::contains("--change-network"));
}
