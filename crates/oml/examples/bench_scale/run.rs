//! One scale run: the pbxsim servers and the engines started as processes
//! of the built `oml`, an idle period (engines up, dialer stopped) for the
//! fixed costs, a warm-up, then the measured period sampled from /proc, the
//! engines' published figures and PostgreSQL's statistics.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use oml_dialer::engine::reaction_hist::ReactionSummary;
use oml_store::CampaignMode;

use crate::db::Db;
use crate::figures::since;
use crate::layout::{layout, ServerPlan};
use crate::procs::{self, Proc};
use crate::sample::{cpus, sum_delta, track_pg, Snapshot};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub engines: usize,
    pub servers: usize,
    pub agents: usize,
    pub campaigns: usize,
    pub contacts: usize,
    pub mode: CampaignMode,
    pub idle: Duration,
    pub warmup: Duration,
    pub measured: Duration,
    pub oml: PathBuf,
}

/// One node's figures over the measured period.
#[derive(Debug, Clone, Default)]
pub struct NodeFigures {
    pub name: String,
    pub campaigns_led: usize,
    pub servers_linked: usize,
    pub calls: i64,
    pub connected: i64,
    pub ami_events: u64,
    pub cpu_s: f64,
    pub rss_max_mib: f64,
    pub rss_peak_mib: f64,
    pub reaction: ReactionSummary,
    pub alive: bool,
}

/// Everything the report needs.
#[derive(Debug, Clone, Default)]
pub struct RunFigures {
    pub secs: f64,
    pub nodes: Vec<NodeFigures>,
    /// Calls whose node is none of the engines (should be none).
    pub other_calls: i64,
    pub pg_tps: f64,
    pub pg_idle_tps: f64,
    pub pg_cpu_s: f64,
    /// Most backends connected to the database at once (sampled).
    pub pg_backends_max: usize,
    /// The server's `max_connections`.
    pub pg_max_connections: i64,
    pub pbxsim_cpu_s: f64,
    pub engine_idle_cores: f64,
    pub machine_busy: f64,
    pub load: Vec<f64>,
    pub contacts_left_low: bool,
}

/// Runs it all; every process ends with the returned value (or unwinding).
pub async fn run(o: &Options, db: &Db) -> Result<RunFigures, String> {
    let plan = layout(o.servers, o.campaigns, o.agents)?;
    let dir = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
    let secret = format!("{:032x}", rand::random::<u128>());
    eprintln!("starting {} pbxsim servers", plan.len());
    let mut sims = Vec::new();
    let mut ports = Vec::new();
    for (i, srv) in plan.iter().enumerate() {
        let log = dir.path().join(format!("{}.log", srv.name));
        let args = pbxsim_args(srv, i as u64 + 1);
        let mut p = Proc::start(
            &o.oml,
            &srv.name,
            &args,
            &[("OML_AMI_SECRET", secret.as_str())],
            log,
        );
        let line = p.wait_line("AMI on", Duration::from_secs(30))?;
        ports.push(port_of(&line).ok_or_else(|| format!("{}: no port in {line:?}", srv.name))?);
        sims.push(p);
    }
    eprintln!(
        "filling database {} ({} campaigns x {} contacts)",
        db.name, o.campaigns, o.contacts
    );
    db.fill(&plan, &ports, &secret, o.mode, o.contacts).await?;
    eprintln!("starting {} engines", o.engines);
    let mut engines = Vec::new();
    for k in 1..=o.engines {
        let name = format!("node{k}");
        let data = dir.path().join(&name);
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        let args: Vec<String> = vec![
            "--data-dir".into(),
            data.display().to_string(),
            "dialer".into(),
            "run".into(),
            "--node".into(),
            name.clone(),
        ];
        let log = dir.path().join(format!("{name}.log"));
        engines.push(Proc::start(
            &o.oml,
            &name,
            &args,
            &[("OML_DATABASE_URL", db.url.as_str())],
            log,
        ));
    }
    wait_published(db, &engines).await?;
    let mut f = RunFigures::default();
    eprintln!("idle for {:?} (dialer stopped)", o.idle);
    let (cpu0, x0, t0) = (cpus(&engines), db.xacts().await, Instant::now());
    tokio::time::sleep(o.idle).await;
    let (cpu1, x1, idle_s) = (cpus(&engines), db.xacts().await, t0.elapsed().as_secs_f64());
    f.engine_idle_cores = sum_delta(&cpu0, &cpu1) / o.engines as f64 / idle_s;
    f.pg_idle_tps = (x1 - x0) as f64 / idle_s;
    db.set_play(true).await?;
    eprintln!("dialing: warm-up {:?}", o.warmup);
    tokio::time::sleep(o.warmup).await;
    eprintln!("measuring for {:?}", o.measured);
    let s0 = Snapshot::take(db, &engines, &sims).await;
    let mut pg_cpu: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
    let mut rss: Vec<(f64, f64)> = vec![(0.0, 0.0); engines.len()];
    f.pg_backends_max = track_pg(db, &mut pg_cpu).await;
    f.pg_max_connections = db.max_connections().await;
    while s0.at.elapsed() < o.measured {
        let left = o.measured.saturating_sub(s0.at.elapsed());
        tokio::time::sleep(left.min(Duration::from_secs(5))).await;
        f.load.push(procs::load1());
        f.pg_backends_max = f.pg_backends_max.max(track_pg(db, &mut pg_cpu).await);
        for (r, e) in rss.iter_mut().zip(&engines) {
            if let Some((now, peak)) = procs::rss_mib(e.pid()) {
                *r = (r.0.max(now), peak);
            }
        }
    }
    let s1 = Snapshot::take(db, &engines, &sims).await;
    f.secs = (s1.at - s0.at).as_secs_f64();
    let placed = db.placed_per_node(s0.wall_ms, s1.wall_ms).await;
    for (i, e) in engines.iter().enumerate() {
        let (a, b) = (s0.status.get(&e.name), s1.status.get(&e.name));
        let (calls, connected) = placed.get(&e.name).copied().unwrap_or((0, 0));
        f.nodes.push(NodeFigures {
            name: e.name.clone(),
            campaigns_led: b.map_or(0, |s| s.campaigns.iter().filter(|c| c.paced_here).count()),
            servers_linked: b.map_or(0, |s| s.servers.iter().filter(|v| v.connected).count()),
            calls,
            connected,
            ami_events: b.map_or(0, |s| s.ami_events) - a.map_or(0, |s| s.ami_events),
            cpu_s: s1.cpu[i].unwrap_or(f64::NAN) - s0.cpu[i].unwrap_or(f64::NAN),
            rss_max_mib: rss[i].0,
            rss_peak_mib: rss[i].1,
            reaction: match (a, b) {
                (Some(a), Some(b)) => since(&a.reaction, &b.reaction),
                _ => ReactionSummary::default(),
            },
            alive: s1.cpu[i].is_some(),
        });
    }
    f.other_calls = placed
        .iter()
        .filter(|(n, _)| !engines.iter().any(|e| &e.name == *n))
        .map(|(_, (c, _))| c)
        .sum();
    f.pg_tps = (s1.xacts - s0.xacts) as f64 / f.secs;
    f.pg_cpu_s = pg_cpu.values().map(|(a, b)| b - a).sum();
    f.pbxsim_cpu_s = s1.pbxsim_cpu - s0.pbxsim_cpu;
    f.machine_busy =
        (s1.machine.0 - s0.machine.0) as f64 / (s1.machine.1 - s0.machine.1).max(1) as f64;
    f.contacts_left_low = contacts_low(db).await;
    eprintln!("stopping the engines");
    for e in engines {
        let name = e.name.clone();
        if !e.stop(Duration::from_secs(15)) {
            eprintln!("{name} did not stop within 15 s of SIGTERM; killed");
        }
    }
    drop(sims);
    Ok(f)
}

fn pbxsim_args(srv: &ServerPlan, seed: u64) -> Vec<String> {
    let mut a: Vec<String> = [
        "pbxsim",
        "--listen",
        "127.0.0.1:0",
        "--time-scale",
        "1",
        "--stats-every",
        "0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(["--seed".into(), seed.to_string()]);
    let first = &srv.campaigns[0];
    a.extend(["--queue".into(), first.queue.clone()]);
    a.extend(["--agents".into(), first.agents.to_string()]);
    for c in &srv.campaigns[1..] {
        a.extend(["--extra-queue".into(), format!("{}:{}", c.queue, c.agents)]);
    }
    for c in &srv.campaigns {
        a.extend(["--route".into(), format!("{}={}", c.context, c.queue)]);
    }
    a
}

/// The port of pbxsim's first line, `pbxsim: AMI on 127.0.0.1:PORT as ...`.
fn port_of(line: &str) -> Option<u16> {
    let addr = line.split("AMI on ").nth(1)?.split_whitespace().next()?;
    addr.rsplit(':').next()?.parse().ok()
}

async fn wait_published(db: &Db, engines: &[Proc]) -> Result<(), String> {
    let start = Instant::now();
    loop {
        let st = db.statuses().await;
        let missing: Vec<&str> = engines
            .iter()
            .map(|e| e.name.as_str())
            .filter(|n| !st.contains_key(*n))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "engines {missing:?} published no status within 60 s (see their logs)"
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Whether some campaign ran low on contacts (the figures would then
/// under-state the load).
async fn contacts_low(db: &Db) -> bool {
    let Ok(st) = oml_dialer::control::status(&db.store).await else {
        return false;
    };
    st.campaigns.iter().any(|c| c.due_now < 50)
}
