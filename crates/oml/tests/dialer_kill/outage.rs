//! The restart scenario of issue 15 item 2, the same on both PBXs: `oml
//! dialer run` is killed (SIGKILL) just after it placed a call to a number
//! that answers, the calls it left end while no engine runs, and a new
//! engine started after the outage must end each of them as the PBX's
//! record says (connected, busy, congestion, with the customer leg's
//! cause), never `unknown`, and redial nobody. Each number's behaviour is
//! fixed by its last digit (`1` answers and talks, `2` busy, `3`
//! congestion; pbxsim is configured to match the bench's dialplan), so
//! every attempt's true outcome is known in advance. The campaign retries
//! only `failed` (which `unknown` follows): an engine that lost a call's
//! outcome dials its number again, which the listener counts.

use std::path::Path;
use std::time::{Duration, Instant};

use oml_store::{
    CampaignMode, CampaignSpec, CampaignState, RescheduleRule, ServerSpec, Store, TrunkSpec,
    DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;

use crate::pbx::{Ami, Watch};
use crate::{log_tail, spawn_oml, wait_until, Engine};

/// The outcome and customer-leg cause a number's last digit stands for.
pub fn truth(phone: &str) -> (&'static str, i64) {
    match phone.chars().last() {
        Some('2') => ("busy", 17),
        Some('3') => ("congestion", 34),
        _ => ("connected", 16),
    }
}

fn answers(phone: &str) -> bool {
    truth(phone).0 == "connected"
}

/// One run of the scenario.
pub struct Outage<'a> {
    /// For messages: peer and database.
    pub label: String,
    pub store: &'a Store,
    pub data: &'a Path,
    pub url: Option<&'a str>,
    pub ami: Ami,
    /// The queue whose agents take the answered calls, and how many.
    pub queue: &'static str,
    pub agents: usize,
    pub phones: Vec<String>,
    /// Contacts in a final state before the kill is armed.
    pub kill_after_final: usize,
    /// The engine stays down at least this long (wall time).
    pub outage: Duration,
    /// Longest wait for the campaign to finish after the restart.
    pub finish_within: Duration,
    /// Another oml database on the same PBX, killed and restarted around
    /// the first's outage (see [`Neighbour`]).
    pub neighbour: Option<Neighbour<'a>>,
}

/// A second oml database (its own data folder, so its own instance id)
/// dialing its own campaign through the same PBX (issue 15 item 2). It
/// starts during the first engine's outage and runs long enough for its
/// reconciliation and record deletion to pass (which, before instances,
/// deleted the first's records of the calls that ended unseen); it is
/// killed with calls up in turn and stays down while the first restarts,
/// so the first's engine meets its records too. Neither may lose a
/// record: both finish with every outcome as the PBX recorded it.
pub struct Neighbour<'a> {
    pub store: &'a Store,
    pub data: &'a Path,
    /// Its numbers, each starting with [`NEIGHBOUR_PREFIX`].
    pub phones: Vec<String>,
}

/// The start of the neighbour's numbers (the listener tells its calls by it).
pub const NEIGHBOUR_PREFIX: &str = "55579";

fn neighbour_answers(phone: &str) -> bool {
    phone.starts_with(NEIGHBOUR_PREFIX) && answers(phone)
}

async fn setup(o: &Outage<'_>) -> i64 {
    setup_db(o.store, &o.ami, o.queue, &o.phones, false).await
}

/// Server, trunk and campaign `sales` with `phones`, running. `shifted`:
/// a placeholder campaign first, so that `sales` and its contacts get
/// other ids (channel ids `oml-<campaign>-<contact>-<n>`) than a first
/// database's: a PBX refuses an Originate whose channel id is up.
async fn setup_db(s: &Store, ami: &Ami, queue: &str, phones: &[String], shifted: bool) -> i64 {
    s.create_server(&ServerSpec {
        name: "pbx1".into(),
        host: ami.host.clone(),
        ami_port: ami.port,
        ami_user: ami.user.clone(),
        ami_secret: SecretString::from(ami.secret.clone()),
        enabled: true,
    })
    .await
    .unwrap();
    s.create_trunk(&TrunkSpec {
        name: "t1".into(),
        dial_string: DEFAULT_DIAL_STRING.into(),
        max_channels: 20,
        server: None,
        caller_id: String::new(),
    })
    .await
    .unwrap();
    if shifted {
        let p = s
            .create_campaign(&CampaignSpec::new("placeholder", "t1"))
            .await
            .unwrap();
        let fillers: Vec<String> = (0..50).map(|i| format!("+1555000{i:04}")).collect();
        s.seed_contacts(p.id, &fillers).await.unwrap();
    }
    let mut spec = CampaignSpec::new("sales", "t1");
    spec.mode = CampaignMode::Progressive;
    spec.delivery_context = "oml-campaign".into();
    spec.delivery_exten = "100".into();
    spec.queue_name = queue.into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 1440;
    spec.days_mask = 127;
    spec.rules = vec![RescheduleRule::parse("failed:2:0").unwrap()];
    let c = s.create_campaign(&spec).await.unwrap();
    s.seed_contacts(c.id, phones).await.unwrap();
    s.set_campaign_state("sales", CampaignState::Running)
        .await
        .unwrap();
    s.set_setting("dialer.play", "on").await.unwrap();
    c.id
}

async fn finals(store: &Store, cid: i64) -> usize {
    let contacts = store.campaign_contact_states(cid).await.unwrap();
    contacts
        .iter()
        .filter(|c| matches!(c.state.as_str(), "done" | "exhausted"))
        .count()
}

/// Runs the scenario and asserts everything the issue asks.
pub async fn run(o: Outage<'_>) {
    let l = o.label.as_str();
    let cid = setup(&o).await;
    let watch = Watch::start(&o.ami).await;
    // The true outcomes assume the queue's own agents take every answered
    // call: a shared PBX whose queue gained members (a benchmark) cannot.
    let members = watch.members(o.queue).await;
    assert!(
        members.len() == o.agents,
        "{l}: queue {} has {} members, this test needs its {} agents alone \
         (another test or benchmark added members to the shared PBX): {members:?}",
        o.queue,
        members.len(),
        o.agents
    );
    let contacts = o.store.campaign_contact_states(cid).await.unwrap();
    // A shared PBX may hold records of an earlier run under these ids.
    let ids: Vec<String> = contacts
        .iter()
        .flat_map(|c| (1..=2).map(move |n| format!("oml-{cid}-{}-{n}", c.id)))
        .collect();
    watch.forget(&ids).await;

    // Run, then kill just after a call to an answering number went out.
    let mut engine = Engine(spawn_oml(o.data, o.url));
    let started = Instant::now();
    assert!(
        wait_until(Duration::from_secs(60), || async {
            finals(o.store, cid).await >= o.kill_after_final
        })
        .await,
        "{l}: the engine never ended {} calls; {}",
        o.kill_after_final,
        log_tail(o.data)
    );
    let mut next = watch.arm(answers);
    let ringing = tokio::time::timeout(Duration::from_secs(30), next.recv())
        .await
        .unwrap_or_else(|_| panic!("{l}: no call to an answering number after the first ones"))
        .unwrap();
    engine.kill();
    let killed_after = started.elapsed();
    let open = o.store.open_attempts(None).await.unwrap();
    assert!(
        open.iter()
            .any(|a| a.channel_id == ringing && a.answered_at.is_none()),
        "{l}: the call {ringing} was ringing, unanswered in the database, at the kill: {open:?}"
    );

    // The neighbour's first run, during the outage.
    let neighbour = match &o.neighbour {
        Some(n) => Some(neighbour_first_run(n, &o, &watch).await),
        None => None,
    };

    // The outage: every call left up ends while no engine watches.
    tokio::time::sleep(o.outage).await;
    assert!(
        watch.wait_quiet(Duration::from_secs(30)).await,
        "{l}: calls still up 30 s after the outage: {:?}",
        watch.seen.lock().unwrap().alive
    );
    let recorded = watch.records_of(o.store.instance()).await;
    for a in &open {
        assert!(
            recorded.contains_key(&a.channel_id)
                || !watch
                    .seen
                    .lock()
                    .unwrap()
                    .channel_ids
                    .contains(&a.channel_id),
            "{l}: the PBX kept no record of {} that it placed: {recorded:?}",
            a.channel_id
        );
    }

    // Each database's records under its own instance.
    let keys = watch.keys().await;
    let placed = watch.seen.lock().unwrap().channel_ids.clone();
    for a in open.iter().filter(|a| placed.contains(&a.channel_id)) {
        let mine = format!("/OML/CALL/{}/{}/", o.store.instance(), a.channel_id);
        assert!(
            keys.iter().any(|k| k.starts_with(&mine)),
            "{l}: no record of {} under the instance {}: {keys:?}",
            a.channel_id,
            o.store.instance()
        );
    }
    if let (Some(n), Some((_, n_open))) = (&o.neighbour, &neighbour) {
        assert_ne!(n.store.instance(), o.store.instance(), "{l}: two instances");
        let reached: Vec<&str> = n_open
            .iter()
            .map(|a| a.channel_id.as_str())
            .filter(|k| placed.contains(*k))
            .collect();
        assert!(
            !reached.is_empty(),
            "{l}: the neighbour had no call up at its kill"
        );
        for k in reached {
            assert!(
                keys.iter()
                    .any(|x| x.starts_with(&format!("/OML/CALL/{}/{k}/", n.store.instance()))),
                "{l}: the neighbour's record of {k} is missing: {keys:?}"
            );
        }
    }

    // Restart; the campaign finishes and every record is deleted.
    let mut engine = Engine(spawn_oml(o.data, o.url));
    let finished = wait_until(o.finish_within, || async {
        o.store
            .campaign_by_name("sales")
            .await
            .unwrap()
            .is_some_and(|c| c.state == CampaignState::Finished)
    })
    .await;
    let attempts = o.store.campaign_attempts(cid).await.unwrap();
    let mine: Vec<&str> = attempts.iter().map(|a| a.channel_id.as_str()).collect();
    let left = {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = watch.records_of(o.store.instance()).await;
            let left: Vec<String> = mine
                .iter()
                .filter(|k| r.contains_key(**k))
                .map(|k| k.to_string())
                .collect();
            if left.is_empty() || Instant::now() > deadline {
                break left;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    engine.kill();
    // The first engine's reconciliation and deletions passed (its records
    // are gone): the neighbour's, of calls it did not see end, are still
    // there; then the neighbour restarts and ends them as recorded.
    if let (Some(n), Some((n_cid, n_open))) = (&o.neighbour, &neighbour) {
        let r = watch.records_of(n.store.instance()).await;
        let placed = watch.seen.lock().unwrap().channel_ids.clone();
        for a in n_open.iter().filter(|a| placed.contains(&a.channel_id)) {
            assert!(
                r.contains_key(&a.channel_id),
                "{l}: the first database's engine deleted the neighbour's record of {}",
                a.channel_id
            );
        }
        neighbour_second_run(n, *n_cid, &o, &watch).await;
    }
    let contacts = o.store.campaign_contact_states(cid).await.unwrap();
    let seen = watch.seen.lock().unwrap();
    eprintln!(
        "{l}: killed {:.1} s in, {} calls open at the kill, outage {:.1} s, {} attempts",
        killed_after.as_secs_f64(),
        open.len(),
        o.outage.as_secs_f64(),
        attempts.len()
    );
    assert!(
        finished,
        "{l}: campaign did not finish: {contacts:?}; {}",
        log_tail(o.data)
    );
    assert!(!seen.lost, "{l}: the test's listener lost events");

    // An attempt whose Originate never reached the PBX (the kill came
    // between its commit and its sending) is rightly `unknown` and retried.
    let unsent = |a: &&oml_store::dialing::AttemptRow| !seen.channel_ids.contains(&a.channel_id);
    // Every contact final, dialed once at the PBX, as its number behaves.
    for c in &contacts {
        let (outcome, _) = truth(&c.phone);
        let want = if outcome == "connected" {
            "done"
        } else {
            "exhausted"
        };
        assert_eq!(c.state, want, "{l}: {c:?}");
        let retried = attempts
            .iter()
            .filter(|a| a.contact_id == c.id)
            .filter(unsent)
            .count() as i64;
        assert_eq!(c.attempts, 1 + retried, "{l}: dialed more than once: {c:?}");
        assert_eq!(
            seen.dialed.get(&c.phone),
            Some(&1),
            "{l}: {} calls to {} at the PBX",
            seen.dialed.get(&c.phone).copied().unwrap_or(0),
            c.phone
        );
    }
    // Every attempt with its true outcome and cause; above all those left
    // open at the kill, which ended unseen.
    for a in &attempts {
        let phone = &contacts
            .iter()
            .find(|c| c.id == a.contact_id)
            .unwrap()
            .phone;
        let at_kill = open.iter().any(|o| o.channel_id == a.channel_id);
        let (outcome, cause) = if unsent(&a) {
            assert!(at_kill, "{l}: {} never reached the PBX", a.channel_id);
            ("unknown", a.hangup_cause.unwrap_or(0))
        } else {
            truth(phone)
        };
        assert_eq!(
            (a.outcome.as_deref(), a.hangup_cause.unwrap_or(0)),
            (Some(outcome), cause),
            "{l}: attempt {} to {phone} (open at the kill: {at_kill})",
            a.channel_id
        );
    }
    let open_ids: Vec<&str> = open.iter().map(|a| a.channel_id.as_str()).collect();
    assert!(
        left.is_empty(),
        "{l}: records not deleted: {left:?} (open at the kill: {open_ids:?}); {}",
        log_tail(o.data)
    );
}

/// The neighbour's first run: set up, dial for at least 8 s (its
/// reconciliation at link-up and a round of record deletion, every 5 s,
/// pass), then killed just after a call to one of its answering numbers
/// went out. Its campaign's id and its attempts open at the kill.
async fn neighbour_first_run(
    n: &Neighbour<'_>,
    o: &Outage<'_>,
    watch: &Watch,
) -> (i64, Vec<oml_store::dialing::OpenAttempt>) {
    let l = &o.label;
    let cid = setup_db(n.store, &o.ami, o.queue, &n.phones, true).await;
    // A shared PBX may hold older records of an earlier run under these ids.
    let contacts = n.store.campaign_contact_states(cid).await.unwrap();
    let ids: Vec<String> = contacts
        .iter()
        .flat_map(|c| (1..=2).map(move |k| format!("oml-{cid}-{}-{k}", c.id)))
        .collect();
    watch.forget(&ids).await;
    let mut engine = Engine(spawn_oml(n.data, None));
    let started = Instant::now();
    assert!(
        wait_until(Duration::from_secs(60), || async {
            finals(n.store, cid).await >= 1
        })
        .await,
        "{l}: the neighbour's engine never ended a call; {}",
        log_tail(n.data)
    );
    let rest = Duration::from_secs(8).saturating_sub(started.elapsed());
    tokio::time::sleep(rest).await;
    let mut next = watch.arm(neighbour_answers);
    tokio::time::timeout(Duration::from_secs(30), next.recv())
        .await
        .unwrap_or_else(|_| panic!("{l}: the neighbour placed no call to an answering number"))
        .unwrap();
    engine.kill();
    let open = n.store.open_attempts(None).await.unwrap();
    (cid, open)
}

/// The neighbour restarts after the first finished: its campaign finishes,
/// each number dialed once, each attempt with its true outcome, and its
/// records deleted.
async fn neighbour_second_run(n: &Neighbour<'_>, cid: i64, o: &Outage<'_>, watch: &Watch) {
    let l = &o.label;
    let mut engine = Engine(spawn_oml(n.data, None));
    let finished = wait_until(o.finish_within, || async {
        n.store
            .campaign_by_name("sales")
            .await
            .unwrap()
            .is_some_and(|c| c.state == CampaignState::Finished)
    })
    .await;
    let attempts = n.store.campaign_attempts(cid).await.unwrap();
    let left = {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = watch.records_of(n.store.instance()).await;
            let left: Vec<String> = attempts
                .iter()
                .map(|a| a.channel_id.clone())
                .filter(|k| r.contains_key(k))
                .collect();
            if left.is_empty() || Instant::now() > deadline {
                break left;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    engine.kill();
    let contacts = n.store.campaign_contact_states(cid).await.unwrap();
    assert!(
        finished,
        "{l}: the neighbour's campaign did not finish: {contacts:?}; {}",
        log_tail(n.data)
    );
    let seen = watch.seen.lock().unwrap();
    for a in &attempts {
        let phone = &contacts
            .iter()
            .find(|c| c.id == a.contact_id)
            .unwrap()
            .phone;
        if !seen.channel_ids.contains(&a.channel_id) {
            // Killed between its commit and its Originate: rightly unknown.
            assert_eq!(a.outcome.as_deref(), Some("unknown"), "{l}: {a:?}");
            continue;
        }
        // Its answered calls may have waited for the agents the first
        // database's calls held, and the customer hung up in the queue.
        let (outcome, cause) = truth(phone);
        let got = (a.outcome.as_deref(), a.hangup_cause.unwrap_or(0));
        assert!(
            got == (Some(outcome), cause)
                || (outcome == "connected" && got == (Some("abandoned"), cause)),
            "{l}: the neighbour's attempt {} to {phone}: {got:?}, the PBX says {outcome} {cause}",
            a.channel_id
        );
    }
    for c in &contacts {
        assert_eq!(
            seen.dialed.get(&c.phone),
            Some(&1),
            "{l}: the neighbour's {} dialed {} times at the PBX",
            c.phone,
            seen.dialed.get(&c.phone).copied().unwrap_or(0)
        );
    }
    assert!(
        left.is_empty(),
        "{l}: the neighbour's records not deleted: {left:?}; {}",
        log_tail(n.data)
    );
}
