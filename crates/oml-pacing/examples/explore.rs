//! Tuning aid: runs modes over the named scenarios (T1–S, N1–N5) with predictive settings
//! taken from environment variables, to explore the occupancy / abandon
//! trade-off without rebuilding. `cargo run --release -p oml-pacing --example
//! explore -- SEEDS MODES` (e.g. `20 progressive,predictive`); variables: SC
//! (scenarios, e.g. T1,B), FS (first seed), TF (target fraction), MSD (target
//! margin sd), GAIN, WG (window gain), Z0 (initial tightening), HZ
//! (answer-time points), MT (min talks), MA (min attempts), PM
//! (print 15 minutes of pooled abandons from this minute), WU (warm-up minutes), AMD (on|off: 30 % machines, AMD 3 s or off).
use oml_pacing::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: u64 = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(5);
    let modes: Vec<String> = args
        .get(2)
        .map(|s| s.split(',').map(String::from).collect())
        .unwrap_or(vec![
            "progressive".into(),
            "predictive".into(),
            "ratio".into(),
        ]);
    for sc in Scenario::ALL.into_iter().filter(|s| {
        std::env::var("SC")
            .map(|v| v.split(',').any(|x| x == s.id()))
            .unwrap_or(true)
    }) {
        let mut cfg = sc.config();
        if let Ok(m) = std::env::var("AMD") {
            // AMD=on|off: T2-style floor with 30 % machines, AMD 3 s or off.
            cfg.machines = oml_pacing::report::machine_floor(m == "on").machines;
        }
        if let Ok(w) = std::env::var("WU") {
            cfg.warmup_s = w.parse::<f64>().unwrap() * 60.0;
        }
        for m in &modes {
            let mut mode: ModeSpec = if let Some(k) = m.strip_prefix("fixed:") {
                ModeSpec::Ratio(RatioConfig::fixed(k.parse().unwrap()))
            } else if let Some(t) = m.strip_prefix("ready:") {
                ModeSpec::Ratio(RatioConfig {
                    drop_target: t.parse::<f64>().unwrap() / 100.0,
                    ..RatioConfig::default()
                })
            } else if let Some(t) = m.strip_prefix("active:") {
                ModeSpec::Ratio(RatioConfig {
                    tally: RatioTally::Active,
                    drop_target: t.parse::<f64>().unwrap() / 100.0,
                    ..RatioConfig::default()
                })
            } else {
                m.parse().unwrap()
            };
            if let ModeSpec::Predictive(ref mut c) = mode {
                let g = |k: &str, d: f64| {
                    std::env::var(k)
                        .ok()
                        .map(|v| v.parse().unwrap())
                        .unwrap_or(d)
                };
                c.target_fraction = g("TF", c.target_fraction);
                c.gain = g("GAIN", c.gain);
                c.window_gain = g("WG", c.window_gain);
                c.target_margin_sd = g("MSD", c.target_margin_sd);
                c.initial_tightening = g("Z0", c.initial_tightening);
                c.answer_time_points = g("HZ", c.answer_time_points as f64) as u8;
                c.min_talks = g("MT", c.min_talks as f64) as usize;
                c.min_attempts = g("MA", c.min_attempts as f64) as u64;
            }
            let t = std::time::Instant::now();
            let fs: u64 = std::env::var("FS")
                .ok()
                .map(|v| v.parse().unwrap())
                .unwrap_or(0);
            let rs: Vec<SimResult> = (fs..fs + seeds)
                .map(|s| simulate(&cfg, &mode, s).unwrap())
                .collect();
            let el = t.elapsed().as_secs_f64() / seeds as f64;
            let occ: f64 = rs.iter().map(|r| r.occupancy).sum::<f64>() / seeds as f64;
            let wocc = rs.iter().map(|r| r.occupancy).fold(1.0, f64::min);
            let ab: f64 = rs.iter().map(|r| r.abandon_rate).sum::<f64>() / seeds as f64;
            let wab = rs.iter().map(|r| r.abandon_rate).fold(0.0, f64::max);
            let ch = oml_pacing::windows::after_changes(&rs, &cfg.change_times());
            let ww = oml_pacing::windows::worst_window(&rs)
                .map(|w| w.rate * 100.0)
                .unwrap_or(0.0);
            let chs: Vec<String> = ch
                .iter()
                .map(|c| {
                    format!(
                        "@{}: {}",
                        c.change_at_min,
                        c.spans
                            .iter()
                            .map(|s| format!("{:.2}", s.rate * 100.0))
                            .collect::<Vec<_>>()
                            .join("/")
                    )
                })
                .collect();
            if let Ok(from) = std::env::var("PM") {
                let from: usize = from.parse().unwrap();
                let line: Vec<String> = (from..from + 15)
                    .map(|m| {
                        let (a, b) = rs.iter().fold((0, 0), |(a, b), r| {
                            let x = r.per_minute.get(m).copied().unwrap_or([0, 0]);
                            (a + x[0], b + x[1])
                        });
                        format!("{m}:{b}/{a}")
                    })
                    .collect();
                println!("   per minute (abandoned/answered) {}", line.join(" "));
            }
            println!("   worst15 {ww:.2}% after {}", chs.join(" "));
            println!("{} {:12} occ {:.2}% (worst {:.2}) ab {:.2}% (worst {:.2}) placed {} cf {:.2}% {:.1}ms", sc.id(), m, occ*100.0, wocc*100.0, ab*100.0, wab*100.0, rs[0].calls_placed, cfg.progressive_closed_form().unwrap_or(0.0)*100.0, el*1000.0);
        }
    }
}
