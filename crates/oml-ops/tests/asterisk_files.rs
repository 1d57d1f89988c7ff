//! The rendered Asterisk files loaded by a real Asterisk: a private instance
//! started inside the test bench's Debian root (.ci/asterisk-bench.sh), with
//! a main configuration that only includes oml's generated files. Checked
//! over AMI, logging in with the inventory's ami_user/ami_password:
//! `dialplan show` and `queue show` list what the database holds, the agent
//! endpoints and the music-on-hold class exist, and regenerate-asterisk's
//! AstDB entries read back with DBGet. Skips loudly without the bench root.

use oml_ami::{AmiClient, ClientConfig};
use oml_ops::inventory::Inventory;
use oml_ops::regenerate::{self, SyncOutcome};
use oml_ops::render::{
    self, Agent, Campaign, DialerData, OmlSettings, RenderContext, Server, Trunk,
};
use oml_store::{CallPath, MachineHandling, Recording};
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bench_root() -> Result<PathBuf, String> {
    let cache =
        std::env::var("OML_BENCH_CACHE").unwrap_or_else(|_| "/var/cache/oml-asterisk-bench".into());
    let root = Path::new(&cache).join("root");
    if !root.join("usr/sbin/asterisk").exists() {
        return Err(format!(
            "no Asterisk bench root at {} (build it: bash .ci/asterisk-bench.sh up)",
            root.display()
        ));
    }
    if !root.join("dev/null").exists() {
        return Err(format!(
            "{} has no /dev mounted (start the bench: bash .ci/asterisk-bench.sh up)",
            root.display()
        ));
    }
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.ok().as_deref() != Some("0") {
        return Err("chroot needs root".into());
    }
    Ok(root)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
                caller_id: String::new(),
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
                name: "Spring sale".into(),
                mode: "predictive".into(),
                trunk_id: 1,
                delivery_context: String::new(),
                delivery_exten: "s".into(),
                queue_name: String::new(),
                ring_timeout_s: 25,
                abandon_seconds: 2,
                max_abandon_rate: 0.03,
                caller_id: String::new(),
                state: "running".into(),
                call_path: CallPath {
                    machine: MachineHandling::Message,
                    machine_sound: "custom/machine".into(),
                    recording: Recording::All,
                    welcome_sound: "custom/welcome".into(),
                    abandon_sound: "custom/abandon".into(),
                    ..CallPath::default()
                },
            },
            Campaign {
                id: 4,
                name: "Callbacks".into(),
                mode: "preview".into(),
                trunk_id: 2,
                delivery_context: "oml-agents".into(),
                delivery_exten: "100".into(),
                queue_name: String::new(),
                ring_timeout_s: 30,
                abandon_seconds: 2,
                max_abandon_rate: 0.03,
                caller_id: String::new(),
                state: "stopped".into(),
                call_path: Default::default(),
            },
        ],
        agents: vec![Agent {
            id: 7,
            extension: "1007".into(),
            username: "ana".into(),
            active: true,
        }],
    }
}

/// The private instance; stopped and removed when dropped.
struct Instance {
    child: Child,
    dir: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const MODULES: &str = "[modules]
autoload = no
load => pbx_config.so
load => app_dial.so
load => app_queue.so
load => app_exec.so
load => func_db.so
load => func_groupcount.so
load => func_logic.so
load => func_callerid.so
load => res_timing_timerfd.so
load => res_musiconhold.so
load => format_wav.so
load => res_pjproject.so
load => res_sorcery_config.so
load => res_sorcery_memory.so
load => res_sorcery_astdb.so
load => res_pjsip.so
load => res_pjsip_session.so
load => res_pjsip_endpoint_identifier_ip.so
load => chan_pjsip.so
";

#[tokio::test]
async fn rendered_asterisk_files_load_in_real_asterisk() {
    let root = match bench_root() {
        Ok(r) => r,
        Err(why) => {
            eprintln!("SKIPPED: rendered Asterisk files were not loaded in a real Asterisk: {why}");
            return;
        }
    };
    let inventory =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oml-1.2.0.inventory");
    let cfg = Inventory::load(inventory).unwrap().config().unwrap();
    let ami_user = cfg.ami_user.clone();
    let ami_password = cfg.ami_password.expose_secret().to_string();
    let name = format!("oml-ops-check-{}", std::process::id());
    let dir = root.join(&name);
    let _ = std::fs::remove_dir_all(&dir);
    let inst_dir = format!("/{name}");
    // Music on hold: one (silent) file, as a class needs files to exist.
    std::fs::create_dir_all(dir.join("moh")).unwrap();
    let mut wav = Vec::new();
    for part in [
        &b"RIFF"[..],
        &36u32.to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(),
        &1u16.to_le_bytes(),
        &8000u32.to_le_bytes(),
        &16000u32.to_le_bytes(),
        &2u16.to_le_bytes(),
        &16u16.to_le_bytes(),
        b"data",
        &0u32.to_le_bytes(),
    ] {
        wav.extend_from_slice(part);
    }
    std::fs::write(dir.join("moh/silence.wav"), wav).unwrap();
    let oml = OmlSettings {
        moh_dir: PathBuf::from(format!("{inst_dir}/moh")),
        ..OmlSettings::default()
    };
    let mut ctx = RenderContext {
        inventory: cfg,
        data: data(),
        oml,
    };
    // Render into <dir>/render, then move etc/asterisk/* to <dir>/etc.
    let plan = render::plan_asterisk(&ctx, &dir.join("render")).unwrap();
    plan.apply().unwrap();
    let etc = dir.join("etc");
    std::fs::rename(dir.join("render/etc/asterisk"), &etc).unwrap();
    for sub in ["lib", "spool", "run", "log"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let ami_port = free_port();
    let sip_port = free_port();
    let files = [
        (
            "asterisk.conf",
            format!(
                "[directories]\nastetcdir => {d}/etc\nastdbdir => {d}/lib\nastspooldir => {d}/spool\nastrundir => {d}/run\nastlogdir => {d}/log\n[options]\nverbose = 3\nhideconnect = yes\n",
                d = inst_dir
            ),
        ),
        ("modules.conf", MODULES.to_string()),
        ("logger.conf", "[logfiles]\nmessages.log => notice,warning,error\n".to_string()),
        ("extensions.conf", "[general]\nstatic = yes\nwriteprotect = yes\n#include oml_extensions.conf\n".into()),
        ("queues.conf", "[general]\npersistentmembers = no\n#include oml_queues.conf\n".into()),
        ("musiconhold.conf", "[general]\n#include oml_moh.conf\n".into()),
        (
            "pjsip.conf",
            format!("[transport-udp]\ntype = transport\nprotocol = udp\nbind = 127.0.0.1:{sip_port}\n\n#include oml_pjsip_agents.conf\n#include oml_pjsip_trunks.conf\n"),
        ),
        ("manager.conf", format!("[general]\nenabled = yes\nport = {ami_port}\nbindaddr = 127.0.0.1\n\n#include oml_manager.conf\n")),
    ];
    for (f, text) in files {
        std::fs::write(etc.join(f), text).unwrap();
    }
    let log = std::fs::File::create(dir.join("console.log")).unwrap();
    let child = Command::new("chroot")
        .arg(&root)
        .args(["/usr/sbin/asterisk", "-f", "-C"])
        .arg(format!("{inst_dir}/etc/asterisk.conf"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut inst = Instance {
        child,
        dir: dir.clone(),
    };

    // Log in with the inventory's AMI user: proves oml_manager.conf loaded.
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = loop {
        let c = ClientConfig::new(
            format!("127.0.0.1:{ami_port}"),
            ami_user.clone(),
            SecretString::from(ami_password.clone()),
        );
        match AmiClient::connect(c).await {
            Ok(c) => break c,
            Err(e) => {
                if let Ok(Some(status)) = inst.child.try_wait() {
                    let log = std::fs::read_to_string(dir.join("console.log")).unwrap_or_default();
                    panic!("asterisk exited ({status}) while loading oml's files:\n{log}");
                }
                assert!(
                    Instant::now() < deadline,
                    "AMI login as {ami_user} failed: {e}"
                );
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };
    let _ = client.command("core waitfullybooted").await;
    let cli = |cmd: &'static str| {
        let client = client.clone();
        async move { client.command(cmd).await.unwrap().join("\n") }
    };

    let dialplan = cli("dialplan show").await;
    for needle in [
        "'from-oml'",
        "'oml-outr'",
        "'oml-trunk-1'",
        "'oml-trunk-2'",
        "'oml-campaign-3'",
        "'oml-campaign-4'",
        "Queue(3_Springsale",
        "Goto(oml-agents,100,1)",
        "Dial(PJSIP/${EXTEN}@carrier",
        // Campaign 3's call path (issue 18): AMD, recording, messages.
        "AMD(2500,1500,800,5000,100,50,2,256,5000)",
        "MixMonitor(/var/lib/oml/recordings/${OMLRECFILE})",
        // The agent for the record, as the answered channel hangs up.
        "'oml-attempt-agent'",
        "Set(CHANNEL(hangup_handler_push)=oml-attempt-agent,s,1)",
        "Playback(custom/welcome)",
        "UserEvent(OmlAbandonMessage)",
        "Playback(custom/abandon)",
        "Playback(custom/machine)",
    ] {
        assert!(
            dialplan.contains(needle),
            "dialplan show lacks {needle}:\n{dialplan}"
        );
    }
    let queues = cli("queue show").await;
    assert!(
        queues.contains("3_Springsale") && queues.contains("4_Callbacks"),
        "queue show:\n{queues}"
    );
    let endpoints = cli("pjsip show endpoints").await;
    assert!(
        endpoints.contains("1007") && endpoints.contains("oml-kamailio"),
        "pjsip show endpoints:\n{endpoints}"
    );
    let moh = cli("moh show classes").await;
    assert!(moh.contains("oml_default"), "moh show classes:\n{moh}");

    // regenerate-asterisk against this Asterisk: every key reads back, and
    // the second run changes nothing.
    ctx.data.servers.push(Server {
        id: 1,
        name: "check".into(),
        host: "127.0.0.1".into(),
        ami_port,
        ami_user: ami_user.clone(),
        ami_secret: SecretString::from(ami_password.clone()),
        enabled: true,
    });
    let first = regenerate::sync_all(&ctx, true, false).await;
    assert!(first[0].result.is_ok(), "{:?}", first[0].result);
    for e in regenerate::desired(&ctx) {
        assert_eq!(
            client.db_get(&e.family, &e.key).await.unwrap().as_deref(),
            Some(e.value.as_str()),
            "{}",
            e.path()
        );
    }
    let second = regenerate::sync_all(&ctx, false, false).await;
    assert!(
        matches!(second[0].result, Ok(SyncOutcome::Unchanged { .. })),
        "{:?}",
        second[0].result
    );
    // The dialplan reads what regenerate wrote.
    let db = cli("database show OML/CAMP/3").await;
    assert!(
        db.contains("/OML/CAMP/3/QNAME") && db.contains("3_Springsale"),
        "{db}"
    );
    let amd = client.db_get("OML/CAMP/3", "AMD").await.unwrap();
    let rec = client.db_get("OML/CAMP/4", "REC").await.unwrap();
    assert_eq!((amd.as_deref(), rec.as_deref()), (Some("yes"), Some("no")));

    let _ = client.command("core stop now").await;
    let _ = client.logoff().await;
    let stop = Instant::now() + Duration::from_secs(10);
    while Instant::now() < stop {
        if let Ok(Some(_)) = inst.child.try_wait() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
