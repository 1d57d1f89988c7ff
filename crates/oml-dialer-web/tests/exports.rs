//! CSV exports over HTTP (in-process router), on SQLite and PostgreSQL:
//! 100,000 attempts stream with flat memory (the process's resident size
//! grows far less than the CSV, and no more than for 10,000) and parse as
//! CSV with one row per attempt; the range, the roles, the bad ranges and
//! the audit rows; contacts, history and report exports.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request};
use futures::StreamExt;
use oml_config::Config;
use oml_store::testing::execute;
use oml_store::{AuditFilter, Backend, CampaignSpec, Role, Store, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::session::{random_token, token_hash};
use oml_web::testing::{add_user, Client};
use oml_web::AppState;
use tower::ServiceExt;

const PW: &str = "a fine password 1";
/// 2026-12-07T21:00:00Z.
const T0: i64 = 1_796_677_200_000;

async fn setup(store: &Store) -> (axum::Router, i64) {
    add_user(store, "admin", PW, Role::Admin, false).await;
    add_user(store, "sup", PW, Role::Supervisor, false).await;
    add_user(store, "ag", PW, Role::Agent, false).await;
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

/// `n` contacts with one attempt each, placed a second apart from [`T0`].
async fn seed(store: &Store, campaign: i64, n: i64) {
    let numbers = match store.backend() {
        Backend::Sqlite => format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"
        ),
        Backend::Postgres => format!("SELECT i FROM generate_series(1, {n}) AS s(i)"),
    };
    execute(
        store,
        &format!("INSERT INTO contact_lists (campaign_id, name, imported_at) VALUES ({campaign}, 'bulk', 0)"),
    )
    .await
    .unwrap();
    execute(
        store,
        &format!(
            "INSERT INTO contacts (campaign_id, list_id, phone, state, attempts, updated_at)
             SELECT {campaign}, (SELECT MAX(id) FROM contact_lists), '+1555' || CAST(1000000 + i AS TEXT), 'done', 1, 0
             FROM ({numbers}) AS n"
        ),
    )
    .await
    .unwrap();
    execute(
        store,
        &format!(
            "INSERT INTO call_attempts (campaign_id, contact_id, attempt_no, channel_id, placed_at,
                 answered_at, connected_at, ended_at, outcome, hangup_cause, node, agent)
             SELECT campaign_id, id, 1, 'ch-' || CAST(id AS TEXT), {T0} + id * 1000,
                 {T0} + id * 1000 + 5000, {T0} + id * 1000 + 6000, {T0} + id * 1000 + 60000,
                 'connected', 16, 'node-1', 'agent, ' || CAST(id % 20 AS TEXT)
             FROM contacts WHERE campaign_id = {campaign}"
        ),
    )
    .await
    .unwrap();
}

fn rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Downloads `path` with a bearer token, chunk by chunk into a file;
/// returns (bytes, peak resident growth in bytes over the download, file).
async fn download(
    app: &axum::Router,
    path: &str,
    token: &str,
) -> (u64, u64, tempfile::NamedTempFile) {
    let mut req = Request::builder()
        .uri(path)
        .header(header::HOST, "console.test")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo::<std::net::SocketAddr>(
            "192.0.2.10:5000".parse().unwrap(),
        ));
    let base = rss_kb();
    let peak = Arc::new(AtomicU64::new(base));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kb(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let mut bytes = 0u64;
    let mut body = resp.into_body().into_data_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        bytes += chunk.len() as u64;
        std::io::Write::write_all(&mut file, &chunk).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let grew = peak.load(Ordering::Relaxed).saturating_sub(base) * 1024;
    (bytes, grew, file)
}

/// The header of a CSV file, its first record and its number of records,
/// each record checked to be valid CSV of the header's width.
fn records(file: &std::path::Path) -> (Vec<String>, csv::StringRecord, usize) {
    let mut r = csv::Reader::from_path(file).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut first = None;
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.expect("valid CSV");
        n += 1;
        first.get_or_insert(rec);
    }
    (header, first.unwrap_or_default(), n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_attempts_stream_with_flat_memory() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let (app, campaign) = setup(store).await;
        let t0 = std::time::Instant::now();
        seed(store, campaign, 100_000).await;
        eprintln!(
            "{}: 100,000 attempts stored in {:?}",
            ts.label,
            t0.elapsed()
        );
        let token = random_token();
        store
            .create_api_token(
                "sup",
                "reports",
                &token_hash(&token),
                oml_store::now_ms(),
                None,
            )
            .await
            .unwrap();
        // One whole export first fills the pools, the allocator and the
        // database's page caches (bounded, per connection: SQLite's grow
        // by ~8 MB over a first read of the whole table, and a smaller
        // warm-up leaves that growth to the measured run); then 10,000
        // and 100,000.
        let all = "/api/v1/campaigns/sales/export/attempts.csv";
        let t0 = std::time::Instant::now();
        let (_, warm, _) = download(&app, all, &token).await;
        eprintln!(
            "{}: warm-up, resident +{warm}, {:?}",
            ts.label,
            t0.elapsed()
        );
        let to = chrono::DateTime::from_timestamp_millis(T0 + 10_000 * 1000 + 1)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let small_path = format!("{all}?to={to}");
        let (small_bytes, small_grew, small) = download(&app, &small_path, &token).await;
        let (bytes, grew, big) = download(&app, all, &token).await;
        eprintln!(
            "{}: 10,000 attempts {small_bytes} bytes, resident +{small_grew}; 100,000 attempts {bytes} bytes, resident +{grew}",
            ts.label
        );
        let t0 = std::time::Instant::now();
        let (header, _, n) = records(small.path());
        assert_eq!(n, 10_000, "{}", ts.label);
        assert_eq!(header[0], "attempt_id");
        let (header, first, n) = records(big.path());
        assert_eq!(n, 100_000, "{}", ts.label);
        eprintln!("{}: both files parsed in {:?}", ts.label, t0.elapsed());
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(&first[col("placed_at_utc")], "2026-12-07T21:00:01Z");
        assert_eq!(&first[col("placed_at_local")], "2026-12-07T18:00:01-03:00");
        assert_eq!(&first[col("outcome")], "connected");
        assert_eq!(&first[col("agent")], "agent, 1");
        assert!(bytes > 15_000_000, "{bytes}");
        // Flat: the server never held the export (nor a large part of it).
        assert!(
            grew < bytes / 4,
            "{}: resident grew {grew} for {bytes} bytes",
            ts.label
        );
        assert!(
            grew < small_grew + 16 * 1024 * 1024,
            "{}: resident grew {grew} for 100,000 against {small_grew} for 10,000",
            ts.label
        );
    }
}

#[tokio::test]
async fn exports_are_for_supervisors_checked_and_audited() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let (app, campaign) = setup(store).await;
        seed(store, campaign, 30).await;
        let mut agent = Client::new(&app);
        agent.login("ag", PW).await;
        // Agents are refused (403, or sent to their own page).
        let r = agent
            .get("/dialer/campaigns/sales/export/attempts.csv")
            .await;
        assert!(
            matches!(r.status.as_u16(), 403 | 303),
            "{}: {} {:?}",
            ts.label,
            r.status,
            r.location
        );
        assert!(!r.body.contains("attempt_id"));

        let mut sup = Client::new(&app);
        sup.login("sup", PW).await;
        // A day in the campaign's time zone: 2026-12-07 local ends at
        // 03:00 UTC on the 8th, so all 30 attempts are in it.
        let r = sup
            .get("/dialer/campaigns/sales/export/attempts.csv?from=2026-12-07&to=2026-12-07")
            .await;
        assert_eq!(r.status, 200, "{}: {}", ts.label, r.body);
        assert_eq!(r.body.lines().count(), 31, "{}", ts.label);
        let r = sup
            .get("/dialer/campaigns/sales/export/attempts.csv?from=2026-12-08")
            .await;
        assert_eq!(r.body.lines().count(), 1, "{}: header only", ts.label);
        let r = sup
            .get("/dialer/campaigns/sales/export/attempts.csv?from=last+week")
            .await;
        assert_eq!(r.status, 400, "{}", ts.label);
        assert!(
            r.body.contains("from=last week is not a date"),
            "{}",
            r.body
        );
        assert_eq!(
            sup.get("/dialer/campaigns/nope/export/attempts.csv")
                .await
                .status,
            404
        );

        let r = sup.get("/dialer/campaigns/sales/export/contacts.csv").await;
        assert_eq!(r.body.lines().count(), 31, "{}", ts.label);
        assert!(r
            .body
            .starts_with("contact_id,phone,state,attempts,last_outcome,"));
        let r = sup.get("/dialer/campaigns/sales/export/report.csv").await;
        assert!(r.body.contains("\nattempts_total,30\n"), "{}", r.body);
        assert!(r.body.contains("\noutcome_connected,30\n"), "{}", r.body);
        store
            .record_minutes(&[oml_store::history::CampaignMinute {
                campaign_id: campaign,
                minute_at: T0,
                calls_placed: 9,
                ..Default::default()
            }])
            .await
            .unwrap();
        let r = sup.get("/dialer/campaigns/sales/export/history.csv").await;
        let lines: Vec<&str> = r.body.lines().collect();
        assert_eq!(lines.len(), 2, "{}", r.body);
        assert!(lines[1].starts_with("2026-12-07T18:00:00-03:00,2026-12-07T21:00:00Z,9,"));

        let mut api = Client::new(&app);
        api.bearer = Some("not a token".into());
        let r = api.get("/api/v1/campaigns/sales/export/attempts.csv").await;
        assert_eq!(r.status, 401, "{}", ts.label);

        let audit = store.audit_entries(&AuditFilter::default()).await.unwrap();
        let exports: Vec<_> = audit
            .iter()
            .filter(|e| e.action == "campaign.export")
            .collect();
        assert_eq!(exports.len(), 5, "{}: {exports:?}", ts.label);
        assert!(exports
            .iter()
            .all(|e| e.actor == "sup" && e.subject == "sales"));
        assert!(exports
            .iter()
            .any(|e| e.detail == "attempts.csv from 2026-12-07 to 2026-12-07"));
    }
}
