//! Answering machines and the abandon message on a real Asterisk (issue 18):
//! the rendered dialplan runs Asterisk's own `AMD()` on the bench's
//! customers, who behave like a person (a 0.5 s hello, then silence) or a
//! machine (a 4 s greeting) — 8 kHz WAV files `rendered up` writes. `oml
//! dialer run` must store `machine` for the machines and connect the people
//! to the agent of campaign `talk`; campaign `drop`'s only agent never
//! answers, so its people hear the abandon message (`UserEvent`
//! `OmlAbandonMessage`, then `Playback`) and are stored
//! `abandoned_message_played`. The test measures when the message starts
//! after AMD()'s verdict and after the customer's greeting ended, and
//! asserts the FCC's 2 s after the greeting (the engine's `Redirect` to the
//! `abandon` extension, core/abandon_deadline.rs).
//!
//! Prints SKIPPED when the bench is not up (`OML_TEST_ASTERISK_*` unset).

mod common;
mod rendered_bench;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use oml_ami::{AmiClient, ClientConfig, Event, Message};
use oml_store::dialplan::{ABANDON_MESSAGE_EVENT, AMD_EVENT};
use rendered_bench::{inventory, json, oml, spawn_dialer, Rendered};
use secrecy::SecretString;

/// The person's hello: the bench's greeting file's voice (greetings.py).
const HELLO_S: f64 = 0.5;

/// What the listener saw of one call (times as received, here).
#[derive(Default, Debug)]
struct CallSeen {
    number: String,
    answered: Option<Instant>,
    amd: Option<(String, Instant)>,
    /// AMD()'s `AMDCAUSE` (`HUMAN-<silence ms>-<after-greeting silence>`).
    amd_cause: String,
    abandon_message: Option<Instant>,
    playback: Option<(String, Instant)>,
    agent: bool,
    /// The names of the events about the call, in order (printed for the
    /// abandoned calls: docs/pbxsim-fidelity.md compares them).
    names: Vec<String>,
}

#[derive(Default, Debug)]
struct Seen {
    /// By the dialer's channel id (every leg's Linkedid).
    calls: BTreeMap<String, CallSeen>,
}

impl Seen {
    fn on(&mut self, m: &Message, at: Instant) {
        let Some(id) = m.get("Linkedid").filter(|l| l.starts_with("oml-")) else {
            return;
        };
        let channel = m.get("Channel").unwrap_or("");
        // The dialer's own Local channel (;1 runs the campaign's context).
        let own = channel.contains("@from-oml-") && channel.ends_with(";1");
        let c = self.calls.entry(id.to_string()).or_default();
        let name = m.event_name().unwrap_or("");
        if !matches!(
            name,
            "Newexten"
                | "VarSet"
                | "DialState"
                | "NewConnectedLine"
                | "NewCallerid"
                | "LocalBridge"
                | "NewAccountCode"
        ) {
            let what = match name {
                "UserEvent" => format!("UserEvent({})", m.get("UserEvent").unwrap_or("")),
                "Hangup" => format!(
                    "Hangup({} {})",
                    channel.rsplit(';').next().unwrap_or(""),
                    m.get("Cause").unwrap_or("")
                ),
                _ => name.to_string(),
            };
            c.names.push(what);
        }
        match name {
            "Newchannel" if own => {
                let rest = channel.strip_prefix("Local/").unwrap_or("");
                c.number = rest.split('@').next().unwrap_or("").to_string();
            }
            "Newstate" if own && m.get("ChannelState") == Some("6") => {
                c.answered.get_or_insert(at);
            }
            "UserEvent" if m.get("UserEvent") == Some(AMD_EVENT) => {
                c.amd = Some((m.get("Status").unwrap_or("").trim().to_string(), at));
                c.amd_cause = m.get("Cause").unwrap_or("").trim().to_string();
            }
            "UserEvent" if m.get("UserEvent") == Some(ABANDON_MESSAGE_EVENT) => {
                c.abandon_message.get_or_insert(at);
            }
            "Newexten" if own && m.get("Application") == Some("Playback") => {
                let data = m.get("AppData").unwrap_or("").to_string();
                if c.abandon_message.is_some() && c.playback.is_none() {
                    c.playback = Some((data, at));
                }
            }
            "AgentConnect" => c.agent = true,
            _ => {}
        }
    }
}

fn outcomes(data: &std::path::Path, campaign: &str) -> BTreeMap<String, i64> {
    let s = json(data, &["campaign", "stats", campaign, "--json"]);
    serde_json::from_value(s["outcomes"].clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amd_tells_machines_from_people_and_the_abandon_message_plays() {
    if std::env::var("OML_TEST_ASTERISK_HOST").map_or(true, |v| v.is_empty()) {
        eprintln!(
            "SKIPPED: amd_tells_machines_from_people_and_the_abandon_message_plays: \
             OML_TEST_ASTERISK_HOST not set (run .ci/asterisk-bench.sh up and source its env)"
        );
        return;
    }
    let bench = Rendered::up();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let inv = tmp.path().join("inventory");
    std::fs::write(&inv, inventory()).unwrap();
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "a fine admin password\n").unwrap();
    oml(
        &data,
        &["init", "--admin-password-file", pw.to_str().unwrap()],
        &[],
    );
    let port = bench.port.to_string();
    oml(
        &data,
        &[
            "asterisk",
            "add",
            "bench",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--user",
            "omltest",
        ],
        &[("OML_AMI_SECRET", &bench.secret)],
    );
    oml(
        &data,
        &["trunk", "add", "dialer", "--max-channels", "10"],
        &[],
    );
    oml(
        &data,
        &[
            "trunk",
            "add",
            "carrier",
            "--dial-string",
            "Local/${num}@oml-bench-customers/n",
            "--max-channels",
            "10",
        ],
        &[],
    );
    for (name, queue) in [("talk", "talk-q"), ("drop", "drop-q")] {
        oml(
            &data,
            &[
                "campaign",
                "create",
                name,
                "--queue",
                queue,
                "--trunk",
                "dialer",
                "--mode",
                "progressive",
                "--window",
                "00:00-24:00",
                "--days",
                "all",
                "--ring-timeout",
                "15",
                "--machine",
                "hangup",
                "--abandon-message",
                "vm-goodbye",
            ],
            &[],
        );
    }
    let root = bench.root.to_str().unwrap();
    let inv_s = inv.to_str().unwrap();
    oml(
        &data,
        &["render", "--inventory", inv_s, "--root", root],
        &[],
    );
    oml(
        &data,
        &["regenerate-asterisk", "--inventory", inv_s, "--root", root],
        &[],
    );

    let ami = AmiClient::connect(ClientConfig::new(
        format!("127.0.0.1:{port}"),
        "omltest",
        SecretString::from(bench.secret.clone()),
    ))
    .await
    .expect("AMI login to the rendered bench");
    let mut events = ami.events();
    // talk's agent answers at once; drop's agent never answers.
    for (queue, iface) in [
        ("talk-q", "Local/agentt@oml-bench-agents/n"),
        ("drop-q", "Local/agentd@oml-bench-ringing/n"),
    ] {
        let r = ami
            .send(
                Message::action("QueueAdd")
                    .with("Queue", queue)
                    .with("Interface", iface),
            )
            .await
            .unwrap();
        assert!(r.is_success(), "QueueAdd {queue}: {:?}", r.message);
    }
    // Last digit 5: a person; 6: a machine.
    let lists = [
        (
            "talk",
            vec![
                "+54114051005",
                "+54114051016",
                "+54114051025",
                "+54114051036",
            ],
        ),
        ("drop", vec!["+54114052005", "+54114052015"]),
    ];
    for (name, phones) in &lists {
        let f = tmp.path().join(format!("{name}.csv"));
        std::fs::write(&f, format!("phone\n{}\n", phones.join("\n"))).unwrap();
        oml(
            &data,
            &["campaign", "import", name, f.to_str().unwrap()],
            &[],
        );
        oml(&data, &["campaign", "start", name], &[]);
    }
    oml(&data, &["dialer", "start"], &[]);

    let mut dialer = spawn_dialer(&data);
    let mut seen = Seen::default();
    let deadline = Instant::now() + Duration::from_secs(55);
    let mut last_poll = Instant::now();
    let finished = loop {
        match tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
            Ok(Ok(Event::Ami(m))) => seen.on(&m, Instant::now()),
            Ok(Ok(_)) | Err(_) => {}
            Ok(Err(e)) => panic!("listener lost events: {e}"),
        }
        if last_poll.elapsed() > Duration::from_millis(700) {
            last_poll = Instant::now();
            // Every attempt stored (no rule retries these outcomes).
            let ended = |n: &str| outcomes(&data, n).values().sum::<i64>();
            let done = ended("talk") == 4 && ended("drop") == 2;
            if done {
                break true;
            }
        }
        if Instant::now() > deadline {
            break false;
        }
    };
    let _ = dialer.kill();
    let _ = dialer.wait();
    let (talk, drop) = (outcomes(&data, "talk"), outcomes(&data, "drop"));
    assert!(
        finished,
        "campaigns did not finish: talk {talk:?} drop {drop:?}\n{seen:#?}"
    );
    let by_number: BTreeMap<&str, &CallSeen> = seen
        .calls
        .values()
        .filter(|c| !c.number.is_empty())
        .map(|c| (c.number.as_str(), c))
        .collect();
    // AMD() judged every call as the customer behaved.
    for (_, phones) in &lists {
        for p in phones {
            let c = by_number
                .get(p)
                .unwrap_or_else(|| panic!("{p} not seen: {seen:#?}"));
            let want = if p.ends_with('6') { "MACHINE" } else { "HUMAN" };
            assert_eq!(
                c.amd.as_ref().map(|a| a.0.as_str()),
                Some(want),
                "{p}: {c:?}"
            );
        }
    }
    // oml stored machines as machines and connected the people.
    assert_eq!(
        talk,
        BTreeMap::from([("connected".into(), 2), ("machine".into(), 2)]),
        "talk"
    );
    for p in &lists[0].1 {
        assert_eq!(
            by_number[p].agent,
            p.ends_with('5'),
            "{p}: {:?}",
            by_number[p]
        );
    }
    // drop's people heard the abandon message, played by Playback.
    assert_eq!(
        drop,
        BTreeMap::from([("abandoned_message_played".into(), 2)]),
        "drop"
    );
    let mut fcc = Vec::new();
    for p in &lists[1].1 {
        let c = by_number[p];
        let answered = c.answered.expect("answered");
        let msg = c
            .abandon_message
            .unwrap_or_else(|| panic!("{p}: no {ABANDON_MESSAGE_EVENT}: {c:?}"));
        let (sound, played) = c.playback.clone().expect("Playback after the event");
        assert_eq!(sound, "vm-goodbye", "{p}");
        let verdict = c.amd.as_ref().unwrap().1;
        let s = |a: Instant, b: Instant| a.duration_since(b).as_secs_f64();
        // The FCC's figure: from the end of the person's hello (the answer
        // of the dialer's ;1 channel + the hello's 0.5 s) to the message's
        // start (its UserEvent, sent just before Playback), both as this
        // listener received them.
        let after_greeting = s(msg, answered) - HELLO_S;
        eprintln!(
            "{p}: AMD verdict {:.3} s after the answer ({}); abandon message {:.3} s after the verdict, {after_greeting:.3} s after the greeting ended (Playback {:.3} s)",
            s(verdict, answered),
            c.amd_cause,
            s(msg, verdict),
            s(played, answered) - HELLO_S
        );
        eprintln!("{p}: events {}", c.names.join(" "));
        fcc.push((after_greeting, s(played, answered) - HELLO_S));
    }
    // The engine's Redirect (core/abandon_deadline.rs) starts the message
    // before the FCC's 2 s after the greeting, and not before the abandon
    // seconds minus the after-greeting silence and the margin (a message
    // sent much earlier would drop calls an agent could still take).
    for (msg, played) in &fcc {
        assert!(
            *msg <= 2.0 && *played <= 2.0,
            "abandon message {msg:.3} s (Playback {played:.3} s) after the greeting ended: {fcc:?}"
        );
        assert!(
            *msg >= 1.0,
            "abandon message {msg:.3} s after the greeting: earlier than the deadline allows: {fcc:?}"
        );
    }
}
