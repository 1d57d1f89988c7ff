//! What a supervisor looks at, in a real headless Chromium, on SQLite and
//! PostgreSQL (issue 20): a campaign run against pbxsim stores its history
//! (rows of one second here), and its report page draws it (the occupancy
//! chart has one point per stored row); the wall shows today's figures
//! from it, and both the wall and the Dialer page show a change (the
//! campaign paused and its abandon rate over 80 % of its limit) within
//! 2 s, without reloading. The Dialer page also shows the agents section
//! (an agent pausing shows within 2 s, without reloading) and, while an
//! engine runs, which node leads the campaign and why.

mod browser;

use std::time::{Duration, Instant};

use browser::{login, shot, text_of};
use fantoccini::{Client, Locator};
use oml_dialer::{Engine, EngineConfig, PLAY_KEY};
use oml_pbxsim::{Dist, PbxSim, SimConfig};
use oml_store::testing::execute;
use oml_store::{
    CampaignMode, CampaignSpec, CampaignState, Role, ServerSpec, Store, TrunkSpec,
    DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;

const SECRET: &str = "sim-secret";
const PW: &str = "sup-password-1";

async fn setup(store: &Store, port: u16) -> i64 {
    // An administrator exists: the console is past its first-run setup.
    oml_web::testing::add_user(store, "admin", PW, Role::Admin, false).await;
    oml_web::testing::add_user(store, "sup", PW, Role::Supervisor, false).await;
    oml_web::testing::add_user(store, "ana", PW, Role::Agent, false).await;
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
    spec.mode = CampaignMode::Progressive;
    spec.queue_name = "oml-default".into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 24 * 60;
    spec.days_mask = 127;
    let c = store.create_campaign(&spec).await.unwrap();
    let phones: Vec<String> = (0..40).map(|i| format!("55510{i:04}")).collect();
    store.seed_contacts(c.id, &phones).await.unwrap();
    store
        .set_campaign_state("sales", CampaignState::Running)
        .await
        .unwrap();
    store.set_setting(PLAY_KEY, "on").await.unwrap();
    c.id
}

/// Runs the campaign against pbxsim for a few seconds; returns its rows.
async fn run(store: &Store) -> Vec<oml_store::history::CampaignMinute> {
    let mut cfg = SimConfig::new("oml", SecretString::from(SECRET), 5);
    cfg.time_scale = 40.0;
    cfg.customers.answer_rate = 0.7;
    cfg.customers.time_to_answer = Dist::Uniform { min: 2.0, max: 8.0 };
    cfg.talk_time = Dist::Uniform {
        min: 20.0,
        max: 60.0,
    };
    cfg.wrapup_time = Dist::Fixed(0.0);
    let sim = PbxSim::start(cfg).await.unwrap();
    let campaign = setup(store, sim.local_addr().port()).await;
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
    while start.elapsed() < Duration::from_secs(6) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    engine.shutdown().await;
    sim.shutdown().await;
    // The last rows are stored by a task of their own after shutdown.
    let mut rows = Vec::new();
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        let now = store.campaign_minutes(campaign, 0, i64::MAX).await.unwrap();
        if !now.is_empty() && now.len() == rows.len() {
            break;
        }
        rows = now;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    rows
}

async fn attr(c: &Client, css: &str, name: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .attr(name)
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Waits up to 2 s for `css`'s text to contain `want`, on the page loaded
/// before (`page` must still be the same document: nothing reloaded).
async fn within_2s(c: &Client, page: &fantoccini::elements::Element, css: &str, want: &str) {
    within(c, page, css, want, Duration::from_secs(2)).await
}

/// [`within_2s`] with another limit.
async fn within(
    c: &Client,
    page: &fantoccini::elements::Element,
    css: &str,
    want: &str,
    limit: Duration,
) {
    let start = Instant::now();
    let mut seen = String::new();
    while start.elapsed() < limit {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            seen = el.text().await.unwrap_or_default();
            if seen.contains(want) {
                assert!(
                    page.tag_name().await.is_ok(),
                    "the page was reloaded to show it"
                );
                eprintln!("{css} showed {want:?} after {:?}", start.elapsed());
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css} did not show {want:?} within {limit:?}: {seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charts_of_a_run_and_the_wall_updating_live() {
    let Some((chromium, chromedriver)) = browser::tools("charts and live wall test") else {
        return;
    };
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let rows = run(store).await;
        assert!(rows.len() >= 3, "{}: {} rows", ts.label, rows.len());
        let placed: i64 = rows.iter().map(|r| r.calls_placed).sum();
        assert!(placed > 0, "{}", ts.label);

        let session = browser::Session::start(store, &chromium, &chromedriver).await;
        let (c, base) = (&session.client, session.base.as_str());
        login(c, base, "sup", PW).await;

        // The report page draws today's stored rows: one point each.
        c.goto(&format!("{base}/dialer/campaigns/sales/report"))
            .await
            .unwrap();
        let points = attr(c, "#chart-occupancy polyline", "points").await;
        assert_eq!(
            points.split_whitespace().count(),
            rows.len(),
            "{}: {points}",
            ts.label
        );
        shot(c, ts.label, "live-01-report-charts").await;

        // The wall shows today's figures from them.
        c.goto(&format!("{base}/dialer/wall")).await.unwrap();
        let shown = text_of(c, "#tile-sales .today-placed").await;
        assert_eq!(shown, placed.to_string(), "{}", ts.label);
        let tile = text_of(c, "#tile-sales").await;
        assert!(!tile.contains("Look:"), "{}: {tile}", ts.label);
        shot(c, ts.label, "live-02-wall").await;

        // A change shows within 2 s without a reload: paused, and every
        // answered call abandoned (over 80 % of the 3 % limit).
        let page = c.find(Locator::Css("html")).await.unwrap();
        store
            .set_campaign_state("sales", CampaignState::Paused)
            .await
            .unwrap();
        execute(
            store,
            "UPDATE call_attempts SET answered_at = COALESCE(answered_at, placed_at), outcome = 'abandoned'",
        )
        .await
        .unwrap();
        within_2s(c, &page, "#tile-sales", "Look: abandon rate").await;
        within_2s(c, &page, "#tile-sales .state", "paused").await;
        assert_eq!(attr(c, "#tile-sales", "class").await, "tile alert");
        shot(c, ts.label, "live-03-wall-alert").await;

        // The Dialer page too.
        c.goto(&format!("{base}/dialer")).await.unwrap();
        let page = c.find(Locator::Css("html")).await.unwrap();
        assert!(text_of(c, "#campaign-sales").await.contains("paused"));
        store
            .set_campaign_state("sales", CampaignState::Running)
            .await
            .unwrap();
        within_2s(c, &page, "#campaign-sales .state", "running").await;
        assert!(text_of(c, "#alert-sales").await.contains("abandon rate"));
        shot(c, ts.label, "live-04-dialer-page").await;

        // The agents section is on the Dialer page, live too: an agent
        // pausing for lunch shows within 2 s without a reload.
        let ana = r#"#agents tr[data-agent="ana"] .agent-state"#;
        assert_eq!(text_of(c, ana).await, "logged out", "{}", ts.label);
        let id = store.user_by_name("ana").await.unwrap().unwrap().id;
        store
            .set_agent_state(id, Some(("paused", Some("Lunch"))), oml_store::now_ms())
            .await
            .unwrap();
        within_2s(c, &page, ana, "Lunch").await;
        shot(c, ts.label, "live-05-dialer-page-agents").await;

        // While an engine runs, which node leads the campaign and why
        // (the sharing of `GET /api/v1/dialer`), again without a reload.
        let engine = Engine::spawn(
            store.clone(),
            EngineConfig {
                node: "node-e2e".into(),
                ..EngineConfig::default()
            },
        );
        within(c, &page, "#lead-sales", "node-e2e", Duration::from_secs(15)).await;
        within_2s(c, &page, "#node-node-e2e", "sales").await;
        shot(c, ts.label, "live-06-dialer-page-sharing").await;
        engine.shutdown().await;
        session.finish().await;
    }
}
