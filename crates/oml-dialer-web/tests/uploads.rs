//! Contact uploads at and over the limit: an upload announcing more than
//! the limit in `Content-Length` is answered 413 before its body is read
//! (a real server over TCP, sent only the headers and a few bytes); one
//! sent without a length is cut off at the limit with 413; nothing is
//! imported either way.

use oml_config::Config;
use oml_store::web::WebSession;
use oml_store::{CampaignSpec, Role, Store, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::session::{random_token, token_hash};
use oml_web::testing::{add_user, Client};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PW: &str = "a fine password 1";

async fn setup(store: &Store) -> oml_web::AppState {
    // An administrator exists (else every page leads to the first-run setup).
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
    store
        .create_campaign(&CampaignSpec::new("sales", "carrier"))
        .await
        .unwrap();
    oml_dialer_web::register(oml_web::AppState::builder(store.clone(), Config::default()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_upload_announced_over_the_limit_is_refused_before_it_is_read() {
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    let state = setup(store).await;
    // A session made directly in the store: cookie token and CSRF token.
    let token = random_token();
    let csrf = random_token();
    let sup = store.user_by_name("sup").await.unwrap().unwrap();
    let now = oml_store::now_ms();
    store
        .create_web_session(&WebSession {
            token_hash: token_hash(&token),
            user_id: sup.id,
            csrf_token: csrf.clone(),
            created_at: now,
            last_seen_at: now,
            ip: None,
        })
        .await
        .unwrap();
    let listener = oml_web::server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(oml_web::server::serve(
        listener,
        oml_dialer_web::app(state),
        None,
        async {
            let _ = stop_rx.await;
        },
    ));

    // 100 MB announced; only the headers and the first bytes are sent.
    let head = format!(
        "POST /dialer/campaigns/sales/contacts?csrf_token={csrf} HTTP/1.1\r\nHost: {addr}\r\n\
         Cookie: oml_session={token}\r\nContent-Type: multipart/form-data; boundary=b\r\n\
         Content-Length: 100000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\nphone\r\n"
    );
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 64 << 10];
    let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut answer))
        .await
        .expect("answered without waiting for the 100 MB")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    let sales = store.campaign_by_name("sales").await.unwrap().unwrap();
    assert_eq!(store.contacts_left(sales.id).await.unwrap(), 0);
    stop_tx.send(()).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(15), server).await;
}

#[tokio::test]
async fn an_upload_without_a_length_is_cut_off_at_the_limit() {
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    let app = oml_dialer_web::app(setup(store).await);
    let mut sup = Client::new(&app);
    sup.login("sup", PW).await;
    let url = "/dialer/campaigns/sales/contacts";
    let page = sup.get(url).await;
    assert!(
        page.body.contains("up to 64 MB"),
        "the limit is shown: {} {}",
        page.status,
        &page.body[..page.body.len().min(600)]
    );
    // One byte over the file limit (the test client sends no length).
    let mut csv = b"phone\n".to_vec();
    csv.resize(oml_dialer_web::MAX_UPLOAD_BYTES + 1, b'1');
    let r = sup
        .upload(url, &[("file", Some("big.csv"), &csv)], true)
        .await;
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(2000)]);
    assert!(r.body.contains("larger than 64 MiB"), "{}", r.body);
    let sales = store.campaign_by_name("sales").await.unwrap().unwrap();
    assert_eq!(store.contacts_left(sales.id).await.unwrap(), 0);
}
