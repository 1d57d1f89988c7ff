//! The order in which a failed call's events reach AMI clients. Asterisk
//! raises a failed Local call's `Newchannel`s, its `OriginateResponse` and
//! the two `Hangup`s from different threads, so their order varies from call
//! to call. Measured on the bench's Asterisk 22 (bursts of 30 to 60
//! originates, see docs/pbxsim-fidelity.md), per 100 failed calls:
//!
//! - busy or congestion at once: the `OriginateResponse` comes before the
//!   `;1` `Newchannel` about 6 times, between the two `Newchannel`s 4,
//!   before both `Hangup`s 60, between them 18, after both 12; the `;1`
//!   `Hangup` comes before the `;2` one about 60 times;
//! - after ringing (no answer, or a `Hangup` action while ringing): the
//!   `OriginateResponse` comes before both `Hangup`s about 50 times,
//!   between them 10, after both 40; `;1` first about 45 times.
//!
//! `Newchannel` `;1` always precedes `;2`, and both precede the `Hangup`s.
//! The draw is pure (a seeded RNG in, a list out), so a seed repeats a run.

use rand::Rng;

/// One item of a failed call's end, in the order it is to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Step {
    /// `Newchannel` of the originated `;1` half (immediate failures only:
    /// otherwise it went out at Originate).
    Newchannel1,
    /// `Newchannel` of the customer `;2` half, with its `Newstate`.
    Newchannel2,
    /// The `OriginateResponse`.
    Response,
    /// `Hangup` of the `;1` half.
    Hangup1,
    /// `Hangup` of the `;2` half.
    Hangup2,
}

/// Weights of the `OriginateResponse`'s place: before `Newchannel` `;1`,
/// between the `Newchannel`s, before both `Hangup`s, between them, after
/// both.
const IMMEDIATE: [u32; 5] = [6, 4, 60, 18, 12];
const AFTER_RING: [u32; 5] = [0, 0, 50, 10, 40];

/// Draws the order of a failed call's events. `immediate`: the call failed
/// at once (busy, congestion), so its `Newchannel`s are part of the draw;
/// otherwise they went out at Originate and only the response and the two
/// hangups are ordered.
pub(super) fn failed<R: Rng + ?Sized>(immediate: bool, rng: &mut R) -> Vec<Step> {
    let (weights, first_one) = if immediate {
        (IMMEDIATE, 60)
    } else {
        (AFTER_RING, 45)
    };
    let total: u32 = weights.iter().sum();
    let mut x = rng.gen_range(0..total);
    let mut place = 0;
    while x >= weights[place] {
        x -= weights[place];
        place += 1;
    }
    let mut out = Vec::with_capacity(5);
    if immediate {
        out.extend([Step::Newchannel1, Step::Newchannel2]);
    }
    if rng.gen_range(0..100) < first_one {
        out.extend([Step::Hangup1, Step::Hangup2]);
    } else {
        out.extend([Step::Hangup2, Step::Hangup1]);
    }
    let at = if immediate { place } else { place - 2 };
    out.insert(at, Step::Response);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::{failed, Step};

    fn pos(v: &[Step], s: Step) -> usize {
        v.iter().position(|x| *x == s).expect("present")
    }

    #[test]
    fn every_order_is_one_asterisk_sends() {
        let mut rng = StdRng::seed_from_u64(7);
        for immediate in [true, false] {
            let mut seen = HashSet::new();
            for _ in 0..2000 {
                let o = failed(immediate, &mut rng);
                assert_eq!(o.iter().filter(|s| **s == Step::Response).count(), 1);
                assert_eq!(o.iter().filter(|s| **s == Step::Hangup1).count(), 1);
                assert_eq!(o.iter().filter(|s| **s == Step::Hangup2).count(), 1);
                let news =
                    [Step::Newchannel1, Step::Newchannel2].map(|n| o.iter().position(|s| *s == n));
                if immediate {
                    let (Some(n1), Some(n2)) = (news[0], news[1]) else {
                        panic!("{o:?}")
                    };
                    // ;1 before ;2, both before either hangup.
                    assert!(n1 < n2, "{o:?}");
                    assert!(n2 < pos(&o, Step::Hangup1), "{o:?}");
                    assert!(n2 < pos(&o, Step::Hangup2), "{o:?}");
                } else {
                    assert_eq!(news, [None, None], "{o:?}");
                }
                seen.insert(o);
            }
            // Both hangup orders, with the response before, between and
            // after them (and, when immediate, before the Newchannels).
            let expected = if immediate { 10 } else { 6 };
            assert_eq!(seen.len(), expected, "{seen:?}");
        }
    }

    #[test]
    fn same_seed_same_orders() {
        let run = || {
            let mut rng = StdRng::seed_from_u64(3);
            (0..50).map(|_| failed(true, &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
