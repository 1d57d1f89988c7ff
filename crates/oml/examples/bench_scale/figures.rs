//! The scale benchmark's arithmetic, pure: a quantile of the engine's
//! reaction histogram over the measured period, and the projection of the
//! measured per-call and per-event costs to a larger installation.

use oml_dialer::engine::reaction_hist::ReactionSummary;

/// The counts of `end` minus those of `start` (the histograms are kept
/// since each engine started; the measured period is their difference).
pub fn since(start: &ReactionSummary, end: &ReactionSummary) -> ReactionSummary {
    if start.counts.len() != end.counts.len() || start.bounds_s != end.bounds_s {
        return end.clone();
    }
    ReactionSummary {
        bounds_s: end.bounds_s.clone(),
        counts: end
            .counts
            .iter()
            .zip(&start.counts)
            .map(|(e, s)| e.saturating_sub(*s))
            .collect(),
        sum_s: (end.sum_s - start.sum_s).max(0.0),
    }
}

/// The upper bound (seconds) of the bucket holding quantile `q`; `None`
/// without samples, `Some(INFINITY)` when it lies past the last bound.
pub fn quantile_bound(h: &ReactionSummary, q: f64) -> Option<f64> {
    let total = h.count();
    if total == 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, n) in h.counts.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(h.bounds_s.get(i).copied().unwrap_or(f64::INFINITY));
        }
    }
    Some(f64::INFINITY)
}

/// What one run measured, in the units the projection needs.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub nodes: f64,
    pub agents: f64,
    pub campaigns: f64,
    /// Length of the measured period, seconds.
    pub secs: f64,
    /// Calls placed in it (all nodes).
    pub calls: f64,
    /// AMI events received by all nodes together.
    pub events: f64,
    /// Nodes logged in to each server, on average (1 = each server has one
    /// node; `nodes` = every node on every server).
    pub fan_out: f64,
    /// PostgreSQL transactions per second, dialing and idle (engines
    /// running, dialer stopped).
    pub pg_tps: f64,
    pub pg_idle_tps: f64,
    /// CPU seconds the engines used in the measured period (all nodes),
    /// and per node per second when idle.
    pub engine_cpu_s: f64,
    pub engine_idle_cores: f64,
    /// CPU seconds PostgreSQL's backends of the database used.
    pub pg_cpu_s: f64,
    /// Most backends connected at once, per engine.
    pub pg_backends_per_node: f64,
}

/// The installation projected to.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub nodes: f64,
    pub servers: f64,
    pub agents: f64,
}

/// The costs read off one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Costs {
    pub calls_per_s: f64,
    /// AMI events one call causes at its server (before fan-out).
    pub events_per_call: f64,
    /// PostgreSQL transactions per call beyond the idle ones.
    pub xacts_per_call: f64,
    /// Idle transactions per node per second (leases, reloads, status).
    pub idle_tps_per_node: f64,
    /// Engine CPU seconds per AMI event received, beyond idle.
    pub cpu_per_event_s: f64,
    /// PostgreSQL CPU seconds per transaction.
    pub pg_cpu_per_xact_s: f64,
}

pub fn costs(m: &Measured) -> Costs {
    let calls_per_s = m.calls / m.secs;
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let busy_cpu = (m.engine_cpu_s - m.engine_idle_cores * m.nodes * m.secs).max(0.0);
    Costs {
        calls_per_s,
        events_per_call: div(div(m.events, m.fan_out.max(1.0)), m.calls),
        xacts_per_call: div((m.pg_tps - m.pg_idle_tps).max(0.0), calls_per_s),
        idle_tps_per_node: div(m.pg_idle_tps, m.nodes),
        cpu_per_event_s: div(busy_cpu, m.events),
        pg_cpu_per_xact_s: div(m.pg_cpu_s, m.pg_tps * m.secs),
    }
}

/// One projected installation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub fan_out: f64,
    pub calls_per_s: f64,
    pub events_per_node_s: f64,
    pub node_cores: f64,
    pub pg_tps: f64,
    /// The part of `pg_tps` the nodes cause with nothing to dial.
    pub pg_fixed_tps: f64,
    pub pg_cores: f64,
    pub pg_backends: f64,
    pub ami_sessions: f64,
}

/// Nodes logged in to one server when its `k` campaigns are spread at
/// random over `nodes` (each node connects only to its campaigns' servers).
pub fn spread_fan_out(nodes: f64, k: f64) -> f64 {
    if nodes <= 1.0 {
        return 1.0;
    }
    (nodes * (1.0 - (1.0 - 1.0 / nodes).powf(k))).max(1.0)
}

/// `t` with `fan_out` nodes on each server: the calls grow with the agents
/// (same talk times), the events with calls and fan-out, the engine's CPU
/// with its events, PostgreSQL's transactions with calls and nodes.
pub fn project(m: &Measured, c: &Costs, t: &Target, fan_out: f64) -> Projection {
    let calls_per_s = c.calls_per_s * t.agents / m.agents;
    let events_per_node_s = c.events_per_call * calls_per_s * fan_out / t.nodes;
    let pg_fixed_tps = c.idle_tps_per_node * t.nodes;
    let pg_tps = pg_fixed_tps + c.xacts_per_call * calls_per_s;
    Projection {
        fan_out,
        calls_per_s,
        events_per_node_s,
        node_cores: m.engine_idle_cores + c.cpu_per_event_s * events_per_node_s,
        pg_tps,
        pg_fixed_tps,
        pg_cores: c.pg_cpu_per_xact_s * pg_tps,
        pg_backends: m.pg_backends_per_node * t.nodes,
        ami_sessions: fan_out * t.servers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(counts: &[u64]) -> ReactionSummary {
        ReactionSummary {
            bounds_s: vec![0.001, 0.01, 0.1],
            counts: counts.to_vec(),
            sum_s: 0.0,
        }
    }

    #[test]
    fn p99_is_the_bound_of_the_bucket_holding_it() {
        assert_eq!(quantile_bound(&hist(&[0, 0, 0, 0]), 0.99), None);
        assert_eq!(quantile_bound(&hist(&[99, 1, 0, 0]), 0.99), Some(0.001));
        assert_eq!(quantile_bound(&hist(&[98, 2, 0, 0]), 0.99), Some(0.01));
        assert_eq!(
            quantile_bound(&hist(&[90, 0, 0, 10]), 0.99),
            Some(f64::INFINITY)
        );
    }

    #[test]
    fn the_measured_period_is_the_difference() {
        let d = since(&hist(&[5, 1, 0, 0]), &hist(&[7, 4, 1, 0]));
        assert_eq!(d.counts, vec![2, 3, 1, 0]);
    }

    fn measured() -> Measured {
        Measured {
            nodes: 5.0,
            agents: 2000.0,
            campaigns: 50.0,
            secs: 100.0,
            calls: 5000.0,
            // 10 events a call, every node on every server.
            events: 5000.0 * 10.0 * 5.0,
            fan_out: 5.0,
            pg_tps: 160.0,
            pg_idle_tps: 10.0,
            engine_cpu_s: 5.0 * 0.01 * 100.0 + 250_000.0 * 20e-6,
            engine_idle_cores: 0.01,
            pg_cpu_s: 16.0,
            pg_backends_per_node: 12.0,
        }
    }

    #[test]
    fn costs_per_call_and_event() {
        let c = costs(&measured());
        assert_eq!(c.calls_per_s, 50.0);
        assert_eq!(c.events_per_call, 10.0);
        assert_eq!(c.xacts_per_call, 3.0);
        assert_eq!(c.idle_tps_per_node, 2.0);
        assert!((c.cpu_per_event_s - 20e-6).abs() < 1e-12);
        assert!((c.pg_cpu_per_xact_s - 0.001).abs() < 1e-12);
    }

    #[test]
    fn projection_scales_calls_with_agents_and_events_with_fan_out() {
        let m = measured();
        let c = costs(&m);
        let t = Target {
            nodes: 10.0,
            servers: 50.0,
            agents: 5000.0,
        };
        let all = project(&m, &c, &t, 10.0);
        assert_eq!(all.calls_per_s, 125.0);
        // 1,250 events/s at the servers, each to all 10 nodes.
        assert_eq!(all.events_per_node_s, 1250.0);
        assert_eq!(all.pg_tps, 2.0 * 10.0 + 3.0 * 125.0);
        assert_eq!(all.ami_sessions, 500.0);
        assert_eq!(all.pg_backends, 120.0);
        let one = project(&m, &c, &t, 1.0);
        assert_eq!(one.events_per_node_s, 125.0);
        assert!(one.node_cores < all.node_cores);
    }

    #[test]
    fn spread_fan_out_counts_distinct_nodes() {
        assert_eq!(spread_fan_out(10.0, 1.0), 1.0);
        assert!((spread_fan_out(10.0, 2.0) - 1.9).abs() < 1e-9);
        assert!(spread_fan_out(10.0, 100.0) > 9.99);
        assert_eq!(spread_fan_out(1.0, 3.0), 1.0);
    }
}
