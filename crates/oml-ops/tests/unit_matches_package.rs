//! One systemd unit, not two: the Debian package installs
//! `packaging/debian/oml.service` in /lib/systemd/system, and `oml render`
//! writes /etc/systemd/system/oml.service, which takes its place as soon as
//! it exists. Rendered for the package's paths, the two must run `oml
//! serve` the same way (user, environment, restarts, sandboxing); only the
//! comments, the description and where `OML_HOME` comes from may differ.

use oml_ops::inventory::Inventory;
use oml_ops::render::{self, DialerData, OmlSettings, RenderContext};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `section: Key=Value` for every directive, comments and blank lines out.
fn directives(unit: &str) -> BTreeSet<String> {
    let mut section = String::new();
    let mut out = BTreeSet::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            section = line.to_owned();
            continue;
        }
        out.insert(format!("{section} {line}"));
    }
    out
}

/// Directives that say what the unit is, not how it runs.
fn runs(d: &BTreeSet<String>) -> BTreeSet<String> {
    d.iter()
        .filter(|l| !l.contains(" Description=") && !l.contains(" Documentation="))
        .cloned()
        .collect()
}

fn rendered_for_the_package() -> (String, String) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let inventory = Inventory::load(manifest.join("tests/fixtures/oml-1.2.0.inventory"))
        .unwrap()
        .config()
        .unwrap();
    let ctx = RenderContext {
        inventory,
        data: DialerData::default(),
        oml: OmlSettings {
            data_dir: PathBuf::from("/var/lib/oml"),
            binary: PathBuf::from("/usr/bin/oml"),
            user: "oml".into(),
            ..OmlSettings::default()
        },
    };
    let root = tempfile::tempdir().unwrap();
    render::plan(&ctx, root.path()).unwrap().apply().unwrap();
    let read = |rel: &str| std::fs::read_to_string(root.path().join(rel)).unwrap();
    (
        read("etc/systemd/system/oml.service"),
        read("etc/oml/oml.env"),
    )
}

#[test]
fn the_rendered_unit_runs_oml_as_the_package_unit_does() {
    let (unit, env) = rendered_for_the_package();
    let package = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/debian/oml.service"),
    )
    .unwrap();
    let (r, p) = (runs(&directives(&unit)), runs(&directives(&package)));
    // The package sets OML_HOME in the unit; the rendered unit reads it
    // from the rendered oml.env, which must then say the same.
    let home = "[Service] Environment=OML_HOME=/var/lib/oml".to_string();
    let env_file = "[Service] EnvironmentFile=/etc/oml/oml.env".to_string();
    assert!(
        p.contains(&home),
        "the package unit sets OML_HOME:\n{package}"
    );
    assert!(
        r.contains(&env_file),
        "the rendered unit reads oml.env:\n{unit}"
    );
    assert!(
        env.lines().any(|l| l == "OML_HOME=/var/lib/oml"),
        "oml.env sets OML_HOME:\n{env}"
    );
    let only_rendered: Vec<&String> = r.difference(&p).filter(|l| **l != env_file).collect();
    let only_package: Vec<&String> = p.difference(&r).filter(|l| **l != home).collect();
    assert!(
        only_rendered.is_empty() && only_package.is_empty(),
        "the units differ:\n  only in the rendered unit: {only_rendered:?}\n  only in the package's: {only_package:?}"
    );
}
