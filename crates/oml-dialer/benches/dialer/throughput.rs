//! The engine's side of the throughput comparison: a progressive campaign
//! of busy numbers on one PBX and one store, as many agents as the trunk
//! has channels, AMI rate limit off; completed calls per second from the
//! first `Originate` to the end of the last call, and the CPU time the
//! whole process spent per 1,000 calls.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use oml_dialer::{Engine, EngineConfig, PLAY_KEY};
use oml_store::{
    CampaignMode, CampaignSpec, CampaignState, ServerSpec, Store, TrunkSpec, DEFAULT_DIAL_STRING,
};

use super::pbx::Pbx;

/// User + system CPU seconds of this process so far (Linux /proc).
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat; here 12 and 13.
    (ticks(11) + ticks(12)) / 100.0
}

/// A server, a trunk of `max_channels` and a running progressive campaign
/// "bench" delivering to `queue`, with `phones` pending; returns its id.
pub async fn setup(
    store: &Store,
    server: ServerSpec,
    queue: &str,
    phones: &[String],
    max_channels: i64,
) -> i64 {
    store.create_server(&server).await.unwrap();
    store
        .create_trunk(&TrunkSpec {
            name: "t".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    let mut spec = CampaignSpec::new("bench", "t");
    spec.mode = CampaignMode::Progressive;
    spec.delivery_context = "oml-campaign".into();
    spec.delivery_exten = "100".into();
    spec.queue_name = queue.into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 1440;
    spec.days_mask = 127;
    spec.rules = Vec::new(); // one attempt per contact
    let c = store.create_campaign(&spec).await.unwrap();
    for chunk in phones.chunks(5000) {
        store.seed_contacts(c.id, chunk).await.unwrap();
    }
    store
        .set_campaign_state("bench", CampaignState::Running)
        .await
        .unwrap();
    store.set_setting(PLAY_KEY, "on").await.unwrap();
    c.id
}

pub fn engine_config() -> EngineConfig {
    EngineConfig {
        node: "bench".into(),
        tick: Duration::from_millis(100),
        reload_every: Duration::from_secs(1),
        queue_poll_every: Duration::from_secs(30),
        hopper_batch: 2000,
        ami_rate_limit: None,
        publish_status: true,
        lead_every: Duration::from_secs(1),
        ..EngineConfig::default()
    }
}

/// What the engine completed.
pub struct EngineRun {
    pub calls: u64,
    pub seconds: f64,
    pub cpu_per_1000: f64,
}

impl EngineRun {
    pub fn per_second(&self) -> f64 {
        self.calls as f64 / self.seconds
    }
}

/// Dials `contacts` busy numbers through the engine.
pub async fn run(store: &Store, pbx: &Pbx, run_no: u32, contacts: usize) -> EngineRun {
    let phones: Vec<String> = (0..contacts).map(|i| pbx.number(run_no, i)).collect();
    let server = ServerSpec {
        name: pbx.name.into(),
        host: pbx.host.clone(),
        ami_port: pbx.port,
        ami_user: pbx.user.clone(),
        ami_secret: pbx.secret.clone(),
        enabled: true,
    };
    let cid = setup(store, server, &pbx.queue, &phones, pbx.channels as i64).await;
    let cpu0 = cpu_seconds();
    let engine = Engine::spawn(store.clone(), engine_config());
    let metrics = engine.metrics();
    let give_up = Instant::now() + Duration::from_secs(300);
    let mut first = None;
    while metrics.ended.load(Ordering::Relaxed) < contacts as u64 && Instant::now() < give_up {
        if first.is_none() && metrics.originates.load(Ordering::Relaxed) > 0 {
            first = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let seconds = first.map_or(f64::NAN, |f| f.elapsed().as_secs_f64());
    let calls = metrics.ended.load(Ordering::Relaxed);
    let cpu = cpu_seconds() - cpu0;
    engine.shutdown().await;
    let left = store.contacts_left(cid).await.unwrap();
    assert_eq!(left, 0, "every contact dialed once ({})", pbx.name);
    let attempts = store.campaign_attempts(cid).await.unwrap();
    assert_eq!(attempts.len(), contacts, "one attempt per contact");
    EngineRun {
        calls,
        seconds,
        cpu_per_1000: cpu / (calls.max(1) as f64 / 1000.0),
    }
}
