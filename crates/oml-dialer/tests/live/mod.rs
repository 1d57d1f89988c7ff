//! Live equals simulated (issue 14 item 6), shared by the CI test
//! (`tests/live_vs_sim.rs`) and the benchmark (`examples/bench_live_vs_sim.rs`):
//! one floor of `oml_pacing`'s scenarios (T2, N2) becomes a pbxsim
//! configuration (`floor.rs`), the live engine dials it on SQLite, and its
//! attempts become the same figures the simulator reports (`figures.rs`).

pub mod figures;
pub mod floor;

use std::time::{Duration, Instant};

use oml_dialer::{control, Engine, EngineConfig, PLAY_KEY};
use oml_pacing::{ModeSpec, SimConfig as Floor, SimResult};
use oml_pbxsim::PbxSim;
use oml_store::{
    CampaignMode, CampaignSpec, CampaignState, ServerSpec, Store, TrunkSpec, DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;

const SECRET: &str = "live-vs-sim";

/// One live run: the figures in the simulator's terms, how often the engine
/// said it was behind (dialing progressively), and what the engine itself
/// counted as abandoned (its clock, its rule).
#[derive(Debug, Clone)]
pub struct LiveRun {
    /// Occupancy and abandons as the PBX saw them (an answered call that
    /// never reached an agent is abandoned).
    pub result: SimResult,
    /// Share of the status samples in which the engine dialed
    /// progressively because it was behind.
    pub behind_share: f64,
    /// The engine's last reason for dialing progressively, if it gave one
    /// (its event wait and reaction averages, in PBX seconds).
    pub behind_note: Option<String>,
    /// Abandon rate by the engine's own rule (connected later than the
    /// abandon seconds after the answer, in its clock).
    pub engine_abandon_rate: f64,
}

/// The simulator's runs of `floor` in predictive mode (the live engine's
/// mode), one per seed.
pub fn simulated(floor: &Floor, seeds: std::ops::Range<u64>) -> Vec<SimResult> {
    let mode: ModeSpec = "predictive".parse().expect("predictive is a mode");
    seeds
        .map(|s| oml_pacing::simulate(floor, &mode, s).expect("valid floor"))
        .collect()
}

/// Runs the live engine against pbxsim playing `floor` at `time_scale`
/// with `seed`, warm-up included, and returns the measured period's figures.
pub async fn live(floor: &Floor, time_scale: f64, seed: u64) -> LiveRun {
    let t = oml_store::testing::sqlite().await;
    let cfg = floor::pbxsim(floor, SecretString::from(SECRET), time_scale, seed);
    let queue = cfg.queues[0].name.clone();
    let start_ms = oml_store::now_ms();
    let started = Instant::now();
    let sim = PbxSim::start(cfg).await.expect("pbxsim starts");
    let contacts = floor::contacts_needed(floor);
    let campaign = setup(&t.store, sim.local_addr().port(), &queue, contacts).await;
    let engine = Engine::spawn(
        t.store.clone(),
        EngineConfig {
            tick: Duration::from_millis(50),
            reload_every: Duration::from_millis(200),
            hopper_batch: 200,
            ami_rate_limit: None,
            ..EngineConfig::default()
        },
    );
    // Until the end of the measured period, and a few PBX seconds more so
    // that the calls answered at its end are settled.
    let end = floor.warmup_s + floor.duration_s;
    let stop_at = started + real(end + 5.0 * floor.abandon_after_s.max(1.0), time_scale);
    let (mut samples, mut behind, mut behind_note) = (0u32, 0u32, None);
    while Instant::now() < stop_at {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let in_window = started.elapsed().as_secs_f64() * time_scale >= floor.warmup_s;
        if let (true, Ok(st)) = (in_window, control::status(&t.store).await) {
            if let Some(c) = st.live_campaign(CAMPAIGN) {
                samples += 1;
                if let Some(n) = c
                    .pacing_note
                    .as_deref()
                    .filter(|n| n.contains("progressively"))
                {
                    behind += 1;
                    behind_note = Some(n.to_owned());
                }
            }
        }
    }
    engine.shutdown().await;
    sim.shutdown().await;
    let attempts = t.store.campaign_attempts(campaign).await.expect("attempts");
    let clock = figures::Clock {
        start_ms,
        time_scale,
    };
    let result = figures::measured(floor, &attempts, clock, seed);
    let engine_abandon_rate = figures::engine_abandon_rate(floor, &attempts, clock);
    LiveRun {
        result,
        behind_share: if samples == 0 {
            0.0
        } else {
            behind as f64 / samples as f64
        },
        behind_note,
        engine_abandon_rate,
    }
}

/// Real time for `pbx_s` PBX seconds at `scale`.
pub fn real(pbx_s: f64, scale: f64) -> Duration {
    Duration::from_secs_f64(pbx_s / scale)
}

const CAMPAIGN: &str = "live";

/// A server, a trunk with lines to spare, and a running predictive campaign
/// with the floor's limits (3 %, 2 s, every hour of every day).
async fn setup(store: &Store, port: u16, queue: &str, contacts: usize) -> i64 {
    store
        .create_server(&ServerSpec {
            name: "pbxsim".into(),
            host: "127.0.0.1".into(),
            ami_port: port,
            ami_user: "oml".into(),
            ami_secret: SecretString::from(SECRET),
            enabled: true,
        })
        .await
        .expect("server");
    store
        .create_trunk(&TrunkSpec {
            name: "lines".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 500,
            server: None,
            caller_id: String::new(),
        })
        .await
        .expect("trunk");
    let mut spec = CampaignSpec::new(CAMPAIGN, "lines");
    spec.mode = CampaignMode::Predictive;
    spec.delivery_context = "oml-campaign".into();
    spec.delivery_exten = "100".into();
    spec.queue_name = queue.into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 24 * 60;
    spec.days_mask = 127;
    // Longer than any ring of the floors: the PBX's ring time decides.
    spec.ring_timeout_s = floor::RING_TIMEOUT_S;
    let c = store.create_campaign(&spec).await.expect("campaign");
    let phones: Vec<String> = (0..contacts).map(|i| format!("5550{i:07}")).collect();
    store.seed_contacts(c.id, &phones).await.expect("contacts");
    store
        .set_campaign_state(CAMPAIGN, CampaignState::Running)
        .await
        .expect("running");
    store.set_setting(PLAY_KEY, "on").await.expect("play");
    c.id
}
