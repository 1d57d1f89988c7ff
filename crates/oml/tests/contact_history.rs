//! `oml campaign contacts` and `oml contact show` as the real binary, on
//! SQLite and PostgreSQL: every contact listed across pages, the state
//! filter and its refusal, a phone typed in its national form found in
//! every campaign with each attempt's outcome, cause, server and node.

mod common;

use oml_store::dialing::{AttemptResult, DialingWrite, NewAttempt};
use oml_store::{Location, OpenMode, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

struct Env {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    url: Option<String>,
    label: &'static str,
}

impl Env {
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = common::oml(&self.data());
        if let Some(u) = &self.url {
            c.env("OML_DATABASE_URL", u);
        }
        c.env("OML_AMI_SECRET", "ami-secret")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "[{}] oml {args:?}: {}",
            self.label,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "[{}] oml {args:?} passed",
            self.label
        );
        String::from_utf8(out.stderr).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    async fn store(&self) -> Store {
        let loc = Location::from_args(&self.data(), self.url.as_deref());
        Store::open(&loc, OpenMode::Existing).await.unwrap()
    }
}

/// An installation with default country 54, a server, a trunk and the
/// campaigns `sales` (`n` contacts `011 4000-0000`...) and `retention`
/// (the first of them), on every backend.
async fn envs(n: usize) -> Vec<Env> {
    let mut urls = vec![(None, "sqlite")];
    match oml_store::testing::fresh_postgres_database().await {
        Some(u) => urls.push((Some(u), "postgresql")),
        None => {
            eprintln!("SKIPPED: PostgreSQL half of this test (OML_TEST_DATABASE_URL is not set)")
        }
    }
    let mut out = Vec::new();
    for (url, label) in urls {
        let tmp = tempfile::tempdir().unwrap();
        let e = Env {
            dir: tmp.path().to_path_buf(),
            _tmp: tmp,
            url,
            label,
        };
        let pw = write(&e.dir, "pw", "a-long-password-1\n");
        e.ok(&[
            "init",
            "--admin-password-file",
            &pw,
            "--default-country",
            "54",
        ]);
        e.ok(&[
            "asterisk",
            "add",
            "pbx1",
            "--host",
            "127.0.0.1",
            "--user",
            "oml",
        ]);
        e.ok(&["trunk", "add", "carrier", "--server", "pbx1"]);
        let rows: String = (0..n)
            .map(|i| format!("011 4{:03}-{i:04},Client {i}\n", i % 1000))
            .collect();
        let csv = write(&e.dir, "list.csv", &format!("telefono,nombre\n{rows}"));
        let first = write(&e.dir, "first.csv", "telefono\n011 4000-0000\n");
        for (campaign, file) in [("sales", &csv), ("retention", &first)] {
            e.ok(&["campaign", "create", campaign]);
            e.ok(&[
                "campaign",
                "import",
                campaign,
                file,
                "--phone-column",
                "telefono",
            ]);
        }
        out.push(e);
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Places one attempt to each of the first three contacts of `sales`: the
/// first ends busy (cause 17), the second connected, the third stays open.
async fn dial_three(s: &Store) {
    let c = s.campaign_by_name("sales").await.unwrap().unwrap();
    let server = s.servers().await.unwrap()[0].id;
    let now = oml_store::now_ms();
    let due = s.claim_due_contacts(c.id, "node-a", now, 3).await.unwrap();
    for (i, d) in due.iter().enumerate() {
        let mut writes = vec![DialingWrite::Begin(NewAttempt {
            campaign_id: c.id,
            contact_id: d.id,
            attempt_no: 1,
            server_id: Some(server),
            channel_id: format!("oml-{}-{}-1", c.id, d.id),
            placed_at: now,
            node: "node-a".into(),
        })];
        let (outcome, cause, state) = match i {
            0 => ("busy", 17, "pending"),
            1 => ("connected", 16, "done"),
            _ => ("", 0, ""),
        };
        if !outcome.is_empty() {
            let answered = (outcome == "connected").then_some(now + 4_000);
            writes.push(DialingWrite::End(AttemptResult {
                contact_id: d.id,
                attempt_no: 1,
                answered_at: answered,
                connected_at: answered.map(|a| a + 500),
                ended_at: now + 30_000,
                outcome: outcome.into(),
                hangup_cause: Some(cause),
                agent: (outcome == "connected").then(|| "Ana Pérez".to_string()),
                contact_state: state.into(),
                next_attempt_at: now + 3_600_000,
            }));
        }
        assert!(s
            .apply_dialing_writes(&writes)
            .await
            .unwrap()
            .iter()
            .all(|ok| *ok));
    }
}

#[tokio::test]
async fn contacts_and_their_history_from_the_command_line() {
    // More contacts than one page of `campaign contacts` (1000).
    for e in envs(1500).await {
        dial_three(&e.store().await).await;

        let all = e.json(&["campaign", "contacts", "sales", "--json"]);
        let all = all.as_array().unwrap();
        assert_eq!(all.len(), 1500, "{}", e.label);
        let mut ids: Vec<i64> = all.iter().map(|c| c["id"].as_i64().unwrap()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 1500, "every contact once, in order");
        assert_eq!(all[0]["phone"], "+541140000000");
        assert_eq!(
            (
                &all[0]["state"],
                &all[0]["attempts"],
                &all[0]["last_outcome"]
            ),
            (
                &Value::from("pending"),
                &Value::from(1),
                &Value::from("busy")
            )
        );
        assert!(all[0]["next_attempt_at"].as_i64().unwrap() > oml_store::now_ms());

        let text = e.ok(&["campaign", "contacts", "sales", "--state", "dialing"]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ID"), "{text}");
        assert_eq!(lines.len(), 3, "heading, one contact, total: {text}");
        assert!(lines[1].contains("+541140020002") && lines[1].contains("dialing"));
        assert_eq!(lines[2], "1 contact(s) of `sales` in state dialing.");

        let err = e.fails(&["campaign", "contacts", "sales", "--state", "called"]);
        assert!(
            err.contains("`called` is not a contact state: use one of pending, reserved, hopper, dialing, done, exhausted, dnc"),
            "{err}"
        );
        let err = e.fails(&["campaign", "contacts", "nope"]);
        assert!(err.contains("campaign `nope` not found"), "{err}");

        // The phone as people type it, in both campaigns, with the attempt.
        let text = e.ok(&["contact", "show", "011 4000-0000"]);
        assert!(
            text.contains("of campaign `retention` (list first.csv)"),
            "{text}"
        );
        assert!(
            text.contains("of campaign `sales` (list list.csv)"),
            "{text}"
        );
        assert!(text.contains("Never dialed."), "{text}");
        assert!(
            text.contains(r#"attributes:   {"nombre":"Client 0"}"#),
            "{text}"
        );
        let attempt = text.lines().last().unwrap();
        for part in ["busy", " 17 ", "pbx1", "node-a", "+30.0 s"] {
            assert!(attempt.contains(part), "{part} in {attempt}");
        }
        assert!(attempt.ends_with("node-a       -"), "no agent: {attempt}");

        let found = e.json(&["contact", "show", "+54 11 4001-0001", "--json"]);
        let h = &found[0]["history"][0];
        assert_eq!(found.as_array().unwrap().len(), 1);
        assert_eq!(
            (&h["outcome"], &h["hangup_cause"]),
            (&Value::from("connected"), &Value::from(16))
        );
        assert!(h["answered_at"].as_i64() < h["connected_at"].as_i64());
        assert_eq!(h["agent"], "Ana Pérez", "the agent who took the call");
        assert_eq!(found[0]["attempts"], 1);
        let text = e.ok(&["contact", "show", "+54 11 4001-0001"]);
        assert!(
            text.lines().last().unwrap().ends_with(" Ana Pérez"),
            "{text}"
        );
        let id = found[0]["id"].as_i64().unwrap().to_string();
        let by_id = e.json(&["contact", "show", &id, "--json"]);
        assert_eq!(by_id[0]["phone"], "+541140010001");

        let err = e.fails(&["contact", "show", "011 4999-9999"]);
        assert!(
            err.contains("no contact has the phone +541149999999"),
            "{err}"
        );
        let err = e.fails(&["contact", "show", "call me"]);
        assert!(
            err.contains("neither a contact id nor a phone number"),
            "{err}"
        );
    }
}
