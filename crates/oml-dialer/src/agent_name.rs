//! The name of the agent who took a call, read from Asterisk's
//! `AgentConnect`: the queue member's name (`MemberName`), else its
//! interface (`Interface`), as Asterisk gives it — trimmed, control
//! characters dropped and cut to [`MAX_AGENT_CHARS`], so what is stored and
//! shown is one clean line. Pure.

/// Longest agent name stored, in characters.
pub const MAX_AGENT_CHARS: usize = 80;

/// The agent named by an `AgentConnect`'s `MemberName` and `Interface`
/// fields; `None` when both are missing or blank.
pub fn agent_name(member_name: Option<&str>, interface: Option<&str>) -> Option<String> {
    [member_name, interface]
        .into_iter()
        .flatten()
        .find_map(|v| {
            let clean: String = v
                .trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_AGENT_CHARS)
                .collect();
            let clean = clean.trim_end();
            (!clean.is_empty()).then(|| clean.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_member_name_else_the_interface_cleaned() {
        assert_eq!(
            agent_name(Some(" Ana Pérez "), Some("PJSIP/1001")).as_deref(),
            Some("Ana Pérez")
        );
        assert_eq!(
            agent_name(Some("  "), Some("PJSIP/1001")).as_deref(),
            Some("PJSIP/1001"),
            "a blank member name falls back to the interface"
        );
        assert_eq!(
            agent_name(None, Some("Local/1001@agents/n")).as_deref(),
            Some("Local/1001@agents/n")
        );
        assert_eq!(agent_name(Some("a\r\nb\x07"), None).as_deref(), Some("ab"));
        assert_eq!(agent_name(None, None), None);
        assert_eq!(agent_name(Some(""), Some(" \t")), None);
        let long = "x".repeat(200);
        assert_eq!(
            agent_name(Some(&long), None).unwrap().chars().count(),
            MAX_AGENT_CHARS
        );
    }
}
