//! The engine stores each paced campaign's history (issue 20 item 1): a
//! campaign run to its end against pbxsim, on every store backend, leaves
//! history rows whose counts add up to the attempts stored (placed,
//! answered, abandoned, connected) and whose gauges saw the agents. Rows
//! are one second long here (`EngineConfig::minute_history`) so the run
//! spans several of them in a few seconds.

use std::time::{Duration, Instant};

use oml_dialer::{Engine, EngineConfig, PLAY_KEY};
use oml_pbxsim::{Dist, PbxSim, SimConfig};
use oml_store::history::CampaignMinute;
use oml_store::testing::backends;
use oml_store::{
    CampaignMode, CampaignSpec, CampaignState, RescheduleRule, ServerSpec, Store, TrunkSpec,
    DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;

const SECRET: &str = "sim-secret";

async fn setup(store: &Store, port: u16, n: usize, mode: CampaignMode) -> i64 {
    store
        .create_server(&ServerSpec {
            name: "pbx1".into(),
            host: "127.0.0.1".into(),
            ami_port: port,
            ami_user: "oml".into(),
            ami_secret: SecretString::from(SECRET),
            enabled: true,
        })
        .await
        .unwrap();
    store
        .create_trunk(&TrunkSpec {
            name: "t1".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 30,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("sales", "t1");
    spec.mode = mode;
    spec.queue_name = "oml-default".into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 24 * 60;
    spec.days_mask = 127;
    spec.rules = ["busy:2:0", "no_answer:2:0", "abandoned:2:0"]
        .iter()
        .map(|r| RescheduleRule::parse(r).unwrap())
        .collect();
    let c = store.create_campaign(&spec).await.unwrap();
    let phones: Vec<String> = (0..n).map(|i| format!("55510{i:04}")).collect();
    store.seed_contacts(c.id, &phones).await.unwrap();
    store
        .set_campaign_state("sales", CampaignState::Running)
        .await
        .unwrap();
    store.set_setting(PLAY_KEY, "on").await.unwrap();
    c.id
}

/// Runs campaign `sales` in `mode` over `n` contacts against pbxsim to its
/// end (90 s at most); its id.
async fn run_campaign(store: &Store, n: usize, mode: CampaignMode) -> i64 {
    let mut cfg = SimConfig::new("oml", SecretString::from(SECRET), 5);
    cfg.time_scale = 40.0;
    cfg.customers.answer_rate = 0.6;
    cfg.customers.busy_rate = 0.2;
    cfg.customers.time_to_answer = Dist::Uniform { min: 2.0, max: 8.0 };
    cfg.customers.patience = Dist::Uniform {
        min: 1.0,
        max: 30.0,
    };
    cfg.talk_time = Dist::Uniform {
        min: 20.0,
        max: 60.0,
    };
    cfg.wrapup_time = Dist::Fixed(0.0);
    let sim = PbxSim::start(cfg).await.unwrap();
    let campaign = setup(store, sim.local_addr().port(), n, mode).await;
    let engine = Engine::spawn(
        store.clone(),
        EngineConfig {
            tick: Duration::from_millis(50),
            reload_every: Duration::from_millis(200),
            queue_poll_every: Duration::from_secs(2),
            hopper_batch: 20,
            ami_rate_limit: None,
            minute_history: Some(Duration::from_secs(1)),
            ..EngineConfig::default()
        },
    );
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(90) {
        let c = store.campaign_by_name("sales").await.unwrap().unwrap();
        if c.state == CampaignState::Finished {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    engine.shutdown().await;
    sim.shutdown().await;
    campaign
}

/// The campaign's rows once their calls placed add up to the attempts
/// stored (the last rows are stored by a task of their own after
/// shutdown; 10 s at most).
async fn rows_of(store: &Store, campaign: i64) -> Vec<CampaignMinute> {
    let placed = store.campaign_attempts(campaign).await.unwrap().len() as i64;
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = store.campaign_minutes(campaign, 0, i64::MAX).await.unwrap();
        if Instant::now() >= until || rows.iter().map(|r| r.calls_placed).sum::<i64>() == placed {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_adds_up_to_the_stored_attempts() {
    for t in backends().await {
        let store = t.store.clone();
        let campaign = run_campaign(&store, 60, CampaignMode::Progressive).await;
        let attempts = store.campaign_attempts(campaign).await.unwrap();
        let count = |f: &dyn Fn(&oml_store::dialing::AttemptRow) -> bool| {
            attempts.iter().filter(|a| f(a)).count() as i64
        };
        let placed = attempts.len() as i64;
        let answered = count(&|a| a.answered_at.is_some());
        let abandoned = count(&|a| a.outcome.as_deref() == Some("abandoned"));
        let connected = count(&|a| a.connected_at.is_some());
        assert!(
            placed >= 60 && connected > 0,
            "{}: {placed} attempts",
            t.label
        );
        // The last rows are stored by a task of their own after shutdown.
        let mut sums = (0, 0, 0, 0);
        let mut rows = Vec::new();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            rows = store.campaign_minutes(campaign, 0, i64::MAX).await.unwrap();
            sums = rows.iter().fold((0, 0, 0, 0), |s, r| {
                (
                    s.0 + r.calls_placed,
                    s.1 + r.live_answers,
                    s.2 + r.abandons,
                    s.3 + r.connected,
                )
            });
            if sums == (placed, answered, abandoned, connected) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            sums,
            (placed, answered, abandoned, connected),
            "{}: history (placed, answered, abandoned, connected) against the attempts",
            t.label
        );
        assert!(rows.len() >= 2, "{}: {} rows", t.label, rows.len());
        assert!(
            rows.iter()
                .any(|r| r.agents_logged_in >= 4.0 && r.occupancy > 0.0),
            "{}: no row saw the agents: {rows:?}",
            t.label
        );
        assert!(rows.windows(2).all(|w| w[0].minute_at < w[1].minute_at));
        assert!(
            rows.iter().all(|r| r.risk_threshold.is_none()),
            "{}: a progressive campaign has no risk threshold: {rows:?}",
            t.label
        );
    }
}

/// Issue 20: the predictive pacer's risk threshold reaches the history
/// (it was always empty): every row with calls in flight (so its pacer
/// existed) holds one, a probability no larger than the campaign's abandon
/// limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_predictive_campaign_stores_its_risk_threshold() {
    for t in backends().await {
        let store = t.store.clone();
        let campaign = run_campaign(&store, 60, CampaignMode::Predictive).await;
        let limit = store
            .campaign_by_name("sales")
            .await
            .unwrap()
            .unwrap()
            .max_abandon_rate;
        let rows = rows_of(&store, campaign).await;
        let dialing: Vec<&CampaignMinute> =
            rows.iter().filter(|r| r.calls_in_flight > 0.0).collect();
        assert!(
            dialing.len() >= 2,
            "{}: {} rows with calls in flight",
            t.label,
            dialing.len()
        );
        for r in &dialing {
            let risk = r.risk_threshold.unwrap_or_else(|| {
                panic!("{}: a sampled row without risk threshold: {r:?}", t.label)
            });
            assert!(
                risk > 0.0 && risk <= limit,
                "{}: risk threshold {risk} outside (0, {limit}]",
                t.label
            );
        }
    }
}
