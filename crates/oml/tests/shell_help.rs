//! `oml completions` and `oml man`: generated from the command-line
//! definition, so every subcommand (down to `oml users token add`) is in
//! them; and `oml --help` describes every task a subcommand does.

use assert_cmd::Command;

fn oml() -> Command {
    Command::cargo_bin("oml").unwrap()
}

#[test]
fn completions_name_the_subcommands_in_every_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = oml().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for word in [
            "campaign",
            "regenerate-asterisk",
            "token",
            "--change-passwords",
        ] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = oml().args(["completions", "tcsh"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));
}

#[test]
fn man_writes_a_page_per_command_with_its_full_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = oml().arg("man").arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let page = std::fs::read_to_string(dir.path().join("oml-users-token-add.1")).unwrap();
    assert!(page.contains("oml users token add"), "{page}");
    let top = std::fs::read_to_string(dir.path().join("oml.1")).unwrap();
    assert!(top.contains("oml\\-campaign(1)") || top.contains("oml-campaign(1)"));
    let listed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        listed.lines().count(),
        std::fs::read_dir(dir.path()).unwrap().count()
    );
}

#[test]
fn help_says_what_each_subcommand_does() {
    let out = oml().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let line = |cmd: &str| {
        help.lines()
            .find(|l| l.trim_start().starts_with(&format!("{cmd} ")))
            .unwrap_or_else(|| panic!("no line for {cmd} in\n{help}"))
            .to_string()
    };
    assert!(line("users").contains("token"), "{help}");
    assert!(line("users").contains("blocked"), "{help}");
    assert!(line("asterisk").contains("add"), "{help}");
    assert!(line("dialer").contains("start"), "{help}");
    assert!(line("deploy").contains("--update"), "{help}");
    assert!(line("serve").contains("dialer"), "{help}");
}
