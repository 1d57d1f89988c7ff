//! The simulated customers: who answers, is busy, congested or never
//! picks up, how long each rings, and what the PBX reports when the ring
//! ends (OriginateResponse Reason, the hangup cause of each half). The
//! drawing is a pure function of the model and a seeded RNG.

use rand::Rng;

use crate::config::{CustomerModel, NumberOutcome};

/// Draws what a dialed customer does: the outcome (`forced` for a number
/// with a configured outcome or a call that cannot be placed, else by the
/// model's rates, the answer rate the one at `sim_s` simulated seconds
/// after the start) and the simulated seconds it rings before that outcome
/// shows. An answer that would come after the Originate `Timeout` is a
/// no-answer at the timeout.
pub(super) fn draw<R: Rng + ?Sized>(
    model: &CustomerModel,
    forced: Option<NumberOutcome>,
    timeout_s: f64,
    sim_s: f64,
    rng: &mut R,
) -> (f64, NumberOutcome) {
    let outcome = forced.unwrap_or_else(|| {
        let x: f64 = rng.gen();
        let answer = model.answer_rate_at(sim_s);
        if x < answer {
            NumberOutcome::Answer
        } else if x < answer + model.busy_rate {
            NumberOutcome::Busy
        } else if x < answer + model.busy_rate + model.congestion_rate {
            NumberOutcome::Congestion
        } else {
            NumberOutcome::NoAnswer
        }
    });
    match outcome {
        NumberOutcome::Answer => {
            let t = model.time_to_answer.sample(rng);
            if t < timeout_s {
                (t, NumberOutcome::Answer)
            } else {
                (timeout_s, NumberOutcome::NoAnswer)
            }
        }
        // At once, as Asterisk's Busy()/Congestion() and a trunk's 486/503.
        NumberOutcome::Busy => (0.0, NumberOutcome::Busy),
        NumberOutcome::Congestion => (0.0, NumberOutcome::Congestion),
        NumberOutcome::NoAnswer => (
            model.no_answer_after.sample(rng).min(timeout_s),
            NumberOutcome::NoAnswer,
        ),
        NumberOutcome::Fail => (0.0, NumberOutcome::Fail),
    }
}

/// What Asterisk reports for an outcome: the OriginateResponse `Reason`
/// and the customer leg's hangup cause.
pub(super) fn codes(outcome: NumberOutcome) -> (u32, u32) {
    match outcome {
        NumberOutcome::Answer => (4, 0),
        NumberOutcome::Busy => (5, 17),
        NumberOutcome::Congestion => (8, 34),
        NumberOutcome::NoAnswer => (3, 19),
        NumberOutcome::Fail => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use crate::config::NumberOutcome;
    use crate::world::number_of;
    use crate::world::testkit::{logged_in, world};

    #[test]
    fn busy_congestion_noanswer_fail() {
        let (mut w, t0) = world(1);
        let mut s = logged_in();
        for (n, o) in [
            ("1", NumberOutcome::Busy),
            ("2", NumberOutcome::Congestion),
            ("3", NumberOutcome::NoAnswer),
            ("4", NumberOutcome::Fail),
        ] {
            w.cfg.numbers.insert(n.into(), o);
        }
        let mut ev = Vec::new();
        for n in ["1", "2", "3", "4"] {
            let m = oml_ami::Originate::to_extension(&format!("Local/{n}@from-oml/n"), "c", "1")
                .to_message()
                .with("ActionID", n);
            w.handle(&mut s, &m, t0, &mut ev);
        }
        ev.clear();
        w.advance(t0 + Duration::from_secs(31), &mut ev);
        let mut reasons: Vec<(String, u32)> = ev
            .iter()
            .filter_map(oml_ami::OriginateResponse::from_message)
            .map(|o| (o.action_id.unwrap(), o.reason))
            .collect();
        reasons.sort();
        assert_eq!(
            reasons,
            [
                ("1".into(), 5),
                ("2".into(), 8),
                ("3".into(), 3),
                ("4".into(), 0)
            ]
        );
        // Per number: (cause of ;1, cause of ;2), as Asterisk reports a
        // Local channel pair: the customer's cause is on ;2.
        let mut causes: HashMap<String, (Option<u32>, Option<u32>)> = HashMap::new();
        for h in ev.iter().filter_map(oml_ami::Hangup::from_message) {
            let e = causes.entry(number_of(&h.channel)).or_default();
            if h.channel.ends_with(";1") {
                e.0 = Some(h.cause);
            } else {
                e.1 = Some(h.cause);
            }
        }
        assert_eq!(causes.len(), 3, "{causes:?}");
        assert_eq!(causes["1"], (Some(0), Some(17)));
        assert_eq!(causes["2"], (Some(0), Some(34)));
        assert_eq!(causes["3"], (Some(19), Some(19)));
        // A failed OriginateResponse names the dial string and, without
        // ChannelId, Uniqueid `<unknown>`.
        let busy = ev
            .iter()
            .find(|e| e.event_name() == Some("OriginateResponse") && e.action_id() == Some("1"))
            .unwrap();
        assert_eq!(busy.get("Channel"), Some("Local/1@from-oml/n"));
        assert_eq!(busy.get("Uniqueid"), Some("<unknown>"));
    }

    #[test]
    fn the_answer_rate_follows_its_schedule() {
        let (mut w, t0) = world(0);
        w.cfg.customers.busy_rate = 0.0;
        w.cfg.customers.congestion_rate = 0.0;
        w.cfg
            .customers
            .set_answer_rate(crate::parse_answer_rate("0@0,100%@1m").unwrap());
        let mut s = logged_in();
        let mut ev = Vec::new();
        let dial = |w: &mut crate::World, s: &mut crate::Session, at, ev: &mut Vec<_>| {
            for i in 0..20 {
                let m = oml_ami::Originate::to_extension(&format!("Local/{i}@x/n"), "c", "1")
                    .to_message();
                w.handle(s, &m, at, ev);
            }
            w.advance(at + Duration::from_secs(40), ev);
        };
        dial(&mut w, &mut s, t0, &mut ev);
        assert_eq!(w.stats().answered, 0, "before the change nobody answers");
        dial(&mut w, &mut s, t0 + Duration::from_secs(60), &mut ev);
        assert_eq!(w.stats().answered, 20, "after it everybody does");
    }

    #[test]
    fn same_seed_same_outcomes() {
        let run = || {
            let (mut w, t0) = world(2);
            let mut s = logged_in();
            let mut ev = Vec::new();
            for i in 0..50 {
                let m = oml_ami::Originate::to_extension(&format!("Local/{i}@x/n"), "c", "1")
                    .to_message();
                w.handle(&mut s, &m, t0, &mut ev);
            }
            w.advance(t0 + Duration::from_secs(3600), &mut ev);
            (w.stats(), ev.len())
        };
        assert_eq!(run(), run());
    }
}
