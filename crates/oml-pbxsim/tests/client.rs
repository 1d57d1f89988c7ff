//! The oml-ami client against an in-process pbxsim over real TCP: logins,
//! ActionID matching under concurrency, list actions, AstDB, the full
//! Originate event sequence, faults (drop, stall, garbage) and reconnects.

use std::time::Duration;

use oml_ami::{
    AmiClient, AmiError, AuthKind, Backoff, ClientConfig, Event, Message, Originate,
    OriginateOutcome, OriginateResponse, RateLimit,
};
use oml_pbxsim::{Dist, Fault, NumberOutcome, PbxSim, SimConfig};
use secrecy::SecretString;
use tokio::sync::broadcast;
use tokio::time::timeout;

fn sim_config(agents: usize) -> SimConfig {
    let mut c = SimConfig::new("oml", SecretString::from("s3cret"), agents);
    c.time_scale = 1000.0;
    c.customers.time_to_answer = Dist::Fixed(2.0);
    c.talk_time = Dist::Fixed(5.0);
    c.wrapup_time = Dist::Fixed(1.0);
    c
}

fn client_config(sim: &PbxSim, auth: AuthKind) -> ClientConfig {
    let mut c = ClientConfig::new(
        sim.local_addr().to_string(),
        "oml",
        SecretString::from("s3cret"),
    );
    c.auth = auth;
    c.rate_limit = None;
    c.reconnect = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(200),
    };
    c
}

async fn next_matching(
    rx: &mut broadcast::Receiver<Event>,
    mut f: impl FnMut(&Event) -> bool,
) -> Event {
    timeout(Duration::from_secs(10), async {
        loop {
            let e = rx.recv().await.expect("event stream open");
            if f(&e) {
                return e;
            }
        }
    })
    .await
    .expect("expected event within 10 s")
}

#[tokio::test]
async fn plain_and_md5_login_and_wrong_secret() {
    let sim = PbxSim::start(sim_config(1)).await.unwrap();
    for auth in [AuthKind::Plain, AuthKind::Md5] {
        let c = AmiClient::connect(client_config(&sim, auth)).await.unwrap();
        c.ping().await.unwrap();
        c.logoff().await.unwrap();
        assert!(matches!(c.ping().await, Err(AmiError::Closed)));
    }
    for auth in [AuthKind::Plain, AuthKind::Md5] {
        let mut cfg = client_config(&sim, auth);
        cfg.secret = SecretString::from("wrong-secret");
        let err = AmiClient::connect(cfg).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, AmiError::Auth { .. }), "{text}");
        assert!(text.contains("Authentication failed"), "{text}");
        assert!(!text.contains("wrong-secret"), "secret leaked: {text}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn actions_lists_and_astdb() {
    let sim = PbxSim::start(sim_config(3)).await.unwrap();
    let c = AmiClient::connect(client_config(&sim, AuthKind::Md5))
        .await
        .unwrap();
    c.db_put("OML/CAMP/1", "NAME", "Ventas: norte")
        .await
        .unwrap();
    assert_eq!(
        c.db_get("OML/CAMP/1", "NAME").await.unwrap().as_deref(),
        Some("Ventas: norte")
    );
    assert_eq!(c.db_get("OML/CAMP/1", "NOPE").await.unwrap(), None);
    assert!(c.db_del("OML/CAMP/1", "NAME").await.unwrap());
    assert!(!c.db_del("OML/CAMP/1", "NAME").await.unwrap());
    c.db_put("OML/CAMP/2", "A", "1").await.unwrap();
    assert!(c.db_deltree("OML/CAMP", None).await.unwrap());
    assert_eq!(c.db_get("OML/CAMP/2", "A").await.unwrap(), None);

    let qs = c.queue_status(None).await.unwrap();
    let members = qs
        .iter()
        .filter(|e| e.event_name() == Some("QueueMember"))
        .count();
    assert_eq!(members, 3);
    let sum = c.queue_summary(Some("oml-default")).await.unwrap();
    assert_eq!(sum[0].get("Available"), Some("3"));
    assert!(c.core_show_channels().await.unwrap().is_empty());
    let v = c.command("core show version").await.unwrap();
    assert!(v[0].starts_with("Asterisk"), "{v:?}");
    c.reload(None).await.unwrap();
    let r = c.send(Message::action("NoSuchAction")).await.unwrap();
    assert!(!r.is_success());
    assert_eq!(
        r.text(),
        "Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show available commands."
    );
    assert!(matches!(
        c.hangup("PJSIP/none-0001", None).await,
        Err(AmiError::ActionFailed { .. })
    ));
    c.logoff().await.unwrap();
}

#[tokio::test]
async fn originate_answered_reaches_an_agent_with_the_asterisk_sequence() {
    let mut cfg = sim_config(1);
    cfg.numbers.insert("5551000".into(), NumberOutcome::Answer);
    cfg.numbers.insert("5551001".into(), NumberOutcome::Busy);
    let sim = PbxSim::start(cfg).await.unwrap();
    let c = AmiClient::connect(client_config(&sim, AuthKind::Md5))
        .await
        .unwrap();
    let mut rx = c.events();
    let mut o = Originate::to_extension("Local/5551000@from-oml/n", "oml-campaign", "1")
        .variable("OMLCALL", "1");
    o.timeout = Some(Duration::from_secs(30));
    let queued = c.originate(&o).await.unwrap();
    let id = queued.action_id().unwrap().to_owned();
    let mut seen = Vec::new();
    next_matching(&mut rx, |e| {
        if let Event::Ami(m) = e {
            seen.push(m.event_name().unwrap_or("").to_owned());
            return m.event_name() == Some("AgentComplete");
        }
        false
    })
    .await;
    let pos = |n: &str| {
        seen.iter()
            .position(|s| s == n)
            .unwrap_or_else(|| panic!("{n} missing in {seen:?}"))
    };
    assert!(pos("Newchannel") < pos("OriginateResponse"));
    assert!(pos("OriginateResponse") < pos("QueueCallerJoin"));
    assert!(pos("QueueCallerJoin") < pos("AgentConnect"));
    assert!(pos("AgentConnect") < pos("AgentComplete"));

    let busy = c
        .originate(&Originate::to_extension(
            "Local/5551001@from-oml/n",
            "oml-campaign",
            "1",
        ))
        .await
        .unwrap();
    let busy_id = busy.action_id().unwrap().to_owned();
    assert_ne!(busy_id, id);
    let e = next_matching(&mut rx, |e| {
        matches!(e, Event::Ami(m) if OriginateResponse::from_message(m).is_some_and(|o| o.action_id.as_deref() == Some(busy_id.as_str())))
    })
    .await;
    let Event::Ami(m) = e else { unreachable!() };
    assert_eq!(
        OriginateResponse::from_message(&m).unwrap().outcome,
        OriginateOutcome::Busy
    );
    // As on Asterisk, the busy cause is on the customer's ;2 half; the
    // ;1 half we originated ends with cause 0.
    let h = next_matching(
        &mut rx,
        |e| matches!(e, Event::Ami(m) if m.event_name() == Some("Hangup") && m.get("Channel").is_some_and(|c| c.ends_with(";2"))),
    )
    .await;
    let Event::Ami(h) = h else { unreachable!() };
    assert_eq!(oml_ami::Hangup::from_message(&h).unwrap().cause, 17);
    let line = sim.stats_line();
    assert!(
        line.contains("originates 2 answered 1 busy 1") && line.contains("connected 1"),
        "{line}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_actions_each_get_their_own_response() {
    let sim = PbxSim::start(sim_config(2)).await.unwrap();
    let c = AmiClient::connect(client_config(&sim, AuthKind::Plain))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("K{i}");
            c.db_put("T", &key, &i.to_string()).await.unwrap();
            c.db_get("T", &key).await.unwrap()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), Some(i.to_string()));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn reconnects_after_drop_and_tells_subscribers() {
    let sim = PbxSim::start(sim_config(1)).await.unwrap();
    let c = AmiClient::connect(client_config(&sim, AuthKind::Md5))
        .await
        .unwrap();
    let mut rx = c.events();
    sim.inject(Fault::DropConnections);
    next_matching(&mut rx, |e| matches!(e, Event::Disconnected { .. })).await;
    next_matching(&mut rx, |e| matches!(e, Event::Reconnected)).await;
    c.ping().await.unwrap();
    c.db_put("A", "b", "c").await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn garbage_without_blank_line_drops_and_recovers() {
    let sim = PbxSim::start(sim_config(1)).await.unwrap();
    let mut cfg = client_config(&sim, AuthKind::Plain);
    cfg.max_frame = 64 * 1024;
    let c = AmiClient::connect(cfg).await.unwrap();
    let mut rx = c.events();
    sim.inject(Fault::Garbage(vec![b'x'; 200 * 1024]));
    let e = next_matching(&mut rx, |e| matches!(e, Event::Disconnected { .. })).await;
    let Event::Disconnected { reason } = e else {
        unreachable!()
    };
    assert!(reason.contains("larger than"), "{reason}");
    next_matching(&mut rx, |e| matches!(e, Event::Reconnected)).await;
    c.ping().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn stalled_server_is_detected_by_ping() {
    let sim = PbxSim::start(sim_config(1)).await.unwrap();
    let mut cfg = client_config(&sim, AuthKind::Plain);
    cfg.ping_interval = Some(Duration::from_millis(100));
    let c = AmiClient::connect(cfg).await.unwrap();
    let mut rx = c.events();
    sim.inject(Fault::Stall(Duration::from_secs(2)));
    let e = next_matching(&mut rx, |e| matches!(e, Event::Disconnected { .. })).await;
    let Event::Disconnected { reason } = e else {
        unreachable!()
    };
    assert!(reason.contains("Ping"), "{reason}");
    next_matching(&mut rx, |e| matches!(e, Event::Reconnected)).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limit_spaces_actions() {
    let sim = PbxSim::start(sim_config(1)).await.unwrap();
    let mut cfg = client_config(&sim, AuthKind::Plain);
    cfg.rate_limit = Some(RateLimit {
        per_second: 50,
        burst: 1,
    });
    let c = AmiClient::connect(cfg).await.unwrap();
    let t0 = std::time::Instant::now();
    for _ in 0..11 {
        c.ping().await.unwrap();
    }
    // 11 actions at 50/s with no burst cannot take less than 10 intervals
    // (a limiter that lets burst + 1 go back to back takes about 180 ms).
    assert!(
        t0.elapsed() >= Duration::from_millis(199),
        "{:?}",
        t0.elapsed()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn raw_protocol_greeting_and_unknown_action() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = PbxSim::start(sim_config(1)).await.unwrap();
    let mut s = tokio::net::TcpStream::connect(sim.local_addr())
        .await
        .unwrap();
    s.write_all(b"Action: Login\r\nUsername: oml\r\nSecret: s3cret\r\nActionID: 1\r\n\r\nAction: Bogus\r\nActionID: 2\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let mut got = String::new();
    while !got.contains("ActionID: 2") {
        let n = timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(got.starts_with("Asterisk Call Manager/"), "{got}");
    assert!(
        got.contains(
            "Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n"
        ),
        "{got}"
    );
    assert!(
        got.contains("Response: Error\r\nActionID: 2\r\nMessage: Invalid/unknown command: Bogus. Use Action: ListCommands to show available commands.\r\n\r\n"),
        "{got}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn hostile_client_is_dropped_and_others_keep_working() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = PbxSim::start(sim_config(1)).await.unwrap();
    let good = AmiClient::connect(client_config(&sim, AuthKind::Md5))
        .await
        .unwrap();
    let mut s = tokio::net::TcpStream::connect(sim.local_addr())
        .await
        .unwrap();
    // 10 MB without an empty line, with invalid UTF-8 in it.
    let chunk = [b'A', 0xff, 0xfe, b':', b' ', b'x'].repeat(1024 * 1024 / 6 + 1);
    let mut sent = 0usize;
    let mut closed = false;
    while sent < 10 * 1024 * 1024 {
        if s.write_all(&chunk).await.is_err() {
            closed = true;
            break;
        }
        sent += chunk.len();
    }
    if !closed {
        // The server must have hung up: reading ends (after the greeting).
        let mut buf = vec![0u8; 4096];
        let r = timeout(Duration::from_secs(5), async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(r.is_ok(), "server kept a hostile connection open");
    }
    good.ping().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn hangup_of_a_ringing_channel() {
    let mut cfg = sim_config(1);
    cfg.time_scale = 1.0;
    cfg.customers.time_to_answer = Dist::Fixed(60.0);
    cfg.numbers.insert("777".into(), NumberOutcome::Answer);
    let sim = PbxSim::start(cfg).await.unwrap();
    let c = AmiClient::connect(client_config(&sim, AuthKind::Md5))
        .await
        .unwrap();
    let mut rx = c.events();
    let r = c
        .originate(&Originate::to_extension(
            "PJSIP/777@trunk",
            "oml-campaign",
            "1",
        ))
        .await
        .unwrap();
    let id = r.action_id().unwrap().to_owned();
    let chans = c.core_show_channels().await.unwrap();
    assert_eq!(chans.len(), 1);
    assert_eq!(chans[0].get("ChannelStateDesc"), Some("Ringing"));
    let name = chans[0].get("Channel").unwrap().to_owned();
    c.hangup(&name, Some(16)).await.unwrap();
    let e = next_matching(
        &mut rx,
        |e| matches!(e, Event::Ami(m) if OriginateResponse::from_message(m).is_some()),
    )
    .await;
    let Event::Ami(m) = e else { unreachable!() };
    let o = OriginateResponse::from_message(&m).unwrap();
    assert_eq!(o.action_id.as_deref(), Some(id.as_str()));
    // Asterisk 22 (the bench) answers a Hangup action on a ringing
    // originated channel with Reason 0, not 1 (1 is the far end hanging up).
    assert_eq!(o.outcome, OriginateOutcome::Failed);
    assert!(c.core_show_channels().await.unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limited_user_gets_only_its_event_classes() {
    let mut cfg = sim_config(1);
    cfg.numbers.insert("5551001".into(), NumberOutcome::Busy);
    cfg.users.push(oml_pbxsim::SimUser {
        username: "lim".into(),
        secret: SecretString::from("p"),
        read: vec!["system".into()],
        write: vec!["system".into(), "command".into(), "reporting".into()],
    });
    let sim = PbxSim::start(cfg).await.unwrap();
    let admin = AmiClient::connect(client_config(&sim, AuthKind::Md5))
        .await
        .unwrap();
    let mut lc = client_config(&sim, AuthKind::Md5);
    lc.username = "lim".into();
    lc.secret = SecretString::from("p");
    let limited = AmiClient::connect(lc).await.unwrap();
    let mut admin_rx = admin.events();
    let mut limited_rx = limited.events();
    assert!(matches!(
        limited
            .originate(&Originate::to_extension(
                "Local/5551001@from-oml/n",
                "c",
                "1"
            ))
            .await,
        Err(AmiError::ActionFailed { .. })
    ));
    admin
        .originate(&Originate::to_extension(
            "Local/5551001@from-oml/n",
            "c",
            "1",
        ))
        .await
        .unwrap();
    next_matching(
        &mut admin_rx,
        |e| matches!(e, Event::Ami(m) if OriginateResponse::from_message(m).is_some()),
    )
    .await;
    // Give the limited session the same chance to see the call events.
    limited.ping().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    while let Ok(e) = limited_rx.try_recv() {
        if let Event::Ami(m) = e {
            assert_ne!(
                m.get("Privilege"),
                Some("call,all"),
                "a read=system user got a call event: {m:?}"
            );
        }
    }
    sim.shutdown().await;
}
