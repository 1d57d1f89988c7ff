//! The supervisor's view of agents on every backend (issue 19 item 7): an
//! agent on a call (with whom, since when), one in wrap-up, one paused with
//! a reason, one logged out, and the calls and talk time of the day.

use oml_store::dialing::{AttemptResult, DialingWrite, NewAttempt};
use oml_store::testing::backends;
use oml_store::{now_ms, CampaignSpec, NewUser, Role, Store, TrunkSpec};

async fn agent(s: &Store, name: &str) -> i64 {
    s.create_user(&NewUser {
        username: name,
        password: &"a strong pass 1".to_string().into(),
        role: Role::Agent,
        must_change_password: false,
    })
    .await
    .unwrap()
    .id
}

fn begin(cid: i64, contact: i64, at: i64) -> DialingWrite {
    DialingWrite::Begin(NewAttempt {
        campaign_id: cid,
        contact_id: contact,
        attempt_no: 1,
        server_id: None,
        channel_id: format!("ch-{contact}"),
        placed_at: at,
        node: "n".into(),
    })
}

#[tokio::test]
async fn supervisors_see_each_agents_state_and_day() {
    for t in backends().await {
        let s = &t.store;
        let (ana, bob, carl) = (
            agent(s, "ana").await,
            agent(s, "bob").await,
            agent(s, "carl").await,
        );
        agent(s, "dora").await;
        s.create_trunk(&TrunkSpec {
            name: "carrier".into(),
            dial_string: oml_store::DEFAULT_DIAL_STRING.into(),
            max_channels: 5,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
        let cid = s
            .create_campaign(&CampaignSpec::new("sales", "carrier"))
            .await
            .unwrap()
            .id;
        s.seed_contacts(
            cid,
            &["+15550000001".to_string(), "+15550000002".to_string()],
        )
        .await
        .unwrap();
        let now = now_ms();
        let due = s.claim_due_contacts(cid, "n", now, 2).await.unwrap();
        // Ana's first call: 90 s, ended; her second goes on.
        s.apply_dialing_writes(&[begin(cid, due[0].id, now - 200_000)])
            .await
            .unwrap();
        s.apply_dialing_writes(&[DialingWrite::End(AttemptResult {
            contact_id: due[0].id,
            attempt_no: 1,
            answered_at: Some(now - 190_000),
            connected_at: Some(now - 190_000),
            ended_at: now - 100_000,
            outcome: "connected".into(),
            hangup_cause: Some(16),
            agent: Some("ana".into()),
            contact_state: "done".into(),
            next_attempt_at: 0,
        })])
        .await
        .unwrap();
        s.apply_dialing_writes(&[
            begin(cid, due[1].id, now - 20_000),
            DialingWrite::Progress {
                contact_id: due[1].id,
                attempt_no: 1,
                answered_at: Some(now - 12_000),
                connected_at: Some(now - 10_000),
                agent: Some("ana".into()),
            },
        ])
        .await
        .unwrap();
        s.set_agent_state(ana, Some(("ready", None)), now - 300_000)
            .await
            .unwrap();
        s.set_agent_state(bob, Some(("paused", Some("wrap-up"))), now - 5_000)
            .await
            .unwrap();
        s.set_agent_state(carl, Some(("paused", Some("Lunch"))), now - 60_000)
            .await
            .unwrap();

        let v = s.agents_overview(now - 3_600_000).await.unwrap();
        let names: Vec<&str> = v.iter().map(|a| a.username.as_str()).collect();
        assert_eq!(names, ["ana", "bob", "carl", "dora"], "{}", t.label);
        let a = &v[0];
        assert_eq!((a.state.as_str(), a.since), ("on call", Some(now - 10_000)));
        let call = a.call.as_ref().unwrap();
        assert_eq!(
            (call.campaign.as_str(), call.phone.as_str()),
            ("sales", "+15550000002")
        );
        assert_eq!((a.calls_today, a.talk_s_today), (2, 90), "{}", t.label);
        assert_eq!(
            (v[1].state.as_str(), v[1].since),
            ("wrap-up", Some(now - 5_000))
        );
        assert_eq!(
            (v[2].state.as_str(), v[2].reason.as_deref()),
            ("paused", Some("Lunch"))
        );
        assert_eq!((v[3].state.as_str(), v[3].since), ("logged out", None));
        assert_eq!(v[3].calls_today, 0);
        // The day started after Ana's first call: only the one going on.
        let later = s.agents_overview(now - 50_000).await.unwrap();
        assert_eq!((later[0].calls_today, later[0].talk_s_today), (1, 0));
        // Each campaign's own day (midnight in its zone): the day of
        // `sales` started after Ana's first call, another campaign's does
        // not matter to her calls.
        let starts = std::collections::HashMap::from([(cid, now - 50_000)]);
        let zoned = s
            .agents_overview_zoned(now - 3_600_000, &starts)
            .await
            .unwrap();
        assert_eq!(zoned[0].calls_today, 1, "{}", t.label);
        let other = std::collections::HashMap::from([(cid + 1000, now - 50_000)]);
        let zoned = s
            .agents_overview_zoned(now - 3_600_000, &other)
            .await
            .unwrap();
        assert_eq!(zoned[0].calls_today, 2, "{}", t.label);
        // Calls without disposition count once the campaign has dispositions.
        assert_eq!(v[0].undisposed_today, 0);
        s.add_disposition(
            cid,
            &oml_store::dispositions::Disposition {
                name: "sale".into(),
                is_final: true,
                callback: false,
                dnc: oml_store::dispositions::DncTarget::No,
                retry_after_s: 0,
            },
        )
        .await
        .unwrap();
        let v = s.agents_overview(now - 3_600_000).await.unwrap();
        assert_eq!(v[0].undisposed_today, 1, "{}: the ended call only", t.label);
    }
}
