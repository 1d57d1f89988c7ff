//! One status for a refused form on every page of the console: the page
//! comes back with the reason and nothing is stored, answered
//! `oml_web::pages::REFUSED` (422), whether the page belongs to the console
//! itself or to the dialer. Error pages carry a real title.

use oml_config::Config;
use oml_store::{CampaignSpec, Role, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::pages::REFUSED;
use oml_web::testing::{add_user, Client, Resp};

const PW: &str = "a fine password 1";

fn refused(what: &str, r: &Resp) {
    assert_eq!(
        r.status,
        REFUSED,
        "{what}: {}",
        &r.body[..r.body.len().min(1500)]
    );
}

#[tokio::test]
async fn every_page_answers_a_refused_form_with_422() {
    assert_eq!(REFUSED.as_u16(), 422);
    let ts = oml_store::testing::sqlite().await;
    let store = &ts.store;
    add_user(store, "admin", PW, Role::Admin, false).await;
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
    let state =
        oml_dialer_web::register(oml_web::AppState::builder(store.clone(), Config::default()))
            .build()
            .unwrap();
    let app = oml_dialer_web::app(state);
    let mut c = Client::new(&app);
    c.login("admin", PW).await;

    // The console's own pages.
    c.get("/admin/users").await;
    let r = c
        .post(
            "/admin/users",
            &[("username", "<bad>"), ("role", "agent"), ("password", "x")],
        )
        .await;
    refused("add user", &r);
    c.get("/admin/users").await;
    let r = c
        .post(
            "/admin/users/role",
            &[("username", "admin"), ("role", "root")],
        )
        .await;
    refused("change role", &r);
    refused("audit filter", &c.get("/admin/audit?from=yesterday").await);
    c.get("/account/password").await;
    let r = c
        .post(
            "/account/password",
            &[
                ("current_password", PW),
                ("new_password", "short"),
                ("new_password_confirm", "short"),
            ],
        )
        .await;
    refused("change password", &r);

    // The dialer's pages.
    c.get("/dialer/setup").await;
    let r = c
        .post(
            "/dialer/setup/server",
            &[
                ("name", "pbx1"),
                ("host", "127.0.0.1"),
                ("ami_port", "99999"),
                ("ami_user", "oml"),
                ("ami_secret", "s3cret"),
            ],
        )
        .await;
    refused("add server", &r);
    assert!(store.servers().await.unwrap().is_empty());
    let url = "/dialer/campaigns/sales/contacts";
    c.get(url).await;
    refused(
        "upload without a file",
        &c.upload(url, &[("phone_column", None, b"")], true).await,
    );
    c.get(url).await;
    let bad = b"phone,name\n+5491155550001,Ana\n+5491155550002,Bo,extra\n";
    refused(
        "malformed contact file",
        &c.upload(url, &[("file", Some("bad.csv"), bad)], true).await,
    );

    // An error page says what it is in its title.
    let r = c.get("/no/such/page").await;
    assert_eq!(r.status, 404);
    assert!(
        r.body
            .contains("<title>404 Not Found · oml console</title>"),
        "{}",
        r.body
    );
}
