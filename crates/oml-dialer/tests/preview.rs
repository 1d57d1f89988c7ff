//! Preview dialing for real (issue 19 item 4), the engine against pbxsim on
//! every backend: the engine dials nothing of a preview campaign by itself;
//! an agent reserves a contact and asks for the call, and the engine rings
//! the agent first (pbxsim's agent-first originate), then the customer.
//! A customer who answers is `connected` (never abandoned: the agent was
//! there first) and reaches the agent's screen pop; a busy customer is
//! `busy`; an agent who does not answer ends the attempt as
//! `agent_no_answer` with the contact due again; a skipped contact is due
//! again and nothing dials it.

use std::time::{Duration, Instant};

use oml_dialer::{Engine, EngineConfig, PLAY_KEY};
use oml_pbxsim::{Dist, NumberOutcome, PbxSim, SimConfig};
use oml_store::dialing::AttemptRow;
use oml_store::testing::backends;
use oml_store::{
    now_ms, CampaignMode, CampaignSpec, CampaignState, NewUser, Role, ServerSpec, Store, TrunkSpec,
    DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;

const SECRET: &str = "preview-secret";
const ANSWERS: &str = "5552000";
const BUSY: &str = "5552001";
const OTHER: &str = "5552002";
const SKIPPED: &str = "5552003";

fn sim() -> SimConfig {
    let mut cfg = SimConfig::new("oml", SecretString::from(SECRET), 1);
    cfg.time_scale = 10.0;
    cfg.agent_answer_time = Dist::Fixed(2.0);
    cfg.agents_not_answering = vec!["PJSIP/1002".into()];
    cfg.customers.time_to_answer = Dist::Fixed(3.0);
    cfg.talk_time = Dist::Fixed(10.0);
    cfg.numbers.insert(ANSWERS.into(), NumberOutcome::Answer);
    cfg.numbers.insert(BUSY.into(), NumberOutcome::Busy);
    cfg.numbers.insert(OTHER.into(), NumberOutcome::Answer);
    cfg.numbers.insert(SKIPPED.into(), NumberOutcome::Answer);
    cfg
}

async fn user(s: &Store, name: &str) -> i64 {
    let pw = SecretString::from("agent-password-1".to_string());
    s.create_user(&NewUser {
        username: name,
        password: &pw,
        role: Role::Agent,
        must_change_password: false,
    })
    .await
    .unwrap()
    .id
}

async fn setup(s: &Store, port: u16) -> i64 {
    s.create_server(&ServerSpec {
        name: "pbx1".into(),
        host: "127.0.0.1".into(),
        ami_port: port,
        ami_user: "oml".into(),
        ami_secret: SecretString::from(SECRET),
        enabled: true,
    })
    .await
    .unwrap();
    s.create_trunk(&TrunkSpec {
        name: "t1".into(),
        dial_string: DEFAULT_DIAL_STRING.into(),
        max_channels: 10,
        server: None,
        caller_id: String::new(),
    })
    .await
    .unwrap();
    let mut spec = CampaignSpec::new("look", "t1");
    spec.mode = CampaignMode::Preview;
    spec.window_start_minute = 0;
    spec.window_end_minute = 24 * 60;
    spec.days_mask = 127;
    spec.ring_timeout_s = 20;
    spec.rules = ["busy:3:60", "no_answer:3:60", "failed:3:60"]
        .iter()
        .map(|r| oml_store::RescheduleRule::parse(r).unwrap())
        .collect();
    let c = s.create_campaign(&spec).await.unwrap();
    let phones: Vec<String> = [ANSWERS, BUSY, OTHER, SKIPPED]
        .iter()
        .map(|p| p.to_string())
        .collect();
    s.seed_contacts(c.id, &phones).await.unwrap();
    s.set_campaign_state("look", CampaignState::Running)
        .await
        .unwrap();
    s.set_setting(PLAY_KEY, "on").await.unwrap();
    c.id
}

/// The ended attempt of `contact`, waiting up to `limit`.
async fn ended(s: &Store, campaign: i64, contact: i64, limit: Duration) -> Option<AttemptRow> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        let rows = s.campaign_attempts(campaign).await.unwrap();
        if let Some(r) = rows
            .into_iter()
            .find(|r| r.contact_id == contact && r.outcome.is_some())
        {
            return Some(r);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Reserves the next contact for `agent` and asks for its call through
/// `interface`; the contact's id.
async fn call_next(s: &Store, campaign: i64, agent: i64, interface: &str) -> (i64, String) {
    let now = now_ms();
    let c = s
        .reserve_preview_contact(campaign, agent, now, 120_000)
        .await
        .unwrap()
        .expect("a contact due");
    assert!(s
        .request_preview_call(c.id, agent, interface, now, 30_000)
        .await
        .unwrap());
    (c.id, c.phone)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_calls_ring_the_agent_first_and_are_never_abandoned() {
    for t in backends().await {
        let s = &t.store;
        let pbx = PbxSim::start(sim()).await.unwrap();
        let campaign = setup(s, pbx.local_addr().port()).await;
        let (ana, bob) = (user(s, "ana").await, user(s, "bob").await);
        let engine = Engine::spawn(
            s.clone(),
            EngineConfig {
                tick: Duration::from_millis(50),
                reload_every: Duration::from_millis(200),
                ami_rate_limit: None,
                ..EngineConfig::default()
            },
        );
        // Running and played, the engine dials nothing by itself.
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(
            s.campaign_attempts(campaign).await.unwrap().is_empty(),
            "{}: a preview campaign was dialed without an agent",
            t.label
        );

        // The customer answers: connected, answered and connected at once,
        // the agent's interface stored (their screen pop finds it).
        let (first, phone) = call_next(s, campaign, ana, "PJSIP/1001").await;
        assert_eq!(phone, ANSWERS);
        let r = ended(s, campaign, first, Duration::from_secs(15))
            .await
            .unwrap_or_else(|| panic!("{}: the answered preview call never ended", t.label));
        assert_eq!(
            r.outcome.as_deref(),
            Some("connected"),
            "{}: {r:?}",
            t.label
        );
        assert!(r.channel_id.ends_with("-p"), "{}: {r:?}", t.label);
        assert!(r.answered_at.is_some() && r.answered_at == r.connected_at);
        // Ringing the agent (0.2 s) and the customer (0.3 s) come before
        // the answer; the talk (1 s) after it.
        let (placed, answered) = (r.placed_at, r.answered_at.unwrap());
        assert!(answered - placed >= 400, "{}: {r:?}", t.label);
        assert!(r.ended_at.unwrap() - answered >= 900, "{}: {r:?}", t.label);
        let pop = s
            .agent_latest_call("ana", "PJSIP/1001")
            .await
            .unwrap()
            .expect("the screen pop finds the call");
        assert_eq!(pop.contact_id, first);

        // A busy customer.
        let (second, phone) = call_next(s, campaign, ana, "PJSIP/1001").await;
        assert_eq!(phone, BUSY);
        let r = ended(s, campaign, second, Duration::from_secs(15))
            .await
            .unwrap();
        assert_eq!(r.outcome.as_deref(), Some("busy"), "{}: {r:?}", t.label);
        assert_eq!(r.answered_at, None);

        // Bob's extension is not answered: its own outcome, nobody dialed,
        // the contact due again at once.
        let (third, phone) = call_next(s, campaign, bob, "PJSIP/1002").await;
        assert_eq!(phone, OTHER);
        let r = ended(s, campaign, third, Duration::from_secs(15))
            .await
            .unwrap();
        assert_eq!(
            r.outcome.as_deref(),
            Some("agent_no_answer"),
            "{}: {r:?}",
            t.label
        );
        assert_eq!(r.answered_at, None);
        let states = s.campaign_contact_states(campaign).await.unwrap();
        let st = states.iter().find(|c| c.id == third).unwrap();
        assert_eq!(st.state, "pending", "{}: {st:?}", t.label);
        assert!(st.next_attempt_at <= now_ms());

        // Skip: the contact is due again (next after the others) and the
        // engine does not dial it by itself.
        let now = now_ms();
        let d = s
            .reserve_preview_contact(campaign, ana, now, 120_000)
            .await
            .unwrap()
            .unwrap();
        assert!(s
            .release_preview_contact(d.id, ana, now, now)
            .await
            .unwrap());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rows = s.campaign_attempts(campaign).await.unwrap();
        assert!(rows.iter().all(|r| r.contact_id != d.id), "{}", t.label);
        assert_eq!(rows.len(), 3, "{}: {rows:?}", t.label);
        // Nothing of this campaign counts as abandoned.
        assert!(rows
            .iter()
            .all(|r| !r.outcome.as_deref().unwrap_or("").starts_with("abandoned")));
        engine.shutdown().await;
        pbx.shutdown().await;
    }
}
