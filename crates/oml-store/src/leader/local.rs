//! Leases of dead processes on this machine. A holder token names its
//! process: node name, the process space it runs in (the kernel's boot id
//! and its PID namespace) and its PID. A process that finds a lease held
//! by a PID of its own process space that no longer exists knows the
//! holder is dead (killed, crashed) and may take the lease at once instead
//! of waiting for its expiry: a dead process writes nothing. Anything else
//! (another host, another container, a PID that exists, even reused) is
//! treated as alive, so the rule can only shorten a wait, never cause two
//! holders.

use std::path::Path;

/// This process's space: `<boot id>/<pid namespace>`, `None` when unknown.
pub(crate) fn scope() -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let ns = ns
        .to_str()?
        .trim_start_matches("pid:")
        .trim_matches(['[', ']']);
    let boot = boot.trim();
    (!boot.is_empty() && !ns.is_empty()).then(|| format!("{boot}/{ns}"))
}

/// A new holder token for `node` in this process.
pub(crate) fn token(node: &str) -> String {
    let scope = scope().unwrap_or_else(|| "-".into());
    format!(
        "{node}#{scope}#{}#{:016x}",
        std::process::id(),
        rand::random::<u64>()
    )
}

/// The process space and PID a holder token names.
fn parse(holder: &str) -> Option<(&str, u32)> {
    let mut parts = holder.rsplitn(4, '#');
    let _random = parts.next()?;
    let pid = parts.next()?.parse().ok()?;
    let scope = parts.next()?;
    parts.next()?; // the node name
    Some((scope, pid))
}

/// Whether `holder` is a process of the process space `mine` that no
/// longer runs (looked up under `proc`).
pub(crate) fn dead_here(holder: &str, mine: Option<&str>, proc: &Path) -> bool {
    match (parse(holder), mine) {
        (Some((scope, pid)), Some(mine)) if scope == mine && scope != "-" => {
            !proc.join(pid.to_string()).exists()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_vanished_pid_of_this_process_space_is_dead() {
        let mine = scope().expect("Linux gives a boot id and a PID namespace");
        let me = token("a#b");
        assert!(me.starts_with(&format!("a#b#{mine}#{}#", std::process::id())));
        let proc = Path::new("/proc");
        assert!(!dead_here(&me, Some(&mine), proc), "this process runs");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id();
        child.wait().unwrap();
        let dead = format!("n#{mine}#{gone}#00");
        assert!(dead_here(&dead, Some(&mine), proc));
        // Another machine, container or an unknown space: alive for all we know.
        assert!(!dead_here(
            &format!("n#other/1#{gone}#00"),
            Some(&mine),
            proc
        ));
        assert!(!dead_here(&format!("n#-#{gone}#00"), Some("-"), proc));
        assert!(!dead_here(&dead, None, proc));
        assert!(!dead_here("old-style-token", Some(&mine), proc));
    }
}
