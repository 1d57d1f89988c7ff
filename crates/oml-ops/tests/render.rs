//! Rendering from a real inventory into a temporary root: the plan, atomic
//! writes of changed files only, administrator files left alone, and the
//! rendered Kamailio and nginx files checked by the real tools
//! (`kamailio -c -f`, `nginx -t -c`) when they are installed.

use oml_ops::inventory::Inventory;
use oml_ops::plan::Step;
use oml_ops::render::{self, Agent, Campaign, DialerData, OmlSettings, RenderContext, Trunk};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn data() -> DialerData {
    DialerData {
        servers: vec![],
        trunks: vec![
            Trunk {
                id: 1,
                name: "dialer default".into(),
                dial_string: "Local/${num}@from-oml/n".into(),
                max_channels: 30,
                server_id: None,
                caller_id: "".into(),
            },
            Trunk {
                id: 2,
                name: "carrier".into(),
                dial_string: "PJSIP/${num}@carrier".into(),
                max_channels: 10,
                server_id: None,
                caller_id: "5551000".into(),
            },
        ],
        campaigns: vec![
            Campaign {
                id: 3,
                name: "Spring sale; 2026".into(),
                mode: "predictive".into(),
                trunk_id: 1,
                delivery_context: "".into(),
                delivery_exten: "s".into(),
                queue_name: "".into(),
                ring_timeout_s: 25,
                abandon_seconds: 2,
                max_abandon_rate: 0.03,
                caller_id: "".into(),
                state: "running".into(),
                call_path: Default::default(),
            },
            Campaign {
                id: 4,
                name: "Callbacks".into(),
                mode: "preview".into(),
                trunk_id: 2,
                delivery_context: "my-agents".into(),
                delivery_exten: "100".into(),
                queue_name: "".into(),
                ring_timeout_s: 30,
                abandon_seconds: 2,
                max_abandon_rate: 0.03,
                caller_id: "5552000".into(),
                state: "stopped".into(),
                call_path: Default::default(),
            },
        ],
        agents: vec![
            Agent {
                id: 7,
                extension: "1007".into(),
                username: "ana".into(),
                active: true,
            },
            Agent {
                id: 8,
                extension: "1008".into(),
                username: "bob".into(),
                active: false,
            },
        ],
    }
}

fn ctx_with(inventory: &str, oml: OmlSettings) -> RenderContext {
    RenderContext {
        inventory: Inventory::load(fixture(inventory))
            .unwrap()
            .config()
            .unwrap(),
        data: data(),
        oml,
    }
}

fn ctx() -> RenderContext {
    ctx_with("oml-1.2.0.inventory", OmlSettings::default())
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn plan_creates_every_file_then_a_second_plan_is_empty() {
    let root = tempfile::tempdir().unwrap();
    let c = ctx();
    let plan = render::plan(&c, root.path()).unwrap();
    assert_eq!(
        plan.changes().count(),
        render::TARGETS.len() + 1,
        "{}",
        plan.summary()
    );
    assert!(plan
        .steps
        .iter()
        .all(|s| matches!(s, Step::Write { old: None, .. })));
    // Nothing is written by planning.
    assert!(!root.path().join("etc").exists());
    let report = plan.apply().unwrap();
    assert_eq!(report.written.len(), render::TARGETS.len() + 1);
    let again = render::plan(&c, root.path()).unwrap();
    assert!(again.is_noop(), "{}", again.summary());
    assert_eq!(again.diff(), "");
}

#[test]
fn a_changed_value_rewrites_only_the_files_that_carry_it() {
    let root = tempfile::tempdir().unwrap();
    let mut c = ctx();
    render::plan(&c, root.path()).unwrap().apply().unwrap();
    c.data.campaigns[1].name = "Callbacks 2".into();
    let plan = render::plan(&c, root.path()).unwrap();
    let changed: Vec<_> = plan
        .changes()
        .map(|s| {
            s.path()
                .strip_prefix(root.path())
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        changed,
        [
            "etc/asterisk/oml_queues.conf",
            "etc/asterisk/oml_extensions.conf"
        ]
    );
    let diff = plan.diff();
    assert!(
        diff.contains("-; campaign 4: Callbacks (preview)")
            && diff.contains("+; campaign 4: Callbacks 2 (preview)"),
        "{diff}"
    );
}

#[test]
fn administrator_files_are_never_touched() {
    let root = tempfile::tempdir().unwrap();
    let custom = root.path().join("etc/asterisk/oml_extensions_custom.conf");
    std::fs::create_dir_all(custom.parent().unwrap()).unwrap();
    std::fs::write(&custom, "[mine]\nexten => 1,1,Hangup()\n").unwrap();
    render::plan(&ctx(), root.path()).unwrap().apply().unwrap();
    assert_eq!(
        std::fs::read_to_string(&custom).unwrap(),
        "[mine]\nexten => 1,1,Hangup()\n"
    );
    assert!(read(root.path(), "etc/asterisk/oml_extensions.conf")
        .contains("#tryinclude oml_extensions_custom.conf"));
}

#[test]
fn asterisk_files_hold_what_the_database_holds() {
    let root = tempfile::tempdir().unwrap();
    render::plan_asterisk(&ctx(), root.path())
        .unwrap()
        .apply()
        .unwrap();
    let r = root.path();
    let manager = read(r, "etc/asterisk/oml_manager.conf");
    assert!(
        manager.contains("[omnileadsami]\nsecret = 5_MeO_DMT\n"),
        "{manager}"
    );
    assert!(manager.contains("permit = 192.168.95.100/255.255.255.255"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(r.join("etc/asterisk/oml_manager.conf"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o640, "the AMI secret is not world-readable");
    let queues = read(r, "etc/asterisk/oml_queues.conf");
    assert!(
        queues.contains("[3_Springsale_2026]") && queues.contains("[4_Callbacks]"),
        "{queues}"
    );
    let ext = read(r, "etc/asterisk/oml_extensions.conf");
    assert!(ext.contains("[from-oml]"));
    assert!(
        ext.contains("[oml-campaign-3]")
            && ext.contains(
                "Queue(3_Springsale_2026,,,,${DB(OML/CAMP/3/QUEUETIME)},,oml-attempt-connected)"
            ),
        "{ext}"
    );
    assert!(
        ext.contains("[oml-campaign-4]") && ext.contains("Goto(my-agents,100,1)"),
        "{ext}"
    );
    assert!(
        !ext.contains("Spring sale; 2026"),
        "a `;` would start an Asterisk comment: {ext}"
    );
    let outr = read(r, "etc/asterisk/oml_extensions_outr.conf");
    assert!(
        outr.contains("[oml-trunk-2]") && outr.contains("Dial(PJSIP/${EXTEN}@carrier,"),
        "{outr}"
    );
    assert!(
        outr.contains("[oml-trunk-1]\n") && outr.contains("Goto(oml-trunk-2,${EXTEN},1)"),
        "{outr}"
    );
    let agents = read(r, "etc/asterisk/oml_pjsip_agents.conf");
    assert!(agents.contains("[1007](oml-agent-template)"));
    assert!(
        !agents.contains("[1008]"),
        "inactive agents get no endpoint"
    );
    assert!(read(r, "etc/asterisk/oml_moh.conf").contains("[oml_default]"));
    assert!(
        !r.join("etc/kamailio").exists(),
        "plan_asterisk renders Asterisk only"
    );
}

#[test]
fn host_files_follow_the_inventory() {
    let root = tempfile::tempdir().unwrap();
    let oml = OmlSettings {
        postgres_from_inventory: true,
        data_dir: PathBuf::from("/var/lib/oml"),
        ..OmlSettings::default()
    };
    render::plan(&ctx_with("oml-1.2.0.inventory", oml), root.path())
        .unwrap()
        .apply()
        .unwrap();
    let r = root.path();
    let kam = read(r, "etc/kamailio/kamailio.cfg");
    assert!(
        kam.contains("listen=udp:192.168.95.100:5060\n")
            && kam.contains("alias=\"oml-aio.example.com\""),
        "{kam}"
    );
    assert!(read(r, "etc/rtpengine/rtpengine.conf").contains("interface = 192.168.95.100\n"));
    let nginx = read(r, "etc/nginx/conf.d/oml.conf");
    assert!(
        nginx.contains("server_name oml-aio.example.com 192.168.95.100;")
            && nginx.contains("server 127.0.0.1:8080;"),
        "{nginx}"
    );
    let env = read(r, "etc/oml/oml.env");
    assert!(
        env.contains("OML_DATABASE_URL=postgres://omnileads:admin123@127.0.0.1:5432/omnileads\n"),
        "{env}"
    );
    assert!(
        read(r, "etc/systemd/system/oml.service").contains("ExecStart=/usr/local/bin/oml serve\n")
    );
    let toml = read(r, "var/lib/oml/oml.toml");
    assert!(
        toml.contains("login_failure_limit = 3") || toml.contains("login_failure_limit ="),
        "{toml}"
    );
    assert!(toml.contains("session_idle_seconds = 3600"), "{toml}");
}

#[test]
fn own_config_keeps_the_administrators_settings() {
    let root = tempfile::tempdir().unwrap();
    let cfgdir = root.path().join("var/lib/oml");
    std::fs::create_dir_all(&cfgdir).unwrap();
    let admins = "# this host: agreed with security on 2026-01-05\n\
        [lockout]\n\
        cool_off_seconds = 42   # five minutes is too short here\n\
        login_failure_limit = 9 # the inventory decides\n\
        \n\
        # behind the balancer\n\
        [web]\n\
        trusted_proxies = [ \"10.0.0.1\" ]\n\
        session_idle_seconds = 3600\n";
    std::fs::write(cfgdir.join("oml.toml"), admins).unwrap();
    let c = ctx_with("oml-1.2.0.inventory", OmlSettings::default());
    render::plan(&c, root.path()).unwrap().apply().unwrap();
    let text = read(root.path(), "var/lib/oml/oml.toml");
    // LOGIN_FAILURE_LIMIT of the 1.2.0 inventory is 3; nginx's address is
    // added to the proxies; everything else is the administrator's bytes.
    let expected = admins
        .replace("login_failure_limit = 9 #", "login_failure_limit = 3 #")
        .replace("[ \"10.0.0.1\" ]", "[ \"10.0.0.1\", \"127.0.0.1\" ]");
    assert_eq!(text, expected);
    // A second render changes nothing.
    render::plan(&c, root.path()).unwrap().apply().unwrap();
    assert_eq!(read(root.path(), "var/lib/oml/oml.toml"), expected);
}

#[test]
fn own_config_starts_from_the_commented_defaults() {
    let root = tempfile::tempdir().unwrap();
    render::plan(&ctx(), root.path()).unwrap().apply().unwrap();
    let text = read(root.path(), "var/lib/oml/oml.toml");
    let expected = oml_config::DEFAULT_TEXT
        .replace("trusted_proxies = []", "trusted_proxies = [\"127.0.0.1\"]");
    assert_eq!(text, expected);
}

#[test]
fn dry_run_diff_masks_passwords() {
    let root = tempfile::tempdir().unwrap();
    let oml = OmlSettings {
        postgres_from_inventory: true,
        ..OmlSettings::default()
    };
    let diff = render::plan(&ctx_with("oml-1.2.0.inventory", oml), root.path())
        .unwrap()
        .diff();
    assert!(diff.contains("+secret = ********"), "{diff}");
    for secret in ["5_MeO_DMT", "admin123"] {
        assert!(!diff.contains(secret), "{secret} leaked in the diff");
    }
}

#[test]
fn a_2020_inventory_without_a_host_name_serves_its_address() {
    let root = tempfile::tempdir().unwrap();
    let mut inv = Inventory::load(fixture("oml-1.12.0.inventory")).unwrap();
    for (k, v) in [
        ("postgres_password", "pg"),
        ("ami_password", "ami"),
        ("admin_pass", "adm"),
    ] {
        inv.edit(&oml_ops::Edit::set(k, v)).unwrap();
    }
    let c = RenderContext {
        inventory: inv.config().unwrap(),
        data: data(),
        oml: OmlSettings::default(),
    };
    render::plan(&c, root.path()).unwrap().apply().unwrap();
    let nginx = read(root.path(), "etc/nginx/conf.d/oml.conf");
    assert!(nginx.contains("server_name 10.20.30.40;"), "{nginx}");
    assert!(read(root.path(), "etc/kamailio/kamailio.cfg").contains("alias=\"10.20.30.40\""));
}

#[test]
fn a_bad_inventory_renders_nothing() {
    let text = std::fs::read_to_string(fixture("oml-1.2.0.inventory"))
        .unwrap()
        .replace("ansible_host=192.168.95.100", "ansible_host=192.168.95");
    let err = Inventory::parse(&text)
        .unwrap()
        .config()
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 13"), "{err}");
}

fn tool(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

#[test]
fn kamailio_accepts_the_rendered_config() {
    let Some(kamailio) = tool("kamailio") else {
        eprintln!("SKIPPED: kamailio is not installed (Debian package `kamailio`): the rendered kamailio.cfg was not checked");
        return;
    };
    // Listen on loopback so the check runs on any machine; once plain, once
    // behind NAT (extern_ip: `advertise`).
    for extern_ip in [None, Some("203.0.113.7")] {
        let root = tempfile::tempdir().unwrap();
        let mut c = ctx();
        c.inventory.ip = "127.0.0.1".parse().unwrap();
        if let Some(ip) = extern_ip {
            c.inventory.extern_ip = oml_ops::inventory::ExternIp::Ip(ip.parse().unwrap());
        }
        render::plan(&c, root.path()).unwrap().apply().unwrap();
        let cfg = root.path().join("etc/kamailio/kamailio.cfg");
        if extern_ip.is_some() {
            assert!(read(root.path(), "etc/kamailio/kamailio.cfg")
                .contains("advertise 203.0.113.7:5060"));
        }
        let out = Command::new(&kamailio)
            .arg("-c")
            .arg("-f")
            .arg(&cfg)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "kamailio -c -f rejected the rendered config ({extern_ip:?}):\n{all}"
        );
    }
}

#[test]
fn nginx_accepts_the_rendered_config() {
    let Some(nginx) = tool("nginx") else {
        eprintln!("SKIPPED: nginx is not installed (Debian package `nginx`): the rendered nginx config was not checked");
        return;
    };
    let Some(openssl) = tool("openssl") else {
        eprintln!("SKIPPED: openssl is not installed: no test certificate for nginx -t");
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let tls = root.path().join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let st = Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=oml-test",
        ])
        .arg("-keyout")
        .arg(tls.join("oml.key"))
        .arg("-out")
        .arg(tls.join("oml.crt"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let oml = OmlSettings {
        tls_cert: tls.join("oml.crt"),
        tls_key: tls.join("oml.key"),
        ..OmlSettings::default()
    };
    render::plan(&ctx_with("oml-1.2.0.inventory", oml), root.path())
        .unwrap()
        .apply()
        .unwrap();
    let site = root.path().join("etc/nginx/conf.d/oml.conf");
    // A minimal main file that includes the rendered site, with its own
    // pid and logs so the check needs no system paths.
    let logs = root.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let site_text = std::fs::read_to_string(&site)
        .unwrap()
        .replace("/var/log/nginx/", &format!("{}/", logs.display()));
    std::fs::write(&site, site_text).unwrap();
    let main = root.path().join("nginx.conf");
    std::fs::write(
        &main,
        format!(
            "pid {dir}/nginx.pid;\nerror_log {dir}/error.log;\nevents {{}}\nhttp {{\n  access_log {dir}/access.log;\n  client_body_temp_path {dir};\n  proxy_temp_path {dir};\n  fastcgi_temp_path {dir};\n  uwsgi_temp_path {dir};\n  scgi_temp_path {dir};\n  include {site};\n}}\n",
            dir = logs.display(),
            site = site.display()
        ),
    )
    .unwrap();
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-c")
        .arg(&main)
        .arg("-p")
        .arg(root.path())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "nginx -t rejected the rendered config:\n{all}"
    );
    assert!(all.contains("test is successful"), "{all}");
}

/// The text of one context of a rendered dialplan.
fn context<'a>(ext: &'a str, name: &str) -> &'a str {
    let start = ext.find(&format!("[{name}]")).unwrap();
    let rest = &ext[start + 1..];
    &ext[start..start + 1 + rest.find("\n[").unwrap_or(rest.len())]
}

/// The family of a call's AstDB record as the rendered dialplan writes it:
/// under the placing database's instance (`OML/CALL/<instance>/<channel
/// id>`), or the older `OML/CALL/<channel id>` for a call without one.
const REC: &str =
    "OML/CALL${IF($[\"${OMLINSTANCE}\" = \"\"]?:/${OMLINSTANCE})}/${CHANNEL(linkedid)}";

#[test]
fn a_campaign_context_follows_its_call_path() {
    let root = tempfile::tempdir().unwrap();
    let mut ctx = ctx();
    ctx.data.campaigns[0].call_path = oml_store::CallPath {
        recording: oml_store::Recording::All,
        recording_format: oml_store::RecordingFormat::Gsm,
        abandon_sound: "custom/abandon".into(),
        ..oml_store::CallPath::default()
    };
    // The configured recordings folder, where backups and the console look.
    ctx.oml.recordings_dir = PathBuf::from("/srv/oml/recordings/");
    render::plan_asterisk(&ctx, root.path())
        .unwrap()
        .apply()
        .unwrap();
    let ext = read(root.path(), "etc/asterisk/oml_extensions.conf");
    let c3 = context(&ext, "oml-campaign-3");
    for want in [
        "Set(OMLRECFILE=dialer-3-${STRFTIME(${EPOCH},,%Y%m%d)}-${DB(@REC/NUMBER)}-${UNIQUEID}.gsm)",
        "MixMonitor(/srv/oml/recordings/${OMLRECFILE})",
        "Set(DB(@REC/RECFILE)=${OMLRECFILE})",
        "UserEvent(OmlRecording,File: ${OMLRECFILE})",
        "GotoIf($[${DB_EXISTS(@REC/CONNECTED)} = 0]?abandon,1)",
        "exten => abandon,1,Set(DB(@REC/ABANDONMSG)=${EPOCH})",
        " same => n,UserEvent(OmlAbandonMessage)\n same => n,Playback(custom/abandon)",
    ]
    .map(|w| w.replace("@REC", REC))
    {
        assert!(c3.contains(&want), "{want} in:\n{c3}");
    }
    assert!(
        !c3.contains("AMD(") && !c3.contains("machine"),
        "AMD is off:\n{c3}"
    );
    // Recording needs the number, written in from-oml for recording campaigns.
    assert!(context(&ext, "from-oml").contains(
        &"ExecIf($[\"${DB(OML/CAMP/${OMLCAMPID}/REC)}\" = \"yes\"]?Set(DB(@REC/NUMBER)=${EXTEN}))"
            .replace("@REC", REC)
    ));
    // A campaign with nothing set plays and records nothing.
    let c4 = context(&ext, "oml-campaign-4");
    for absent in ["AMD(", "MixMonitor", "Playback", "abandon"] {
        assert!(!c4.contains(absent), "{absent} in:\n{c4}");
    }
    // The agent who took the call, for a call that ends unseen (issue 15).
    assert!(c3.contains("Set(CHANNEL(hangup_handler_push)=oml-attempt-agent,s,1)"));
    assert!(context(&ext, "oml-attempt-agent").contains(&format!(
        " same => n(name),Set(DB({REC}/AGENT)=${{MEMBERNAME}})"
    )));
    // A folder MixMonitor cannot take is refused, naming the setting.
    for bad in ["recordings", "/srv/my recordings", "/srv/a,b"] {
        ctx.oml.recordings_dir = PathBuf::from(bad);
        let e = render::plan_asterisk(&ctx, root.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("paths.recordings_dir"), "{bad}: {e}");
    }
}
