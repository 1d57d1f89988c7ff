//! The dialplan `oml render` writes and the engine agree (issue 15 item 3),
//! on a real Asterisk: `oml render` and `oml regenerate-asterisk` write into
//! the configuration folder of the bench's second Asterisk
//! (`.ci/asterisk-bench.sh rendered up`), `oml dialer run` dials two
//! campaigns through those files, and an AMI listener of the test's own
//! counts at the PBX which queue each call joined (and for which campaign,
//! by the `OMLCAMPID` the manager adds to every event) and which agent took
//! it. One campaign goes straight into its queue through its own rendered
//! context; the other to a context of the administrator's
//! (`--deliver-to`) that puts it in the campaign's `--queue`. The engine
//! must count only the agents of each campaign's queue.
//!
//! Prints SKIPPED when the bench is not up (`OML_TEST_ASTERISK_*` unset).

mod common;
mod rendered_bench;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use oml_ami::{AmiClient, ClientConfig, Event, Message};
use rendered_bench::{inventory, json, oml, spawn_dialer, Rendered};
use secrecy::SecretString;

/// What the listener saw, per queue.
#[derive(Default, Debug)]
struct Seen {
    /// Queue -> the OMLCAMPID of each caller that joined it.
    joined: BTreeMap<String, Vec<String>>,
    /// Queue -> the member interface of each AgentConnect.
    connected: BTreeMap<String, Vec<String>>,
    /// Number -> how many times the dialer's Local channel was created.
    dialed: BTreeMap<String, usize>,
    /// The File of each OmlRecording UserEvent (issue 18).
    recordings: Vec<String>,
}

impl Seen {
    fn on(&mut self, m: &Message) {
        // `ChanVariable: OMLCAMPID=7` (manager.conf's channelvars).
        let var = |k: &str| {
            m.get_all("ChanVariable")
                .find_map(|v| v.strip_prefix(&format!("{k}=")))
                .unwrap_or("")
                .to_string()
        };
        let queue = m.get("Queue").unwrap_or("").to_string();
        match m.event_name().unwrap_or("") {
            "QueueCallerJoin" => self.joined.entry(queue).or_default().push(var("OMLCAMPID")),
            "AgentConnect" => self
                .connected
                .entry(queue)
                .or_default()
                .push(m.get("Interface").unwrap_or("").to_string()),
            "UserEvent" if m.get("UserEvent") == Some(oml_store::dialplan::RECORDING_EVENT) => self
                .recordings
                .push(m.get("File").unwrap_or("").trim().to_string()),
            "Newchannel" => {
                let ch = m.get("Channel").unwrap_or("");
                if let Some(rest) = ch.strip_prefix("Local/") {
                    if rest.contains("@from-oml-") && rest.ends_with(";1") {
                        let number = rest.split('@').next().unwrap_or("").to_string();
                        *self.dialed.entry(number).or_default() += 1;
                    }
                }
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_reach_each_campaigns_queue_through_the_rendered_dialplan() {
    if std::env::var("OML_TEST_ASTERISK_HOST").map_or(true, |v| v.is_empty()) {
        eprintln!(
            "SKIPPED: calls_reach_each_campaigns_queue_through_the_rendered_dialplan: \
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
    // The recordings folder is oml.toml's paths.recordings_dir, rendered
    // into MixMonitor: here a folder of the bench's chroot other than
    // Asterisk's monitor folder (MixMonitor creates it).
    let bench_dir = Path::new("/").join(bench.root.file_name().unwrap());
    let toml = data.join("oml.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replace(
        "recordings_dir = \"recordings\"",
        &format!(
            "recordings_dir = \"{}\"",
            bench_dir.join("spool/oml-recordings").display()
        ),
    );
    std::fs::write(&toml, text).unwrap();
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
    // The dialer's trunk loops through the rendered from-oml; the carrier
    // trunk reaches the bench's simulated customers.
    oml(
        &data,
        &["trunk", "add", "dialer", "--max-channels", "10"],
        &[],
    );
    let carrier = "Local/${num}@oml-bench-customers/n";
    oml(
        &data,
        &[
            "trunk",
            "add",
            "carrier",
            "--dial-string",
            carrier,
            "--max-channels",
            "10",
        ],
        &[],
    );
    let common_flags = [
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
    ];
    // alpha records every call (issue 18); its abandon message is one
    // Asterisk has.
    let mut alpha = vec!["campaign", "create", "alpha", "--queue", "alpha-q"];
    alpha.extend(["--recording", "all", "--abandon-message", "vm-goodbye"]);
    alpha.extend(common_flags);
    oml(&data, &alpha, &[]);
    let mut beta = vec!["campaign", "create", "beta", "--queue", "beta-q"];
    beta.extend(["--deliver-to", "oml-bench-ivr,s"]);
    beta.extend(common_flags);
    oml(&data, &beta, &[]);
    // The administrator's own dialplan: the delivery context of `beta`.
    let etc = bench.root.join("etc/asterisk");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("oml_extensions_custom.conf"),
        "[oml-bench-ivr]\nexten => s,1,NoOp(ivr)\n same => n,Queue(beta-q,,,,30)\n same => n,Hangup()\n",
    )
    .unwrap();
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

    // The listener: logs the agents in (alpha-q: two, beta-q: one).
    let ami = AmiClient::connect(ClientConfig::new(
        format!("127.0.0.1:{port}"),
        "omltest",
        SecretString::from(bench.secret.clone()),
    ))
    .await
    .expect("AMI login to the rendered bench");
    let mut events = ami.events();
    for (queue, agent) in [
        ("alpha-q", "agenta"),
        ("alpha-q", "agentb"),
        ("beta-q", "agentc"),
    ] {
        let r = ami
            .send(
                Message::action("QueueAdd")
                    .with("Queue", queue)
                    .with("Interface", format!("Local/{agent}@oml-bench-agents/n")),
            )
            .await
            .unwrap();
        assert!(
            r.is_success(),
            "QueueAdd {queue}: {:?} (did the rendered oml_queues.conf load?)",
            r.message
        );
    }

    // Numbers ending in 1: the customer answers after 1 s and talks 4 s.
    for (name, c, n) in [("alpha", 1, 4), ("beta", 2, 2)] {
        let f = tmp.path().join(format!("{name}.csv"));
        let rows: String = (0..n).map(|i| format!("+541140{c}{i}0001\n")).collect();
        std::fs::write(&f, format!("phone\n{rows}")).unwrap();
        oml(
            &data,
            &["campaign", "import", name, f.to_str().unwrap()],
            &[],
        );
    }
    oml(&data, &["campaign", "start", "alpha"], &[]);
    oml(&data, &["campaign", "start", "beta"], &[]);
    oml(&data, &["dialer", "start"], &[]);

    // Another oml database's records on this Asterisk (issue 15 item 2):
    // one under its instance with a channel id this database uses too, one
    // older record (no instance) of an attempt this database never had.
    // This database's engine must leave both, and keep its own records
    // under its instance.
    let instance = oml_store::Store::open(
        &oml_store::Location::DataDir(data.clone()),
        oml_store::OpenMode::Existing,
    )
    .await
    .unwrap()
    .instance()
    .to_string();
    assert_eq!(instance.len(), 12, "the database's instance id: {instance}");
    let foreign = [
        ("OML/CALL/0123456789ab/oml-1-1-1", "ENDED"),
        ("OML/CALL/oml-99-1-1", "CAUSE"),
    ];
    for (family, key) in foreign {
        ami.db_put(family, key, "16").await.unwrap();
    }
    // The family (instance, or none) of every record of this database's
    // calls seen while they ran.
    let mut families: BTreeSet<String> = BTreeSet::new();
    let record_keys = |ami: &AmiClient| {
        let ami = ami.clone();
        async move {
            let r = ami
                .send(oml_ami::actions::db_get_tree("OML/CALL", None))
                .await
                .unwrap();
            r.events
                .iter()
                .filter_map(|e| e.get("Key").map(str::to_string))
                .collect::<Vec<_>>()
        }
    };

    let mut dialer = spawn_dialer(&data);
    let mut seen = Seen::default();
    let mut agents_counted: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last_poll = Instant::now();
    let finished = loop {
        match tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
            Ok(Ok(Event::Ami(m))) => seen.on(&m),
            Ok(Ok(_)) | Err(_) => {}
            Ok(Err(e)) => panic!("listener lost events: {e}"),
        }
        if last_poll.elapsed() > Duration::from_millis(500) {
            last_poll = Instant::now();
            for k in record_keys(&ami).await {
                // /OML/CALL/[<instance>/]oml-<campaign>-<contact>-<n>/<FIELD>
                let parts: Vec<&str> = k.trim_start_matches('/').split('/').collect();
                let (family, id) = match parts[..] {
                    [_, _, id, _] => ("(none)", id),
                    [_, _, i, id, _] => (i, id),
                    _ => continue,
                };
                let ours = ids.values().any(|c| id.starts_with(&format!("oml-{c}-")));
                if ours && (family, id) != ("0123456789ab", "oml-1-1-1") {
                    families.insert(family.to_string());
                }
            }
            let st = json(&data, &["dialer", "status", "--json"]);
            for c in st["live"]["campaigns"].as_array().into_iter().flatten() {
                if let (Some(n), Some(a)) = (c["name"].as_str(), c["agents_logged_in"].as_u64()) {
                    agents_counted.entry(n.to_string()).or_default().insert(a);
                    ids.insert(n.to_string(), c["id"].to_string());
                }
            }
            let done = ["alpha", "beta"]
                .iter()
                .all(|n| json(&data, &["campaign", "show", n, "--json"])["state"] == "finished");
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
    let stats = |n: &str| oml(&data, &["campaign", "stats", n], &[]);
    assert!(
        finished,
        "campaigns did not finish through the rendered dialplan: {seen:?}\n{}\n{}",
        stats("alpha"),
        stats("beta")
    );

    // This database's records were under its instance; the other
    // database's were left alone.
    assert_eq!(
        families,
        BTreeSet::from([instance.clone()]),
        "the families of this database's records"
    );
    let keys = record_keys(&ami).await;
    for (family, key) in foreign {
        assert!(
            keys.contains(&format!("/{family}/{key}")),
            "{family}/{key} deleted by this database's engine: {keys:?}"
        );
    }
    let (alpha_id, beta_id) = (ids["alpha"].clone(), ids["beta"].clone());
    // Every call joined its campaign's queue, marked with its campaign.
    assert_eq!(
        seen.joined.get("alpha-q"),
        Some(&vec![alpha_id.clone(); 4]),
        "{seen:?}"
    );
    assert_eq!(
        seen.joined.get("beta-q"),
        Some(&vec![beta_id.clone(); 2]),
        "{seen:?}"
    );
    assert_eq!(
        seen.joined.len(),
        2,
        "no call joined another queue: {seen:?}"
    );
    // ...and reached that queue's agents.
    let agents = |q: &str| -> BTreeSet<String> {
        seen.connected
            .get(q)
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    };
    assert_eq!(
        seen.connected.get("alpha-q").map(Vec::len),
        Some(4),
        "{seen:?}"
    );
    assert_eq!(
        seen.connected.get("beta-q").map(Vec::len),
        Some(2),
        "{seen:?}"
    );
    assert!(
        agents("alpha-q")
            .iter()
            .all(|a| a.contains("agenta") || a.contains("agentb")),
        "{seen:?}"
    );
    assert!(
        agents("beta-q").iter().all(|a| a.contains("agentc")),
        "{seen:?}"
    );
    // alpha's calls were recorded under OMniLeads' name pattern, in the
    // configured recordings folder; beta records nothing.
    let prefix = format!("dialer-{alpha_id}-");
    assert_eq!(seen.recordings.len(), 4, "{seen:?}");
    for f in &seen.recordings {
        // dialer-<id>-<YYYYMMDD>-<number>-<uniqueid>.wav
        let rest = f.strip_prefix(&prefix).unwrap_or("");
        let (date, rest) = rest.split_at(rest.len().min(8));
        assert!(
            date.len() == 8
                && date.chars().all(|c| c.is_ascii_digit())
                && rest.starts_with("-+541140")
                && f.ends_with(".wav"),
            "{f}: {seen:?}"
        );
        let path = bench.root.join("spool/oml-recordings").join(f);
        assert!(path.exists(), "{} missing", path.display());
    }
    // Each number was dialed once.
    assert_eq!(seen.dialed.len(), 6, "{seen:?}");
    assert!(
        seen.dialed.values().all(|n| *n == 1),
        "a number dialed twice: {seen:?}"
    );
    // The engine counted the agents of each campaign's own queue only.
    assert_eq!(
        agents_counted.get("alpha").and_then(|s| s.iter().max()),
        Some(&2),
        "{agents_counted:?}"
    );
    assert_eq!(
        agents_counted.get("beta").and_then(|s| s.iter().max()),
        Some(&1),
        "{agents_counted:?}"
    );
}
