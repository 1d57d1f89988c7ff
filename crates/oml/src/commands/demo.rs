//! `oml demo`: the whole system in one command, without a telephone line.
//!
//! Starts the built-in PBX simulator (agents in a queue, simulated customers,
//! time running faster than real time), configures a server, a trunk and a
//! predictive campaign with generated contacts, runs the dialer engine and
//! the web console on the embedded database, prints live figures, and at the
//! end a summary. Everything it creates is named `demo-*` and replaced on the
//! next run; the rest of the data folder is left alone. What it configures
//! and how it sums up is `oml_dialer::demo`; this file parses, starts, prints.

use crate::cli::{self, GlobalArgs};
use crate::output::outln;
use anyhow::{bail, Context, Result};
use oml_dialer::demo::{configure, progress_line, summary, Occupancy, CAMPAIGN, QUEUE};
use oml_pbxsim::{Dist, PbxSim, SimConfig};
use oml_store::{CampaignMode, NewUser, OpenMode, Role, Store};
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Agents logged in to the simulated queue.
    #[arg(long, default_value_t = 20)]
    agents: usize,
    /// Contacts in the demo campaign.
    #[arg(long, default_value_t = 3000)]
    contacts: usize,
    /// Dialing mode: preview, progressive or predictive.
    #[arg(long, default_value = "predictive")]
    mode: String,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 20.0)]
    time_scale: f64,
    /// How long to run, in real seconds (0 = until Ctrl-C).
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Where the console listens (0 as port picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Don't start the web console.
    #[arg(long)]
    no_console: bool,
    /// Seed of the simulated customers and agents.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    let mode: CampaignMode = a.mode.parse()?;
    let _running = crate::running::hold_shared(&g.data_dir, "oml demo")?;
    if a.agents == 0 || a.agents > 1000 {
        bail!("--agents must be 1-1000");
    }
    if a.contacts == 0 || a.contacts > 1_000_000 {
        bail!("--contacts must be 1-1000000");
    }
    if !(a.time_scale >= 1.0 && a.time_scale <= 200.0) {
        bail!("--time-scale must be between 1 and 200");
    }
    let store = open_or_init(g).await?;

    // The PBX simulator: customers answer 40 % of the time after 5-15 s,
    // agents talk 60-180 s (simulated).
    let ami_secret = cli::generate_password();
    let mut sim = SimConfig::new("demo", ami_secret.clone(), a.agents);
    sim.queues[0].name = QUEUE.into();
    sim.time_scale = a.time_scale;
    sim.seed = a.seed;
    sim.customers.answer_rate = 0.4;
    sim.customers.busy_rate = 0.1;
    sim.customers.congestion_rate = 0.02;
    sim.customers.time_to_answer = Dist::Uniform {
        min: 5.0,
        max: 15.0,
    };
    sim.customers.no_answer_after = Dist::Uniform {
        min: 15.0,
        max: 25.0,
    };
    sim.talk_time = Dist::Uniform {
        min: 60.0,
        max: 180.0,
    };
    sim.wrapup_time = Dist::Fixed(3.0);
    let pbx = PbxSim::start(sim)
        .await
        .context("cannot start the PBX simulator")?;
    let ami = pbx.local_addr();

    let campaign = configure(&store, ami, "demo", &ami_secret, mode, a.contacts).await?;
    store.set_setting(oml_dialer::PLAY_KEY, "on").await?;

    let engine = oml_dialer::Engine::spawn(store.clone(), oml_dialer::EngineConfig::default());
    let console = if a.no_console {
        None
    } else {
        Some(start_console(g, &store, a.listen).await?)
    };

    outln!(
        "Demo running: {} agents, {} contacts, {mode} mode, simulated time x{} (AMI simulator on {ami}).",
        a.agents, a.contacts, a.time_scale
    )?;
    if a.seconds > 0 {
        outln!("It stops after {} s; Ctrl-C stops it sooner.", a.seconds)?;
    } else {
        outln!("Ctrl-C stops it.")?;
    }

    let started = Instant::now();
    let deadline = (a.seconds > 0).then(|| started + Duration::from_secs(a.seconds));
    // Occupancy is sampled 4 times a second; progress printed every 2 s.
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.tick().await;
    let mut occupancy = Occupancy::default();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    for n in 1u64.. {
        tokio::select! {
            _ = tick.tick() => {}
            _ = &mut ctrl_c => break,
        }
        occupancy.sample(a.agents, pbx.free_agents());
        if n % 8 != 0 && deadline.is_none_or(|d| Instant::now() < d) {
            continue;
        }
        let stats = store.stats_of(&campaign, oml_store::now_ms()).await?;
        outln!(
            "{}",
            progress_line(started.elapsed(), a.time_scale, &stats, occupancy.mean())
        )?;
        if stats.contacts_left == 0 && stats.in_flight == 0 {
            outln!("Every contact has reached a final state.")?;
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }

    store.set_setting(oml_dialer::PLAY_KEY, "off").await?;
    engine.shutdown().await;
    if let Some((handle, task)) = console {
        handle.abort();
        let _ = task.await;
    }
    pbx.shutdown().await;
    oml_dialer::demo::finish(&store).await?;

    let stats = store.stats_of(&campaign, oml_store::now_ms()).await?;
    outln!()?;
    let elapsed = started.elapsed();
    let limit = campaign.max_abandon_rate;
    let text = summary(elapsed, a.time_scale, &stats, occupancy.mean(), limit);
    crate::output::text(&text)?;
    outln!(
        "The data stays in {}: `oml campaign stats {CAMPAIGN}` shows it again.",
        g.data_dir.display()
    )?;
    outln!(
        "The simulated PBX has stopped: server `{}` is disabled and campaign `{CAMPAIGN}` stopped until the next `oml demo`.",
        oml_dialer::demo::SERVER
    )?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Opens the data folder, initialising it (with an `admin` whose generated
/// password is printed once) when it is new.
async fn open_or_init(g: &GlobalArgs) -> Result<Store> {
    let location = g.location();
    match Store::open(&location, OpenMode::Existing).await {
        Ok(s) => Ok(s),
        Err(oml_store::StoreError::NotInitialised { .. }) => {
            let store = Store::open(&location, OpenMode::Create).await?;
            if store.users().await?.is_empty() {
                let pw = cli::generate_password();
                store
                    .create_user(&NewUser {
                        username: "admin",
                        password: &pw,
                        role: Role::Admin,
                        must_change_password: true,
                    })
                    .await?;
                outln!(
                    "Initialised {} with administrator `admin`, password (shown once): {}",
                    g.data_dir.display(),
                    pw.expose_secret()
                )?;
            }
            Ok(store)
        }
        Err(e) => Err(e.into()),
    }
}

async fn start_console(
    g: &GlobalArgs,
    store: &Store,
    listen: SocketAddr,
) -> Result<(tokio::task::AbortHandle, tokio::task::JoinHandle<()>)> {
    let mut config = oml_config::Config::load(&g.data_dir)?;
    config.web.listen = listen;
    let app =
        oml_dialer_web::console(store.clone(), config).context("cannot prepare the web console")?;
    let listener = oml_web::server::bind(listen).with_context(|| {
        format!("the console cannot listen on {listen} (try --listen 127.0.0.1:0 or --no-console)")
    })?;
    let local = listener.local_addr()?;
    outln!("Console: http://{local}/ (log in as admin)")?;
    let task = tokio::spawn(async move {
        if let Err(e) = oml_web::server::serve(listener, app, None, std::future::pending()).await {
            tracing::warn!(error = %e, "the demo console stopped");
        }
    });
    Ok((task.abort_handle(), task))
}
