//! The client against a tiny scripted AMI server (no simulator): an old
//! Asterisk that answers `Command` with `Response: Follows` and bare `\n`
//! line endings, and a server that is not AMI at all.

use std::time::Duration;

use oml_ami::{AmiClient, AmiError, AuthKind, ClientConfig, SecretString};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Reads one action (until the empty line) and returns its ActionID.
async fn read_action<R: AsyncBufReadExt + Unpin>(r: &mut R) -> Option<(String, String)> {
    let mut action = String::new();
    let mut id = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Some((action, id));
        }
        if let Some(v) = line.strip_prefix("Action: ") {
            action = v.to_owned();
        }
        if let Some(v) = line.strip_prefix("ActionID: ") {
            id = v.to_owned();
        }
    }
}

fn config(addr: String) -> ClientConfig {
    let mut c = ClientConfig::new(addr, "admin", SecretString::from("pw"));
    c.auth = AuthKind::Plain;
    c.rate_limit = None;
    c.connect_timeout = Duration::from_secs(2);
    c
}

#[tokio::test]
async fn old_asterisk_follows_output_with_bare_lf() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        let (r, mut w) = s.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"Asterisk Call Manager/1.1\n").await.unwrap();
        while let Some((action, id)) = read_action(&mut r).await {
            let out = match action.as_str() {
                "Login" => format!("Response: Success\nActionID: {id}\nMessage: Authentication accepted\n\n"),
                "Command" => format!(
                    "Response: Follows\nPrivilege: Command\nActionID: {id}\nAsterisk 1.8.32 built by x\n\nUptime: 3 days\n--END COMMAND--\n\n"
                ),
                "Logoff" => format!("Response: Goodbye\nActionID: {id}\nMessage: Thanks for all the fish.\n\n"),
                _ => format!("Response: Error\nActionID: {id}\nMessage: Invalid/unknown command\n\n"),
            };
            w.write_all(out.as_bytes()).await.unwrap();
        }
    });
    let c = AmiClient::connect(config(addr)).await.unwrap();
    let out = c.command("core show version").await.unwrap();
    assert_eq!(out, ["Asterisk 1.8.32 built by x", "", "Uptime: 3 days"]);
    c.logoff().await.unwrap();
}

#[tokio::test]
async fn not_an_ami_server_is_reported() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    let err = AmiClient::connect(config(addr)).await.unwrap_err();
    // The first line has no ':' so it is taken as a greeting; the login then
    // gets no AMI response and the error names what came instead.
    assert!(matches!(err, AmiError::NotAmi { .. }), "{err}");
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let err = AmiClient::connect(config(addr)).await.unwrap_err();
    assert!(matches!(err, AmiError::Connect { .. }), "{err}");
    assert!(err.to_string().contains("5038"), "{err}");
}

/// One action with a line break in a value (a caller ID stored with CR/LF)
/// fails alone, at once, with the header named; the connection, and so
/// every other caller on it, carries on (issue 16: the writer task ended and
/// the link dropped every few seconds for all campaigns).
#[tokio::test]
async fn a_refused_action_fails_alone_and_the_link_stays_up() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (s, _) = l.accept().await.unwrap();
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"Asterisk Call Manager/5.0.1\r\n")
                    .await
                    .unwrap();
                while let Some((action, id)) = read_action(&mut r).await {
                    let out = match action.as_str() {
                        "Logoff" => format!("Response: Goodbye\r\nActionID: {id}\r\n\r\n"),
                        _ => format!("Response: Success\r\nActionID: {id}\r\nPing: Pong\r\n\r\n"),
                    };
                    if w.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let c = AmiClient::connect(config(addr)).await.unwrap();
    let mut events = c.events();
    let bad = oml_ami::Originate {
        caller_id: Some("\"Sales\" <5550000>\r\nAction: Hangup".into()),
        ..oml_ami::Originate::to_extension("Local/1@x", "oml-campaign", "1")
    };
    let err = c
        .send_timeout(bad.to_message(), Duration::from_secs(3))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AmiError::Frame(oml_ami::FrameError::InvalidHeaderValue(h)) if h == "CallerID"),
        "{err}"
    );
    // Other actions on the same link keep working, many of them.
    for _ in 0..20 {
        c.send_timeout(oml_ami::Message::action("Ping"), Duration::from_secs(3))
            .await
            .unwrap();
    }
    assert!(
        matches!(
            events.try_recv(),
            Err(tokio::sync::broadcast::error::TryRecvError::Empty)
        ),
        "the link must not have dropped"
    );
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    c.logoff().await.unwrap();
}
