//! The scale benchmark's Markdown report (docs/SCALE.md): the command, the
//! machine and its load, the figures per node, PostgreSQL's, and the
//! projection to 10 nodes, 50 servers and 5,000 agents.

use std::fmt::Write as _;

use oml_dialer::engine::reaction_hist::ReactionSummary;

use crate::figures::{
    costs, project, quantile_bound, spread_fan_out, Measured, Projection, Target,
};
use crate::run::{Options, RunFigures};

/// The installation the issue asks to project to.
pub const TARGET: Target = Target {
    nodes: 10.0,
    servers: 50.0,
    agents: 5000.0,
};

fn ms(bound: Option<f64>) -> String {
    match bound {
        None => "no samples".into(),
        Some(b) if b.is_infinite() => "> 1 s".into(),
        Some(b) => format!("≤ {} ms", b * 1000.0),
    }
}

fn mean_ms(h: &ReactionSummary) -> String {
    match h.count() {
        0 => "-".into(),
        n => format!("{:.1} ms", h.sum_s / n as f64 * 1000.0),
    }
}

/// The whole page; `command` is how the run was started, `header` the
/// date, commit and machine lines.
pub fn markdown(o: &Options, f: &RunFigures, command: &str, header: &[String]) -> String {
    let mut s = String::new();
    let n = o.engines as f64;
    let calls: i64 = f.nodes.iter().map(|x| x.calls).sum();
    let events: u64 = f.nodes.iter().map(|x| x.ami_events).sum();
    let cpu: f64 = f.nodes.iter().map(|x| x.cpu_s).sum();
    let linked: usize = f.nodes.iter().map(|x| x.servers_linked).sum();
    let fan_out = linked as f64 / o.servers as f64;
    let mut all = ReactionSummary::default();
    for x in &f.nodes {
        all.add(&x.reaction);
    }
    let _ = writeln!(
        s,
        "# Scale benchmark: {} engines, {} servers, {} agents, {} campaigns\n",
        o.engines, o.servers, o.agents, o.campaigns
    );
    let _ = writeln!(s, "Issue 17 item 6: several `oml dialer run` engines on one PostgreSQL, dialing `oml pbxsim` servers at time scale 1 (real time), measured from outside: calls placed per node (the attempts' `node` column), CPU and memory per engine process (/proc), AMI events each engine received (its published status), PostgreSQL transactions per second (`pg_stat_database`), and agent-free → `Originate` (the engines' reaction histogram). This page is written by the benchmark; the projection at its end is computed from the measured costs.\n");
    let _ = writeln!(s, "```sh\n{command}\n```\n");
    let _ = writeln!(s, "Each pbxsim server has {} agents (queue members) split over its campaigns' queues; pbxsim's default customers (30 % answer after 5-20 s, 10 % busy, 2 % congestion, patience 5-30 s, talk 60-180 s, wrap-up 5 s). Campaigns are {} with {} contacts each, campaign j on server j mod {}. Each engine runs with its own data folder and the default settings (AMI rate limit 100 actions/s per server). Before dialing, {:.0} s with the engines up and the dialer stopped measure their fixed costs; then {:.0} s of warm-up, then the measured {:.0} s.\n", o.agents / o.servers, o.mode.as_str(), o.contacts, o.servers, o.idle.as_secs_f64(), o.warmup.as_secs_f64(), f.secs);
    let _ = writeln!(s, "## The run\n");
    for h in header {
        let _ = writeln!(s, "- {h}");
    }
    let (lmax, lmean) = (
        f.load.iter().cloned().fold(f64::NAN, f64::max),
        f.load.iter().sum::<f64>() / f.load.len().max(1) as f64,
    );
    let _ = writeln!(s, "- Load average (1 min) during the measured period: mean {lmean:.1}, highest {lmax:.1} on {} CPUs; the machine's CPUs were {:.0} % busy (everything: engines, pbxsim, PostgreSQL, other work).", crate::procs::cpus(), f.machine_busy * 100.0);
    let _ = writeln!(s, "- All {} pbxsim processes used {:.1} CPU s ({:.2} cores); PostgreSQL's backends of the database {:.1} CPU s ({:.2} cores).\n", o.servers, f.pbxsim_cpu_s, f.pbxsim_cpu_s / f.secs, f.pg_cpu_s, f.pg_cpu_s / f.secs);
    let _ = writeln!(s, "## Per node\n");
    let _ = writeln!(s, "| node | campaigns led | servers linked | calls placed | calls/s | reached an agent | AMI events | events/s | CPU s | cores | RSS max (peak) MiB | agent free → Originate p99 | mean |");
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for x in &f.nodes {
        let _ = writeln!(
            s,
            "| {}{} | {} | {} | {} | {:.2} | {} | {} | {:.0} | {:.1} | {:.3} | {:.0} ({:.0}) | {} | {} |",
            x.name,
            if x.alive { "" } else { " (died)" },
            x.campaigns_led,
            x.servers_linked,
            x.calls,
            x.calls as f64 / f.secs,
            x.connected,
            x.ami_events,
            x.ami_events as f64 / f.secs,
            x.cpu_s,
            x.cpu_s / f.secs,
            x.rss_max_mib,
            x.rss_peak_mib,
            ms(quantile_bound(&x.reaction, 0.99)),
            mean_ms(&x.reaction),
        );
    }
    let _ = writeln!(
        s,
        "| all | {} | {linked} | {calls} | {:.2} | {} | {events} | {:.0} | {cpu:.1} | {:.3} | | {} | {} |\n",
        f.nodes.iter().map(|x| x.campaigns_led).sum::<usize>(),
        calls as f64 / f.secs,
        f.nodes.iter().map(|x| x.connected).sum::<i64>(),
        events as f64 / f.secs,
        cpu / f.secs,
        ms(quantile_bound(&all, 0.99)),
        mean_ms(&all),
    );
    let idle_nodes: Vec<&str> = f
        .nodes
        .iter()
        .filter(|x| x.calls == 0)
        .map(|x| x.name.as_str())
        .collect();
    let busiest = f.nodes.iter().map(|x| x.calls).max().unwrap_or(0);
    if !idle_nodes.is_empty() {
        let _ = writeln!(s, "**The work is not shared:** {} placed no calls; the busiest node placed {busiest} of {calls} ({:.0} %).\n", idle_nodes.join(", "), busiest as f64 * 100.0 / calls.max(1) as f64);
    } else {
        let _ = writeln!(s, "Every node placed calls; the busiest placed {busiest} of {calls} ({:.0} %; an even share is {:.0} %).\n", busiest as f64 * 100.0 / calls.max(1) as f64, 100.0 / n);
    }
    if f.other_calls > 0 {
        let _ = writeln!(
            s,
            "{} calls were placed by a node that is none of the engines above.\n",
            f.other_calls
        );
    }
    let _ = writeln!(s, "Servers linked: each node's AMI sessions at the end; on average {fan_out:.1} nodes were logged in to each server (every node on every server would be {}). The p99 is the upper bound of the histogram bucket that holds it (buckets 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000 ms); the reaction is timed from the AMI event that freed an agent to the `Originate` handed to the AMI client.\n", o.engines);
    if f.contacts_left_low {
        let _ = writeln!(s, "**Some campaign ran low on due contacts** by the end: its calls stopped for want of numbers, not of agents; run with more `--contacts`.\n");
    }
    let _ = writeln!(s, "## PostgreSQL\n");
    let _ = writeln!(s, "- {:.1} transactions per second while dialing ({:.2} per call placed), {:.1} with the engines idle ({:.2} per node per second: leases, reloads, published status).\n", f.pg_tps, f.pg_tps / (calls as f64 / f.secs).max(1e-9), f.pg_idle_tps, f.pg_idle_tps / n);
    let _ = writeln!(
        s,
        "- At most {} backends were connected to the database at once ({:.1} per engine, the benchmark's own included); the store's pool allows 16 per process.\n",
        f.pg_backends_max,
        f.pg_backends_max as f64 / n
    );
    let m = Measured {
        nodes: n,
        agents: o.agents as f64,
        campaigns: o.campaigns as f64,
        secs: f.secs,
        calls: calls as f64,
        events: events as f64,
        fan_out,
        pg_tps: f.pg_tps,
        pg_idle_tps: f.pg_idle_tps,
        engine_cpu_s: cpu,
        engine_idle_cores: f.engine_idle_cores,
        pg_cpu_s: f.pg_cpu_s,
        pg_backends_per_node: f.pg_backends_max as f64 / n,
    };
    projection(&mut s, &m, f.pg_max_connections);
    s
}

fn projection(s: &mut String, m: &Measured, max_connections: i64) {
    let c = costs(m);
    let t = TARGET;
    let campaigns = m.campaigns * t.agents / m.agents;
    let every = project(m, &c, &t, t.nodes);
    let spread = project(m, &c, &t, spread_fan_out(t.nodes, campaigns / t.servers));
    let _ = writeln!(
        s,
        "## Projection to {} nodes, {} servers, {} agents\n",
        t.nodes, t.servers, t.agents
    );
    let _ = writeln!(s, "Measured costs: {:.2} calls/s per 1,000 agents; {:.1} AMI events per call at its server; {:.2} PostgreSQL transactions per call and {:.2} per idle node per second; {:.1} µs of engine CPU per AMI event received (calls, pacing and writes included, idle cost {:.3} cores per node apart); {:.2} ms of PostgreSQL CPU per transaction.\n", c.calls_per_s * 1000.0 / m.agents, c.events_per_call, c.xacts_per_call, c.idle_tps_per_node, c.cpu_per_event_s * 1e6, m.engine_idle_cores, c.pg_cpu_per_xact_s * 1000.0);
    let _ = writeln!(s, "The calls grow with the agents (same talk and wrap-up times): {:.0} calls/s for {} agents, {campaigns:.0} campaigns at this page's ratio. Two ways to connect:\n", every.calls_per_s, t.agents);
    let _ = writeln!(s, "| | nodes per server | AMI sessions | events/s per node | engine cores per node | PostgreSQL transactions/s | PostgreSQL cores | PostgreSQL connections |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for (label, p) in [
        ("every node on every server", &every),
        ("each node on its campaigns' servers only", &spread),
    ] {
        let _ = writeln!(
            s,
            "| {label} | {:.1} | {:.0} | {:.0} | {:.3} | {:.0} | {:.2} | {:.0} |",
            p.fan_out,
            p.ami_sessions,
            p.events_per_node_s,
            p.node_cores,
            p.pg_tps,
            p.pg_cores,
            p.pg_backends
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{}\n", first_limit(&every, &spread, max_connections));
    let _ = writeln!(s, "How this is reckoned: an engine's CPU is its idle cost plus the cost per AMI event it receives (the events drive everything it does: each call's events, the pacing they cause, the writes); PostgreSQL's transactions are each node's fixed ones (lease renewals, reloads, status) plus a fixed number per call; PostgreSQL's CPU is its measured cost per transaction. With spread connections a server's nodes are the distinct nodes among its campaigns' leaders (campaigns assigned at random). Not modelled: one PostgreSQL's disk flushes (each commit waits for its WAL flush; here they share the machine's disk), network latency between hosts, and each Asterisk's own cost of sending its events to every session.");
}

/// Which resource the projection exhausts first, in words.
fn first_limit(every: &Projection, spread: &Projection, max_connections: i64) -> String {
    let mut out = String::from("What limits first: ");
    if every.pg_backends > max_connections as f64 {
        let _ = write!(
            out,
            "PostgreSQL's connections: {:.0} nodes would hold about {:.0} at once (the measured count per engine), above this server's max_connections = {max_connections}; raise it or put PgBouncer in transaction pooling in front (the leases work through it). ",
            TARGET.nodes, every.pg_backends
        );
    }
    let mut v = [
        (
            "PostgreSQL's CPU (one server for every node)",
            every.pg_cores,
        ),
        (
            "the engines' CPU with every node on every server (per node)",
            every.node_cores,
        ),
    ];
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    let _ = write!(
        out,
        "Then {} at {:.2} cores, then {} at {:.2} cores. Spreading the connections cuts each node's events {:.1}-fold ({:.0} → {:.0} events/s per node) and the AMI sessions from {:.0} to {:.0}; PostgreSQL's load does not depend on it, and its fixed part grows with the nodes ({:.0} of the {:.0} transactions/s).",
        v[0].0,
        v[0].1,
        v[1].0,
        v[1].1,
        every.events_per_node_s / spread.events_per_node_s.max(1e-9),
        every.events_per_node_s,
        spread.events_per_node_s,
        every.ami_sessions,
        spread.ami_sessions,
        every.pg_fixed_tps,
        every.pg_tps,
    );
    out
}
