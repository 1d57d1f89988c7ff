//! Dispositions and callbacks on every backend (issue 19 items 5 and 6):
//! the campaign's list and its rules, what each kind of disposition does to
//! the attempt and its contact, refusals that change nothing, and due
//! callbacks claimed by the hopper before ordinary contacts.

use oml_store::dialing::{AttemptResult, DialingWrite, NewAttempt};
use oml_store::dispose::DisposeRequest;
use oml_store::dispositions::{Disposition, DncTarget, DEFAULT_WRAPUP_S};
use oml_store::testing::backends;
use oml_store::{now_ms, CampaignSpec, NewUser, Role, Store, TrunkSpec};

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
    let mut spec = CampaignSpec::new("sales", "carrier");
    spec.time_zone = "America/Argentina/Buenos_Aires".into();
    let c = s.create_campaign(&spec).await.unwrap();
    let phones: Vec<String> = (0..contacts).map(|i| format!("+1555{i:07}")).collect();
    s.seed_contacts(c.id, &phones).await.unwrap();
    for d in [
        disp("sale", true, false, DncTarget::No),
        disp("call later", false, true, DncTarget::No),
        disp("not now", false, false, DncTarget::No),
        disp("do not call", false, false, DncTarget::Campaign),
    ] {
        s.add_disposition(c.id, &d).await.unwrap();
    }
    c.id
}

fn disp(name: &str, is_final: bool, callback: bool, dnc: DncTarget) -> Disposition {
    Disposition {
        name: name.into(),
        is_final,
        callback,
        dnc,
        retry_after_s: 600,
    }
}

/// Dials every due contact once, connected to `agent`, and ends the calls
/// (contact done, as the engine does); returns the attempts' ids by contact.
async fn connected_calls(s: &Store, cid: i64, agent: &str) -> Vec<(i64, i64)> {
    let due = s
        .claim_due_contacts(cid, "n1", now_ms(), 100)
        .await
        .unwrap();
    let begins: Vec<DialingWrite> = due
        .iter()
        .map(|c| {
            DialingWrite::Begin(NewAttempt {
                campaign_id: cid,
                contact_id: c.id,
                attempt_no: c.attempts + 1,
                server_id: None,
                channel_id: format!("ch-{}-{}", c.id, c.attempts + 1),
                placed_at: now_ms(),
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
                attempt_no: a.attempt_no,
                answered_at: Some(a.placed_at + 1),
                connected_at: Some(a.placed_at + 2),
                ended_at: a.placed_at + 60_000,
                outcome: "connected".into(),
                hangup_cause: Some(16),
                agent: Some(agent.into()),
                contact_state: "done".into(),
                next_attempt_at: 0,
            })
        })
        .collect();
    s.apply_dialing_writes(&ends).await.unwrap();
    let mut ids: Vec<(i64, i64)> = open.iter().map(|a| (a.contact_id, a.id)).collect();
    ids.sort();
    ids
}

fn req<'a>(attempt_id: i64, disposition: &'a str, now: i64) -> DisposeRequest<'a> {
    DisposeRequest {
        attempt_id,
        disposition,
        by: "ana",
        callback_local: None,
        callback_for: None,
        note: None,
        now,
    }
}

async fn state_of(s: &Store, cid: i64, contact: i64) -> (String, i64) {
    let all = s.campaign_contact_states(cid).await.unwrap();
    let c = all.iter().find(|c| c.id == contact).unwrap();
    (c.state.clone(), c.next_attempt_at)
}

#[tokio::test]
async fn dispositions_are_listed_checked_and_removed() {
    for t in backends().await {
        let s = &t.store;
        let cid = campaign_with(s, 0).await;
        let names: Vec<String> = s
            .dispositions(cid)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["call later", "do not call", "not now", "sale"]);
        let again = s
            .add_disposition(cid, &disp("sale", false, false, DncTarget::No))
            .await
            .unwrap_err();
        assert!(again.to_string().contains("sale"), "{}: {again}", t.label);
        let both = s
            .add_disposition(cid, &disp("odd", true, true, DncTarget::No))
            .await
            .unwrap_err();
        assert!(both.to_string().contains("final"), "{both}");
        assert!(s.disposition(cid, "odd").await.unwrap().is_none());
        assert!(s.remove_disposition(cid, "sale").await.unwrap());
        assert!(!s.remove_disposition(cid, "sale").await.unwrap());
        assert_eq!(s.wrapup_limit_s(cid).await.unwrap(), DEFAULT_WRAPUP_S);
        s.set_wrapup_limit_s(cid, 45).await.unwrap();
        assert_eq!(s.wrapup_limit_s(cid).await.unwrap(), 45);
        assert!(s.set_wrapup_limit_s(cid, 0).await.is_err());
        assert_eq!(s.wrapup_limit_s(cid).await.unwrap(), 45);
    }
}

#[tokio::test]
async fn each_disposition_moves_its_contact() {
    for t in backends().await {
        let s = &t.store;
        let cid = campaign_with(s, 4).await;
        let agent = s
            .create_user(&NewUser {
                username: "ana",
                password: &"a strong pass 1".to_string().into(),
                role: Role::Agent,
                must_change_password: false,
            })
            .await
            .unwrap();
        let calls = connected_calls(s, cid, "ana").await;
        let now = now_ms();
        let [(c_sale, a_sale), (c_cb, a_cb), (c_later, a_later), (c_dnc, a_dnc)] = calls[..] else {
            panic!("{}: 4 calls expected, got {calls:?}", t.label)
        };

        // Refusals change nothing.
        let e = s.dispose(&req(a_sale, "won", now)).await.unwrap_err();
        assert!(
            e.to_string()
                .contains("call later, do not call, not now, sale"),
            "{e}"
        );
        let e = s.dispose(&req(a_cb, "call later", now)).await.unwrap_err();
        assert!(e.to_string().contains("give its date and time"), "{e}");
        let e = s.dispose(&req(999_999, "sale", now)).await.unwrap_err();
        assert!(e.to_string().contains("999999"), "{e}");
        assert_eq!(state_of(s, cid, c_cb).await.0, "done");

        assert_eq!(s.attempt_disposition(a_sale).await.unwrap(), None);
        let sold = s.dispose(&req(a_sale, "sale", now)).await.unwrap();
        assert_eq!(sold.contact_state, "done");
        assert_eq!(state_of(s, cid, c_sale).await.0, "done");
        assert_eq!(
            s.attempt_disposition(a_sale).await.unwrap(),
            Some(("sale".into(), "ana".into()))
        );
        let twice = s.dispose(&req(a_sale, "not now", now)).await.unwrap_err();
        assert!(twice
            .to_string()
            .contains("already has the disposition `sale`"));

        let later = s.dispose(&req(a_later, "not now", now)).await.unwrap();
        assert_eq!(later.contact_state, "pending");
        assert_eq!(
            state_of(s, cid, c_later).await,
            ("pending".into(), now + 600_000)
        );

        // A callback tomorrow at 10:30 in the campaign's zone (UTC-3).
        let tomorrow = chrono::Utc::now().date_naive() + chrono::Days::new(1);
        let local = format!("{tomorrow} 10:30");
        let cb = s
            .dispose(&DisposeRequest {
                callback_local: Some(&local),
                callback_for: Some(agent.id),
                ..req(a_cb, "call later", now)
            })
            .await
            .unwrap();
        let due = tomorrow
            .and_hms_opt(13, 30, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        assert_eq!(cb.callback_at, Some(due), "{}", t.label);
        assert_eq!(state_of(s, cid, c_cb).await, ("pending".into(), due));
        let mine = s.agent_callbacks(agent.id).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].contact_id, mine[0].due_at), (c_cb, due));
        assert_eq!(mine[0].time_zone, "America/Argentina/Buenos_Aires");
        assert_eq!(mine[0].agent.as_deref(), Some("ana"));

        let too_long = "n".repeat(oml_store::dispose::MAX_NOTE_LEN + 1);
        let refused = s
            .dispose(&DisposeRequest {
                note: Some(&too_long),
                ..req(a_dnc, "do not call", now)
            })
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("note"), "{refused}");
        let dnc = s
            .dispose(&DisposeRequest {
                note: Some("  asked twice not to be called  "),
                ..req(a_dnc, "do not call", now)
            })
            .await
            .unwrap();
        assert_eq!(
            s.attempt_disposition_note(a_dnc).await.unwrap().as_deref(),
            Some("asked twice not to be called")
        );
        assert_eq!(s.attempt_disposition_note(a_cb).await.unwrap(), None);
        assert_eq!(dnc.contact_state, "dnc");
        assert_eq!(state_of(s, cid, c_dnc).await.0, "dnc");
        assert!(s.dnc_contains(cid, "+15550000003").await.unwrap());
    }
}

#[tokio::test]
async fn due_callbacks_are_claimed_before_ordinary_contacts() {
    for t in backends().await {
        let s = &t.store;
        let cid = campaign_with(s, 3).await;
        let calls = connected_calls(s, cid, "ana").await;
        let (called_back, attempt) = calls[2];
        let now = now_ms();
        let soon = chrono::DateTime::from_timestamp_millis(now + 120_000)
            .unwrap()
            .with_timezone(&chrono_tz::America::Argentina::Buenos_Aires)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        s.dispose(&DisposeRequest {
            callback_local: Some(&soon),
            ..req(attempt, "call later", now)
        })
        .await
        .unwrap();
        let phones: Vec<String> = (0..5).map(|i| format!("+1666{i:07}")).collect();
        s.seed_contacts(cid, &phones).await.unwrap();
        // Before its time: only ordinary contacts, oldest first.
        let early = s.claim_due_contacts(cid, "n1", now, 1).await.unwrap();
        assert_ne!(early[0].id, called_back, "{}", t.label);
        s.release_hopper("n1", None).await.unwrap();
        // At its time it comes first, though the others waited longer.
        let at = now + 121_000;
        let got = s.claim_due_contacts(cid, "n1", at, 3).await.unwrap();
        assert_eq!(got.len(), 3, "{}", t.label);
        assert_eq!(got[0].id, called_back, "{}: {got:?}", t.label);
        assert!(got[1].id < got[2].id);
        // Marked, so the engine's hopper puts it before what it holds.
        assert!(got[0].callback && !got[1].callback && !got[2].callback);
        assert!(!early[0].callback);
    }
}
