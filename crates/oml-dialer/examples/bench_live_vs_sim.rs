//! Live equals simulated, the full comparison (issue 14 item 6): for each
//! run given, the live engine dials pbxsim playing a scenario of
//! `oml dialer simulate` at a time scale, and its occupancy and abandon rate
//! are printed beside the simulator's (same floor, same length, 20 seeds),
//! with the minutes after the change for N2. Writes a Markdown report.
//!
//! ```text
//! cargo run --release -p oml-dialer --example bench_live_vs_sim -- \
//!     [--seeds 20] [--report FILE] RUN...
//! RUN = SCENARIO:SCALE[:WARMUP+MEASURED]   e.g. T2:20  N2:20  T2:1:3m+10m
//! ```
//! Without a length the scenario's own is used (T2: 5 + 58 min, N2: 5 +
//! 120 min with the change at 60). A shorter N2 keeps its change in the
//! middle of the measured period. Runs at ×1 or slower run at the same time
//! (they barely load the machine), after the faster ones, which run alone.

#[path = "../tests/live/mod.rs"]
mod live;

use std::fmt::Write as _;

use live::figures::{pooled_abandon, spread};
use oml_pacing::schedule::seconds;
use oml_pacing::windows::after_changes;
use oml_pacing::{Scenario, SimConfig, SimResult};

struct Run {
    label: String,
    floor: SimConfig,
    scale: f64,
}

fn parse_run(text: &str) -> Result<Run, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let sc = Scenario::parse(parts[0]).map_err(|e| e.to_string())?;
    let scale: f64 = parts
        .get(1)
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| *s > 0.0)
        .ok_or_else(|| format!("{text}: give the time scale, e.g. {}:20", sc.id()))?;
    let mut floor = sc.config();
    if let Some(len) = parts.get(2) {
        let (w, d) = len
            .split_once('+')
            .ok_or_else(|| format!("{text}: the length is WARMUP+MEASURED, e.g. 3m+10m"))?;
        let warmup = seconds("warm-up", w).map_err(|e| e.to_string())?;
        let duration = seconds("measured", d).map_err(|e| e.to_string())?;
        let k = duration / floor.duration_s;
        for s in &mut floor.changes.answer_rate {
            s.at_s *= k;
        }
        floor.warmup_s = warmup;
        floor.duration_s = duration;
    }
    Ok(Run {
        label: format!(
            "{} ×{scale}, {:.0}+{:.0} min",
            sc.id(),
            floor.warmup_s / 60.0,
            floor.duration_s / 60.0
        ),
        floor,
        scale,
    })
}

fn pct(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

/// One report section: the live run beside the simulator's seeds.
fn section(run: &Run, live: &live::LiveRun, sims: &[SimResult]) -> String {
    let mut o = String::new();
    let r = &live.result;
    let (occ, occ_sd) = spread(sims, |s| s.occupancy);
    let (_, ab_sd) = spread(sims, |s| s.abandon_rate);
    let ab = pooled_abandon(sims);
    let worst = sims.iter().map(|s| s.abandon_rate).fold(0.0, f64::max);
    let _ = writeln!(o, "### {}\n", run.label);
    let _ = writeln!(
        o,
        "| | live engine | simulator ({} seeds) | difference | tolerance |",
        sims.len()
    );
    let _ = writeln!(o, "|---|---|---|---|---|");
    let _ = writeln!(
        o,
        "| occupancy | {} | {} (sd {}) | {:+.2} points | 3 points |",
        pct(r.occupancy),
        pct(occ),
        pct(occ_sd),
        (r.occupancy - occ) * 100.0
    );
    let _ = writeln!(
        o,
        "| abandon | {} ({} of {}) | {} pooled (sd {}, worst seed {}) | {:+.2} points | 1 point, ≤ {} |",
        pct(r.abandon_rate),
        r.abandoned,
        r.live_answered,
        pct(ab),
        pct(ab_sd),
        pct(worst),
        (r.abandon_rate - ab) * 100.0,
        pct(run.floor.max_abandon_rate)
    );
    let _ = writeln!(
        o,
        "| calls placed | {} | {:.0} (mean) | | |",
        r.calls_placed,
        sims.iter().map(|s| s.calls_placed as f64).sum::<f64>() / sims.len() as f64
    );
    let _ = writeln!(
        o,
        "\nThe engine's own abandon count (its clock, its rule): {}; it dialed progressively (behind) in {:.0} % of the status samples.\n",
        pct(live.engine_abandon_rate),
        live.behind_share * 100.0
    );
    if let Some(n) = &live.behind_note {
        let _ = writeln!(o, "The engine said: {n}\n");
    }
    let changes = run.floor.change_times();
    if !changes.is_empty() {
        let l = after_changes(std::slice::from_ref(r), &changes);
        let s = after_changes(sims, &changes);
        let _ = writeln!(
            o,
            "| after the change at {:.0} min | live | simulator (pooled) |",
            changes[0] / 60.0
        );
        let _ = writeln!(o, "|---|---|---|");
        for (a, b) in l[0].spans.iter().zip(&s[0].spans) {
            let from = a.from_min - l[0].change_at_min.floor();
            let _ = writeln!(
                o,
                "| minutes {:.0}–{:.0} | {} ({} of {}) | {} |",
                from,
                a.to_min - l[0].change_at_min.floor(),
                pct(a.rate),
                a.abandoned,
                a.live_answered,
                pct(b.rate)
            );
        }
        o.push('\n');
    }
    o
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (mut seeds, mut report, mut runs) = (20u64, None, Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seeds" => {
                seeds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seeds needs a number")?
            }
            "--report" => report = Some(args.next().ok_or("--report needs a file")?),
            _ => runs.push(parse_run(&a)?),
        }
    }
    if runs.is_empty() {
        return Err("give at least one RUN, e.g. T2:20 N2:20 T2:1:3m+10m".into());
    }
    let started = chrono::Utc::now();
    let (fast, slow): (Vec<&Run>, Vec<&Run>) = runs.iter().partition(|r| r.scale > 1.0);
    let mut out = Vec::new();
    for r in fast {
        eprintln!("running {} ...", r.label);
        out.push((r, live::live(&r.floor, r.scale, 7).await));
    }
    if !slow.is_empty() {
        eprintln!(
            "running {} at the same time ...",
            slow.iter()
                .map(|r| r.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let tasks: Vec<_> = slow
            .iter()
            .map(|r| {
                let (floor, scale) = (r.floor.clone(), r.scale);
                tokio::spawn(async move { live::live(&floor, scale, 7).await })
            })
            .collect();
        for (r, t) in slow.into_iter().zip(tasks) {
            out.push((r, t.await.map_err(|e| format!("{}: {e}", r.label))?));
        }
    }
    let mut text = format!(
        "## Live engine against pbxsim vs `oml dialer simulate` ({}; load average {})\n\n",
        started.format("%Y-%m-%d %H:%M UTC"),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .next()
            .unwrap_or("?")
    );
    for (r, l) in &out {
        let sims = live::simulated(&r.floor, 1..seeds + 1);
        text.push_str(&section(r, l, &sims));
    }
    print!("{text}");
    if let Some(p) = report {
        std::fs::write(&p, &text).map_err(|e| format!("cannot write {p}: {e}"))?;
    }
    Ok(())
}
