//! A campaign's contacts and a contact's attempts as the store reads them
//! back, on SQLite and PostgreSQL: paging, the state filter, a phone found
//! in several campaigns, every attempt with its times, outcome, cause,
//! server and node.

use oml_store::contact_history::ContactKey;
use oml_store::dialing::{AttemptResult, DialingWrite, NewAttempt};
use oml_store::phone::Normalizer;
use oml_store::testing::backends;
use oml_store::{CampaignSpec, ServerSpec, Store, TrunkSpec, DEFAULT_DIAL_STRING};

async fn campaign(s: &Store, name: &str) -> i64 {
    if s.trunk_by_name("t1").await.unwrap().is_none() {
        s.create_trunk(&TrunkSpec {
            name: "t1".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    }
    s.create_campaign(&CampaignSpec::new(name, "t1"))
        .await
        .unwrap()
        .id
}

/// Claims every due contact of the campaign and places one attempt to
/// each on `server`; ends those for the phones in `ends` with the outcome
/// and cause given, leaves the others in flight.
async fn dial(s: &Store, campaign: i64, server: i64, ends: &[(&str, &str, i64)]) {
    let now = oml_store::now_ms();
    let due = s
        .claim_due_contacts(campaign, "node-a", now, 100)
        .await
        .unwrap();
    for d in due {
        let begin = DialingWrite::Begin(NewAttempt {
            campaign_id: campaign,
            contact_id: d.id,
            attempt_no: d.attempts + 1,
            server_id: Some(server),
            channel_id: format!("oml-{campaign}-{}-{}", d.id, d.attempts + 1),
            placed_at: now,
            node: "node-a".into(),
        });
        assert_eq!(s.apply_dialing_writes(&[begin]).await.unwrap(), [true]);
        if let Some((_, outcome, cause)) = ends.iter().find(|(p, _, _)| *p == d.phone) {
            let answered = (*outcome == "connected").then_some(now + 5_000);
            let end = DialingWrite::End(AttemptResult {
                contact_id: d.id,
                attempt_no: d.attempts + 1,
                answered_at: answered,
                connected_at: answered.map(|a| a + 1_000),
                ended_at: now + 60_000,
                outcome: (*outcome).into(),
                hangup_cause: Some(*cause),
                agent: None,
                contact_state: if *outcome == "connected" {
                    "done"
                } else {
                    "pending"
                }
                .into(),
                next_attempt_at: now + 3_600_000,
            });
            // A connected call: the agent comes with the connection, and the
            // end (no agent of its own) keeps it; both in one batch.
            let mut writes = Vec::new();
            if let Some(at) = answered {
                writes.push(DialingWrite::Progress {
                    contact_id: d.id,
                    attempt_no: d.attempts + 1,
                    answered_at: Some(at),
                    connected_at: Some(at + 1_000),
                    agent: Some("Agent One".into()),
                });
            }
            writes.push(end);
            let all_true = vec![true; writes.len()];
            assert_eq!(s.apply_dialing_writes(&writes).await.unwrap(), all_true);
        }
    }
}

#[tokio::test]
async fn contacts_are_listed_by_page_and_state_with_every_attempt() {
    for t in backends().await {
        let s = &t.store;
        let sales = campaign(s, "sales").await;
        let retention = campaign(s, "retention").await;
        let server = s
            .create_server(&ServerSpec {
                name: "pbx1".into(),
                host: "127.0.0.1".into(),
                ami_port: 5038,
                ami_user: "oml".into(),
                ami_secret: "x".to_string().into(),
                enabled: true,
            })
            .await
            .unwrap()
            .id;
        let phones: Vec<String> = (0..5).map(|i| format!("+54114000000{i}")).collect();
        s.seed_contacts(sales, &phones).await.unwrap();
        s.seed_contacts(retention, &phones[..1]).await.unwrap();
        dial(
            s,
            sales,
            server,
            &[
                ("+541140000000", "busy", 17),
                ("+541140000001", "connected", 16),
            ],
        )
        .await;

        // Every contact, two per page, nothing lost or repeated.
        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let page = s.campaign_contacts(sales, None, after, 2).await.unwrap();
            assert!(page.len() <= 2, "{}", t.label);
            let Some(last) = page.last() else { break };
            after = last.id;
            seen.extend(page);
        }
        let listed: Vec<&str> = seen.iter().map(|c| c.phone.as_str()).collect();
        assert_eq!(listed, phones, "{}", t.label);
        let busy = &seen[0];
        assert_eq!(
            (
                busy.state.as_str(),
                busy.attempts,
                busy.last_outcome.as_deref()
            ),
            ("pending", 1, Some("busy")),
            "{}",
            t.label
        );
        assert!(busy.next_attempt_at.unwrap() > oml_store::now_ms());
        assert_eq!(seen[1].next_attempt_at, None, "done: no next try");
        assert_eq!(seen[2].state, "dialing");

        // One state; a bad one is refused naming the valid states.
        let dialing = s
            .campaign_contacts(sales, Some("DIALING"), 0, 100)
            .await
            .unwrap();
        assert_eq!(dialing.len(), 3, "{}", t.label);
        assert!(dialing.iter().all(|c| c.state == "dialing"));
        let done = s
            .campaign_contacts(sales, Some("done"), 0, 100)
            .await
            .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].phone, phones[1]);
        let e = s
            .campaign_contacts(sales, Some("called"), 0, 100)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("pending, reserved, hopper, dialing, done, exhausted, dnc"),
            "{e}"
        );
        assert!(s.campaign_contacts(sales, None, 0, 0).await.is_err());

        // A phone in two campaigns, typed in its national form.
        let ar = Normalizer::new(Some("AR")).unwrap();
        let key = ContactKey::parse("(011) 4000-0000", &ar).unwrap();
        let found = s.contact_histories(&key).await.unwrap();
        let campaigns: Vec<&str> = found.iter().map(|h| h.contact.campaign.as_str()).collect();
        assert_eq!(campaigns, ["retention", "sales"], "{}", t.label);
        assert!(found[0].history.is_empty(), "never dialed in retention");
        let a = &found[1].history[0];
        assert_eq!(
            (a.attempt_no, a.outcome.as_deref(), a.hangup_cause),
            (1, Some("busy"), Some(17))
        );
        assert_eq!(
            (a.server.as_deref(), a.node.as_str(), a.ended_at.is_some()),
            (Some("pbx1"), "node-a", true)
        );
        assert_eq!(a.agent, None, "no agent took a busy call");
        assert_eq!(found[1].contact.list, "seed");

        // A number stored without its `+` (imported with no default
        // country) is found from its international form.
        s.seed_contacts(retention, &["541150000000".to_string()])
            .await
            .unwrap();
        let found = s.contact_histories_by_phone("+541150000000").await.unwrap();
        assert_eq!(found.len(), 1, "{}", t.label);
        assert_eq!(found[0].contact.phone, "541150000000");

        // By id: the connected call with its times; an open attempt has none.
        let h = s.contact_history(seen[1].id).await.unwrap().unwrap();
        let a = &h.history[0];
        assert_eq!(a.outcome.as_deref(), Some("connected"));
        assert!(a.answered_at.unwrap() < a.connected_at.unwrap());
        assert_eq!(a.agent.as_deref(), Some("Agent One"), "{}", t.label);
        let open = s.contact_history(seen[2].id).await.unwrap().unwrap();
        assert_eq!(
            (open.history.len(), open.history[0].outcome.as_ref()),
            (1, None)
        );
        assert!(s.contact_history(999_999).await.unwrap().is_none());

        // An id that is also a phone number's digits finds both, once each.
        let key = ContactKey {
            id: Some(seen[0].id),
            phone: Some(phones[0].clone()),
        };
        let both = s.contact_histories(&key).await.unwrap();
        assert_eq!(both.len(), 2, "{}", t.label);
    }
}
