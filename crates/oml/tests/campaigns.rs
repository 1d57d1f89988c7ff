//! The dialer's configuration and contact-import commands, run as the real
//! `oml` binary on SQLite and on PostgreSQL: round trips, bad input refused
//! with a clear message and nothing stored, imports that report every
//! rejected row and leave nothing behind when the file is bad.

use oml_store::{Location, OpenMode, Store};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    data: PathBuf,
    url: Option<String>,
    label: &'static str,
}

impl Env {
    fn oml(&self) -> Command {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("oml"));
        c.arg("--data-dir")
            .arg(&self.data)
            .env_remove("OML_DATABASE_URL")
            .env_remove("OML_AMI_SECRET")
            .env("OML_HOME", &self.data);
        if let Some(u) = &self.url {
            c.env("OML_DATABASE_URL", u);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.oml().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "[{}] oml {:?} failed: {}{}",
            self.label,
            args,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must fail; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "[{}] oml {:?} should have failed: {}",
            self.label,
            args,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    async fn store(&self) -> Store {
        let loc = Location::from_args(&self.data, self.url.as_deref());
        Store::open(&loc, OpenMode::Existing).await.unwrap()
    }
}

/// An initialised installation on every available backend.
async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    let mut urls = vec![(None, "sqlite")];
    match oml_store::testing::fresh_postgres_database().await {
        Some(u) => urls.push((Some(u), "postgresql")),
        None => {
            eprintln!("SKIPPED: PostgreSQL half of this test (OML_TEST_DATABASE_URL is not set)")
        }
    }
    for (url, label) in urls {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let env = Env {
            data: dir.join("data"),
            dir,
            _tmp: tmp,
            url,
            label,
        };
        let pw = env.file("pw", "a-long-password-1\n");
        env.ok(&["init", "--admin-password-file", &pw]);
        out.push(env);
    }
    out
}

fn base_config(e: &Env) {
    let out = e
        .oml()
        .args([
            "asterisk",
            "add",
            "pbx1",
            "--host",
            "127.0.0.1",
            "--user",
            "omlami",
        ])
        .env("OML_AMI_SECRET", "very-secret-ami")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.ok(&["trunk", "add", "carrier", "--server", "pbx1"]);
}

#[tokio::test]
async fn servers_and_trunks_round_trip_and_refuse_bad_input() {
    for e in envs().await {
        // No secret and no terminal: refused, nothing stored.
        let err = e.fails(&["asterisk", "add", "pbx0", "--host", "h", "--user", "u"]);
        assert!(err.contains("OML_AMI_SECRET"), "{err}");
        base_config(&e);
        let list = e.ok(&["asterisk", "list", "--json"]);
        assert!(!list.contains("very-secret-ami"), "secret leaked: {list}");
        let v: serde_json::Value = serde_json::from_str(&list).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 1, "{}", e.label);
        assert_eq!(v[0]["ami_port"], 5038);

        // Edit changes only what is given; the secret stays.
        e.ok(&["asterisk", "edit", "pbx1", "--port", "15038", "--disable"]);
        let v = e.json(&["asterisk", "list", "--json"]);
        assert_eq!(v[0]["ami_port"], 15038);
        assert_eq!(v[0]["enabled"], false);
        assert_eq!(v[0]["host"], "127.0.0.1");
        let s = e.store().await;
        let srv = s.server_by_name("pbx1").await.unwrap().unwrap();
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(&srv.ami_secret),
            "very-secret-ami"
        );

        // A dial string without ${num}: clear error, nothing stored.
        let err = e.fails(&["trunk", "add", "bad", "--dial-string", "PJSIP/carrier"]);
        assert!(err.contains("${num}"), "{err}");
        let err = e.fails(&["trunk", "add", "bad", "--server", "nowhere"]);
        assert!(err.contains("nowhere"), "{err}");
        let trunks = e.json(&["trunk", "list", "--json"]);
        assert_eq!(trunks.as_array().unwrap().len(), 1, "{}", e.label);
        assert_eq!(trunks[0]["server"], "pbx1");

        e.ok(&[
            "trunk",
            "edit",
            "carrier",
            "--max-channels",
            "5",
            "--any-server",
        ]);
        let trunks = e.json(&["trunk", "list", "--json"]);
        assert_eq!(trunks[0]["max_channels"], 5);
        assert_eq!(trunks[0]["server"], serde_json::Value::Null);
        assert_eq!(trunks[0]["dial_string"], "Local/${num}@from-oml/n");

        // Removal is refused while something depends on it.
        e.ok(&["trunk", "edit", "carrier", "--server", "pbx1"]);
        let err = e.fails(&["asterisk", "remove", "pbx1"]);
        assert!(err.contains("carrier"), "{err}");
        e.ok(&["campaign", "create", "sales"]);
        let err = e.fails(&["trunk", "remove", "carrier"]);
        assert!(err.contains("sales"), "{err}");
        e.ok(&["campaign", "delete", "sales"]);
        e.ok(&["trunk", "remove", "carrier"]);
        e.ok(&["asterisk", "remove", "pbx1"]);
        assert!(e
            .json(&["asterisk", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn campaigns_take_every_field_and_refuse_bad_input() {
    for e in envs().await {
        base_config(&e);
        // Bad input: a clear error naming the problem, and no campaign.
        let err = e.fails(&["campaign", "create", "c1", "--trunk", "nope"]);
        assert!(err.contains("trunk `nope` not found"), "{err}");
        let err = e.fails(&["campaign", "create", "c1", "--window", "21:00-09:00"]);
        assert!(
            err.contains("time window") && err.contains("09:00"),
            "{err}"
        );
        let err = e.fails(&["campaign", "create", "c1", "--max-abandon-rate", "3"]);
        assert!(err.contains("3%"), "{err}");
        let err = e.fails(&["campaign", "create", "c1", "--ring-timeout", "10"]);
        assert!(
            err.contains("ring timeout") && err.contains("FCC") && err.contains("--non-compliant"),
            "{err}"
        );
        let err = e.fails(&["campaign", "create", "c1", "--retry", "ringing:3:60"]);
        assert!(err.contains("ringing"), "{err}");
        let err = e.fails(&["campaign", "create", "c1", "--time-zone", "Mars/Base"]);
        assert!(err.contains("time zone"), "{err}");
        let missing = e.dir.join("missing-dnc.txt").display().to_string();
        let err = e.fails(&["campaign", "create", "c1", "--dnc-file", &missing]);
        assert!(err.contains("missing-dnc.txt"), "{err}");
        assert!(
            e.json(&["campaign", "list", "--json"])
                .as_array()
                .unwrap()
                .is_empty(),
            "{}",
            e.label
        );

        // Defaults.
        e.ok(&["campaign", "create", "c1"]);
        let v = e.json(&["campaign", "show", "c1", "--json"]);
        assert_eq!(v["mode"], "predictive");
        assert_eq!(v["trunk"], "carrier");
        assert_eq!(v["delivery"]["queue"], "c1");
        assert_eq!(v["delivery"]["own_context"], true);
        assert_eq!(v["delivery"]["exten"], "s");
        assert_eq!(v["max_abandon_rate"], 0.03);
        assert_eq!(v["window"], "09:00-21:00");
        assert_eq!(v["days"], "mon,tue,wed,thu,fri");
        assert_eq!(v["reschedule_rules"].as_array().unwrap().len(), 5);

        // Every field as a flag.
        let dnc = e.file("dnc.txt", "5550001\n555-0002\nbad\n");
        e.ok(&[
            "campaign",
            "create",
            "c2",
            "--mode",
            "progressive",
            "--trunk",
            "carrier",
            "--deliver-to",
            "agents,100",
            "--max-abandon-rate",
            "2.5%",
            "--abandon-window",
            "uk",
            "--abandon-seconds",
            "3",
            "--non-compliant",
            "--ring-timeout",
            "30",
            "--caller-id",
            "5491100000000",
            "--time-zone",
            "America/Argentina/Buenos_Aires",
            "--window",
            "08:30-20:00",
            "--days",
            "mon-sat",
            "--priority",
            "20",
            "--retry",
            "busy:4:120:multiplied",
            "--retry",
            "no_answer:2:600",
            "--no-retry",
            "abandoned",
            "--dnc-file",
            &dnc,
        ]);
        let v = e.json(&["campaign", "show", "c2", "--json"]);
        assert_eq!(v["mode"], "progressive", "{}", e.label);
        assert_eq!(v["delivery"]["context"], "agents");
        assert_eq!(v["delivery"]["exten"], "100");
        assert_eq!(v["delivery"]["queue"], "c2", "--deliver-to keeps the queue");
        assert!((v["max_abandon_rate"].as_f64().unwrap() - 0.025).abs() < 1e-9);
        assert_eq!(v["abandon_window"], "uk");
        assert_eq!(v["abandon_seconds"], 3);
        assert_eq!(v["non_compliant"], true);
        assert_eq!(v["rule_set"]["name"], "Ofcom");
        assert_eq!(v["breaches"][0]["field"], "abandon seconds");
        let text = e.ok(&["campaign", "show", "c2"]);
        assert!(
            text.contains("NON-COMPLIANT: settings beyond the Ofcom rules"),
            "{text}"
        );
        let err = e.fails(&["campaign", "edit", "c2", "--compliant"]);
        assert!(err.contains("abandon seconds"), "{err}");
        assert_eq!(v["ring_timeout_s"], 30);
        assert_eq!(v["caller_id"], "5491100000000");
        assert_eq!(v["time_zone"], "America/Argentina/Buenos_Aires");
        assert_eq!(v["window"], "08:30-20:00");
        assert_eq!(v["days"], "mon,tue,wed,thu,fri,sat");
        assert_eq!(v["priority"], 20);
        let rules: Vec<&str> = v["reschedule_rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(
            rules,
            vec![
                "busy:4:120:multiplied",
                "congestion:3:600:fixed",
                "failed:2:1800:fixed",
                "no_answer:2:600:fixed"
            ]
        );
        assert_eq!(v["do_not_call_numbers"], 2);

        // Edit changes only the flags given.
        e.ok(&[
            "campaign",
            "edit",
            "c2",
            "--ring-timeout",
            "40",
            "--queue",
            "q2",
        ]);
        let w = e.json(&["campaign", "show", "c2", "--json"]);
        assert_eq!(w["ring_timeout_s"], 40);
        assert_eq!(w["delivery"]["queue"], "q2");
        assert_eq!(
            w["delivery"]["context"], "agents",
            "--queue alone keeps the delivery context"
        );
        // --deliver-to queue goes back to the campaign's own context.
        e.ok(&["campaign", "edit", "c2", "--deliver-to", "queue"]);
        let w = e.json(&["campaign", "show", "c2", "--json"]);
        assert_eq!(w["delivery"]["own_context"], true);
        assert!(
            w["delivery"]["context"]
                .as_str()
                .unwrap()
                .starts_with("oml-campaign-"),
            "{w}"
        );
        assert_eq!(w["delivery"]["queue"], "q2");
        let err = e.fails(&["campaign", "edit", "c2", "--deliver-to", "agents"]);
        assert!(err.contains("CONTEXT,EXTEN"), "{err}");
        for k in [
            "mode",
            "window",
            "days",
            "time_zone",
            "priority",
            "reschedule_rules",
            "caller_id",
            "abandon_window",
        ] {
            assert_eq!(w[k], v[k], "{k} changed by an edit that did not name it");
        }
        // A bad edit changes nothing.
        let err = e.fails(&[
            "campaign",
            "edit",
            "c2",
            "--window",
            "20:00-08:00",
            "--priority",
            "1",
        ]);
        assert!(err.contains("time window"), "{err}");
        assert_eq!(
            e.json(&["campaign", "show", "c2", "--json"])["priority"],
            20
        );

        let list = e.json(&["campaign", "list", "--json"]);
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["c2", "c1"], "priority order");
    }
}

fn contacts_csv(e: &Env) -> String {
    e.file(
        "contacts.csv",
        "Nombre;Teléfono;Deuda\n\
         Ana;+54 (11) 4321-5678;120\n\
         Bea;011 4321-5679;30\n\
         Carla;12345;10\n\
         Dora;+54 11 4321 5678;5\n\
         Eva;5.49114E+12;1\n\
         Fede;555 0001;0\n\
         Gus;;0\n",
    )
}

#[tokio::test]
async fn import_reports_every_rejected_row() {
    for e in envs().await {
        base_config(&e);
        e.ok(&["campaign", "create", "sales"]);
        e.ok(&["dnc", "add", "5550001"]);
        let csv = contacts_csv(&e);
        let out = e.ok(&["campaign", "import", "sales", &csv]);
        assert!(out.contains("row 4: `12345`"), "{out}");
        assert!(
            out.contains("row 5: `+541143215678`: duplicate of row 2"),
            "{out}"
        );
        assert!(
            out.contains("row 7: `5550001`: on the do-not-call list"),
            "{out}"
        );
        assert!(out.contains("row 8: ``: invalid number"), "{out}");
        let report = std::fs::read_to_string(format!("{csv}.rejected.csv")).unwrap();
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], "row,phone,reason,detail");
        assert_eq!(lines.len(), 1 + 5, "{report}");
        assert!(
            lines[2].starts_with("5,+541143215678,duplicate_in_file,"),
            "{report}"
        );

        let s = e.store().await;
        let c = s.campaign_by_name("sales").await.unwrap().unwrap();
        let contacts = s.contacts_page(c.id, 0, 100).await.unwrap();
        let phones: Vec<&str> = contacts.iter().map(|c| c.phone.as_str()).collect();
        assert_eq!(phones, vec!["+541143215678", "01143215679"], "{}", e.label);
        let attrs: serde_json::Value = serde_json::from_str(&contacts[0].attributes).unwrap();
        assert_eq!(attrs["Nombre"], "Ana");
        assert_eq!(attrs["Deuda"], "120");

        // The same file again: everything is already in the campaign.
        let again = e.json(&[
            "campaign",
            "import",
            "sales",
            &csv,
            "--json",
            "--report",
            &e.dir.join("r2.csv").display().to_string(),
        ]);
        assert_eq!(again["rows"], 7);
        assert_eq!(again["imported"], 0);
        assert_eq!(again["already_in_campaign"], 2);
        assert_eq!(again["invalid"], 3);
        assert!(e.dir.join("r2.csv").exists());

        // A named phone column and a country code.
        let other = e.file("other.csv", "phone,mobile,name\n1,011 4444-5555,x\n");
        let out = e.json(&[
            "campaign",
            "import",
            "sales",
            &other,
            "--phone-column",
            "Mobile",
            "--default-country-code",
            "54",
            "--json",
        ]);
        assert_eq!(out["imported"], 1, "{out}");
        assert_eq!(out["phone_column"], "mobile");
        let v = e.json(&["campaign", "show", "sales", "--json"]);
        assert_eq!(v["contacts"]["total"], 3);
        assert_eq!(v["lists"].as_array().unwrap().len(), 3);
        assert_eq!(v["lists"][0]["rows_rejected"], 5);
    }
}

async fn contact_total(e: &Env) -> i64 {
    let s = e.store().await;
    let c = s.campaign_by_name("sales").await.unwrap().unwrap();
    let n = s
        .contact_counts(c.id)
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert!(s.contact_lists(c.id).await.unwrap().is_empty() || n > 0);
    n
}

#[tokio::test]
async fn bad_files_import_nothing() {
    for e in envs().await {
        base_config(&e);
        e.ok(&["campaign", "create", "sales"]);
        // Unreadable: missing, and a folder.
        let missing = e.dir.join("nope.csv").display().to_string();
        let err = e.fails(&["campaign", "import", "sales", &missing]);
        assert!(
            err.contains("cannot open") && err.contains("nope.csv"),
            "{err}"
        );
        let err = e.fails(&["campaign", "import", "sales", &e.dir.display().to_string()]);
        assert!(err.contains("nothing was imported"), "{err}");
        // No phone column.
        let f = e.file("nophone.csv", "name,city\nAna,Rosario\n");
        let err = e.fails(&["campaign", "import", "sales", &f]);
        assert!(
            err.contains("--phone-column") && err.contains("`city`"),
            "{err}"
        );
        // Malformed far into the file, after several batches went to the
        // database: the whole file is rolled back.
        let mut text = String::from("phone,name\n");
        for i in 0..12_000 {
            text.push_str(&format!("55{:08},n{i}\n", i));
        }
        text.push_str("5599999999,too,many,fields\n");
        let f = e.file("malformed.csv", &text);
        let err = e.fails(&["campaign", "import", "sales", &f]);
        assert!(
            err.contains("line 12002") && err.contains("nothing was imported"),
            "{err}"
        );
        // Invalid UTF-8.
        let f = e.dir.join("latin1.csv");
        std::fs::write(&f, b"phone,name\n5551234,Jos\xe9\n").unwrap();
        let err = e.fails(&["campaign", "import", "sales", &f.display().to_string()]);
        assert!(err.contains("UTF-8"), "{err}");
        assert_eq!(contact_total(&e).await, 0, "{}", e.label);
        let s = e.store().await;
        let c = s.campaign_by_name("sales").await.unwrap().unwrap();
        assert!(
            s.contact_lists(c.id).await.unwrap().is_empty(),
            "{}",
            e.label
        );
        assert!(!Path::new(&format!(
            "{}.rejected.csv",
            e.dir.join("malformed.csv").display()
        ))
        .exists());
        // Unknown campaign.
        let ok = e.file("ok.csv", "phone\n5551234\n");
        let err = e.fails(&["campaign", "import", "nope", &ok]);
        assert!(err.contains("campaign `nope` not found"), "{err}");
    }
}

#[tokio::test]
async fn do_not_call_commands() {
    for e in envs().await {
        base_config(&e);
        e.ok(&["campaign", "create", "sales"]);
        e.ok(&["dnc", "add", "555-0001", "(555) 0002"]);
        e.ok(&["dnc", "add", "5550003", "--campaign", "sales"]);
        let err = e.fails(&["dnc", "add", "12"]);
        assert!(err.contains("6 to 15"), "{err}");
        let err = e.fails(&["dnc", "add", "5550009", "--campaign", "nope"]);
        assert!(err.contains("campaign `nope` not found"), "{err}");
        let all = e.json(&["dnc", "list", "--json"]);
        assert_eq!(all.as_array().unwrap().len(), 3, "{}", e.label);
        let own = e.json(&["dnc", "list", "--campaign", "sales", "--json"]);
        assert_eq!(own.as_array().unwrap().len(), 1);
        assert_eq!(own[0]["phone"], "5550003");
        assert_eq!(own[0]["campaign"], "sales");
        // A headerless file, one number per line, with a bad line.
        let f = e.file("dnc.txt", "5550004\n5550005\nnot-a-number\n5550004\n");
        let out = e.ok(&["dnc", "import", &f]);
        assert!(
            out.contains("2 numbers added") && out.contains("row 3"),
            "{out}"
        );
        // A CSV with a header.
        let f = e.file("dnc.csv", "name,telefono\nx,5550006\n");
        e.ok(&["dnc", "import", &f, "--campaign", "sales"]);
        assert_eq!(
            e.json(&["dnc", "list", "--global", "--json"])
                .as_array()
                .unwrap()
                .len(),
            4
        );
        e.ok(&["dnc", "remove", "555 0001"]);
        let err = e.fails(&["dnc", "remove", "5550001"]);
        assert!(err.contains("not on the global"), "{err}");
        assert_eq!(
            e.json(&["dnc", "list", "--json"]).as_array().unwrap().len(),
            5
        );
    }
}

#[tokio::test]
async fn call_path_settings_are_checked_stored_and_shown() {
    for e in envs().await {
        base_config(&e);
        // Refused, naming the rule or the setting, and nothing stored.
        let err = e.fails(&["campaign", "create", "c1", "--recording", "all"]);
        assert!(
            err.contains("abandon message") && err.contains("FCC") && err.contains("64.1200(a)(7)"),
            "{err}"
        );
        let err = e.fails(&[
            "campaign",
            "create",
            "c1",
            "--abandon-window",
            "uk",
            "--machine",
            "hangup",
        ]);
        assert!(err.contains("Ofcom"), "{err}");
        let err = e.fails(&[
            "campaign",
            "create",
            "c1",
            "--machine",
            "message",
            "--abandon-message",
            "custom/a",
        ]);
        assert!(err.contains("--machine-message"), "{err}");
        let err = e.fails(&[
            "campaign",
            "create",
            "c1",
            "--abandon-message",
            "../../etc/passwd",
        ]);
        assert!(err.contains("sounds folder"), "{err}");
        let err = e.fails(&["campaign", "create", "c1", "--amd", "greeting=5"]);
        assert!(err.contains("--amd") && err.contains("greeting"), "{err}");
        assert!(e
            .json(&["campaign", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty());

        // Stored with the campaign and shown.
        let out = e.ok(&[
            "campaign",
            "create",
            "c1",
            "--machine",
            "message",
            "--machine-message",
            "custom/machine",
            "--amd",
            "greeting=2000",
            "--recording",
            "all",
            "--recording-format",
            "gsm",
            "--welcome-message",
            "custom/hello",
            "--abandon-message",
            "custom/abandon",
        ]);
        assert!(!out.contains("Warning"), "{out}");
        let show = e.ok(&["campaign", "show", "c1"]);
        for want in [
            "AMD(2500,2000,800,5000,100,50,2,256,5000), leave custom/machine",
            "all answered calls (gsm)",
            "custom/hello",
            "abandon message   custom/abandon",
        ] {
            assert!(show.contains(want), "[{}] {want}: {show}", e.label);
        }
        // An edit that would break the rule is refused and changes nothing.
        let err = e.fails(&[
            "campaign",
            "edit",
            "c1",
            "--abandon-message",
            "",
            "--rename",
            "c2",
        ]);
        assert!(err.contains("abandon message"), "{err}");
        let show = e.ok(&["campaign", "show", "c1"]);
        assert!(show.contains("custom/abandon"), "{show}");
        // Preview campaigns abandon nothing; hangup drops the machine message.
        e.ok(&[
            "campaign",
            "edit",
            "c1",
            "--mode",
            "preview",
            "--abandon-message",
            "",
        ]);
        e.ok(&["campaign", "edit", "c1", "--machine", "hangup"]);
        let show = e.ok(&["campaign", "show", "c1"]);
        assert!(
            show.contains("), hang up") && !show.contains("custom/machine"),
            "{show}"
        );
        // A campaign created without settings says in `show` which rule it breaks.
        e.ok(&["campaign", "create", "plain"]);
        let show = e.ok(&["campaign", "show", "plain"]);
        assert!(
            show.contains("abandon message   none: the FCC rule"),
            "{show}"
        );
    }
}
