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
}

async fn setup(o: &Outage<'_>) -> i64 {
    let s = o.store;
    s.create_server(&ServerSpec {
        name: "pbx1".into(),
        host: o.ami.host.clone(),
        ami_port: o.ami.port,
        ami_user: o.ami.user.clone(),
        ami_secret: SecretString::from(o.ami.secret.clone()),
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
    let mut spec = CampaignSpec::new("sales", "t1");
    spec.mode = CampaignMode::Progressive;
    spec.delivery_context = "oml-campaign".into();
    spec.delivery_exten = "100".into();
    spec.queue_name = o.queue.into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 1440;
    spec.days_mask = 127;
    spec.rules = vec![RescheduleRule::parse("failed:2:0").unwrap()];
    let c = s.create_campaign(&spec).await.unwrap();
    s.seed_contacts(c.id, &o.phones).await.unwrap();
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

    // The outage: every call left up ends while no engine watches.
    tokio::time::sleep(o.outage).await;
    assert!(
        watch.wait_quiet(Duration::from_secs(30)).await,
        "{l}: calls still up 30 s after the outage: {:?}",
        watch.seen.lock().unwrap().alive
    );
    let recorded = watch.records().await;
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
            let r = watch.records().await;
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
