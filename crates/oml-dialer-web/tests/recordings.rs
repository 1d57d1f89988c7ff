//! Recordings in the console and over the API (issue 18 item 4), on SQLite
//! and PostgreSQL: the campaign report and the contact page link each
//! recorded attempt; a supervisor downloads it as an attachment (streamed
//! from `paths.recordings_dir`) and every download is audited; an agent is
//! refused (403, page and API); a crafted id, a crafted stored name and a
//! symbolic link are refused; a missing file and a recording deleted by
//! retention are 404 with a message saying which.

use oml_config::Config;
use oml_store::dialing::{AttemptResult, DialingWrite, NewAttempt};
use oml_store::{AuditFilter, CampaignSpec, Role, Store, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::session::{random_token, token_hash};
use oml_web::testing::{add_user, Client};
use oml_web::AppState;

const PW: &str = "a fine password 1";

struct Fixture {
    app: axum::Router,
    dir: tempfile::TempDir,
    /// (attempt id, contact id, file) of the three recorded attempts: kept,
    /// missing from the folder, deleted by retention.
    recorded: Vec<(i64, i64, String)>,
    /// An attempt whose stored name was tampered with in the database.
    crafted: i64,
    /// An attempt whose file in the folder is a symbolic link.
    linked: i64,
    /// An attempt without a recording.
    unrecorded: i64,
}

async fn setup(store: &Store) -> Fixture {
    // An admin exists (else the console sends everyone to first-run setup).
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
    let c = store
        .create_campaign(&CampaignSpec::new("sales", "carrier"))
        .await
        .unwrap();
    let phones: Vec<String> = (0..6).map(|i| format!("+54114000000{i}")).collect();
    store.seed_contacts(c.id, &phones).await.unwrap();
    let now = oml_store::now_ms();
    let due = store
        .claim_due_contacts(c.id, "node-a", now, 6)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for (i, d) in due.iter().enumerate() {
        let channel = format!("oml-{}-{}-1", c.id, d.id);
        store
            .apply_dialing_writes(&[
                DialingWrite::Begin(NewAttempt {
                    campaign_id: c.id,
                    contact_id: d.id,
                    attempt_no: 1,
                    server_id: None,
                    channel_id: channel.clone(),
                    placed_at: now - 1000 * i as i64,
                    node: "node-a".into(),
                }),
                DialingWrite::End(AttemptResult {
                    contact_id: d.id,
                    attempt_no: 1,
                    answered_at: Some(now + 1_000),
                    connected_at: Some(now + 2_000),
                    ended_at: now + 60_000,
                    outcome: "connected".into(),
                    hangup_cause: Some(16),
                    agent: Some("Agent 1".into()),
                    contact_state: "done".into(),
                    next_attempt_at: now,
                }),
            ])
            .await
            .unwrap();
        let h = store.contact_history(d.id).await.unwrap().unwrap();
        let file = format!("dialer-{}-20261208-{}-17000.{i}.wav", c.id, &d.phone[1..]);
        if i < 5 {
            assert!(store.set_attempt_recording(&channel, &file).await.unwrap());
        }
        ids.push((h.history[0].id, d.id, file));
    }
    // 0 kept (its file holds 200,000 bytes: several chunks), 1 missing,
    // 2 deleted by retention, 3 a tampered name, 4 a symbolic link.
    let audio: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join(&ids[0].2), &audio).unwrap();
    std::fs::write(dir.path().join(&ids[2].2), b"old").unwrap();
    oml_store::testing::execute(
        store,
        &format!(
            "UPDATE call_attempts SET recording_deleted_at = {now} WHERE id = {}",
            ids[2].0
        ),
    )
    .await
    .unwrap();
    std::fs::remove_file(dir.path().join(&ids[2].2)).unwrap();
    let secret = dir.path().parent().unwrap().join("secret.txt");
    std::fs::write(&secret, b"secret").unwrap();
    oml_store::testing::execute(
        store,
        &format!(
            "UPDATE call_attempts SET recording = '../secret.txt' WHERE id = {}",
            ids[3].0
        ),
    )
    .await
    .unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join(&ids[4].2)).unwrap();

    let mut config = Config::default();
    config.paths.recordings_dir = dir.path().to_path_buf();
    let state = oml_dialer_web::register(AppState::builder(store.clone(), config))
        .build()
        .unwrap();
    Fixture {
        app: oml_dialer_web::app(state),
        dir,
        crafted: ids[3].0,
        linked: ids[4].0,
        unrecorded: ids[5].0,
        recorded: ids[..3].to_vec(),
    }
}

async fn token(store: &Store, user: &str) -> String {
    let t = random_token();
    store
        .create_api_token(user, "crm", &token_hash(&t), oml_store::now_ms(), None)
        .await
        .unwrap();
    t
}

async fn downloads(store: &Store) -> Vec<oml_store::AuditEntry> {
    let mut v = store
        .audit_entries(&AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    v.retain(|e| e.action == "recording_download");
    v
}

#[tokio::test]
async fn supervisors_download_recordings_audited_and_nobody_else_reaches_a_file() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let f = setup(store).await;
        let label = ts.label;
        let (kept, missing, deleted) = (&f.recorded[0], &f.recorded[1], &f.recorded[2]);
        let kept_url = format!("/dialer/attempts/{}/recording", kept.0);

        // An agent: no report, no contact page, no download (page or API).
        let mut ag = Client::new(&f.app);
        ag.login("ag", PW).await;
        for url in [
            "/dialer/campaigns/sales/report".to_string(),
            format!("/dialer/contacts/{}", kept.1),
            kept_url.clone(),
        ] {
            let r = ag.get(&url).await;
            assert_eq!(r.status, 403, "{label} agent {url}");
            assert!(!r.body.contains(&kept.2[..20]) || url.contains("report"));
        }
        ag.bearer = Some(token(store, "ag").await);
        let r = ag
            .get(&format!("/api/v1/attempts/{}/recording", kept.0))
            .await;
        assert_eq!(r.status, 403, "{label}: {}", r.body);
        assert!(
            downloads(store).await.is_empty(),
            "refusals download nothing"
        );

        // A supervisor: the report and the contact page link the recordings.
        let mut sup = Client::new(&f.app);
        sup.login("sup", PW).await;
        let r = sup.get("/dialer/campaigns/sales/report").await;
        assert_eq!(r.status, 200, "{label}");
        assert!(
            r.body.contains(&format!("href=\"{kept_url}\"")),
            "{}",
            r.body
        );
        let day = oml_store::retention::recordings_day(oml_store::now_ms());
        assert!(
            r.body
                .contains(&format!("{}: deleted by retention on {day}", deleted.2)),
            "{label}: {}",
            r.body
        );
        assert!(!r
            .body
            .contains(&format!("/dialer/attempts/{}/recording", deleted.0)));
        let r = sup.get(&format!("/dialer/contacts/{}", kept.1)).await;
        assert_eq!(r.status, 200, "{label}");
        assert!(
            r.body.contains(&format!("href=\"{kept_url}\"")),
            "{}",
            r.body
        );
        let r = sup.get(&format!("/dialer/contacts/{}", deleted.1)).await;
        assert!(r.body.contains("deleted by retention on"), "{}", r.body);

        // The download: the whole file, as an attachment, audited.
        let r = sup.get(&kept_url).await;
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        let cd = r.headers["content-disposition"].to_str().unwrap();
        assert_eq!(cd, format!("attachment; filename=\"{}\"", kept.2));
        assert_eq!(r.headers["content-type"], "audio/wav");
        let want = std::fs::read(f.dir.path().join(&kept.2)).unwrap();
        assert_eq!(r.headers["content-length"], want.len().to_string().as_str());
        // The test client reads the body as lossy UTF-8: compare lengths
        // of the same conversion.
        assert_eq!(r.body, String::from_utf8_lossy(&want), "{label}");
        let audit = downloads(store).await;
        assert_eq!(audit.len(), 1, "{label}");
        assert_eq!(
            (audit[0].actor.as_str(), audit[0].subject.as_str()),
            ("sup", kept.2.as_str())
        );
        assert!(
            audit[0]
                .detail
                .contains(&format!("attempt {} of campaign sales", kept.0)),
            "{}",
            audit[0].detail
        );
        assert_eq!(audit[0].ip.as_deref(), Some("192.0.2.10"));

        // Missing, deleted, not recorded: 404 saying which.
        for (id, says) in [
            (missing.0, "is not in the recordings folder".to_string()),
            (deleted.0, format!("was deleted by retention on {day}")),
            (f.unrecorded, "was not recorded".to_string()),
            (999_999, "no attempt has the id 999999".to_string()),
        ] {
            let r = sup.get(&format!("/dialer/attempts/{id}/recording")).await;
            assert_eq!(r.status, 404, "{label} {id}");
            assert!(r.body.contains(&says), "{label} {id}: {}", r.body);
        }
        // Crafted: an id that is a path, a tampered name, a link out.
        for url in [
            "/dialer/attempts/..%2F..%2Fetc%2Fpasswd/recording".to_string(),
            "/dialer/attempts/1%20OR%201=1/recording".to_string(),
        ] {
            let r = sup.get(&url).await;
            assert_eq!(r.status, 400, "{label} {url}: {}", r.body);
            assert!(r.body.contains("is not an attempt id"), "{}", r.body);
        }
        for id in [f.crafted, f.linked] {
            let r = sup.get(&format!("/dialer/attempts/{id}/recording")).await;
            assert_eq!(r.status, 404, "{label} {id}");
            assert!(!r.body.contains("secret"), "{label}: {}", r.body);
        }
        assert_eq!(
            downloads(store).await.len(),
            1,
            "refusals are not downloads"
        );

        // The API: the same file with a supervisor's token, audited as api:.
        sup.bearer = Some(token(store, "sup").await);
        let r = sup
            .get(&format!("/api/v1/attempts/{}/recording", kept.0))
            .await;
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        assert_eq!(r.body, String::from_utf8_lossy(&want));
        let r = sup
            .get(&format!("/api/v1/attempts/{}/recording", missing.0))
            .await;
        assert_eq!(r.status, 404);
        assert!(
            r.body.contains("is not in the recordings folder"),
            "{}",
            r.body
        );
        let r = sup.get("/api/v1/attempts/abc/recording").await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains("`abc` is not an attempt id"), "{}", r.body);
        let audit = downloads(store).await;
        assert_eq!(audit.len(), 2, "{label}");
        assert_eq!(audit[0].actor, "api:sup/crm");
        // The contact history names the attempt id the API takes.
        let r = sup.get(&format!("/api/v1/contacts/{}", kept.1)).await;
        let h: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(h["history"][0]["id"], kept.0);
        assert_eq!(
            h["history"][0]["recording_deleted_at"],
            serde_json::Value::Null
        );
    }
}
