//! The Dialer page and the JSON API over HTTP (in-process router), on
//! SQLite and PostgreSQL: roles, CSRF, play/stop, campaign state changes,
//! live figures, bearer tokens and their refusals, audit rows.

use oml_config::Config;
use oml_dialer::engine::{CampaignLive, ServerStatus};
use oml_dialer::{status_key, LiveStatus};
use oml_store::{
    AuditFilter, CampaignSpec, CampaignState, Role, Store, TrunkSpec, DEFAULT_DIAL_STRING,
};
use oml_web::session::{random_token, token_hash};
use oml_web::testing::{add_user, Client};
use oml_web::AppState;
use serde_json::Value;

const PW: &str = "a fine password 1";

async fn setup(store: &Store) -> axum::Router {
    for (name, role) in [
        ("admin", Role::Admin),
        ("sup", Role::Supervisor),
        ("ag", Role::Agent),
    ] {
        add_user(store, name, PW, role, false).await;
    }
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
    for name in ["sales", "retention"] {
        store
            .create_campaign(&CampaignSpec::new(name, "carrier"))
            .await
            .unwrap();
    }
    let state = oml_dialer_web::register(AppState::builder(store.clone(), Config::default()))
        .build()
        .unwrap();
    oml_dialer_web::app(state)
}

async fn state_of(store: &Store, name: &str) -> CampaignState {
    store.campaign_by_name(name).await.unwrap().unwrap().state
}

async fn token(store: &Store, user: &str, label: &str) -> String {
    let t = random_token();
    store
        .create_api_token(user, label, &token_hash(&t), oml_store::now_ms(), None)
        .await
        .unwrap();
    t
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn supervisors_run_the_dialer_from_the_page() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let app = setup(store).await;

        // Agents neither see nor open the page.
        let mut agent = Client::new(&app);
        agent.login("ag", PW).await;
        assert!(!agent.get("/").await.body.contains(">Dialer</a>"));
        assert_eq!(agent.get("/dialer").await.status, 403, "{}", ts.label);
        let r = agent.post("/dialer/play", &[("play", "on")]).await;
        assert_eq!(r.status, 403);
        assert!(!oml_dialer::control::is_playing(store).await.unwrap());

        let mut sup = Client::new(&app);
        sup.login("sup", PW).await;
        let home = sup.get("/").await.body;
        assert!(home.contains(">Dialer</a>"), "{home}");
        let page = sup.get("/dialer").await;
        assert_eq!(page.status, 200, "{}", ts.label);
        assert!(page.body.contains("http-equiv=\"refresh\""));
        assert!(
            page.body.contains("id=\"dialer-start\""),
            "stopped: offers Start"
        );
        assert!(page.body.contains("never ran"));
        assert!(page.body.contains("id=\"campaign-sales\""));
        assert!(page.body.contains("id=\"start-sales\""));

        // Without the CSRF token nothing changes.
        let r = sup.post_raw("/dialer/play", &[("play", "on")]).await;
        assert_eq!(r.status, 403);
        assert!(!oml_dialer::control::is_playing(store).await.unwrap());

        sup.post("/dialer/play", &[("play", "on")])
            .await
            .assert_redirect("/dialer");
        assert!(oml_dialer::control::is_playing(store).await.unwrap());
        let page = sup.get("/dialer").await;
        assert!(page.body.contains("Dialer started"), "flash");
        assert!(page.body.contains("id=\"dialer-stop\""));

        sup.post(
            "/dialer/campaign",
            &[("name", "sales"), ("action", "start")],
        )
        .await
        .assert_redirect("/dialer");
        assert_eq!(state_of(store, "sales").await, CampaignState::Running);
        let page = sup.get("/dialer").await;
        assert!(page.body.contains("Campaign sales is running."));
        assert!(page.body.contains("id=\"pause-sales\""));
        assert!(!page.body.contains("id=\"start-sales\""));
        sup.post(
            "/dialer/campaign",
            &[("name", "sales"), ("action", "pause")],
        )
        .await;
        assert_eq!(state_of(store, "sales").await, CampaignState::Paused);

        // Bad input: a clear message, nothing changed.
        sup.post("/dialer/campaign", &[("name", "nope"), ("action", "start")])
            .await;
        assert!(sup
            .get("/dialer")
            .await
            .body
            .contains("Campaign nope does not exist"));
        sup.post(
            "/dialer/campaign",
            &[("name", "sales"), ("action", "explode")],
        )
        .await;
        assert!(sup.get("/dialer").await.body.contains("not valid"));
        assert_eq!(state_of(store, "sales").await, CampaignState::Paused);
        assert_eq!(state_of(store, "retention").await, CampaignState::Stopped);

        let log = store.audit_entries(&AuditFilter::default()).await.unwrap();
        let mine: Vec<&str> = log
            .iter()
            .filter(|e| e.actor == "sup")
            .map(|e| e.action.as_str())
            .collect();
        for a in ["dialer.start", "campaign.running", "campaign.paused"] {
            assert!(mine.contains(&a), "{a} audited: {mine:?}");
        }
    }
}

#[tokio::test]
async fn the_page_shows_the_engines_live_figures() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let app = setup(store).await;
        let live = LiveStatus {
            updated_at: oml_store::now_ms(),
            node: "oml".into(),
            play: true,
            calls_in_flight: 7,
            servers: vec![ServerStatus {
                name: "pbx-east".into(),
                connected: false,
                last_error: Some("connection refused".into()),
                agents_logged_in: 12,
                agents_free: 2,
                agents_talking: 9,
            }],
            campaigns: vec![CampaignLive {
                name: "sales".into(),
                state: "running".into(),
                window_open: true,
                talking: 9,
                occupancy: 0.75,
                problem: Some("trunk carrier is full".into()),
                ..CampaignLive::default()
            }],
            ..LiveStatus::default()
        };
        store
            .set_setting(&status_key("oml"), &serde_json::to_string(&live).unwrap())
            .await
            .unwrap();
        let mut sup = Client::new(&app);
        sup.login("sup", PW).await;
        let page = sup.get("/dialer").await.body;
        assert!(
            page.contains("running</strong> on oml, 7 calls in flight"),
            "{page}"
        );
        assert!(page.contains("pbx-east") && page.contains("connection refused"));
        assert!(page.contains("75 %"), "occupancy");
        assert!(page.contains("trunk carrier is full"));

        // An engine silent for longer than the limit is "not running".
        let stale = LiveStatus {
            updated_at: oml_store::now_ms() - 60_000,
            ..live
        };
        store
            .set_setting(&status_key("oml"), &serde_json::to_string(&stale).unwrap())
            .await
            .unwrap();
        let page = sup.get("/dialer").await.body;
        assert!(page.contains("not running"));
        assert!(!page.contains("pbx-east"), "no stale links");
    }
}

#[tokio::test]
async fn the_api_takes_supervisor_tokens_only() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let app = setup(store).await;
        let mut c = Client::new(&app);

        // No token, a wrong one, an agent's: refused, in JSON.
        let r = c.get("/api/v1/dialer").await;
        assert_eq!(r.status, 401, "{}", ts.label);
        assert!(
            r.set_cookies.is_empty(),
            "the API sets no cookie: {:?}",
            r.set_cookies
        );
        assert!(json(&r.body)["error"].as_str().unwrap().contains("Bearer"));
        c.bearer = Some(random_token());
        let r = c
            .send(axum::http::Method::POST, "/api/v1/dialer/start", None)
            .await;
        assert_eq!(r.status, 401);
        assert!(!oml_dialer::control::is_playing(store).await.unwrap());
        c.bearer = Some(token(store, "ag", "crm").await);
        let r = c.get("/api/v1/campaigns").await;
        assert_eq!(r.status, 403);
        assert!(json(&r.body)["error"].as_str().unwrap().contains("agent"));

        // A supervisor's token works, without cookies or CSRF.
        let sup_token = token(store, "sup", "crm").await;
        c.bearer = Some(sup_token.clone());
        let r = c.get("/api/v1/dialer").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let v = json(&r.body);
        assert_eq!(v["play"], false);
        assert_eq!(v["campaigns"].as_array().unwrap().len(), 2);

        let r = c
            .send(axum::http::Method::POST, "/api/v1/dialer/start", None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(json(&r.body)["play"], true);
        assert!(oml_dialer::control::is_playing(store).await.unwrap());

        let r = c
            .send(
                axum::http::Method::POST,
                "/api/v1/campaigns/sales/start",
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let v = json(&r.body);
        assert_eq!(
            (v["state"].as_str(), v["dialer_started"].as_bool()),
            (Some("running"), Some(true))
        );
        assert_eq!(state_of(store, "sales").await, CampaignState::Running);
        let r = c.get("/api/v1/campaigns/sales").await;
        let v = json(&r.body);
        assert_eq!(v["state"], "running");
        assert_eq!(v["actions"], serde_json::json!(["pause", "stop"]));

        // Bad requests name what to fix and change nothing.
        let r = c
            .send(
                axum::http::Method::POST,
                "/api/v1/campaigns/sales/explode",
                None,
            )
            .await;
        assert_eq!(r.status, 404);
        assert!(json(&r.body)["error"]
            .as_str()
            .unwrap()
            .contains("start, pause or stop"));
        let r = c
            .send(
                axum::http::Method::POST,
                "/api/v1/campaigns/nope/pause",
                None,
            )
            .await;
        assert_eq!(r.status, 404);
        assert!(json(&r.body)["error"].as_str().unwrap().contains("nope"));
        assert_eq!(c.get("/api/v1/campaigns/nope").await.status, 404);
        assert_eq!(state_of(store, "sales").await, CampaignState::Running);

        // Audited as the token, with the caller's address.
        let log = store.audit_entries(&AuditFilter::default()).await.unwrap();
        let by_api: Vec<_> = log.iter().filter(|e| e.actor == "api:sup/crm").collect();
        assert_eq!(by_api.len(), 2, "{log:?}");
        assert!(by_api.iter().all(|e| e.ip.as_deref() == Some("192.0.2.10")));
        let used = store.api_tokens(Some("sup")).await.unwrap();
        assert!(used[0].last_used_at.is_some());

        // A deactivated user's token stops working; a revoked one too.
        store.set_active("sup", false).await.unwrap();
        assert_eq!(c.get("/api/v1/dialer").await.status, 403);
        store.set_active("sup", true).await.unwrap();
        assert_eq!(c.get("/api/v1/dialer").await.status, 200);
        store.delete_api_token("sup", "crm").await.unwrap();
        assert_eq!(c.get("/api/v1/dialer").await.status, 401);

        // A token with an expiry works until then; one past its expiry is
        // refused, saying so. (Two tokens, not one waited out: a 50 ms
        // expiry failed under load when the first request came late.)
        let t = random_token();
        let now = oml_store::now_ms();
        store
            .create_api_token("sup", "later", &token_hash(&t), now, Some(now + 600_000))
            .await
            .unwrap();
        c.bearer = Some(t);
        assert_eq!(
            c.get("/api/v1/dialer").await.status,
            200,
            "valid until then"
        );
        let t = random_token();
        store
            .create_api_token("sup", "short", &token_hash(&t), now - 1_000, Some(now - 1))
            .await
            .unwrap();
        c.bearer = Some(t);
        let r = c.get("/api/v1/dialer").await;
        assert_eq!(r.status, 401);
        assert!(
            json(&r.body)["error"].as_str().unwrap().contains("expired"),
            "{}",
            r.body
        );
    }
}

/// Replaces `{param}` in a documented path with a value it accepts; `None`
/// when a required parameter needs data this walk cannot make up (a contact
/// id, a phone number: contacts_api.rs calls those).
fn fill(doc: &Value, path: &str, op: &Value) -> Option<String> {
    // A call that needs a body is tried by its own test: the walk sends none.
    if op["requestBody"]["required"] == true {
        return None;
    }
    let mut out = path.to_string();
    for p in op["parameters"].as_array().cloned().unwrap_or_default() {
        let p = match p["$ref"].as_str() {
            Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap().clone(),
            None => p,
        };
        let name = p["name"].as_str().unwrap();
        let value = match (name, p["schema"]["enum"][0].as_str()) {
            ("name", _) => "sales",
            (_, Some(v)) => v,
            _ if p["required"] == true => return None,
            _ => continue,
        };
        out = out.replace(&format!("{{{name}}}"), value);
    }
    Some(out)
}

fn required(doc: &Value, schema: &str) -> Vec<String> {
    let mut v: Vec<String> = doc["components"]["schemas"][schema]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn openapi_matches_the_routes_and_the_json_they_return() {
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    let app = setup(store).await;
    let mut c = Client::new(&app);
    let r = c.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200, "served without a token");
    let doc = json(&r.body);
    assert_eq!(doc["openapi"], "3.1.0");

    c.bearer = Some(token(store, "admin", "docs").await);
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 7);
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            let Some(url) = fill(&doc, path, op) else {
                continue;
            };
            let m: axum::http::Method = method.to_uppercase().parse().unwrap();
            let r = c.send(m, &url, None).await;
            assert_eq!(
                r.status, 200,
                "{method} {url} (documented as {path}): {}",
                r.body
            );
        }
    }

    // The documented fields are exactly the fields returned.
    let dialer = json(&c.get("/api/v1/dialer").await.body);
    assert_eq!(keys(&dialer), required(&doc, "Dialer"));
    let campaign = &dialer["campaigns"][0];
    assert_eq!(keys(campaign), required(&doc, "Campaign"));
    let live = LiveStatus {
        updated_at: oml_store::now_ms(),
        servers: vec![ServerStatus::default()],
        campaigns: vec![CampaignLive {
            name: "sales".into(),
            ..CampaignLive::default()
        }],
        ..LiveStatus::default()
    };
    store
        .set_setting(&status_key("oml"), &serde_json::to_string(&live).unwrap())
        .await
        .unwrap();
    let dialer = json(&c.get("/api/v1/dialer").await.body);
    assert_eq!(keys(&dialer["servers"][0]), required(&doc, "Server"));
    let sales = json(&c.get("/api/v1/campaigns/sales").await.body);
    assert_eq!(keys(&sales["live"]), required(&doc, "CampaignLive"));
    let report = json(&c.get("/api/v1/campaigns/sales/report").await.body);
    assert_eq!(keys(&report), required(&doc, "Report"));
    let change = json(
        &c.send(
            axum::http::Method::POST,
            "/api/v1/campaigns/sales/pause",
            None,
        )
        .await
        .body,
    );
    assert_eq!(keys(&change), required(&doc, "StateChange"));
}

#[tokio::test]
async fn metrics_need_a_token_and_carry_the_campaigns() {
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    let app = setup(store).await;
    let mut c = Client::new(&app);
    let r = c.get("/metrics").await;
    assert_eq!(r.status, 401);
    c.bearer = Some(token(store, "ag", "prom").await);
    assert_eq!(c.get("/metrics").await.status, 403);
    c.bearer = Some(token(store, "sup", "prom").await);
    let r = c.get("/metrics").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r
        .body
        .contains("oml_campaign_state{campaign=\"retention\",state=\"stopped\"} 1.0"));
    assert!(r.body.contains("oml_dialer_started 0.0"));
}

#[tokio::test]
async fn supervisors_upload_contact_lists_and_see_every_rejected_row() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let app = setup(store).await;
        let sales = store.campaign_by_name("sales").await.unwrap().unwrap();
        let page_url = "/dialer/campaigns/sales/contacts";

        let mut agent = Client::new(&app);
        agent.login("ag", PW).await;
        assert_eq!(agent.get(page_url).await.status, 403);

        let mut sup = Client::new(&app);
        sup.login("sup", PW).await;
        assert!(
            sup.get("/dialer").await.body.contains(page_url),
            "linked from the Dialer page"
        );
        let page = sup.get(page_url).await;
        assert_eq!(page.status, 200, "{}", ts.label);
        assert!(page.body.contains("id=\"no-lists\""));
        assert_eq!(sup.get("/dialer/campaigns/nope/contacts").await.status, 404);

        let csv = "name;telefono;city\n\
                   Ana;+54 9 11 5555-1234;Rosario\n\
                   Bo;123;Cordoba\n\
                   Cy;+5491155551234;Salta\n\
                   Di;+5491155559999;Mendoza\n";
        // Without the token in the query: refused, nothing imported.
        let r = sup
            .upload(
                page_url,
                &[("file", Some("leads.csv"), csv.as_bytes())],
                false,
            )
            .await;
        assert_eq!(r.status, 403, "{}", ts.label);
        assert_eq!(store.contacts_left(sales.id).await.unwrap(), 0);

        sup.get(page_url).await;
        let r = sup
            .upload(
                page_url,
                &[("file", Some("leads.csv"), csv.as_bytes())],
                true,
            )
            .await;
        assert_eq!(r.status, 200, "{}: {}", ts.label, r.body);
        assert!(r.body.contains("id=\"imported\">2<"), "{}", r.body);
        assert!(r.body.contains("id=\"rejected\">2<"));
        assert!(
            r.body.contains("<td class=\"num\">3</td><td>123</td>"),
            "row 3 rejected: {}",
            r.body
        );
        assert!(r.body.contains("duplicate of row 2"));
        assert!(
            r.body.contains("<code>telefono</code>"),
            "phone column detected"
        );
        assert_eq!(store.contacts_left(sales.id).await.unwrap(), 2);
        let lists = store.contact_lists(sales.id).await.unwrap();
        assert_eq!(lists.len(), 1);
        assert_eq!(
            (lists[0].name.as_str(), lists[0].rows_imported),
            ("leads.csv", 2)
        );

        // A malformed file: a clear message, nothing imported.
        sup.get(page_url).await;
        let bad = "phone,name\n+5491155550001,Ana\n+5491155550002,Bo,extra\n";
        let r = sup
            .upload(page_url, &[("file", Some("bad.csv"), bad.as_bytes())], true)
            .await;
        assert!(
            r.body
                .contains("bad.csv is not a well-formed CSV file at line 3"),
            "{}",
            r.body
        );
        assert!(r.body.contains("nothing was imported"));
        assert_eq!(store.contacts_left(sales.id).await.unwrap(), 2);
        // No file chosen.
        sup.get(page_url).await;
        let r = sup
            .upload(page_url, &[("phone_column", None, b"")], true)
            .await;
        assert!(r.body.contains("Choose a CSV file"), "{}", r.body);

        let log = store.audit_entries(&AuditFilter::default()).await.unwrap();
        assert!(log.iter().any(|e| e.actor == "sup"
            && e.action == "contacts_import"
            && e.detail
                .contains("leads.csv: 4 rows, 2 imported, 2 rejected")));
    }
}

/// An upload larger than a form (1 MiB) goes through: the middleware does
/// not read an upload's body, the upload route has its own limit.
#[tokio::test]
async fn a_large_upload_is_taken_whole() {
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    let app = setup(store).await;
    let mut sup = Client::new(&app);
    sup.login("sup", PW).await;
    let url = "/dialer/campaigns/retention/contacts";
    sup.get(url).await;
    let mut csv = String::from("phone,note\n");
    for i in 0..50_000 {
        csv.push_str(&format!("+54911{i:08},a note to make the row longer\n"));
    }
    assert!(csv.len() > 2 << 20, "{} bytes", csv.len());
    let r = sup
        .upload(url, &[("file", Some("big.csv"), csv.as_bytes())], true)
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("id=\"imported\">50000<"),
        "{}",
        &r.body[..r.body.len().min(3000)]
    );
}

#[tokio::test]
async fn supervisors_add_servers_and_trunks_from_the_setup_page() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let app = setup(store).await;
        let mut agent = Client::new(&app);
        agent.login("ag", PW).await;
        assert_eq!(agent.get("/dialer/setup").await.status, 403);

        let mut sup = Client::new(&app);
        sup.login("sup", PW).await;
        assert!(sup
            .get("/dialer")
            .await
            .body
            .contains("href=\"/dialer/setup\""));
        let page = sup.get("/dialer/setup").await;
        assert_eq!(page.status, 200, "{}", ts.label);
        assert!(page.body.contains("id=\"no-servers\""));
        assert!(page.body.contains("id=\"trunk-carrier\""));

        // A bad port: a message naming it, the values kept (not the secret).
        let r = sup
            .post(
                "/dialer/setup/server",
                &[
                    ("name", "pbx1"),
                    ("host", "10.0.0.5"),
                    ("ami_port", "99999"),
                    ("ami_user", "omnileads"),
                    ("ami_secret", "s3cret-ami"),
                ],
            )
            .await;
        assert_eq!(r.status, oml_web::pages::REFUSED, "a refused form");
        assert!(r.body.contains("invalid AMI port"), "{}", r.body);
        assert!(r.body.contains("value=\"10.0.0.5\""));
        assert!(
            !r.body.contains("s3cret-ami"),
            "the secret is never sent back"
        );
        assert!(store.servers().await.unwrap().is_empty());

        sup.post(
            "/dialer/setup/server",
            &[
                ("name", "pbx1"),
                ("host", "10.0.0.5"),
                ("ami_port", ""),
                ("ami_user", "omnileads"),
                ("ami_secret", "s3cret-ami"),
            ],
        )
        .await
        .assert_redirect("/dialer/setup");
        let servers = store.servers().await.unwrap();
        assert_eq!(servers.len(), 1);
        assert_eq!((servers[0].ami_port, servers[0].enabled), (5038, true));
        let page = sup.get("/dialer/setup").await.body;
        assert!(page.contains("Asterisk server pbx1 added"));
        assert!(!page.contains("s3cret-ami"));

        // Same name again: refused, named.
        let r = sup
            .post(
                "/dialer/setup/server",
                &[
                    ("name", "pbx1"),
                    ("host", "h"),
                    ("ami_user", "u"),
                    ("ami_secret", "x"),
                ],
            )
            .await;
        assert!(r.body.contains("already exists"), "{}", r.body);

        sup.post(
            "/dialer/setup/server/enabled",
            &[("name", "pbx1"), ("enabled", "no")],
        )
        .await
        .assert_redirect("/dialer/setup");
        assert!(!store.server_by_name("pbx1").await.unwrap().unwrap().enabled);
        let s = store.server_by_name("pbx1").await.unwrap().unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            s.ami_secret.expose_secret(),
            "s3cret-ami",
            "secret kept when disabling"
        );

        // A trunk on that server; a dial string without ${num} is refused.
        sup.get("/dialer/setup").await;
        let r = sup
            .post(
                "/dialer/setup/trunk",
                &[
                    ("name", "out2"),
                    ("dial_string", "PJSIP/carrier"),
                    ("server", "pbx1"),
                ],
            )
            .await;
        assert!(r.body.contains("has no ${num}"), "{}", r.body);
        sup.post(
            "/dialer/setup/trunk",
            &[
                ("name", "out2"),
                ("dial_string", "PJSIP/${num}@carrier"),
                ("max_channels", "12"),
                ("server", "pbx1"),
            ],
        )
        .await
        .assert_redirect("/dialer/setup");
        let t = store.trunk_by_name("out2").await.unwrap().unwrap();
        assert_eq!((t.max_channels, t.server_id), (12, Some(s.id)));

        // Removing what is in use is refused with the reason.
        sup.get("/dialer/setup").await;
        sup.post("/dialer/setup/server/remove", &[("name", "pbx1")])
            .await;
        assert!(sup
            .get("/dialer/setup")
            .await
            .body
            .contains("used by trunk(s) out2"));
        sup.post("/dialer/setup/trunk/remove", &[("name", "carrier")])
            .await;
        assert!(sup
            .get("/dialer/setup")
            .await
            .body
            .contains("used by campaign(s)"));
        sup.post("/dialer/setup/trunk/remove", &[("name", "out2")])
            .await;
        sup.post("/dialer/setup/server/remove", &[("name", "pbx1")])
            .await;
        assert!(store.servers().await.unwrap().is_empty());

        let log = store.audit_entries(&AuditFilter::default()).await.unwrap();
        let mine: Vec<&str> = log
            .iter()
            .filter(|e| e.actor == "sup")
            .map(|e| e.action.as_str())
            .collect();
        for a in [
            "asterisk_add",
            "asterisk_edit",
            "asterisk_remove",
            "trunk_add",
            "trunk_remove",
        ] {
            assert!(mine.contains(&a), "{a}: {mine:?}");
        }
    }
}

#[tokio::test]
async fn supervisors_create_and_edit_campaigns_from_the_console() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let app = setup(store).await;
        let mut agent = Client::new(&app);
        agent.login("ag", PW).await;
        assert_eq!(agent.get("/dialer/campaigns/new").await.status, 403);

        let mut sup = Client::new(&app);
        sup.login("sup", PW).await;
        let page = sup.get("/dialer/campaigns/new").await;
        assert_eq!(page.status, 200, "{}", ts.label);
        assert!(
            page.body.contains("value=\"09:00-21:00\""),
            "defaults shown"
        );
        assert!(page.body.contains("busy:3:300:fixed"));

        let base = [
            ("name", "winter"),
            ("mode", "progressive"),
            ("trunk", "carrier"),
            ("queue", ""),
            ("deliver_to", ""),
            ("max_abandon_rate", "2%"),
            ("abandon_window", "uk"),
            ("abandon_seconds", "2"),
            ("ring_timeout", "30"),
            ("caller_id", ""),
            ("time_zone", "America/Argentina/Buenos_Aires"),
            ("window", "09:00-20:30"),
            ("days", "mon-sat"),
            ("priority", "20"),
            ("rules", "busy:3:300:fixed\r\nno_answer:2:1800:multiplied"),
        ];
        // A bad field: named, values kept, nothing stored.
        let mut bad = base;
        bad[11] = ("window", "21:00-09:00");
        let r = sup.post("/dialer/campaigns/new", &bad).await;
        assert_eq!(r.status, 422, "a refused form answers 422");
        assert!(
            r.body.contains("Nothing was saved") && r.body.contains("time window"),
            "{}",
            r.body
        );
        assert!(r.body.contains("value=\"winter\""));
        assert!(store.campaign_by_name("winter").await.unwrap().is_none());

        // A ring timeout under the Ofcom minimum: refused naming the rule,
        // unless the non-compliant box is ticked; then stored with the mark.
        let mut short = base;
        short[8] = ("ring_timeout", "10");
        short[0] = ("name", "hasty");
        sup.get("/dialer/campaigns/new").await;
        let r = sup.post("/dialer/campaigns/new", &short).await;
        assert_eq!(r.status, 422);
        assert!(
            r.body.contains("Nothing was saved") && r.body.contains("Ofcom"),
            "{}",
            r.body
        );
        assert!(store.campaign_by_name("hasty").await.unwrap().is_none());
        let mut ticked = short.to_vec();
        ticked.push(("non_compliant", "on"));
        sup.get("/dialer/campaigns/new").await;
        sup.post("/dialer/campaigns/new", &ticked)
            .await
            .assert_redirect("/dialer/campaigns/hasty/contacts");
        let hasty = store.campaign_by_name("hasty").await.unwrap().unwrap();
        assert!(hasty.non_compliant && hasty.ring_timeout_s == 10);
        let edit = sup.get("/dialer/campaigns/hasty/edit").await;
        assert!(edit
            .body
            .contains("name=\"non_compliant\" value=\"on\" checked"));
        let report = sup.get("/dialer/campaigns/hasty/report").await;
        assert!(
            report.body.contains("NON-COMPLIANT") && report.body.contains("ring timeout: 10 s"),
            "{}",
            report.body
        );
        store.delete_campaign("hasty").await.unwrap();

        sup.get("/dialer/campaigns/new").await;
        sup.post("/dialer/campaigns/new", &base)
            .await
            .assert_redirect("/dialer/campaigns/winter/contacts");
        let c = store.campaign_by_name("winter").await.unwrap().unwrap();
        assert_eq!(c.queue_name, "winter", "a queue named after the campaign");
        assert_eq!(c.mode.as_str(), "progressive");
        assert_eq!((c.window_start_minute, c.window_end_minute), (540, 1230));
        assert_eq!(c.abandon_window.as_str(), "uk");
        assert!((c.max_abandon_rate - 0.02).abs() < 1e-9);
        assert_eq!(store.reschedule_rules(c.id).await.unwrap().len(), 2);

        // The same name again: refused.
        sup.get("/dialer/campaigns/new").await;
        let r = sup.post("/dialer/campaigns/new", &base).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("already exists"), "{}", r.body);

        // Edit: the form shows the stored values; a change is saved.
        let page = sup.get("/dialer/campaigns/winter/edit").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("value=\"09:00-20:30\""));
        assert!(page.body.contains("no_answer:2:1800:multiplied"));
        let mut changed = base;
        changed[1] = ("mode", "predictive");
        changed[3] = ("queue", "winter");
        changed[11] = ("window", "10:00-18:00");
        sup.post("/dialer/campaigns/winter/edit", &changed)
            .await
            .assert_redirect("/dialer");
        let c = store.campaign_by_name("winter").await.unwrap().unwrap();
        assert_eq!(c.mode.as_str(), "predictive");
        assert_eq!(c.window_start_minute, 600);
        assert_eq!(sup.get("/dialer/campaigns/nope/edit").await.status, 404);

        let log = store.audit_entries(&AuditFilter::default()).await.unwrap();
        assert!(log
            .iter()
            .any(|e| e.actor == "sup" && e.action == "campaign_create"));
        assert!(log
            .iter()
            .any(|e| e.actor == "sup" && e.action == "campaign_edit"));
    }
}

/// The whole console as `oml serve` runs it keeps the console's own pages:
/// on a database without an administrator, the first-run setup page.
#[tokio::test]
async fn the_whole_console_still_serves_first_run_setup() {
    let ts = oml_store::testing::sqlite().await;
    let app = oml_dialer_web::console(ts.store.clone(), Config::default()).unwrap();
    let mut c = Client::new(&app);
    c.get("/").await.assert_redirect("/login");
    c.get("/login").await.assert_redirect("/setup");
    let page = c.get("/setup").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("First-run setup"));
}

#[tokio::test]
async fn the_compliance_report_shows_the_counts_behind_the_rate() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let app = setup(store).await;
        let c = store.campaign_by_name("sales").await.unwrap().unwrap();
        let phones: Vec<String> = (0..3).map(|i| format!("+54911555500{i:02}")).collect();
        store.seed_contacts(c.id, &phones).await.unwrap();

        let mut sup = Client::new(&app);
        sup.login("sup", PW).await;
        assert!(sup
            .get("/dialer")
            .await
            .body
            .contains("/dialer/campaigns/sales/report"));
        let page = sup.get("/dialer/campaigns/sales/report").await;
        assert_eq!(page.status, 200, "{}", ts.label);
        assert!(
            page.body.contains("0 abandoned of 0 calls answered"),
            "{}",
            page.body
        );
        assert!(page.body.contains("US rule: 30 days"));
        assert!(page.body.contains("Rule set: FCC"), "{}", page.body);
        assert!(page.body.contains("within the FCC rules"));
        assert!(page.body.contains("within the limit"));
        assert!(
            page.body
                .contains("<td>pending</td><td class=\"num\">3</td>"),
            "{}",
            page.body
        );
        assert_eq!(sup.get("/dialer/campaigns/nope/report").await.status, 404);

        let mut api = Client::new(&app);
        api.bearer = Some(token(store, "sup", "crm").await);
        let r = json(&api.get("/api/v1/campaigns/sales/report").await.body);
        assert_eq!(r["contacts_total"], 3);
        assert_eq!(r["contacts"]["pending"], 3);
        assert_eq!(
            (r["live_answered"].as_i64(), r["abandoned"].as_i64()),
            (Some(0), Some(0))
        );
        assert_eq!(r["within_limit"], true);
        assert_eq!(r["rule_set"]["name"], "FCC");
        assert_eq!(r["non_compliant"], false);
        assert_eq!(r["breaches"].as_array().map(Vec::len), Some(0));
        assert_eq!(api.get("/api/v1/campaigns/nope/report").await.status, 404);
    }
}

/// A form field's value as the page shows it (HTML escapes `/`).
fn shown(body: &str, value: &str) -> bool {
    body.contains(&format!("value=\"{value}\""))
        || body.contains(&format!("value=\"{}\"", value.replace('/', "&#x2f;")))
}

#[tokio::test]
async fn the_campaign_form_takes_the_call_path_and_refuses_it_naming_the_rule() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let app = setup(store).await;
        let mut sup = Client::new(&app);
        sup.login("sup", PW).await;
        let page = sup.get("/dialer/campaigns/new").await;
        assert!(
            page.body.contains("name=\"abandon_message\""),
            "{}",
            ts.label
        );
        let base = [
            ("name", "amd"),
            ("mode", "predictive"),
            ("trunk", "carrier"),
            ("queue", "amd"),
            ("deliver_to", ""),
            ("max_abandon_rate", "3%"),
            ("abandon_window", "us"),
            ("abandon_seconds", "2"),
            ("ring_timeout", "25"),
            ("caller_id", ""),
            ("time_zone", "UTC"),
            ("window", "09:00-21:00"),
            ("days", "mon-fri"),
            ("priority", "10"),
            ("rules", "busy:3:300:fixed"),
            ("machine", "message"),
            ("machine_message", "custom/machine"),
            ("amd", "greeting=2000"),
            ("recording", "all"),
            ("recording_format", "gsm"),
            ("welcome_message", ""),
            ("abandon_message", ""),
        ];
        // No abandon message: refused naming the FCC rule, nothing stored.
        let r = sup.post("/dialer/campaigns/new", &base).await;
        assert_eq!(r.status, 422, "{}", ts.label);
        assert!(
            r.body.contains("Nothing was saved") && r.body.contains("64.1200(a)(7)"),
            "{}",
            r.body
        );
        assert!(shown(&r.body, "custom/machine"), "typed values kept");
        assert!(store.campaign_by_name("amd").await.unwrap().is_none());
        let mut good = base;
        good[21] = ("abandon_message", "custom/abandon");
        sup.get("/dialer/campaigns/new").await;
        sup.post("/dialer/campaigns/new", &good)
            .await
            .assert_redirect("/dialer/campaigns/amd/contacts");
        let c = store.campaign_by_name("amd").await.unwrap().unwrap();
        let cp = store.call_path(c.id).await.unwrap().unwrap();
        assert_eq!(
            (
                cp.machine.as_str(),
                cp.amd.greeting,
                cp.recording_format.as_str()
            ),
            ("message", 2000, "gsm")
        );
        assert_eq!(cp.abandon_sound, "custom/abandon");
        let edit = sup.get("/dialer/campaigns/amd/edit").await;
        assert!(
            shown(&edit.body, "custom/abandon")
                && edit
                    .body
                    .contains("value=\"2500,2000,800,5000,100,50,2,256,5000\""),
            "{}",
            edit.body
        );
        // An edit clearing the message is refused and changes nothing.
        let r = sup.post("/dialer/campaigns/amd/edit", &base).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let cp = store.call_path(c.id).await.unwrap().unwrap();
        assert_eq!(cp.abandon_sound, "custom/abandon");
    }
}
