//! Typed views of the AMI events the dialer acts on: `OriginateResponse`
//! (with its `Reason` mapped to an outcome) and `Hangup` (with its `Cause`).
//! They borrow nothing: built from a [`Message`], they outlive it.

use crate::message::Message;

/// What happened to an originated call, from `OriginateResponse`'s `Reason`
/// (Asterisk's last control frame: 0 nothing/failed, 1 hang-up, 3 ringing
/// until the timeout, 4 answer, 5 busy, 8 congestion).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OriginateOutcome {
    /// Reason 0: the call could not be placed at all.
    Failed,
    /// Reason 1: the far end hung up before answering.
    HungUp,
    /// Reason 3: rang until the timeout, no answer.
    NoAnswer,
    /// Reason 4: answered.
    Answered,
    /// Reason 5: busy.
    Busy,
    /// Reason 8: congestion (no route, trunk full).
    Congestion,
    /// Any other code, kept as is.
    Other(u32),
}

impl OriginateOutcome {
    /// Maps an `OriginateResponse` `Reason` code.
    pub fn from_reason(code: u32) -> Self {
        match code {
            0 => Self::Failed,
            1 => Self::HungUp,
            3 => Self::NoAnswer,
            4 => Self::Answered,
            5 => Self::Busy,
            8 => Self::Congestion,
            n => Self::Other(n),
        }
    }

    /// The `Reason` code this outcome came from.
    pub fn reason_code(self) -> u32 {
        match self {
            Self::Failed => 0,
            Self::HungUp => 1,
            Self::NoAnswer => 3,
            Self::Answered => 4,
            Self::Busy => 5,
            Self::Congestion => 8,
            Self::Other(n) => n,
        }
    }
}

/// An `OriginateResponse` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginateResponse {
    /// ActionID of the `Originate` it answers.
    pub action_id: Option<String>,
    /// `Success` or `Failure`.
    pub success: bool,
    /// Channel name.
    pub channel: String,
    /// `Uniqueid` of the channel; `None` when the peer sent `<null>` or
    /// `<unknown>` (a failed Originate without `ChannelId`).
    pub uniqueid: Option<String>,
    /// Raw `Reason` code.
    pub reason: u32,
    /// Mapped outcome.
    pub outcome: OriginateOutcome,
}

impl OriginateResponse {
    /// Reads an `OriginateResponse` event; `None` for other messages.
    pub fn from_message(m: &Message) -> Option<Self> {
        if !m.event_name()?.eq_ignore_ascii_case("OriginateResponse") {
            return None;
        }
        let reason = m
            .get("Reason")
            .and_then(|r| r.trim().parse().ok())
            .unwrap_or(0);
        Some(Self {
            action_id: m.action_id().map(str::to_owned),
            success: m
                .get("Response")
                .is_some_and(|r| r.eq_ignore_ascii_case("Success")),
            channel: m.get("Channel").unwrap_or_default().to_owned(),
            uniqueid: m
                .get("Uniqueid")
                // Asterisk 22 says `<unknown>` on a failed Originate
                // without ChannelId; older ones said `<null>`.
                .filter(|u| !u.is_empty() && *u != "<null>" && *u != "<unknown>")
                .map(str::to_owned),
            reason,
            outcome: OriginateOutcome::from_reason(reason),
        })
    }
}

/// A `Hangup` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hangup {
    /// Channel name.
    pub channel: String,
    /// `Uniqueid`.
    pub uniqueid: String,
    /// `Linkedid` (the call this channel belongs to).
    pub linkedid: Option<String>,
    /// Q.850 cause code (16 normal clearing, 17 busy, 19 no answer, ...).
    pub cause: u32,
    /// `Cause-txt`.
    pub cause_txt: String,
}

impl Hangup {
    /// Reads a `Hangup` event; `None` for other messages.
    pub fn from_message(m: &Message) -> Option<Self> {
        if !m.event_name()?.eq_ignore_ascii_case("Hangup") {
            return None;
        }
        Some(Self {
            channel: m.get("Channel").unwrap_or_default().to_owned(),
            uniqueid: m.get("Uniqueid").unwrap_or_default().to_owned(),
            linkedid: m.get("Linkedid").map(str::to_owned),
            cause: m
                .get("Cause")
                .and_then(|c| c.trim().parse().ok())
                .unwrap_or(0),
            cause_txt: m.get("Cause-txt").unwrap_or_default().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_map() {
        for (c, o) in [
            (0, OriginateOutcome::Failed),
            (1, OriginateOutcome::HungUp),
            (3, OriginateOutcome::NoAnswer),
            (4, OriginateOutcome::Answered),
            (5, OriginateOutcome::Busy),
            (8, OriginateOutcome::Congestion),
            (2, OriginateOutcome::Other(2)),
        ] {
            assert_eq!(OriginateOutcome::from_reason(c), o);
            assert_eq!(o.reason_code(), c);
        }
    }

    #[test]
    fn parses_originate_response_and_hangup() {
        let m = Message::event("OriginateResponse")
            .with("ActionID", "a1")
            .with("Response", "Failure")
            .with("Channel", "Local/1@x")
            .with("Reason", "5")
            .with("Uniqueid", "<null>");
        let o = OriginateResponse::from_message(&m).unwrap();
        assert_eq!(o.outcome, OriginateOutcome::Busy);
        assert!(!o.success);
        assert_eq!(o.uniqueid, None);
        let mut m22 = m.clone();
        m22.set("Uniqueid", "<unknown>");
        assert_eq!(
            OriginateResponse::from_message(&m22).unwrap().uniqueid,
            None
        );
        assert_eq!(o.action_id.as_deref(), Some("a1"));
        let h = Message::event("Hangup")
            .with("Channel", "c")
            .with("Uniqueid", "1.1")
            .with("Cause", "17")
            .with("Cause-txt", "User busy");
        let h = Hangup::from_message(&h).unwrap();
        assert_eq!((h.cause, h.cause_txt.as_str()), (17, "User busy"));
        assert!(Hangup::from_message(&m).is_none());
    }
}
