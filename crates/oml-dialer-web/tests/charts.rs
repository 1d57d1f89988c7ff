//! The campaign's report page draws the chosen day's stored minutes as SVG
//! charts (one point per stored minute), on SQLite and PostgreSQL; a bad
//! day is refused naming it; a day without history says so.

use oml_config::Config;
use oml_store::history::CampaignMinute;
use oml_store::{CampaignSpec, Role, Store, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::testing::{add_user, Client};
use oml_web::AppState;

const PW: &str = "a fine password 1";
/// 2026-12-07T21:00:00Z, 18:00 in Buenos Aires.
const T0: i64 = 1_796_677_200_000;

async fn setup(store: &Store) -> (axum::Router, i64) {
    add_user(store, "admin", PW, Role::Admin, false).await;
    add_user(store, "sup", PW, Role::Supervisor, false).await;
    store
        .create_trunk(&TrunkSpec {
            name: "carrier".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("sales", "carrier");
    spec.time_zone = "America/Argentina/Buenos_Aires".into();
    let c = store.create_campaign(&spec).await.unwrap();
    let state = oml_dialer_web::register(AppState::builder(store.clone(), Config::default()))
        .build()
        .unwrap();
    (oml_dialer_web::app(state), c.id)
}

fn points(body: &str, chart: &str, label: &str) -> usize {
    let svg = body
        .split(&format!("id=\"{chart}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no {chart} in {body}"));
    let svg = svg.split("</svg>").next().unwrap();
    let line = svg
        .split(&format!("data-label=\"{label}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no {label} in {svg}"));
    let pts = line
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    pts.split_whitespace().count()
}

#[tokio::test]
async fn the_report_page_charts_the_stored_minutes_of_a_day() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let (app, campaign) = setup(store).await;
        let rows: Vec<CampaignMinute> = (0..7)
            .map(|i| CampaignMinute {
                campaign_id: campaign,
                minute_at: T0 + i * 60_000,
                calls_placed: 10,
                live_answers: 4,
                abandons: i % 2,
                ended: 10,
                agents_logged_in: 5.0,
                agents_talking: 4.0,
                agents_ready: 1.0,
                occupancy: 0.8,
                answer_rate: Some(0.4),
                window_abandon_rate: 0.01,
                max_abandon_rate: 0.03,
                risk_threshold: (i >= 2).then_some(0.02),
                ..Default::default()
            })
            .collect();
        store.record_minutes(&rows).await.unwrap();
        let mut sup = Client::new(&app);
        sup.login("sup", PW).await;
        let r = sup
            .get("/dialer/campaigns/sales/report?day=2026-12-07")
            .await;
        assert_eq!(r.status, 200, "{}: {}", ts.label, r.body);
        assert!(r.body.contains("7 minutes stored"), "{}", ts.label);
        assert_eq!(points(&r.body, "chart-occupancy", "occupancy"), 7);
        assert_eq!(points(&r.body, "chart-abandon", "limit"), 7);
        // The predictive pacer's risk threshold, where stored.
        assert_eq!(
            points(&r.body, "chart-abandon", "risk threshold (predictive)"),
            5
        );
        assert_eq!(points(&r.body, "chart-agents", "talking"), 7);
        assert_eq!(points(&r.body, "chart-answer", "answer rate"), 7);
        // Hours of the day in the campaign's zone, from its midnight.
        assert!(r.body.contains(">00:00</text>"), "{}", ts.label);
        assert!(r.body.contains(">16:00</text>"), "{}", ts.label);
        // Another day: no history, said so.
        let r = sup
            .get("/dialer/campaigns/sales/report?day=2026-12-06")
            .await;
        assert!(r.body.contains("id=\"no-history\""), "{}", ts.label);
        assert_eq!(points(&r.body, "chart-occupancy", "occupancy"), 0);
        let r = sup.get("/dialer/campaigns/sales/report?day=monday").await;
        assert_eq!(r.status, 400, "{}", ts.label);
        assert!(r.body.contains("day=monday is not a day"), "{}", r.body);
    }
}
