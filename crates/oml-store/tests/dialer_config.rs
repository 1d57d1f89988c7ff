//! Dialer configuration (servers, trunks, campaigns, rules) on every backend.

use oml_store::testing::backends;
use oml_store::{
    CampaignMode, CampaignSpec, CampaignState, RescheduleRule, ServerSpec, StoreError, TrunkSpec,
    DEFAULT_DIAL_STRING,
};
use secrecy::{ExposeSecret, SecretString};

fn server(name: &str) -> ServerSpec {
    ServerSpec {
        name: name.into(),
        host: "127.0.0.1".into(),
        ami_port: 5038,
        ami_user: "omnileadsami".into(),
        ami_secret: SecretString::from("ami-secret".to_string()),
        enabled: true,
    }
}

fn trunk(name: &str, server: Option<&str>) -> TrunkSpec {
    TrunkSpec {
        name: name.into(),
        dial_string: DEFAULT_DIAL_STRING.into(),
        max_channels: 30,
        server: server.map(Into::into),
        caller_id: String::new(),
    }
}

#[tokio::test]
async fn servers_trunks_and_campaigns_round_trip() {
    for t in backends().await {
        let s = &t.store;
        let srv = s.create_server(&server("pbx1")).await.unwrap();
        assert_eq!(srv.ami_secret.expose_secret(), "ami-secret");
        assert!(!format!("{srv:?}").contains("ami-secret"));
        assert!(matches!(
            s.create_server(&server("pbx1")).await,
            Err(StoreError::AlreadyExists { .. })
        ));
        let tr = s
            .create_trunk(&trunk("carrier", Some("pbx1")))
            .await
            .unwrap();
        assert_eq!(tr.server_id, Some(srv.id));

        let mut spec = CampaignSpec::new("sales", "carrier");
        spec.rules = vec![RescheduleRule::parse("busy:4:120:multiplied").unwrap()];
        let c = s.create_campaign(&spec).await.unwrap();
        assert_eq!(c.mode, CampaignMode::Predictive, "{}", t.label);
        assert_eq!(c.state, CampaignState::Stopped);
        assert_eq!(c.trunk_id, tr.id);
        assert_eq!(s.reschedule_rules(c.id).await.unwrap(), spec.rules);

        spec.mode = CampaignMode::Progressive;
        spec.rules = vec![];
        let c2 = s.update_campaign("sales", &spec).await.unwrap();
        assert_eq!(c2.mode, CampaignMode::Progressive);
        assert!(s.reschedule_rules(c.id).await.unwrap().is_empty());
        s.set_campaign_state("sales", CampaignState::Running)
            .await
            .unwrap();
        assert_eq!(
            s.campaign_by_id(c.id).await.unwrap().unwrap().state,
            CampaignState::Running
        );

        // In use: refused, nothing removed.
        assert!(s.delete_trunk("carrier").await.is_err());
        assert!(s.delete_server("pbx1").await.is_err());
        s.delete_campaign("sales").await.unwrap();
        s.delete_trunk("carrier").await.unwrap();
        s.delete_server("pbx1").await.unwrap();
        assert!(s.servers().await.unwrap().is_empty(), "{}", t.label);
    }
}

#[tokio::test]
async fn bad_configuration_is_refused_and_stores_nothing() {
    for t in backends().await {
        let s = &t.store;
        // Unknown trunk.
        let e = s
            .create_campaign(&CampaignSpec::new("c", "nope"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("trunk `nope` not found"), "{e}");
        // Dial string without ${num}.
        let mut bad = trunk("t", None);
        bad.dial_string = "PJSIP/out".into();
        assert!(s.create_trunk(&bad).await.is_err());
        // Unknown server.
        assert!(s.create_trunk(&trunk("t", Some("ghost"))).await.is_err());
        // Window that ends before it starts.
        s.create_trunk(&trunk("t", None)).await.unwrap();
        let mut c = CampaignSpec::new("c", "t");
        c.window_start_minute = 600;
        c.window_end_minute = 500;
        assert!(s.create_campaign(&c).await.is_err());
        assert!(s.campaigns().await.unwrap().is_empty(), "{}", t.label);
        assert_eq!(s.trunks().await.unwrap().len(), 1);
    }
}

/// A value that would end an AMI header early (issue 16: a caller ID with
/// CR/LF stopped the dialer of every campaign on the server) is refused when
/// stored, by every path, naming the field; nothing is changed.
#[tokio::test]
async fn values_sent_to_asterisk_cannot_carry_line_breaks() {
    for t in backends().await {
        let s = &t.store;
        s.create_server(&server("pbx1")).await.unwrap();
        s.create_trunk(&trunk("t", Some("pbx1"))).await.unwrap();
        s.create_campaign(&CampaignSpec::new("c", "t"))
            .await
            .unwrap();
        let injected = "\"Sales\" <5550000>\r\nAction: Hangup";

        let mut bad = trunk("t", Some("pbx1"));
        bad.caller_id = injected.into();
        let e = s.update_trunk("t", &bad).await.unwrap_err().to_string();
        assert!(e.contains("caller ID"), "{}: {e}", t.label);
        bad.name = "t2".into();
        assert!(s.create_trunk(&bad).await.is_err());
        assert_eq!(s.trunk_by_name("t").await.unwrap().unwrap().caller_id, "");

        type Spoil = fn(&mut CampaignSpec);
        let fields: [(&str, Spoil); 4] = [
            ("caller ID", |c| c.caller_id = "x\ny".into()),
            ("delivery context", |c| {
                c.delivery_context = "oml\r\nAction: Logoff".into()
            }),
            ("delivery extension", |c| c.delivery_exten = "1\n".into()),
            ("queue", |c| c.queue_name = "sales\r\n".into()),
        ];
        for (field, spoil) in fields {
            let mut c = CampaignSpec::new("c", "t");
            spoil(&mut c);
            let e = s.update_campaign("c", &c).await.unwrap_err().to_string();
            assert!(e.contains(field), "{}: {field}: {e}", t.label);
            c.name = "c2".into();
            assert!(s.create_campaign(&c).await.is_err(), "{field}");
        }
        let stored = s.campaign_by_name("c").await.unwrap().unwrap();
        assert_eq!(stored.delivery_context, "", "the campaign's own context");
        assert_eq!(stored.caller_id, "");
        assert_eq!(s.campaigns().await.unwrap().len(), 1, "{}", t.label);

        let mut srv = server("pbx1");
        srv.ami_user = "oml\r\nSecret: x".into();
        let e = s.update_server("pbx1", &srv).await.unwrap_err().to_string();
        assert!(e.contains("AMI user"), "{e}");
        let mut srv = server("pbx1");
        srv.ami_secret = SecretString::from("pw\r\nAction: Logoff".to_string());
        let e = s.update_server("pbx1", &srv).await.unwrap_err().to_string();
        assert!(e.contains("AMI secret") && !e.contains("pw"), "{e}");
        assert_eq!(
            s.server_by_name("pbx1").await.unwrap().unwrap().ami_user,
            "omnileadsami"
        );
    }
}

/// Issue 14 item 5: settings beyond the campaign's rule set are refused
/// where stored, naming the field and the rule, and change nothing; marked
/// non-compliant they are stored with the mark, which reads back.
#[tokio::test]
async fn rule_breaking_settings_need_the_stored_non_compliant_mark() {
    for t in backends().await {
        let s = &t.store;
        s.create_trunk(&trunk("t", None)).await.unwrap();
        let mut c = CampaignSpec::new("c", "t");
        c.ring_timeout_s = 10;
        let e = s.create_campaign(&c).await.unwrap_err().to_string();
        assert!(
            e.contains("ring timeout") && e.contains("FCC"),
            "{}: {e}",
            t.label
        );
        assert!(s.campaigns().await.unwrap().is_empty(), "{}", t.label);

        s.create_campaign(&CampaignSpec::new("c", "t"))
            .await
            .unwrap();
        let mut uk = CampaignSpec::new("c", "t");
        uk.abandon_window = oml_store::AbandonWindow::Uk;
        uk.max_abandon_rate = 0.05;
        uk.priority = 99;
        let e = s.update_campaign("c", &uk).await.unwrap_err().to_string();
        assert!(e.contains("max abandon rate") && e.contains("Ofcom"), "{e}");
        let stored = s.campaign_by_name("c").await.unwrap().unwrap();
        assert_eq!((stored.priority, stored.non_compliant), (10, false));

        uk.non_compliant = true;
        let saved = s.update_campaign("c", &uk).await.unwrap();
        assert!(saved.non_compliant, "{}", t.label);
        let again = s.campaign_by_name("c").await.unwrap().unwrap();
        assert!(again.non_compliant);
        assert_eq!(again.breaches().len(), 1);
        assert!(s.campaign_spec(&again).await.unwrap().non_compliant);
    }
}
