//! The AMI suite both peers must pass: login both ways, wrong secret,
//! Originate to each simulated outcome with the right OriginateResponse
//! Reason and Hangup causes, queues, AstDB, CLI commands, `manager reload`
//! and the connection check. Every scenario runs as `<name>::pbxsim` and
//! `<name>::asterisk`; what is asserted is what a real Asterisk 22 does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oml_ami::check::{
    run_check, CheckConfig, Fatal, Permission, EXIT_LOGIN, EXIT_OK, EXIT_PERMISSION,
};
use oml_ami::{
    AmiClient, AmiError, AuthKind, Hangup, Message, Originate, OriginateOutcome, OriginateResponse,
};
use oml_peer_tests::{
    peer_tests, Peer, PeerKind, Watch, ANSWER, ANSWER_LONG, BUSY, CAMPAIGN_CONTEXT, CONGESTION,
    NO_ANSWER, QUEUE,
};
use secrecy::SecretString;

peer_tests!(
    login_plain,
    login_md5,
    wrong_secret_plain,
    wrong_secret_md5,
    unknown_action,
    originate_answered,
    originate_busy,
    originate_congestion,
    originate_no_answer,
    originate_unknown_extension,
    originate_unknown_channel_context,
    hangup_with_cause,
    hangup_unknown_channel,
    queue_status,
    queue_summary,
    astdb,
    command_output,
    command_unknown,
    manager_reload_keeps_session,
    list_commands,
    check_all_well,
    check_wrong_secret,
    check_limited_user,
);

async fn login_with(peer: &Peer, auth: AuthKind) {
    let client = AmiClient::connect(peer.config(auth))
        .await
        .unwrap_or_else(|e| panic!("[{}] {auth:?} login: {e}", peer.name()));
    client
        .ping()
        .await
        .unwrap_or_else(|e| panic!("[{}] Ping after {auth:?} login: {e}", peer.name()));
    client.logoff().await.expect("logoff");
}

async fn login_plain(peer: &Peer) {
    login_with(peer, AuthKind::Plain).await;
}

async fn login_md5(peer: &Peer) {
    login_with(peer, AuthKind::Md5).await;
}

async fn wrong_secret(peer: &Peer, auth: AuthKind) {
    let mut cfg = peer.config(auth);
    cfg.secret = SecretString::from("definitely-not-the-secret".to_owned());
    match AmiClient::connect(cfg).await {
        Err(AmiError::Auth { message, .. }) => {
            assert_eq!(
                message,
                "Authentication failed",
                "[{}] {auth:?}",
                peer.name()
            )
        }
        Err(e) => panic!(
            "[{}] {auth:?} wrong secret: expected an Auth error, got {e}",
            peer.name()
        ),
        Ok(_) => panic!(
            "[{}] {auth:?} login with a wrong secret succeeded",
            peer.name()
        ),
    }
}

async fn wrong_secret_plain(peer: &Peer) {
    wrong_secret(peer, AuthKind::Plain).await;
}

async fn wrong_secret_md5(peer: &Peer) {
    wrong_secret(peer, AuthKind::Md5).await;
}

async fn unknown_action(peer: &Peer) {
    let client = peer.connect().await;
    let r = client
        .send(Message::action("NoSuchAction"))
        .await
        .expect("a response");
    assert_eq!(
        r.message.response_status(),
        Some("Error"),
        "[{}]",
        peer.name()
    );
    assert_eq!(
        r.text(),
        "Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show available commands.",
        "[{}]",
        peer.name()
    );
    client.logoff().await.expect("logoff");
}

/// What one Originate produced.
struct Placed {
    response: OriginateResponse,
    /// Hangup events by Uniqueid (`ChannelId` = the `;1` half we
    /// originated, `OtherChannelId` = the `;2` customer half).
    hangups: HashMap<String, Hangup>,
    /// Other events of the call, in order (queue events and the like).
    events: Vec<Arc<Message>>,
    /// From the Originate to the OriginateResponse.
    to_response: Duration,
    chan_id: String,
    other_id: String,
}

/// Originates `Local/<number>@from-oml/n` into the campaign context and
/// waits for the OriginateResponse and the Hangup of both halves.
async fn place(
    peer: &Peer,
    client: &AmiClient,
    number: &str,
    timeout: Duration,
    within: Duration,
) -> Placed {
    let chan_id = peer.unique("chan");
    let other_id = format!("{chan_id}-2");
    let mut watch = Watch::new(client);
    let mut o =
        Originate::to_extension(&format!("Local/{number}@from-oml/n"), CAMPAIGN_CONTEXT, "1");
    o.timeout = Some(timeout);
    o.channel_id = Some(chan_id.clone());
    o.other_channel_id = Some(other_id.clone());
    let t0 = Instant::now();
    let queued = client
        .originate(&o)
        .await
        .unwrap_or_else(|e| panic!("[{}] Originate {number}: {e}", peer.name()));
    assert_eq!(
        queued.text(),
        "Originate successfully queued",
        "[{}] Originate {number}",
        peer.name()
    );
    let action_id = queued.action_id().expect("ActionID").to_owned();
    let mut response = None;
    let mut to_response = Duration::ZERO;
    let mut hangups = HashMap::new();
    let mut events = Vec::new();
    let ids = [chan_id.clone(), other_id.clone()];
    let deadline = Instant::now() + within;
    while (response.is_none() || hangups.len() < 2) && Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(m) = watch.next_matching(left, |_| true).await else {
            break;
        };
        if let Some(r) = OriginateResponse::from_message(&m) {
            if r.action_id.as_deref() == Some(action_id.as_str()) {
                to_response = t0.elapsed();
                response = Some(r);
            }
            continue;
        }
        let uid = m.get("Uniqueid").unwrap_or_default();
        if ids.iter().any(|i| i == uid) {
            if let Some(h) = Hangup::from_message(&m) {
                hangups.insert(h.uniqueid.clone(), h);
            }
            events.push(m);
        }
    }
    let response = response.unwrap_or_else(|| {
        panic!(
            "[{}] no OriginateResponse for {number} within {within:?}",
            peer.name()
        )
    });
    Placed {
        response,
        hangups,
        events,
        to_response,
        chan_id,
        other_id,
    }
}

/// Checks Response, Reason and the Hangup cause of each half.
fn expect_outcome(
    peer: &Peer,
    p: &Placed,
    number: &str,
    success: bool,
    outcome: OriginateOutcome,
    causes: (u32, u32),
) {
    let who = format!("[{}] Originate {number}", peer.name());
    assert_eq!(
        p.response.success, success,
        "{who}: OriginateResponse Response"
    );
    assert_eq!(
        p.response.outcome, outcome,
        "{who}: Reason {}",
        p.response.reason
    );
    assert_eq!(
        p.response.uniqueid.as_deref(),
        Some(p.chan_id.as_str()),
        "{who}: OriginateResponse Uniqueid must be the ChannelId we gave"
    );
    let cause = |id: &str, half: &str| {
        p.hangups
            .get(id)
            .unwrap_or_else(|| {
                panic!(
                    "{who}: no Hangup event for the {half} half (Uniqueid {id}); got {:?}",
                    p.hangups.keys()
                )
            })
            .cause
    };
    assert_eq!(
        cause(&p.chan_id, ";1"),
        causes.0,
        "{who}: Hangup Cause of the originated (;1) channel"
    );
    assert_eq!(
        cause(&p.other_id, ";2"),
        causes.1,
        "{who}: Hangup Cause of the customer (;2) channel"
    );
}

async fn originate_answered(peer: &Peer) {
    let client = peer.connect().await;
    let p = place(
        peer,
        &client,
        ANSWER,
        Duration::from_secs(10),
        Duration::from_secs(25),
    )
    .await;
    // Real Asterisk: answered, into the queue, the customer hangs up after
    // the talk time: Normal Clearing on both halves.
    expect_outcome(peer, &p, ANSWER, true, OriginateOutcome::Answered, (16, 16));
    assert!(
        p.to_response >= Duration::from_millis(700),
        "[{}] answered after {:?}: the customer should ring about a second first",
        peer.name(),
        p.to_response
    );
    let names: Vec<&str> = p.events.iter().filter_map(|m| m.event_name()).collect();
    assert!(
        names.contains(&"QueueCallerJoin"),
        "[{}] an answered campaign call joins the queue; events of the call: {names:?}",
        peer.name()
    );
    client.logoff().await.expect("logoff");
}

async fn originate_busy(peer: &Peer) {
    let client = peer.connect().await;
    let p = place(
        peer,
        &client,
        BUSY,
        Duration::from_secs(10),
        Duration::from_secs(10),
    )
    .await;
    // Real Asterisk: the originated half ends with cause 0 (it never got
    // an answer); the cause 17 is on the customer half. The dialer must
    // use the Reason, not the ;1 Hangup cause.
    expect_outcome(peer, &p, BUSY, false, OriginateOutcome::Busy, (0, 17));
    client.logoff().await.expect("logoff");
}

async fn originate_congestion(peer: &Peer) {
    let client = peer.connect().await;
    let p = place(
        peer,
        &client,
        CONGESTION,
        Duration::from_secs(10),
        Duration::from_secs(10),
    )
    .await;
    expect_outcome(
        peer,
        &p,
        CONGESTION,
        false,
        OriginateOutcome::Congestion,
        (0, 34),
    );
    client.logoff().await.expect("logoff");
}

async fn originate_no_answer(peer: &Peer) {
    let client = peer.connect().await;
    let p = place(
        peer,
        &client,
        NO_ANSWER,
        Duration::from_secs(3),
        Duration::from_secs(15),
    )
    .await;
    expect_outcome(
        peer,
        &p,
        NO_ANSWER,
        false,
        OriginateOutcome::NoAnswer,
        (19, 19),
    );
    assert!(
        p.to_response >= Duration::from_millis(2500) && p.to_response < Duration::from_secs(8),
        "[{}] no answer must be reported when the 3 s Timeout expires, not after {:?}",
        peer.name(),
        p.to_response
    );
    client.logoff().await.expect("logoff");
}

async fn originate_unknown_extension(peer: &Peer) {
    let client = peer.connect().await;
    let o = Originate::to_extension(
        &format!("Local/{ANSWER}@from-oml/n"),
        "oml-no-such-context",
        "1",
    );
    match client.originate(&o).await {
        Err(AmiError::ActionFailed { message, .. }) => {
            assert_eq!(message, "Extension does not exist.", "[{}]", peer.name())
        }
        Err(e) => panic!("[{}] expected Response: Error, got {e}", peer.name()),
        Ok(r) => panic!(
            "[{}] Originate into a context that does not exist was accepted ({}); Asterisk refuses it",
            peer.name(),
            r.text()
        ),
    }
    client.logoff().await.expect("logoff");
}

async fn originate_unknown_channel_context(peer: &Peer) {
    let client = peer.connect().await;
    let mut watch = Watch::new(&client);
    let chan_id = peer.unique("nowhere");
    let mut o = Originate::to_extension(
        &format!("Local/{ANSWER}@oml-no-such-context/n"),
        CAMPAIGN_CONTEXT,
        "1",
    );
    o.timeout = Some(Duration::from_secs(5));
    o.channel_id = Some(chan_id.clone());
    let queued = client.originate(&o).await.expect("queued");
    let id = queued.action_id().expect("ActionID").to_owned();
    let m = watch
        .next_matching(Duration::from_secs(10), |m| {
            OriginateResponse::from_message(m)
                .is_some_and(|r| r.action_id.as_deref() == Some(id.as_str()))
        })
        .await
        .unwrap_or_else(|| panic!("[{}] no OriginateResponse", peer.name()));
    let r = OriginateResponse::from_message(&m).expect("parsed");
    assert!(
        !r.success,
        "[{}] Originate via a Local channel into a missing context must fail: {r:?}",
        peer.name()
    );
    assert_eq!(
        r.outcome,
        OriginateOutcome::Failed,
        "[{}] Reason {}",
        peer.name(),
        r.reason
    );
    client.logoff().await.expect("logoff");
}

async fn hangup_with_cause(peer: &Peer) {
    let client = peer.connect().await;
    let mut watch = Watch::new(&client);
    let chan_id = peer.unique("hup");
    let mut o = Originate::to_extension(
        &format!("Local/{ANSWER_LONG}@from-oml/n"),
        CAMPAIGN_CONTEXT,
        "1",
    );
    o.timeout = Some(Duration::from_secs(10));
    o.channel_id = Some(chan_id.clone());
    o.other_channel_id = Some(format!("{chan_id}-2"));
    let queued = client.originate(&o).await.expect("queued");
    let id = queued.action_id().expect("ActionID").to_owned();
    let m = watch
        .next_matching(Duration::from_secs(10), |m| {
            OriginateResponse::from_message(m)
                .is_some_and(|r| r.action_id.as_deref() == Some(id.as_str()))
        })
        .await
        .unwrap_or_else(|| panic!("[{}] no OriginateResponse", peer.name()));
    let r = OriginateResponse::from_message(&m).expect("parsed");
    assert_eq!(r.outcome, OriginateOutcome::Answered, "[{}]", peer.name());
    assert!(
        r.channel.ends_with(";1"),
        "[{}] an answered OriginateResponse names the ;1 channel, got {:?}",
        peer.name(),
        r.channel
    );
    client
        .hangup(&r.channel, Some(21))
        .await
        .unwrap_or_else(|e| panic!("[{}] Hangup {}: {e}", peer.name(), r.channel));
    let h = watch
        .next_matching(Duration::from_secs(5), |m| {
            m.event_name() == Some("Hangup") && m.get("Uniqueid") == Some(chan_id.as_str())
        })
        .await
        .unwrap_or_else(|| panic!("[{}] no Hangup event after the Hangup action", peer.name()));
    let h = Hangup::from_message(&h).expect("parsed");
    assert_eq!(
        h.cause,
        21,
        "[{}] Hangup Cause must be the one the action asked for",
        peer.name()
    );
    assert_eq!(h.channel, r.channel, "[{}]", peer.name());
    client.logoff().await.expect("logoff");
}

async fn hangup_unknown_channel(peer: &Peer) {
    let client = peer.connect().await;
    match client.hangup("Local/nobody@nowhere-00000000;1", None).await {
        Err(AmiError::ActionFailed { message, .. }) => {
            assert_eq!(message, "No such channel", "[{}]", peer.name())
        }
        other => panic!(
            "[{}] expected `No such channel`, got {other:?}",
            peer.name()
        ),
    }
    client.logoff().await.expect("logoff");
}

async fn queue_status(peer: &Peer) {
    let client = peer.connect().await;
    let r = client
        .send(oml_ami::actions::queue_status(Some(QUEUE)))
        .await
        .expect("QueueStatus");
    let who = format!("[{}] QueueStatus", peer.name());
    assert!(r.is_success(), "{who}: {}", r.text());
    assert_eq!(r.get("EventList"), Some("start"), "{who}");
    let params: Vec<_> = r
        .events
        .iter()
        .filter(|e| e.event_name() == Some("QueueParams"))
        .collect();
    assert_eq!(params.len(), 1, "{who}: one QueueParams for one queue");
    let p = params[0];
    assert_eq!(p.get("Queue"), Some(QUEUE), "{who}");
    for k in [
        "Max",
        "Strategy",
        "Calls",
        "Holdtime",
        "TalkTime",
        "Completed",
        "Abandoned",
        "ServiceLevel",
        "Weight",
    ] {
        assert!(p.get(k).is_some(), "{who}: QueueParams lacks {k}: {p:?}");
    }
    let members: Vec<_> = r
        .events
        .iter()
        .filter(|e| e.event_name() == Some("QueueMember"))
        .collect();
    assert_eq!(members.len(), 2, "{who}: two agents");
    for m in &members {
        assert_eq!(m.get("Queue"), Some(QUEUE), "{who}");
        for k in [
            "Name",
            "Location",
            "StateInterface",
            "Membership",
            "Penalty",
            "CallsTaken",
            "LastCall",
            "InCall",
            "Status",
            "Paused",
        ] {
            assert!(m.get(k).is_some(), "{who}: QueueMember lacks {k}: {m:?}");
        }
        let status: u32 = m.get("Status").unwrap().parse().expect("numeric Status");
        assert!(
            status <= 10,
            "{who}: Status {status} is a device state number"
        );
        assert!(matches!(m.get("Paused"), Some("0" | "1")), "{who}");
        assert_eq!(m.get("Membership"), Some("static"), "{who}");
    }
    let complete = r.complete.as_ref().expect("QueueStatusComplete");
    assert_eq!(complete.event_name(), Some("QueueStatusComplete"), "{who}");
    assert_eq!(complete.get("EventList"), Some("Complete"), "{who}");
    assert_eq!(
        complete
            .get("ListItems")
            .and_then(|n| n.parse::<usize>().ok()),
        Some(r.events.len()),
        "{who}: ListItems counts the events"
    );
    client.logoff().await.expect("logoff");
}

async fn queue_summary(peer: &Peer) {
    let client = peer.connect().await;
    let r = client
        .send(oml_ami::actions::queue_summary(Some(QUEUE)))
        .await
        .expect("QueueSummary");
    let who = format!("[{}] QueueSummary", peer.name());
    assert!(r.is_success(), "{who}: {}", r.text());
    assert_eq!(r.events.len(), 1, "{who}: {:?}", r.events);
    let s = &r.events[0];
    assert_eq!(s.event_name(), Some("QueueSummary"), "{who}");
    assert_eq!(s.get("Queue"), Some(QUEUE), "{who}");
    assert_eq!(s.get("LoggedIn"), Some("2"), "{who}");
    for k in [
        "Available",
        "Callers",
        "HoldTime",
        "TalkTime",
        "LongestHoldTime",
    ] {
        let v = s.get(k).unwrap_or_else(|| panic!("{who}: lacks {k}"));
        v.parse::<u64>()
            .unwrap_or_else(|_| panic!("{who}: {k}={v:?} is not a number"));
    }
    let complete = r.complete.as_ref().expect("QueueSummaryComplete");
    assert_eq!(complete.event_name(), Some("QueueSummaryComplete"), "{who}");
    assert_eq!(complete.get("ListItems"), Some("1"), "{who}");
    client.logoff().await.expect("logoff");
}

async fn astdb(peer: &Peer) {
    let client = peer.connect().await;
    let family = format!("OML/TEST/{}", peer.unique("db"));
    let who = format!("[{}] AstDB {family}", peer.name());
    client
        .db_put(&family, "NAME", "Sales: east, 2")
        .await
        .expect("DBPut");
    client.db_put(&family, "sub/KEY", "x").await.expect("DBPut");
    assert_eq!(
        client
            .db_get(&family, "NAME")
            .await
            .expect("DBGet")
            .as_deref(),
        Some("Sales: east, 2"),
        "{who}: a value with ': ' and ',' survives"
    );
    // The wire form of a found key: a list with one DBGetResponse event.
    let r = client
        .send(oml_ami::actions::db_get(&family, "NAME"))
        .await
        .expect("DBGet");
    assert_eq!(r.events.len(), 1, "{who}");
    assert_eq!(r.events[0].event_name(), Some("DBGetResponse"), "{who}");
    assert_eq!(r.events[0].get("Family"), Some(family.as_str()), "{who}");
    assert_eq!(r.events[0].get("Key"), Some("NAME"), "{who}");
    assert_eq!(
        r.complete.as_ref().and_then(|c| c.event_name()),
        Some("DBGetComplete"),
        "{who}"
    );
    // A missing key is an Error with this message.
    let r = client
        .send(oml_ami::actions::db_get(&family, "MISSING"))
        .await
        .expect("DBGet");
    assert_eq!(r.message.response_status(), Some("Error"), "{who}");
    assert_eq!(r.text(), "Database entry not found", "{who}");
    assert_eq!(
        client.db_get(&family, "MISSING").await.expect("DBGet"),
        None,
        "{who}"
    );

    assert!(
        client.db_deltree(&family, None).await.expect("DBDelTree"),
        "{who}: the tree existed"
    );
    assert_eq!(
        client.db_get(&family, "NAME").await.expect("DBGet"),
        None,
        "{who}: deleted"
    );
    assert_eq!(
        client.db_get(&family, "sub/KEY").await.expect("DBGet"),
        None,
        "{who}: subtree deleted"
    );
    assert!(
        !client.db_deltree(&family, None).await.expect("DBDelTree"),
        "{who}: deleting a missing tree reports nothing deleted"
    );
    client.logoff().await.expect("logoff");
}

async fn command_output(peer: &Peer) {
    let client = peer.connect().await;
    let r = client
        .send(oml_ami::actions::command("core show version"))
        .await
        .expect("Command");
    let who = format!("[{}] Command", peer.name());
    assert_eq!(r.message.response_status(), Some("Success"), "{who}");
    assert_eq!(r.text(), "Command output follows", "{who}");
    let lines = r.message.output_lines();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("Asterisk ")),
        "{who}: `core show version` output {lines:?}"
    );
    client.logoff().await.expect("logoff");
}

async fn command_unknown(peer: &Peer) {
    let client = peer.connect().await;
    let r = client
        .send(oml_ami::actions::command("no such thing"))
        .await
        .expect("Command");
    let who = format!("[{}] Command", peer.name());
    assert_eq!(r.message.response_status(), Some("Error"), "{who}");
    let lines = r.message.output_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("No such command 'no such thing'")),
        "{who}: {lines:?}"
    );
    client.logoff().await.expect("logoff");
}

async fn manager_reload_keeps_session(peer: &Peer) {
    let client = peer.connect().await;
    let mut watch = Watch::new(&client);
    client
        .command("manager reload")
        .await
        .unwrap_or_else(|e| panic!("[{}] manager reload: {e}", peer.name()));
    client
        .ping()
        .await
        .unwrap_or_else(|e| panic!("[{}] Ping after manager reload: {e}", peer.name()));
    assert!(
        watch
            .next_link_event(Duration::from_millis(500))
            .await
            .is_none(),
        "[{}] manager reload must not drop a logged-in session",
        peer.name()
    );
    // New logins work after the reload too.
    login_with(peer, AuthKind::Md5).await;
    client.logoff().await.expect("logoff");
}

async fn list_commands(peer: &Peer) {
    let client = peer.connect().await;
    let r = client
        .send(Message::action("ListCommands"))
        .await
        .expect("ListCommands");
    assert!(
        r.is_success(),
        "[{}] ListCommands: {}",
        peer.name(),
        r.text()
    );
    let actions = oml_ami::check::parse_list_commands(&r.message);
    for a in [
        "originate",
        "hangup",
        "dbput",
        "dbget",
        "dbdeltree",
        "queuestatus",
        "queuesummary",
        "command",
        "ping",
    ] {
        assert!(
            actions.contains(a),
            "[{}] ListCommands lacks {a}: {actions:?}",
            peer.name()
        );
    }
    client.logoff().await.expect("logoff");
}

fn check_config(peer: &Peer, user: &str, secret: SecretString) -> CheckConfig {
    let mut c = CheckConfig::new(peer.addr.clone(), user, secret);
    c.pings = 3;
    c
}

async fn check_all_well(peer: &Peer) {
    let r = run_check(&check_config(
        peer,
        &peer.admin.user,
        peer.admin.secret.clone(),
    ))
    .await;
    assert!(r.is_ok(), "[{}] check of the admin user:\n{r}", peer.name());
    assert_eq!(r.exit_code(), EXIT_OK);
    assert!(
        r.version
            .as_deref()
            .is_some_and(|v| v.starts_with("Asterisk ")),
        "[{}] version {:?}",
        peer.name(),
        r.version
    );
    let rt = r.round_trip.expect("round trip measured");
    assert_eq!(rt.samples, 3);
    assert!(rt.min <= rt.median && rt.median <= rt.max);
}

async fn check_wrong_secret(peer: &Peer) {
    let r = run_check(&check_config(
        peer,
        &peer.admin.user,
        SecretString::from("wrong".to_owned()),
    ))
    .await;
    assert!(
        matches!(r.fatal, Some(Fatal::WrongCredentials(_))),
        "[{}] {:?}",
        peer.name(),
        r.fatal
    );
    assert_eq!(r.exit_code(), EXIT_LOGIN);
}

async fn check_limited_user(peer: &Peer) {
    let Some(limited) = &peer.limited else {
        eprintln!(
            "SKIPPED: check_limited_user on {}: this peer has no user with restricted permissions \
             (recorded in /work/peer-differences.md)",
            peer.name()
        );
        assert_eq!(
            peer.kind,
            PeerKind::Pbxsim,
            "the real bench always has the limited user"
        );
        return;
    };
    let r = run_check(&check_config(peer, &limited.user, limited.secret.clone())).await;
    assert!(r.fatal.is_none(), "[{}] {r}", peer.name());
    assert!(
        matches!(r.originate, Permission::Missing(_)),
        "[{}] {r}",
        peer.name()
    );
    assert!(
        matches!(r.events, Permission::Missing(_)),
        "[{}] {r}",
        peer.name()
    );
    assert_eq!(r.exit_code(), EXIT_PERMISSION);
    let text = r.to_string();
    assert!(text.contains("add `originate` to `write =`"), "{text}");
    assert!(text.contains("add call,agent to `read =`"), "{text}");
}
