//! Scratch: trace the ratio baseline's dial level over a run (development aid).
use oml_pacing::pacer::AdaptiveRatio;
use oml_pacing::*;
struct Tr {
    p: AdaptiveRatio,
    next: f64,
}
impl Pacer for Tr {
    fn label(&self) -> String {
        "tr".into()
    }
    fn calls_to_place(&mut self, s: &Snapshot<'_>) -> u32 {
        let n = self.p.calls_to_place(s);
        if s.now_s >= self.next {
            self.next += 120.0;
            println!(
                "t={:5.0} level={:.3} ready={} talking={} ring={} wait={} ab={}/{}",
                s.now_s,
                self.p.level(),
                s.agents_ready,
                s.talking_elapsed_s.len(),
                s.ringing_elapsed_s.len(),
                s.answered_waiting,
                s.abandons.abandoned,
                s.abandons.live_answered
            );
        }
        n
    }
}
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sc = Scenario::parse(&args[1]).unwrap();
    let cfg = sc.config();
    let rc = RatioConfig {
        tally: if args.get(2).map(|s| s == "active").unwrap_or(false) {
            RatioTally::Active
        } else {
            RatioTally::Ready
        },
        ..RatioConfig::default()
    };
    let mut tr = Tr {
        p: AdaptiveRatio::new(cfg.limits(), rc),
        next: 0.0,
    };
    let r = oml_pacing::sim::run(&cfg, &mut tr, false, 0);
    println!("{r:?}");
}
