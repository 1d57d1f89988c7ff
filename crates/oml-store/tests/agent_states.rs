//! Agents' states (schema 14) on SQLite and PostgreSQL: one open span per
//! agent, a change closes the previous span, logging out leaves none, time
//! in a state is measured over a range, bad states and reasons are refused
//! with nothing stored; the newest call stored as taken by the agent.

use oml_store::{AgentSetup, NewUser, Role, Store};

async fn agent(store: &Store, name: &str, ext: &str) -> i64 {
    store
        .create_user_with(
            &NewUser {
                username: name,
                password: &"agent-password-1".to_string().into(),
                role: Role::Agent,
                must_change_password: false,
            },
            &AgentSetup {
                extension: Some(ext.into()),
                campaigns: None,
            },
        )
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn spans_open_close_and_measure() {
    for ts in oml_store::testing::backends().await {
        let s = &ts.store;
        let ana = agent(s, "ana", "1001").await;
        let bob = agent(s, "bob", "1002").await;
        assert_eq!(s.agent_state(ana).await.unwrap(), None, "{}", ts.label);
        s.set_agent_state(ana, Some(("paused", Some("Logged in"))), 1_000)
            .await
            .unwrap();
        s.set_agent_state(ana, Some(("ready", None)), 2_000)
            .await
            .unwrap();
        s.set_agent_state(ana, Some(("preview", None)), 5_000)
            .await
            .unwrap();
        s.set_agent_state(bob, Some(("ready", None)), 1_500)
            .await
            .unwrap();
        let now = s.agent_state(ana).await.unwrap().unwrap();
        assert_eq!((now.state.as_str(), now.started_at), ("preview", 5_000));
        assert_eq!(s.agent_states().await.unwrap().len(), 2, "{}", ts.label);
        // Preview since 5 s, open: counted until `to`.
        assert_eq!(
            s.agent_state_ms(ana, "preview", 0, 9_000).await.unwrap(),
            4_000
        );
        // Ready 2-5 s, clipped to the range 3-10 s.
        assert_eq!(
            s.agent_state_ms(ana, "ready", 3_000, 10_000).await.unwrap(),
            2_000
        );
        assert_eq!(
            s.agent_state_ms(ana, "paused", 0, 10_000).await.unwrap(),
            1_000
        );
        for (state, reason, field) in [
            ("away", None, "state"),
            ("ready", Some("Lunch"), "reason"),
            ("paused", Some(" "), "reason"),
        ] {
            let e = s
                .set_agent_state(ana, Some((state, reason)), 6_000)
                .await
                .unwrap_err();
            assert!(e.to_string().contains(field), "{e}");
        }
        assert_eq!(
            s.agent_state(ana).await.unwrap().unwrap().state,
            "preview",
            "{}: a refused change stores nothing",
            ts.label
        );
        s.set_agent_state(ana, None, 7_000).await.unwrap();
        assert_eq!(s.agent_state(ana).await.unwrap(), None);
        assert_eq!(
            s.agent_state_ms(ana, "preview", 0, 99_000).await.unwrap(),
            2_000
        );
        assert_eq!(s.agent_states().await.unwrap().len(), 1);
        assert_eq!(
            s.agent_latest_call("ana", "PJSIP/1001").await.unwrap(),
            None
        );
    }
}
