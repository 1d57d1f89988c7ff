//! Scratch: trace the predictive controller over a run (development aid).
use oml_pacing::pacer::Predictive;
use oml_pacing::*;
struct Tr {
    p: Predictive,
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
                "t={:5.0} m={:.3} ready={} talking={} ring={} wait={} ab={}/{} p={:.3} fc={:?}",
                s.now_s,
                self.p.safety(),
                s.agents_ready,
                s.talking_elapsed_s.len(),
                s.ringing_elapsed_s.len(),
                s.answered_waiting,
                s.abandons.abandoned,
                s.abandons.live_answered,
                s.stats.answer_rate(),
                self.p.forecast(s)
            );
        }
        n
    }
}
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sc = Scenario::parse(&args[1]).unwrap();
    let seed: u64 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(0);
    let cfg = sc.config();
    let mut tr = Tr {
        p: Predictive::new(cfg.limits(), PredictiveConfig::default()),
        next: 0.0,
    };
    let r = oml_pacing::sim::run(&cfg, &mut tr, false, seed);
    println!("{r:?}");
}
