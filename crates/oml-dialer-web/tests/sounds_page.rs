//! The console's sounds page (issue 18 item 1), on SQLite and PostgreSQL:
//! a supervisor uploads a WAV (converted to 8 kHz mono 16-bit) and a GSM
//! file; not audio, a 16 kHz WAV, 61 s and over 5 MB are refused with a
//! message saying which and store nothing; agents are refused (403); a
//! sound a campaign plays cannot be removed; every change is audited.

use oml_config::Config;
use oml_store::{AuditFilter, CallPath, CampaignSpec, Role, Store, TrunkSpec, DEFAULT_DIAL_STRING};
use oml_web::testing::{add_user, Client};
use oml_web::AppState;

const PW: &str = "a fine password 1";

/// A PCM WAV of `seconds` of silence with a click.
fn wav(rate: u32, channels: u16, seconds: f64) -> Vec<u8> {
    let frames = (f64::from(rate) * seconds) as u32;
    let data_len = frames * u32::from(channels) * 2;
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data_len).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    v.extend_from_slice(&(channels * 2).to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    let mut samples = vec![0u8; data_len as usize];
    samples[0] = 0x40;
    v.extend_from_slice(&samples);
    v
}

/// The page's text with the escaped slashes back.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

async fn setup(store: &Store, sounds: &std::path::Path) -> axum::Router {
    add_user(store, "admin", PW, Role::Admin, false).await;
    add_user(store, "sup", PW, Role::Supervisor, false).await;
    add_user(store, "ag", PW, Role::Agent, false).await;
    let mut config = Config::default();
    config.paths.sounds_dir = sounds.to_path_buf();
    let state = oml_dialer_web::register(AppState::builder(store.clone(), config))
        .build()
        .unwrap();
    oml_dialer_web::app(state)
}

#[tokio::test]
async fn supervisors_upload_sounds_checked_and_whole() {
    for ts in oml_store::testing::backends().await {
        let store = &ts.store;
        let label = ts.label;
        let dir = tempfile::tempdir().unwrap();
        let sounds = dir.path().join("sounds");
        let app = setup(store, &sounds).await;

        let mut ag = Client::new(&app);
        ag.login("ag", PW).await;
        assert_eq!(ag.get("/dialer/sounds").await.status, 403, "{label}");
        let stereo = wav(8000, 2, 1.5);
        let r = ag
            .upload(
                "/dialer/sounds",
                &[
                    ("name", None, b"welcome"),
                    ("file", Some("hi.wav"), &stereo),
                ],
                true,
            )
            .await;
        assert_eq!(r.status, 403, "{label}");
        assert!(files(&sounds).is_empty());

        let mut sup = Client::new(&app);
        sup.login("sup", PW).await;
        let r = sup.get("/dialer/sounds").await;
        assert_eq!(r.status, 200, "{label}");
        assert!(r.body.contains("id=\"no-sounds\""));
        let r = sup
            .upload(
                "/dialer/sounds",
                &[
                    ("name", None, b"welcome"),
                    ("file", Some("hi.wav"), &stereo),
                ],
                true,
            )
            .await;
        r.assert_redirect("/dialer/sounds");
        // Stereo became mono: 1.5 s at 8 kHz, 16-bit, one channel.
        let stored = std::fs::read(sounds.join("welcome.wav")).unwrap();
        assert_eq!(stored.len(), 44 + 12_000 * 2, "{label}");
        assert_eq!(u16::from_le_bytes([stored[22], stored[23]]), 1, "mono");
        let mut gsm = vec![0u8; 33 * 100];
        for f in gsm.chunks_mut(33) {
            f[0] = 0xD3;
        }
        let r = sup
            .upload(
                "/dialer/sounds",
                &[("name", None, b"sorry"), ("file", Some("sorry.gsm"), &gsm)],
                true,
            )
            .await;
        r.assert_redirect("/dialer/sounds");
        let page = unescape(&sup.get("/dialer/sounds").await.body);
        assert!(page.contains("Sound sorry stored (gsm, 2.0 s)"), "{page}");
        assert!(page.contains("<code>oml/welcome</code>"), "{page}");

        // Refusals: the reason on the page, nothing stored.
        let big = vec![7u8; 5 * 1024 * 1024 + 10];
        for (name, file, data, status, says) in [
            (
                "notes",
                "notes.txt",
                b"just some text".to_vec(),
                422,
                "not a WAV file",
            ),
            (
                "wide",
                "wide.wav",
                wav(16000, 1, 1.0),
                422,
                "sampled at 16000 Hz",
            ),
            (
                "long",
                "long.wav",
                wav(8000, 1, 61.0),
                422,
                "61.0 s, over the 60 s",
            ),
            ("huge", "huge.wav", big, 413, "over 5 MB"),
            (
                "Bad Name",
                "ok.wav",
                wav(8000, 1, 1.0),
                422,
                "sound name `Bad Name`",
            ),
            (
                "welcome",
                "again.wav",
                wav(8000, 1, 1.0),
                422,
                "exists already",
            ),
        ] {
            let r = sup
                .upload(
                    "/dialer/sounds",
                    &[("name", None, name.as_bytes()), ("file", Some(file), &data)],
                    true,
                )
                .await;
            assert_eq!(r.status.as_u16(), status, "{label} {file}: {}", r.body);
            assert!(r.body.contains(says), "{label} {file}: {}", r.body);
            assert_eq!(
                files(&sounds),
                ["sorry.gsm", "welcome.wav"],
                "{label} {file}"
            );
        }

        // A sound a campaign plays stays; an unused one goes.
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
            .create_campaign_with(
                &CampaignSpec::new("sales", "carrier"),
                Some(&CallPath {
                    welcome_sound: "oml/welcome".into(),
                    abandon_sound: "vm-goodbye".into(),
                    ..CallPath::default()
                }),
            )
            .await
            .unwrap();
        sup.get("/dialer/sounds").await;
        let r = sup
            .post("/dialer/sounds/remove", &[("name", "welcome")])
            .await;
        r.assert_redirect("/dialer/sounds");
        let page = unescape(&sup.get("/dialer/sounds").await.body);
        assert!(
            page.contains("campaign(s) sales play oml/welcome"),
            "{page}"
        );
        let r = sup
            .post("/dialer/sounds/remove", &[("name", "sorry")])
            .await;
        r.assert_redirect("/dialer/sounds");
        assert_eq!(files(&sounds), ["welcome.wav"], "{label}");

        let audit = store
            .audit_entries(&AuditFilter {
                limit: 50,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        let actions: Vec<(&str, &str, &str)> = audit
            .iter()
            .filter(|e| e.action.starts_with("sound_"))
            .map(|e| (e.actor.as_str(), e.action.as_str(), e.subject.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                ("sup", "sound_remove", "sorry"),
                ("sup", "sound_add", "sorry"),
                ("sup", "sound_add", "welcome")
            ],
            "{label}"
        );
    }
}
