//! `oml campaign create|edit|show` and the call path settings (issue 18):
//! which settings a create or edit stores, and the lines `show` prints
//! (naming the rule a campaign without its abandon message breaks).

use super::campaign_call_path_args::CallPathFields;
use anyhow::Result;
use oml_store::call_path::abandon_message_breach;
use oml_store::{CallPath, Campaign, MachineHandling, Recording, Store};

/// The call path to store with a create (`campaign` `None`) or an edit:
/// `None` when no flag is given and the campaign has none stored (it stays
/// without), else the stored settings (or the defaults) with the flags
/// applied, which the store checks against the campaign's rule set. A
/// message naming an uploaded sound (in `sounds_dir`) is stored as
/// `oml/NAME`; `oml/NAME` of no uploaded sound is refused.
pub async fn wanted(
    store: &Store,
    fields: &CallPathFields,
    campaign: Option<&Campaign>,
    sounds_dir: &std::path::Path,
) -> Result<Option<CallPath>> {
    let stored = match campaign {
        Some(c) => store.call_path(c.id).await?,
        None => None,
    };
    if stored.is_none() && !fields.any() {
        return Ok(None);
    }
    let mut cp = stored.unwrap_or_default();
    fields.apply(&mut cp)?;
    // An uploaded sound's name becomes oml/NAME; oml/NAME must exist.
    for (flag, value) in [
        ("--machine-message", &mut cp.machine_sound),
        ("--welcome-message", &mut cp.welcome_sound),
        ("--abandon-message", &mut cp.abandon_sound),
    ] {
        *value = oml_ops::sounds::campaign_sound(sounds_dir, value)
            .map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    }
    Ok(Some(cp))
}

/// `show`'s lines for the call path.
pub fn lines(c: &Campaign, cp: Option<&CallPath>) -> Vec<String> {
    let none = CallPath::default();
    let p = cp.unwrap_or(&none);
    let or_none = |s: &str| {
        if s.is_empty() {
            "none".to_string()
        } else {
            s.to_string()
        }
    };
    let machines = match p.machine {
        MachineHandling::Off => "not detected (AMD off)".to_string(),
        MachineHandling::Hangup => format!("AMD({}), hang up", p.amd.to_args()),
        MachineHandling::Message => format!(
            "AMD({}), leave {} and hang up",
            p.amd.to_args(),
            p.machine_sound
        ),
    };
    let recording = match p.recording {
        Recording::Off => "off".to_string(),
        Recording::All => format!("all answered calls ({})", p.recording_format),
    };
    let mut abandon = or_none(&p.abandon_sound);
    if let Some(rule) = abandon_message_breach(c.mode, c.abandon_window, &p.abandon_sound) {
        abandon = format!("none: {rule}");
    }
    [
        ("machines", machines),
        ("recording", recording),
        ("welcome message", or_none(&p.welcome_sound)),
        ("abandon message", abandon),
    ]
    .into_iter()
    .map(|(k, v)| format!("  {k:<18}{v}"))
    .collect()
}
