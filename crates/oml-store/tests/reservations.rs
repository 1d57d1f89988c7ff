//! Preview reservations on every backend (issue 19 item 4): 50 agents
//! asking at the same moment never get the same contact, the engine's
//! hopper never claims a reserved one, a reservation abandoned by a closed
//! browser returns after its timeout, and a skip gives it back.

use oml_store::testing::backends;
use oml_store::{now_ms, CampaignSpec, Store, TrunkSpec};
use std::collections::BTreeSet;

const AGENTS: i64 = 50;
const TIMEOUT_MS: i64 = 60_000;

async fn campaign_with(s: &Store, contacts: usize) -> i64 {
    s.create_trunk(&TrunkSpec {
        name: "carrier".into(),
        dial_string: oml_store::DEFAULT_DIAL_STRING.into(),
        max_channels: 30,
        server: None,
        caller_id: String::new(),
    })
    .await
    .unwrap();
    let c = s
        .create_campaign(&CampaignSpec::new("preview", "carrier"))
        .await
        .unwrap();
    let phones: Vec<String> = (0..contacts).map(|i| format!("+1555{i:07}")).collect();
    s.seed_contacts(c.id, &phones).await.unwrap();
    c.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_agents_at_once_never_share_a_contact() {
    for t in backends().await {
        let s = &t.store;
        let cid = campaign_with(s, 70).await;
        let now = now_ms();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(AGENTS as usize));
        let tasks: Vec<_> = (1..=AGENTS)
            .map(|agent| {
                let (s, barrier) = (s.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    s.reserve_preview_contact(cid, agent, now, TIMEOUT_MS)
                        .await
                        .unwrap()
                        .expect("a contact for every agent")
                        .id
                })
            })
            .collect();
        let mut got = BTreeSet::new();
        for task in tasks {
            assert!(
                got.insert(task.await.unwrap()),
                "{}: a contact given twice",
                t.label
            );
        }
        assert_eq!(got.len(), AGENTS as usize);

        // Asking again (a reloaded page) gives the same contact.
        let again = s
            .reserve_preview_contact(cid, 7, now, TIMEOUT_MS)
            .await
            .unwrap();
        assert!(got.contains(&again.unwrap().id));
        // The engine's hopper gets only the 20 not reserved.
        let claimed = s.claim_due_contacts(cid, "n1", now, 100).await.unwrap();
        assert_eq!(claimed.len(), 20, "{}", t.label);
        assert!(claimed.iter().all(|c| !got.contains(&c.id)), "{}", t.label);
    }
}

#[tokio::test]
async fn an_abandoned_reservation_returns_after_its_timeout_and_a_skip_at_once() {
    for t in backends().await {
        let s = &t.store;
        let cid = campaign_with(s, 2).await;
        let now = now_ms();
        let a = s
            .reserve_preview_contact(cid, 1, now, TIMEOUT_MS)
            .await
            .unwrap()
            .unwrap();
        let b = s
            .reserve_preview_contact(cid, 2, now, TIMEOUT_MS)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(a.id, b.id);
        let reserved = s
            .campaign_contacts(
                cid,
                Some(oml_store::contact_history::parse_state("reserved").unwrap()),
                0,
                10,
            )
            .await
            .unwrap();
        assert_eq!(reserved.len(), 2, "{}: listed as reserved", t.label);
        // Agent 1 closes the browser; agent 3 finds nothing until the timeout.
        let later = now + TIMEOUT_MS - 1;
        assert!(s
            .reserve_preview_contact(cid, 3, later, TIMEOUT_MS)
            .await
            .unwrap()
            .is_none());
        assert!(s
            .claim_due_contacts(cid, "n1", later, 10)
            .await
            .unwrap()
            .is_empty());
        // Agent 2 skips: b is due again and goes to agent 3.
        assert!(s
            .release_preview_contact(b.id, 2, later, later)
            .await
            .unwrap());
        assert!(!s
            .release_preview_contact(b.id, 2, later, later)
            .await
            .unwrap());
        let c = s
            .reserve_preview_contact(cid, 3, later, TIMEOUT_MS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.id, b.id, "{}", t.label);
        // After the timeout agent 1's contact returns, to agent 4.
        let after = now + TIMEOUT_MS;
        let d = s
            .reserve_preview_contact(cid, 4, after, TIMEOUT_MS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.id, a.id, "{}", t.label);
        // Agent 1 can no longer give back what is now agent 4's.
        assert!(!s
            .release_preview_contact(a.id, 1, after, after)
            .await
            .unwrap());
    }
}

#[tokio::test]
async fn do_not_call_numbers_are_not_reserved() {
    for t in backends().await {
        let s = &t.store;
        let cid = campaign_with(s, 1).await;
        s.dnc_add(Some(cid), &["+15550000000".to_string()])
            .await
            .unwrap();
        let got = s
            .reserve_preview_contact(cid, 1, now_ms(), TIMEOUT_MS)
            .await
            .unwrap();
        assert!(got.is_none(), "{}: {got:?}", t.label);
    }
}

async fn agent(s: &Store, name: &str) -> i64 {
    let pw = secrecy::SecretString::from("agent-password-1".to_string());
    s.create_user(&oml_store::NewUser {
        username: name,
        password: &pw,
        role: oml_store::Role::Agent,
        must_change_password: false,
    })
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn a_call_asked_for_is_taken_by_one_engine_once_or_returns() {
    for t in backends().await {
        let s = &t.store;
        let cid = campaign_with(s, 3).await;
        let ana = agent(s, "ana").await;
        let now = now_ms();
        let c = s
            .reserve_preview_contact(cid, ana, now, TIMEOUT_MS)
            .await
            .unwrap()
            .unwrap();
        let held = s.held_preview_contact(ana).await.unwrap().unwrap();
        assert_eq!((held.id, held.state.as_str()), (c.id, "reserved"));
        // Another agent cannot ask for the call of ana's contact.
        assert!(!s
            .request_preview_call(c.id, ana + 1000, "PJSIP/9", now, 30_000)
            .await
            .unwrap());
        assert!(s
            .request_preview_call(c.id, ana, "PJSIP/1001", now, 30_000)
            .await
            .unwrap());
        // Asked once: a second Call finds no reservation.
        assert!(!s
            .request_preview_call(c.id, ana, "PJSIP/1001", now, 30_000)
            .await
            .unwrap());
        let held = s.held_preview_contact(ana).await.unwrap().unwrap();
        assert_eq!(held.state, "preview_call", "{}", t.label);
        // Neither the hopper nor another agent gets it meanwhile.
        let claimed = s.claim_due_contacts(cid, "n2", now, 10).await.unwrap();
        assert!(claimed.iter().all(|d| d.id != c.id), "{}", t.label);
        s.release_hopper("n2", None).await.unwrap();
        // The engine takes it once, into its hopper, with the interface.
        let got = s.take_preview_calls(cid, "n1", now + 400).await.unwrap();
        assert_eq!(got.len(), 1, "{}", t.label);
        assert_eq!(
            (got[0].0.id, got[0].1, got[0].2.as_str()),
            (c.id, ana, "PJSIP/1001")
        );
        assert!(s
            .take_preview_calls(cid, "n1", now + 800)
            .await
            .unwrap()
            .is_empty());
        assert!(s.held_preview_contact(ana).await.unwrap().is_none());
        // A call no engine takes in time returns to the due contacts.
        let d = s
            .reserve_preview_contact(cid, ana, now, TIMEOUT_MS)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(d.id, c.id);
        assert!(s
            .request_preview_call(d.id, ana, "PJSIP/1001", now, 30_000)
            .await
            .unwrap());
        assert!(s
            .take_preview_calls(cid, "n1", now + 30_000)
            .await
            .unwrap()
            .is_empty());
        let again = s
            .claim_due_contacts(cid, "n1", now + 30_000, 10)
            .await
            .unwrap();
        assert!(again.iter().any(|x| x.id == d.id), "{}: {again:?}", t.label);
    }
}

#[tokio::test]
async fn due_callbacks_are_reserved_first_the_agents_own_or_anyones() {
    use oml_store::dialing::{AttemptResult, DialingWrite, NewAttempt};
    use oml_store::dispose::DisposeRequest;
    use oml_store::dispositions::{Disposition, DncTarget};
    for t in backends().await {
        let s = &t.store;
        s.create_trunk(&TrunkSpec {
            name: "carrier".into(),
            dial_string: oml_store::DEFAULT_DIAL_STRING.into(),
            max_channels: 30,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
        let mut spec = CampaignSpec::new("preview", "carrier");
        spec.time_zone = "America/Argentina/Buenos_Aires".into();
        let cid = s.create_campaign(&spec).await.unwrap().id;
        s.add_disposition(
            cid,
            &Disposition {
                name: "call later".into(),
                is_final: false,
                callback: true,
                dnc: DncTarget::No,
                retry_after_s: 600,
            },
        )
        .await
        .unwrap();
        let phones: Vec<String> = (0..2).map(|i| format!("+1777{i:07}")).collect();
        s.seed_contacts(cid, &phones).await.unwrap();
        let (ana, bob, carl) = (
            agent(s, "ana").await,
            agent(s, "bob").await,
            agent(s, "carl").await,
        );
        // Both contacts called once and connected (as the engine does).
        let now = now_ms();
        let due = s.claim_due_contacts(cid, "n1", now, 10).await.unwrap();
        let begins: Vec<DialingWrite> = due
            .iter()
            .map(|c| {
                DialingWrite::Begin(NewAttempt {
                    campaign_id: cid,
                    contact_id: c.id,
                    attempt_no: 1,
                    server_id: None,
                    channel_id: format!("ch-{}", c.id),
                    placed_at: now,
                    node: "n1".into(),
                })
            })
            .collect();
        s.apply_dialing_writes(&begins).await.unwrap();
        let open = s.open_attempts(Some("n1")).await.unwrap();
        let ends: Vec<DialingWrite> = open
            .iter()
            .map(|a| {
                DialingWrite::End(AttemptResult {
                    contact_id: a.contact_id,
                    attempt_no: 1,
                    answered_at: Some(now + 1),
                    connected_at: Some(now + 2),
                    ended_at: now + 60_000,
                    outcome: "connected".into(),
                    hangup_cause: Some(16),
                    agent: Some("ana".into()),
                    contact_state: "done".into(),
                    next_attempt_at: 0,
                })
            })
            .collect();
        s.apply_dialing_writes(&ends).await.unwrap();
        let mut calls: Vec<(i64, i64)> = open.iter().map(|a| (a.contact_id, a.id)).collect();
        calls.sort();
        // Call back in 2 minutes: the first for anyone, the second for bob.
        let soon = chrono::DateTime::from_timestamp_millis(now + 120_000)
            .unwrap()
            .with_timezone(&chrono_tz::America::Argentina::Buenos_Aires)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        for ((_, attempt), whom) in calls.iter().zip([None, Some(bob)]) {
            s.dispose(&DisposeRequest {
                attempt_id: *attempt,
                disposition: "call later",
                by: "ana",
                callback_local: Some(&soon),
                callback_for: whom,
                note: None,
                now,
            })
            .await
            .unwrap();
        }
        let more: Vec<String> = (0..3).map(|i| format!("+1888{i:07}")).collect();
        s.seed_contacts(cid, &more).await.unwrap();
        // Before their time: an ordinary contact.
        let early = s
            .reserve_preview_contact(cid, ana, now, TIMEOUT_MS)
            .await
            .unwrap()
            .unwrap();
        assert!(calls.iter().all(|(c, _)| *c != early.id), "{}", t.label);
        // At their time, before the ordinary ones due longer: carl gets the
        // callback for anyone (not bob's), bob gets his own.
        let at = now + 121_000;
        let c = s
            .reserve_preview_contact(cid, carl, at, TIMEOUT_MS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.id, calls[0].0, "{}: {c:?}", t.label);
        let b = s
            .reserve_preview_contact(cid, bob, at, TIMEOUT_MS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.id, calls[1].0, "{}: {b:?}", t.label);
    }
}
