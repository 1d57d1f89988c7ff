//! Live equals simulated (issue 14 item 6), the short CI form: the live
//! engine dials pbxsim playing scenario T2 (50 agents, 80 % answer, talk
//! U(60,120)) at ×5 for 10 measured minutes, and its occupancy and abandon
//! rate must match `oml dialer simulate`'s (the same pacing code in virtual
//! time) for the same floor and length, within three standard deviations of
//! a single run of that length (measured on the simulator's seeds in the
//! same test), and stay under the limit. The full comparison (×1 and ×20,
//! T2 and N2, full lengths) is `examples/bench_live_vs_sim.rs`.

mod live;

use oml_pacing::{Scenario, SimConfig};

/// pbxsim's time scale. ×5, not more: on a loaded 2-core machine every
/// hop of the call path (pbxsim, AMI, engine, database, AMI) waits for a
/// core, and at ×10 those waits (tens of ms each, a PBX second per call in
/// all) cost the live engine 2–3.5 points of occupancy against the
/// simulator (measured with two `yes > /dev/null` beside the test: 87.35,
/// 89.22, 86.91 % against 90.44 %); at ×5, 1.4–1.6 points (89.02, 88.64 %
/// against 90.44, 90.19 %). The abandon rate held in every run.
const SCALE: f64 = 5.0;

/// T2, shortened: 2 minutes of warm-up, 10 measured.
fn short_t2() -> SimConfig {
    let mut floor = Scenario::T2.config();
    floor.warmup_s = 120.0;
    floor.duration_s = 600.0;
    floor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_engine_paces_t2_as_the_simulator_does() {
    let floor = short_t2();
    let sims = live::simulated(&floor, 1..21);
    let (occ, occ_sd) = live::figures::spread(&sims, |r| r.occupancy);
    let (_, ab_sd) = live::figures::spread(&sims, |r| r.abandon_rate);
    let ab = live::figures::pooled_abandon(&sims);
    // A single live run differs from the simulator's mean by its own
    // randomness: allow three of its standard deviations, and at least the
    // issue's 3 points (the call path's waits on a loaded machine cost the
    // live engine 1.4-2.0 points at x5), never the gap to progressive.
    let occ_tol = (3.0 * occ_sd).max(0.03);
    let ab_tol = (3.0 * ab_sd).max(0.005);
    let progressive = floor.progressive_closed_form().expect("T2 is stationary");
    assert!(
        occ - occ_tol > progressive + 0.02,
        "the test could not tell predictive ({occ:.3} ± {occ_tol:.3}) from progressive ({progressive:.3})"
    );
    let run = live::live(&floor, SCALE, 7).await;
    let r = &run.result;
    if let Some(n) = &run.behind_note {
        eprintln!("the engine said: {n}");
    }
    eprintln!(
        "T2 x{SCALE}, 10 min: live occupancy {:.2} % abandon {:.2} % ({} of {}; engine's count {:.2} %, behind {:.0} % of the time); simulator (20 seeds) occupancy {:.2} % ± {:.2} abandon {:.2} % ± {:.2}; progressive {:.2} %",
        r.occupancy * 100.0,
        r.abandon_rate * 100.0,
        r.abandoned,
        r.live_answered,
        run.engine_abandon_rate * 100.0,
        run.behind_share * 100.0,
        occ * 100.0,
        occ_sd * 100.0,
        ab * 100.0,
        ab_sd * 100.0,
        progressive * 100.0,
    );
    assert!(r.live_answered > 200, "too few answers to judge: {r:?}");
    assert!(
        (r.occupancy - occ).abs() <= occ_tol,
        "live occupancy {:.4} vs simulated {occ:.4} (tolerance {occ_tol:.4})",
        r.occupancy
    );
    assert!(
        (r.abandon_rate - ab).abs() <= ab_tol,
        "live abandon {:.4} vs simulated {ab:.4} (tolerance {ab_tol:.4})",
        r.abandon_rate
    );
    assert!(
        r.abandon_rate <= floor.max_abandon_rate,
        "live abandon {:.4} over the limit {}",
        r.abandon_rate,
        floor.max_abandon_rate
    );
}
