//! What the agent page asks Asterisk (issue 19 item 2), pure: the
//! `QueueAdd`, `QueuePause` (with `Reason`) and `QueueRemove` actions for an
//! agent's interface `PJSIP/<extension>` and member name (their username,
//! which AgentConnect then reports and the engine stores as the call's
//! agent), which replies count as done (already there, not there), and the
//! pause reasons agents choose from.

use oml_ami::Message;

/// The setting holding the pause reasons, comma-separated.
pub const PAUSE_REASONS_SETTING: &str = "agent.pause_reasons";
/// The pause reasons when none are set.
pub const DEFAULT_PAUSE_REASONS: &str = "Break, Lunch, Training, Meeting";
/// The reason an agent is paused with right after logging in.
pub const LOGIN_REASON: &str = "Logged in";

/// The queue member interface of extension `ext`.
pub fn interface(ext: &str) -> String {
    format!("PJSIP/{ext}")
}

/// The pause reasons of setting text `text` (`None`: the default), trimmed,
/// blanks and repeats dropped, in the order given.
pub fn pause_reasons(text: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in text.unwrap_or(DEFAULT_PAUSE_REASONS).split(',') {
        let r = r.trim();
        if !r.is_empty() && !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    out
}

/// Pause reasons as an administrator gives them (comma-separated): each 1
/// to [`oml_store::MAX_REASON_LEN`] characters, at least one; the list to
/// store, or what to fix.
pub fn checked_pause_reasons(text: &str) -> Result<Vec<String>, String> {
    let list = pause_reasons(Some(text));
    if list.is_empty() {
        return Err("give at least one pause reason, e.g. \"Break, Lunch\"".into());
    }
    let max = oml_store::MAX_REASON_LEN;
    if let Some(long) = list.iter().find(|r| r.chars().count() > max) {
        return Err(format!(
            "pause reason \"{long}\" is longer than {max} characters"
        ));
    }
    Ok(list)
}

/// `QueueAdd` of the agent to `queue`, paused with [`LOGIN_REASON`] until
/// they say they are ready.
pub fn queue_add(queue: &str, iface: &str, member: &str) -> Message {
    Message::action("QueueAdd")
        .with("Queue", queue)
        .with("Interface", iface)
        .with("MemberName", member)
        .with("Paused", "true")
        .with("Reason", LOGIN_REASON)
}

/// `QueuePause` of the agent in every queue they are in: paused with
/// `reason`, or ready (`None`).
pub fn queue_pause(iface: &str, reason: Option<&str>) -> Message {
    let m = Message::action("QueuePause").with("Interface", iface);
    match reason {
        Some(r) => m.with("Paused", "true").with("Reason", r),
        None => m.with("Paused", "false"),
    }
}

/// `QueueRemove` of the agent from `queue`.
pub fn queue_remove(queue: &str, iface: &str) -> Message {
    Message::action("QueueRemove")
        .with("Queue", queue)
        .with("Interface", iface)
}

/// True when an error reply still leaves the agent where the action wanted
/// them (added twice, removed when not there).
pub fn already_done(action: &str, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    (action == "QueueAdd" && m.contains("already there"))
        || (action == "QueueRemove" && m.contains("not there"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_without_blanks_or_repeats() {
        assert_eq!(
            pause_reasons(Some(" Lunch ,, Break,Lunch ")),
            vec!["Lunch", "Break"]
        );
        assert_eq!(pause_reasons(None).len(), 4);
    }

    #[test]
    fn reasons_given_are_checked() {
        assert_eq!(
            checked_pause_reasons("Break, Coffee").unwrap(),
            vec!["Break", "Coffee"]
        );
        assert!(checked_pause_reasons(" , ")
            .unwrap_err()
            .contains("at least one"));
        let long = "x".repeat(41);
        assert!(checked_pause_reasons(&long)
            .unwrap_err()
            .contains("longer than 40"));
    }

    #[test]
    fn actions_carry_interface_member_and_reason() {
        let a = queue_add("sales", &interface("1001"), "ana");
        assert_eq!(a.get("Interface"), Some("PJSIP/1001"));
        assert_eq!(a.get("MemberName"), Some("ana"));
        assert_eq!(a.get("Paused"), Some("true"));
        let p = queue_pause("PJSIP/1001", Some("Lunch"));
        assert_eq!(
            (p.get("Paused"), p.get("Reason")),
            (Some("true"), Some("Lunch"))
        );
        assert_eq!(p.get("Queue"), None, "every queue of the interface");
        assert_eq!(queue_pause("PJSIP/1001", None).get("Paused"), Some("false"));
        assert_eq!(
            queue_remove("sales", "PJSIP/1001").get("Queue"),
            Some("sales")
        );
    }

    #[test]
    fn only_harmless_errors_count_as_done() {
        assert!(already_done(
            "QueueAdd",
            "Unable to add interface: Already there"
        ));
        assert!(already_done(
            "QueueRemove",
            "Unable to remove interface: Not there"
        ));
        assert!(!already_done(
            "QueueAdd",
            "Unable to add interface to queue: No such queue"
        ));
        assert!(!already_done("QueuePause", "Interface not found"));
    }
}
