//! Property tests of the pacing crate: the guarantees every mode and the
//! abandon accounting must keep, whatever the campaign looks like.

use oml_pacing::abandon::{recount, AnswerRecord};
use oml_pacing::pacer::MAX_LINES_PER_AGENT;
use oml_pacing::*;
use proptest::prelude::*;

fn dist() -> impl Strategy<Value = Dist> {
    prop_oneof![
        (0.0f64..60.0, 0.0f64..60.0).prop_map(|(a, b)| Dist::uniform(a.min(b), a.max(b))),
        (0.5f64..120.0).prop_map(|m| Dist::Exp { mean: m }),
        (1.0f64..120.0, 0.5f64..60.0).prop_map(|(m, s)| Dist::LogNormal { mean: m, sd: s }),
        (0.0f64..30.0).prop_map(Dist::constant),
    ]
}

fn campaign() -> impl Strategy<Value = SimConfig> {
    (
        0u32..25,
        0.0f64..=1.0,
        dist(),
        dist(),
        (1.0f64..200.0, 0.0f64..100.0),
        prop_oneof![Just(Dist::constant(0.0)), dist()],
        0.0f64..5.0,
    )
        .prop_map(
            |(agents, answer, tta, noans, (talk_lo, talk_span), wrap, abandon)| SimConfig {
                agents,
                answer_rate: answer,
                time_to_answer: tta,
                no_answer_after: noans,
                talk: Dist::uniform(talk_lo, talk_lo + talk_span),
                wrap_up: wrap,
                duration_s: 900.0,
                warmup_s: 60.0,
                abandon_after_s: abandon,
                ..Scenario::S.config()
            },
        )
}

fn mode() -> impl Strategy<Value = ModeSpec> {
    prop_oneof![
        Just(ModeSpec::Preview),
        Just(ModeSpec::Progressive),
        Just(ModeSpec::Predictive(PredictiveConfig::default())),
        Just(ModeSpec::Ratio(RatioConfig::default())),
        Just(ModeSpec::Ratio(RatioConfig {
            tally: RatioTally::Active,
            initial_level: 3.0,
            ..RatioConfig::default()
        })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn progressive_and_preview_never_abandon(cfg in campaign(), seed in any::<u64>()) {
        for m in [ModeSpec::Progressive, ModeSpec::Preview] {
            let r = simulate(&cfg, &m, seed).unwrap();
            prop_assert_eq!(r.abandoned, 0, "{} abandoned on {:?}", m, cfg);
        }
    }

    #[test]
    fn zero_agents_dial_nothing_in_any_mode(mut cfg in campaign(), m in mode(), seed in any::<u64>()) {
        cfg.agents = 0;
        let r = simulate(&cfg, &m, seed).unwrap();
        prop_assert_eq!(r.calls_placed, 0);
        prop_assert_eq!(r.occupancy, 0.0);
    }

    #[test]
    fn simulated_runs_stay_within_bounds(cfg in campaign(), m in mode(), seed in any::<u64>()) {
        let r = simulate(&cfg, &m, seed).unwrap();
        prop_assert!((0.0..=1.0 + 1e-9).contains(&r.occupancy), "occupancy {}", r.occupancy);
        prop_assert!((0.0..=1.0).contains(&r.abandon_rate));
        prop_assert!(r.abandoned <= r.live_answered);
        // A call needs at least the shortest possible ring time; with the
        // per-agent line ceiling the count stays finite and proportional.
        let bound = (cfg.agents as u64) * (MAX_LINES_PER_AGENT as u64) * 1000;
        prop_assert!(r.calls_placed <= bound.max(1), "{} calls", r.calls_placed);
    }

    #[test]
    fn no_mode_places_a_negative_or_unbounded_number_of_calls(
        m in mode(),
        agents in 0u32..60,
        ready_frac in 0.0f64..=1.0,
        talking in prop::collection::vec(0.0f64..700.0, 0..60),
        wrap in prop::collection::vec(0.0f64..30.0, 0..10),
        ringing in prop::collection::vec(0.0f64..40.0, 0..400),
        waiting in 0u32..20,
        trained in prop::collection::vec((any::<bool>(), 0.0f64..40.0, 1.0f64..600.0), 0..400),
        abandoned in 0u64..50,
        answered in 0u64..2000,
        now in 0.0f64..10_000.0,
        max_lines in 0u32..100,
    ) {
        let mut stats = CallStats::default();
        for (ans, ring, talk) in &trained {
            stats.record_attempt(*ans, *ring);
            stats.record_talk(*talk);
        }
        let limits = PacingLimits { max_lines, ..PacingLimits::default() };
        let mut pacer = m.build(limits);
        let snap = Snapshot {
            now_s: now,
            agents_logged_in: agents,
            agents_ready: (agents as f64 * ready_frac) as u32,
            talking_elapsed_s: &talking,
            wrap_up_elapsed_s: &wrap,
            ringing_elapsed_s: &ringing,
            answered_waiting: waiting,
            stats: &stats,
            abandons: AbandonCounts { live_answered: answered.max(abandoned), abandoned },
        };
        // Several calls in a row: controllers have state.
        for _ in 0..3 {
            let n = pacer.calls_to_place(&snap) as u64;
            let mut cap = agents as u64 * MAX_LINES_PER_AGENT as u64;
            if max_lines > 0 {
                cap = cap.min(max_lines as u64);
            }
            prop_assert!(n + ringing.len() as u64 <= cap.max(ringing.len() as u64), "{} calls with {} ringing, cap {}", n, ringing.len(), cap);
            if agents == 0 {
                prop_assert_eq!(n, 0);
            }
        }
    }

    #[test]
    fn incremental_abandon_rate_equals_recount(
        steps in prop::collection::vec((0i64..40_000_000, -3_000i64..0, any::<bool>(), prop::bool::weighted(0.1)), 1..300),
        uk in any::<bool>(),
    ) {
        let window = if uk { AbandonWindow::Uk } else { AbandonWindow::Custom { ms: 3_600_000 } };
        let mut ledger = AbandonLedger::new(window);
        let mut raw: Vec<AnswerRecord> = Vec::new();
        let mut now = 0i64;
        for (advance, jitter, abandoned, query) in steps {
            now += advance / 100;
            let at = (now + jitter).max(0);
            ledger.record(at, abandoned);
            raw.push(AnswerRecord { answered_at_ms: at, abandoned });
            if query {
                let inc = ledger.counts(now);
                let full = recount(&raw, window, now);
                prop_assert_eq!(inc, full);
                prop_assert!((inc.rate() - full.rate()).abs() < 1e-15);
            }
        }
        let end = now + window.length_ms() / 2;
        prop_assert_eq!(ledger.counts(end), recount(&raw, window, end));
    }
}
