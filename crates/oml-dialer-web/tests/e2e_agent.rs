//! The agent's page in a real headless Chromium, on SQLite and PostgreSQL
//! (issue 19 items 2, 3, 5, 6, 7): an agent logs in to their queues and
//! goes ready; the engine places a predictive call that pbxsim connects to
//! them and the page pops the contact; when the call ends the agent is
//! paused for wrap-up and the form shows the campaign's dispositions with
//! the callback time in the contact's own time zone; they disposition the
//! call as a callback for tomorrow for themselves, the callback is stored
//! at the right UTC time and listed under "My callbacks", and they are
//! ready again. Meanwhile a supervisor's `/dialer/agents` page (another
//! browser, another console on the same database) shows each state change
//! without reloading.

mod browser;

use std::time::{Duration, Instant};

use browser::{click, login, shot, submit, text_of};
use chrono::TimeZone;
use fantoccini::{Client, Locator};
use oml_dialer::contact_import::{import_contacts, FirstRejections, ImportOptions};
use oml_dialer::{Engine, EngineConfig, PLAY_KEY};
use oml_pbxsim::{Dist, PbxSim, QueueConfig, SimConfig};
use oml_store::dispositions::{Disposition, DncTarget};
use oml_store::{
    AgentSetup, CampaignMode, CampaignSpec, CampaignState, NewUser, Role, ServerSpec, Store,
    TrunkSpec, DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;

const SECRET: &str = "sim-secret";
const PW: &str = "sup-password-1";
const AGENT_PW: &str = "agent-password-1";
/// The campaign's zone, and the contact's own (its `tz` column), which
/// the callback time is read in.
const CAMPAIGN_ZONE: &str = "America/Argentina/Buenos_Aires";
const CONTACT_ZONE: &str = "Europe/Madrid";

async fn setup(store: &Store, port: u16) -> i64 {
    oml_web::testing::add_user(store, "admin", PW, Role::Admin, false).await;
    oml_web::testing::add_user(store, "sup", PW, Role::Supervisor, false).await;
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
            max_channels: 5,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("sales", "t1");
    spec.mode = CampaignMode::Predictive;
    spec.queue_name = "sales-q".into();
    spec.time_zone = CAMPAIGN_ZONE.into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 24 * 60;
    spec.days_mask = 127;
    let c = store.create_campaign(&spec).await.unwrap();
    let csv = format!("phone,name,tz\n+541155550001,Ana Pérez,{CONTACT_ZONE}\n");
    let opts = ImportOptions {
        list_name: "list.csv".into(),
        ..ImportOptions::default()
    };
    let mut sink = FirstRejections::default();
    let out = import_contacts(store, c.id, csv.as_bytes(), &opts, &mut sink)
        .await
        .unwrap();
    assert_eq!(out.summary.imported, 1, "{:?}", sink.rows);
    for (name, is_final, callback) in [("sale", true, false), ("call later", false, true)] {
        store
            .add_disposition(
                c.id,
                &Disposition {
                    name: name.into(),
                    is_final,
                    callback,
                    dnc: DncTarget::No,
                    retry_after_s: 3600,
                },
            )
            .await
            .unwrap();
    }
    store.set_wrapup_limit_s(c.id, 300).await.unwrap();
    store
        .create_user_with(
            &NewUser {
                username: "ana",
                password: &AGENT_PW.to_string().into(),
                role: Role::Agent,
                must_change_password: false,
            },
            &AgentSetup {
                extension: Some("1001".into()),
                campaigns: Some(vec!["sales".into()]),
            },
        )
        .await
        .unwrap();
    c.id
}

/// Waits up to `limit` for `css`'s text to contain `want`, on the document
/// `page` (so nothing was reloaded to show it); how long it took.
async fn shows(
    c: &Client,
    page: Option<&fantoccini::elements::Element>,
    css: &str,
    want: &str,
    limit: Duration,
) -> Duration {
    let start = Instant::now();
    let mut seen = String::new();
    while start.elapsed() < limit {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            seen = el.text().await.unwrap_or_default();
            if seen.contains(want) {
                if let Some(p) = page {
                    assert!(p.tag_name().await.is_ok(), "reloaded to show {want:?}");
                }
                return start.elapsed();
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css} did not show {want:?} within {limit:?}: {seen:?}");
}

const AGENT_ROW: &str = "tr[data-agent='ana'] .agent-state";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_takes_a_call_and_schedules_a_callback() {
    let Some((chromium, chromedriver)) = browser::tools("agent page test") else {
        return;
    };
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let label = ts.label;
        let mut cfg = SimConfig::new("oml", SecretString::from(SECRET), 0);
        cfg.queues = vec![QueueConfig {
            name: "sales-q".into(),
            agents: 0,
        }];
        cfg.customers.answer_rate = 1.0;
        cfg.customers.busy_rate = 0.0;
        cfg.customers.time_to_answer = Dist::Fixed(0.5);
        cfg.customers.patience = Dist::Fixed(60.0);
        cfg.talk_time = Dist::Fixed(4.0);
        cfg.wrapup_time = Dist::Fixed(0.0);
        let sim = PbxSim::start(cfg).await.unwrap();
        let campaign = setup(store, sim.local_addr().port()).await;

        // The supervisor watches the agents page.
        let sup = browser::Session::start(store, &chromium, &chromedriver).await;
        let (s, sbase) = (&sup.client, sup.base.as_str());
        login(s, sbase, "sup", PW).await;
        s.goto(&format!("{sbase}/dialer/agents")).await.unwrap();
        assert!(text_of(s, AGENT_ROW).await.contains("logged out"));
        let watched = s.find(Locator::Css("html")).await.unwrap();

        // The agent logs in to their queues and goes ready.
        let agent = browser::Session::start(store, &chromium, &chromedriver).await;
        let (a, abase) = (&agent.client, agent.base.as_str());
        login(a, abase, "ana", AGENT_PW).await;
        a.goto(&format!("{abase}/agent")).await.unwrap();
        shows(a, None, "#live-status", "on", Duration::from_secs(5)).await;
        submit(a, "#btn-login").await;
        assert!(text_of(a, "#state-label").await.contains("Logged in"));
        let t = shows(
            s,
            Some(&watched),
            AGENT_ROW,
            "paused",
            Duration::from_secs(3),
        )
        .await;
        eprintln!("{label}: supervisor saw the log-in after {t:?}");
        submit(a, "#btn-ready").await;
        assert_eq!(text_of(a, "#state-label").await, "Ready");
        let t = shows(
            s,
            Some(&watched),
            AGENT_ROW,
            "ready",
            Duration::from_secs(3),
        )
        .await;
        eprintln!("{label}: supervisor saw ready after {t:?}");
        assert!(text_of(a, "#my-callbacks").await.contains("No callbacks"));

        // The engine places a predictive call; pbxsim connects it to Ana.
        store
            .set_campaign_state("sales", CampaignState::Running)
            .await
            .unwrap();
        store.set_setting(PLAY_KEY, "on").await.unwrap();
        let engine = Engine::spawn(
            store.clone(),
            EngineConfig {
                tick: Duration::from_millis(50),
                reload_every: Duration::from_millis(200),
                queue_poll_every: Duration::from_secs(1),
                ami_rate_limit: None,
                ..EngineConfig::default()
            },
        );
        let page = a.find(Locator::Css("html")).await.unwrap();
        shows(
            a,
            Some(&page),
            "#pop-phone",
            "+541155550001",
            Duration::from_secs(30),
        )
        .await;
        let pop = text_of(a, "#screen-pop").await;
        assert!(pop.contains("Ana Pérez"), "{label}: {pop}");
        assert!(pop.contains("sales"), "{label}: {pop}");
        assert!(pop.contains("none: first call"), "{label}: {pop}");
        shot(a, label, "agent-01-screen-pop").await;
        let t = shows(
            s,
            Some(&watched),
            AGENT_ROW,
            "on call",
            Duration::from_secs(3),
        )
        .await;
        eprintln!("{label}: supervisor saw the call after {t:?}");

        // The call ends: wrap-up, with the form in the contact's zone.
        shows(
            a,
            Some(&page),
            "#wrapup-card h2",
            "Wrap-up: call",
            Duration::from_secs(30),
        )
        .await;
        shows(
            a,
            Some(&page),
            "#state-label",
            "Paused: wrap-up",
            Duration::from_secs(5),
        )
        .await;
        let t = shows(
            s,
            Some(&watched),
            AGENT_ROW,
            "wrap-up",
            Duration::from_secs(3),
        )
        .await;
        eprintln!("{label}: supervisor saw the wrap-up after {t:?}");
        let attempt = store
            .agent_latest_call("ana", "PJSIP/1001")
            .await
            .unwrap()
            .expect("ana's call");
        assert_eq!(attempt.campaign_id, campaign);
        assert!(attempt.ended_at.is_some(), "{label}");
        // The callback fields show only for a disposition that asks for one.
        click(a, "#f-disposition option[value='sale']").await;
        let cb = a.find(Locator::Css("#wrapup-callback")).await.unwrap();
        assert!(!cb.is_displayed().await.unwrap(), "{label}");
        click(a, "#f-disposition option[value='call later']").await;
        assert!(cb.is_displayed().await.unwrap(), "{label}");
        // The callback is written in the contact's zone (its `tz` column),
        // not the campaign's.
        assert_eq!(text_of(a, "#wrapup-zone").await, CONTACT_ZONE, "{label}");
        shot(a, label, "agent-02-wrapup-form").await;

        // Tomorrow 10:30 in Madrid, whatever zone the browser is in.
        let tomorrow = chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::Madrid)
            .date_naive()
            + chrono::Days::new(1);
        let local = format!("{tomorrow}T10:30");
        a.execute(
            "document.getElementById('f-callback-at').value = arguments[0];",
            vec![serde_json::json!(local)],
        )
        .await
        .unwrap();
        click(a, "#f-callback-me").await;
        browser::fill(a, "note", "Call after lunch, asks for the manager").await;
        submit(a, "#btn-wrapup").await;
        let flash = text_of(a, "#flash").await;
        assert!(flash.contains("call later saved"), "{label}: {flash}");
        eprintln!("{label}: the page said: {flash}");
        assert_eq!(text_of(a, "#state-label").await, "Ready", "{label}");
        let mine = text_of(a, "#my-callbacks").await;
        assert!(
            mine.contains(&format!("{tomorrow} 10:30")) && mine.contains(CONTACT_ZONE),
            "{label}: {mine}"
        );
        eprintln!("{label}: My callbacks:\n{mine}");
        shot(a, label, "agent-03-my-callbacks").await;
        let t = shows(
            s,
            Some(&watched),
            AGENT_ROW,
            "ready",
            Duration::from_secs(3),
        )
        .await;
        eprintln!("{label}: supervisor saw ready again after {t:?}");

        // Stored: the disposition, the note, and the callback at the UTC
        // time of 10:30 in Madrid, for Ana.
        let (name, by) = store
            .attempt_disposition(attempt.attempt_id)
            .await
            .unwrap()
            .expect("disposed");
        assert_eq!((name.as_str(), by.as_str()), ("call later", "ana"));
        assert_eq!(
            store
                .attempt_disposition_note(attempt.attempt_id)
                .await
                .unwrap()
                .as_deref(),
            Some("Call after lunch, asks for the manager")
        );
        let want = chrono_tz::Europe::Madrid
            .from_local_datetime(&tomorrow.and_hms_opt(10, 30, 0).unwrap())
            .unwrap()
            .timestamp_millis();
        let ana = store.user_by_name("ana").await.unwrap().unwrap();
        let callbacks = store.agent_callbacks(ana.id).await.unwrap();
        assert_eq!(callbacks.len(), 1, "{label}");
        assert_eq!(callbacks[0].due_at, want, "{label}");
        assert_eq!(callbacks[0].time_zone, CONTACT_ZONE);
        assert_eq!(callbacks[0].agent.as_deref(), Some("ana"));
        shot(s, label, "agent-04-supervisor").await;

        engine.shutdown().await;
        sim.shutdown().await;
        agent.finish().await;
        sup.finish().await;
    }
}

/// A preview campaign with two contacts that answer, its dispositions and
/// the agent `bea` (extension 1002) working it.
async fn preview_setup(store: &Store, port: u16) -> i64 {
    oml_web::testing::add_user(store, "admin", PW, Role::Admin, false).await;
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
            max_channels: 5,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("look", "t1");
    spec.mode = CampaignMode::Preview;
    spec.queue_name = "look-q".into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 24 * 60;
    spec.days_mask = 127;
    let c = store.create_campaign(&spec).await.unwrap();
    let csv = format!("phone,name\n{FIRST},Carla Gómez\n{SECOND},Dario Ruiz\n");
    let opts = ImportOptions {
        list_name: "preview.csv".into(),
        ..ImportOptions::default()
    };
    let mut sink = FirstRejections::default();
    let out = import_contacts(store, c.id, csv.as_bytes(), &opts, &mut sink)
        .await
        .unwrap();
    assert_eq!(out.summary.imported, 2, "{:?}", sink.rows);
    store
        .add_disposition(
            c.id,
            &Disposition {
                name: "sale".into(),
                is_final: true,
                callback: false,
                dnc: DncTarget::No,
                retry_after_s: 3600,
            },
        )
        .await
        .unwrap();
    store
        .create_user_with(
            &NewUser {
                username: "bea",
                password: &AGENT_PW.to_string().into(),
                role: Role::Agent,
                must_change_password: false,
            },
            &AgentSetup {
                extension: Some("1002".into()),
                campaigns: Some(vec!["look".into()]),
            },
        )
        .await
        .unwrap();
    store
        .set_campaign_state("look", CampaignState::Running)
        .await
        .unwrap();
    store.set_setting(PLAY_KEY, "on").await.unwrap();
    c.id
}

const FIRST: &str = "+541155550101";
const SECOND: &str = "+541155550102";

/// The state of the contact with number `phone`.
async fn contact_state(store: &Store, campaign: i64, phone: &str) -> String {
    store
        .campaign_contact_states(campaign)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.phone == phone)
        .map(|c| c.state)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_agent_skips_one_contact_and_calls_another() {
    let Some((chromium, chromedriver)) = browser::tools("agent preview page test") else {
        return;
    };
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let label = ts.label;
        let mut cfg = SimConfig::new("oml", SecretString::from(SECRET), 0);
        cfg.queues = vec![QueueConfig {
            name: "look-q".into(),
            agents: 0,
        }];
        cfg.agent_answer_time = Dist::Fixed(0.5);
        cfg.customers.answer_rate = 1.0;
        cfg.customers.busy_rate = 0.0;
        cfg.customers.time_to_answer = Dist::Fixed(0.5);
        cfg.customers.patience = Dist::Fixed(60.0);
        cfg.talk_time = Dist::Fixed(3.0);
        cfg.wrapup_time = Dist::Fixed(0.0);
        let sim = PbxSim::start(cfg).await.unwrap();
        let campaign = preview_setup(store, sim.local_addr().port()).await;
        let engine = Engine::spawn(
            store.clone(),
            EngineConfig {
                tick: Duration::from_millis(50),
                reload_every: Duration::from_millis(200),
                queue_poll_every: Duration::from_secs(1),
                ami_rate_limit: None,
                ..EngineConfig::default()
            },
        );

        let agent = browser::Session::start(store, &chromium, &chromedriver).await;
        let (a, base) = (&agent.client, agent.base.as_str());
        login(a, base, "bea", AGENT_PW).await;
        a.goto(&format!("{base}/agent")).await.unwrap();
        submit(a, "#btn-login").await;
        submit(a, "#btn-ready").await;
        assert_eq!(text_of(a, "#state-label").await, "Ready", "{label}");

        // Ask for a contact: it is reserved for Bea; skip it.
        submit(a, "#link-preview").await;
        submit(a, "#btn-preview-next").await;
        let first = text_of(a, "#preview-phone").await;
        assert!(
            text_of(a, "#preview-fields").await.contains("Carla Gómez")
                || text_of(a, "#preview-fields").await.contains("Dario Ruiz"),
            "{label}"
        );
        assert_eq!(contact_state(store, campaign, &first).await, "reserved");
        shot(a, label, "preview-01-reserved").await;
        browser::fill(a, "reason", "asked for a later time").await;
        submit(a, "#btn-preview-skip").await;
        // Skipped: back with the others, not reserved by anyone.
        assert_eq!(
            contact_state(store, campaign, &first).await,
            "pending",
            "{label}"
        );
        assert_eq!(
            a.find(Locator::Css("#preview"))
                .await
                .unwrap()
                .attr("data-state")
                .await
                .unwrap()
                .as_deref(),
            Some("none"),
            "{label}"
        );

        // The next contact: Call rings Bea's extension, then the customer.
        submit(a, "#btn-preview-next").await;
        let second = text_of(a, "#preview-phone").await;
        submit(a, "#btn-preview-call").await;
        // Back on the agent page, which shows the call when it connects.
        let flash = text_of(a, "#flash").await;
        assert!(flash.contains("Calling"), "{label}: {flash}");
        shows(a, None, "#pop-phone", &second, Duration::from_secs(30)).await;
        shot(a, label, "preview-02-screen-pop").await;

        // The customer answered; when the call ends Bea dispositions it.
        let page = a.find(Locator::Css("html")).await.unwrap();
        shows(
            a,
            Some(&page),
            "#wrapup-card h2",
            "Wrap-up: call",
            Duration::from_secs(30),
        )
        .await;
        click(a, "#f-disposition option[value='sale']").await;
        submit(a, "#btn-wrapup").await;
        let flash = text_of(a, "#flash").await;
        assert!(flash.contains("sale saved"), "{label}: {flash}");
        eprintln!("{label}: preview: skipped {first}, called {second}: {flash}");
        let call = store
            .agent_latest_call("bea", "PJSIP/1002")
            .await
            .unwrap()
            .expect("bea's call");
        assert_eq!(call.phone, second);
        assert_eq!(call.outcome.as_deref(), Some("connected"), "{label}");
        assert_eq!(call.disposition.as_deref(), Some("sale"), "{label}");
        assert_eq!(contact_state(store, campaign, &second).await, "done");

        engine.shutdown().await;
        sim.shutdown().await;
        agent.finish().await;
    }
}
