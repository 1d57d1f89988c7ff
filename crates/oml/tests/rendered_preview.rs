//! Preview calls agent-first on a real Asterisk 22 (issue 19 item 4), through
//! the dialplan `oml render` writes (its `oml-preview` context) on the
//! rendered bench (`.ci/asterisk-bench.sh rendered up`): `oml dialer run`
//! takes the call an agent asked for, Originates the agent's interface (a
//! Local channel into the bench's `oml-bench-agents`, which answers at
//! once), and once the agent answered the customer is dialed through the
//! campaign's trunk (`from-oml` → the bench's carrier). An AMI listener of
//! the test's own checks the order at the PBX: the agent's channel is up
//! before any customer channel exists. Outcomes: the customer answers →
//! `connected` (answered = connected, never abandoned); a busy customer →
//! `busy`; an agent whose phone only rings (`oml-bench-ringing`) →
//! `agent_no_answer`, nobody dialed, the contact due again.
//!
//! Prints SKIPPED when the bench is not up (`OML_TEST_ASTERISK_*` unset).

mod common;
mod rendered_bench;

use std::time::{Duration, Instant};

use oml_ami::{AmiClient, ClientConfig, Event};
use oml_store::dialing::AttemptRow;
use oml_store::{Location, NewUser, OpenMode, Role, Store};
use rendered_bench::{inventory, oml, spawn_dialer, Rendered};
use secrecy::SecretString;

/// An event of a call whose id is the dialer's (`oml-...`).
#[derive(Debug, Clone)]
struct Seen {
    event: String,
    uniqueid: String,
    linkedid: String,
    state: String,
}

async fn ended(s: &Store, campaign: i64, contact: i64, limit: Duration) -> Option<AttemptRow> {
    let until = Instant::now() + limit;
    loop {
        let rows = s.campaign_attempts(campaign).await.unwrap();
        if let Some(r) = rows
            .into_iter()
            .find(|r| r.contact_id == contact && r.outcome.is_some())
        {
            return Some(r);
        }
        if Instant::now() >= until {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_call_rings_the_agent_then_the_customer_on_asterisk() {
    if std::env::var("OML_TEST_ASTERISK_HOST").map_or(true, |v| v.is_empty()) {
        eprintln!(
            "SKIPPED: a_preview_call_rings_the_agent_then_the_customer_on_asterisk: \
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
    oml(
        &data,
        &[
            "campaign",
            "create",
            "look",
            "--queue",
            "look-q",
            "--trunk",
            "dialer",
            "--mode",
            "preview",
            "--window",
            "00:00-24:00",
            "--days",
            "all",
            "--ring-timeout",
            "15",
        ],
        &[],
    );
    // The number's last digit picks the bench customer: 1 answers after
    // 1 s and talks 4 s, 2 is busy.
    let csv = tmp.path().join("look.csv");
    std::fs::write(
        &csv,
        "phone,name\n+541140900001,Ana Answers\n+541140900012,Bea Busy\n+541140900021,Ciro\n",
    )
    .unwrap();
    oml(
        &data,
        &["campaign", "import", "look", csv.to_str().unwrap()],
        &[],
    );
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
    oml(&data, &["campaign", "start", "look"], &[]);
    oml(&data, &["dialer", "start"], &[]);

    let ami = AmiClient::connect(ClientConfig::new(
        format!("127.0.0.1:{port}"),
        "omltest",
        SecretString::from(bench.secret.clone()),
    ))
    .await
    .expect("AMI login to the rendered bench");
    let mut events = ami.events();
    let store = Store::open(&Location::DataDir(data.clone()), OpenMode::Existing)
        .await
        .unwrap();
    let campaign = store.campaign_by_name("look").await.unwrap().unwrap().id;
    let pwd = SecretString::from("agent-password-1".to_string());
    let mut agents = Vec::new();
    for name in ["ana", "bob"] {
        let u = store
            .create_user(&NewUser {
                username: name,
                password: &pwd,
                role: Role::Agent,
                must_change_password: false,
            })
            .await
            .unwrap();
        agents.push(u.id);
    }
    let mut dialer = spawn_dialer(&data);

    let mut seen: Vec<Seen> = Vec::new();
    let mut results = Vec::new();
    for (agent, interface, phone) in [
        (agents[0], "Local/ana@oml-bench-agents/n", "+541140900001"),
        (agents[0], "Local/ana@oml-bench-agents/n", "+541140900012"),
        (agents[1], "Local/bob@oml-bench-ringing/n", "+541140900021"),
    ] {
        let now = oml_store::now_ms();
        let c = store
            .reserve_preview_contact(campaign, agent, now, 120_000)
            .await
            .unwrap()
            .expect("a contact due");
        assert_eq!(c.phone, phone);
        assert!(store
            .request_preview_call(c.id, agent, interface, now, 30_000)
            .await
            .unwrap());
        // Listen while the call goes on.
        let until = Instant::now() + Duration::from_secs(30);
        let row = loop {
            match tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
                Ok(Ok(Event::Ami(m))) => {
                    let get = |k: &str| m.get(k).unwrap_or("").to_string();
                    let ours = get("Linkedid").ends_with("-p")
                        || get("Uniqueid").starts_with("oml-") && get("Uniqueid").contains("-p");
                    let kind = ["Newchannel", "Newstate", "Hangup", "OriginateResponse"]
                        .contains(&m.event_name().unwrap_or(""));
                    if ours && kind {
                        seen.push(Seen {
                            event: m.event_name().unwrap_or("").to_string(),
                            uniqueid: get("Uniqueid"),
                            linkedid: get("Linkedid"),
                            state: get("ChannelState"),
                        });
                    }
                }
                Ok(Ok(_)) | Err(_) => {}
                Ok(Err(e)) => panic!("listener lost events: {e}"),
            }
            if let Some(r) = ended(&store, campaign, c.id, Duration::ZERO).await {
                break Some(r);
            }
            if Instant::now() > until {
                break None;
            }
        };
        results.push((c.id, row));
    }
    let _ = dialer.kill();
    let _ = dialer.wait();

    let outcome = |i: usize| {
        results[i]
            .1
            .as_ref()
            .unwrap_or_else(|| panic!("call {i} never ended: {seen:?}"))
    };
    let first = outcome(0);
    assert_eq!(first.outcome.as_deref(), Some("connected"), "{first:?}");
    assert!(first.answered_at.is_some() && first.answered_at == first.connected_at);
    let key = first.channel_id.clone();
    assert!(key.ends_with("-p"), "{key}");
    // At the PBX: the agent's channel (the Originate's, its id the
    // attempt's) was up before any customer channel of the call existed.
    let agent_up = seen
        .iter()
        .position(|e| e.event == "Newstate" && e.uniqueid == key && e.state == "6")
        .unwrap_or_else(|| panic!("the agent's channel never answered: {seen:?}"));
    let customer_new = seen
        .iter()
        .position(|e| {
            e.event == "Newchannel" && e.linkedid == key && !e.uniqueid.starts_with(key.as_str())
        })
        .unwrap_or_else(|| panic!("no customer channel was created: {seen:?}"));
    assert!(agent_up < customer_new, "{seen:?}");
    let second = outcome(1);
    assert_eq!(second.outcome.as_deref(), Some("busy"), "{second:?}");
    let third = outcome(2);
    assert_eq!(
        third.outcome.as_deref(),
        Some("agent_no_answer"),
        "{third:?}"
    );
    assert_eq!(third.answered_at, None);
    // Nobody dialed Ciro: no customer channel of that call.
    assert!(!seen.iter().any(|e| e.event == "Newchannel"
        && e.linkedid == third.channel_id
        && !e.uniqueid.starts_with(third.channel_id.as_str())));
    let states = store.campaign_contact_states(campaign).await.unwrap();
    let ciro = states.iter().find(|c| c.id == results[2].0).unwrap();
    assert_eq!(ciro.state, "pending", "{ciro:?}");
    // What an administrator sees (docs/agents.md shows it).
    for (id, _) in &results {
        let shown = oml(&data, &["contact", "show", &id.to_string()], &[]);
        eprintln!("$ oml contact show {id}\n{shown}");
    }
}
