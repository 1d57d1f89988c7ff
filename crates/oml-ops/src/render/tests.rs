//! Unit tests of rendering: the template environment's rules and the
//! sanitising of values that reach config files.

use super::*;

#[test]
fn undefined_values_are_errors_not_empty_strings() {
    let mut env = environment();
    env.add_template("t", "listen={{ host.nope }}").unwrap();
    let err = env
        .get_template("t")
        .unwrap()
        .render(minijinja::context! { host => minijinja::context! {} });
    assert!(err.is_err(), "strict undefined must refuse a missing value");
}

#[test]
fn nothing_is_html_escaped() {
    let mut env = environment();
    env.add_template("t.conf", "{{ v }}").unwrap();
    env.add_template("t.html", "{{ v }}").unwrap();
    for name in ["t.conf", "t.html"] {
        let out = env
            .get_template(name)
            .unwrap()
            .render(minijinja::context! { v => "a<b>&\"c\"" })
            .unwrap();
        assert_eq!(out, "a<b>&\"c\"");
    }
}

#[test]
fn every_builtin_template_parses() {
    let env = environment();
    for t in TARGETS {
        assert!(env.get_template(t.template).is_ok(), "{}", t.template);
    }
}

#[test]
fn names_and_values_are_made_safe_for_asterisk() {
    assert_eq!(conf_name("sales [north]; x"), "sales__north___x");
    assert_eq!(ast_value("5551;000\n"), "5551\\;000");
    assert_eq!(url_encode("p@ss:w/rd"), "p%40ss%3Aw%2Frd");
    let c = Campaign {
        id: 12,
        name: "Big sale".into(),
        mode: "predictive".into(),
        trunk_id: 1,
        delivery_context: String::new(),
        delivery_exten: "s".into(),
        queue_name: String::new(),
        ring_timeout_s: 25,
        abandon_seconds: 2,
        max_abandon_rate: 0.03,
        caller_id: String::new(),
        state: "stopped".into(),
        call_path: Default::default(),
    };
    assert_eq!(queue_name(&c), "12_Bigsale");
    assert_eq!(
        queue_name(&Campaign {
            queue_name: "sales q".into(),
            ..c
        }),
        "sales_q"
    );
}

#[test]
fn only_local_from_oml_trunks_loop_back() {
    let t = |d: &str| Trunk {
        id: 1,
        name: "t".into(),
        dial_string: d.into(),
        max_channels: 1,
        server_id: None,
        caller_id: String::new(),
    };
    assert!(t("Local/${num}@from-oml/n").loops_through_from_oml());
    assert!(!t("PJSIP/${num}@carrier").loops_through_from_oml());
    assert_eq!(
        t("PJSIP/${num}@carrier").dial_for("${EXTEN}"),
        "PJSIP/${EXTEN}@carrier"
    );
}
