//! What the dialplan template needs of a campaign's call path settings
//! (issue 18): whether to run `AMD()` and with which arguments, the sounds
//! to play, and the recording's format; [`entries`] are the same settings
//! as the AstDB values OMniLeads' dialplan reads (`AMD`, `AMDPLAY`, `REC`,
//! `WELCOMEPLAY`...). Pure.

use oml_store::{CallPath, MachineHandling, Recording};
use serde::Serialize;

/// The template's view of one campaign's call path.
#[derive(Debug, Serialize)]
pub(crate) struct CallPathView {
    /// Run `AMD()` (machine handling is not `off`).
    pub amd: bool,
    /// `AMD()`'s arguments.
    pub amd_args: String,
    /// Sound left on machines (empty: hang up).
    pub machine_message: String,
    /// Record with `MixMonitor`.
    pub record: bool,
    pub rec_format: &'static str,
    pub welcome: String,
    pub abandon: String,
}

/// A sound name as dialplan text (the store allows only letters, digits
/// and `_ - . /`; anything else is dropped here too).
fn sound(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        .collect()
}

pub(crate) fn view(cp: &CallPath) -> CallPathView {
    CallPathView {
        amd: cp.machine != MachineHandling::Off,
        amd_args: cp.amd.to_args(),
        machine_message: sound(&cp.machine_sound),
        record: cp.recording == Recording::All,
        rec_format: cp.recording_format.as_str(),
        welcome: sound(&cp.welcome_sound),
        abandon: sound(&cp.abandon_sound),
    }
}

/// The AstDB values under `OML/CAMP/<id>/`, as (key, value).
pub(crate) fn entries(cp: &CallPath) -> Vec<(&'static str, String)> {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    vec![
        ("AMD", yes_no(cp.machine != MachineHandling::Off)),
        ("AMDACTION", cp.machine.as_str().to_string()),
        ("AMDPARAMS", cp.amd.to_args()),
        ("AMDPLAY", cp.machine_sound.clone()),
        ("REC", yes_no(cp.recording == Recording::All)),
        ("RECFORMAT", cp.recording_format.as_str().to_string()),
        ("WELCOMEPLAY", cp.welcome_sound.clone()),
        ("ABANDONPLAY", cp.abandon_sound.clone()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_carry_the_real_values() {
        let off = entries(&CallPath::default());
        assert!(off.contains(&("AMD", "no".into())) && off.contains(&("REC", "no".into())));
        let cp = CallPath {
            machine: MachineHandling::Message,
            machine_sound: "custom/m".into(),
            recording: Recording::All,
            welcome_sound: "custom/w".into(),
            abandon_sound: "custom/a".into(),
            ..CallPath::default()
        };
        let e = entries(&cp);
        for want in [
            ("AMD", "yes"),
            ("AMDACTION", "message"),
            ("AMDPLAY", "custom/m"),
            ("REC", "yes"),
            ("WELCOMEPLAY", "custom/w"),
            ("ABANDONPLAY", "custom/a"),
            ("AMDPARAMS", "2500,1500,800,5000,100,50,2,256,5000"),
        ] {
            assert!(
                e.contains(&(want.0, want.1.to_string())),
                "{want:?} in {e:?}"
            );
        }
        let v = view(&cp);
        assert!(v.amd && v.record && v.machine_message == "custom/m");
        assert_eq!(sound("a;b/c)"), "ab/c");
    }
}
