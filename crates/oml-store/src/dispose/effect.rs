//! What a disposition does to its contact, decided without the database:
//! the contact's next state and time, and whether a callback opens or the
//! number goes on a do-not-call list. Pure, so the rules are tested alone.

use crate::dialing::contact_state;
use crate::dispositions::{Disposition, DncTarget};
use crate::{Result, StoreError};

/// The longest a callback may be scheduled ahead (one year).
pub const MAX_CALLBACK_AHEAD_MS: i64 = 366 * 86_400_000;

/// The contact's change after a disposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    /// `done`, `pending` or `dnc`.
    pub state: &'static str,
    /// When `pending`: when it is due again (epoch ms).
    pub next_attempt_at: i64,
    /// A callback opens at this time (epoch ms).
    pub callback_at: Option<i64>,
    /// The number goes on this list.
    pub dnc: DncTarget,
}

/// Decides what `d` given at `now` does; `callback_at` is the time the
/// agent chose (required exactly when `d` schedules a callback).
pub fn effect(d: &Disposition, callback_at: Option<i64>, now: i64) -> Result<Effect> {
    match (d.callback, callback_at) {
        (true, None) => {
            return Err(StoreError::invalid(
                "callback time",
                format!("`{}` schedules a callback: give its date and time", d.name),
            ))
        }
        (false, Some(_)) => {
            return Err(StoreError::invalid(
                "callback time",
                format!(
                    "`{}` does not schedule a callback: leave the time empty",
                    d.name
                ),
            ))
        }
        (true, Some(at)) if at <= now => {
            return Err(StoreError::invalid(
                "callback time",
                "is not in the future: choose a later date and time",
            ))
        }
        (true, Some(at)) if at - now > MAX_CALLBACK_AHEAD_MS => {
            return Err(StoreError::invalid(
                "callback time",
                "is more than a year ahead: choose an earlier date",
            ))
        }
        _ => {}
    }
    let (state, next_attempt_at) = if d.dnc != DncTarget::No {
        (contact_state::DNC, 0)
    } else if let Some(at) = callback_at {
        (contact_state::PENDING, at)
    } else if d.is_final {
        (contact_state::DONE, 0)
    } else {
        (
            contact_state::PENDING,
            now.saturating_add(d.retry_after_s.saturating_mul(1000)),
        )
    };
    Ok(Effect {
        state,
        next_attempt_at,
        callback_at,
        dnc: d.dnc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(is_final: bool, callback: bool, dnc: DncTarget) -> Disposition {
        Disposition {
            name: "x".into(),
            is_final,
            callback,
            dnc,
            retry_after_s: 600,
        }
    }

    #[test]
    fn each_kind_moves_the_contact() {
        let now = 1_000_000;
        let fin = effect(&d(true, false, DncTarget::No), None, now).unwrap();
        assert_eq!((fin.state, fin.callback_at), ("done", None));
        let again = effect(&d(false, false, DncTarget::No), None, now).unwrap();
        assert_eq!((again.state, again.next_attempt_at), ("pending", 1_600_000));
        let cb = effect(&d(false, true, DncTarget::No), Some(now + 5), now).unwrap();
        assert_eq!(
            (cb.state, cb.next_attempt_at, cb.callback_at),
            ("pending", now + 5, Some(now + 5))
        );
        let dnc = effect(&d(false, false, DncTarget::Global), None, now).unwrap();
        assert_eq!((dnc.state, dnc.dnc), ("dnc", DncTarget::Global));
    }

    #[test]
    fn callback_times_are_checked() {
        let cb = d(false, true, DncTarget::No);
        for (at, says) in [
            (None, "give its date"),
            (Some(10), "not in the future"),
            (Some(100 + MAX_CALLBACK_AHEAD_MS + 1), "year"),
        ] {
            let e = effect(&cb, at, 100).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
        let plain = d(true, false, DncTarget::No);
        let e = effect(&plain, Some(200), 100).unwrap_err().to_string();
        assert!(e.contains("leave the time empty"), "{e}");
    }
}
