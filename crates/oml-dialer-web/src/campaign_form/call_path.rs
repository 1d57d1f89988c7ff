//! The call path part of the console's campaign form (issue 18): answering
//! machines, AMD settings, recording and the welcome and abandon messages,
//! as `oml campaign create|edit` takes them. Every field is text so a
//! refused form comes back as typed; empty fields are the defaults (off).

use oml_store::{AmdParams, CallPath, MachineHandling, Recording, RecordingFormat};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct CallPathForm {
    pub machine: String,
    pub machine_message: String,
    pub amd: String,
    pub recording: String,
    pub recording_format: String,
    pub welcome_message: String,
    pub abandon_message: String,
}

impl CallPathForm {
    /// The form showing a campaign's stored settings (`None`: the defaults).
    pub fn of(cp: Option<&CallPath>) -> CallPathForm {
        let d = CallPath::default();
        let cp = cp.unwrap_or(&d);
        CallPathForm {
            machine: cp.machine.as_str().into(),
            machine_message: cp.machine_sound.clone(),
            amd: cp.amd.to_args(),
            recording: cp.recording.as_str().into(),
            recording_format: cp.recording_format.as_str().into(),
            welcome_message: cp.welcome_sound.clone(),
            abandon_message: cp.abandon_sound.clone(),
        }
    }

    /// The settings to store: `None` when the campaign has none stored and
    /// the form asks for nothing beyond the defaults (it stays without, as
    /// the command line does); the first problem found, named, otherwise.
    /// The store checks them against the campaign's rule set.
    pub fn apply(&self, stored: bool) -> Result<Option<CallPath>, String> {
        fn or<T: std::str::FromStr<Err = oml_store::StoreError>>(
            text: &str,
            default: T,
        ) -> Result<T, String> {
            match text.trim() {
                "" => Ok(default),
                t => t.parse().map_err(|e: oml_store::StoreError| e.to_string()),
            }
        }
        let cp = CallPath {
            machine: or(&self.machine, MachineHandling::Off)?,
            machine_sound: self.machine_message.trim().to_string(),
            amd: AmdParams::parse(&self.amd).map_err(|e| e.to_string())?,
            recording: or(&self.recording, Recording::Off)?,
            recording_format: or(&self.recording_format, RecordingFormat::Wav)?,
            welcome_sound: self.welcome_message.trim().to_string(),
            abandon_sound: self.abandon_message.trim().to_string(),
        };
        Ok((stored || cp != CallPath::default()).then_some(cp))
    }
}

/// The messages of `cp` with uploaded sounds resolved (a bare name of an
/// uploaded sound becomes `oml/NAME`; `oml/NAME` of none is refused), as
/// `oml campaign create|edit` does.
pub fn uploaded_sounds(
    cp: Option<CallPath>,
    dir: &std::path::Path,
) -> Result<Option<CallPath>, String> {
    let Some(mut cp) = cp else { return Ok(None) };
    for (field, value) in [
        ("Machine message", &mut cp.machine_sound),
        ("Welcome message", &mut cp.welcome_sound),
        ("Abandon message", &mut cp.abandon_sound),
    ] {
        *value =
            oml_ops::sounds::campaign_sound(dir, value).map_err(|e| format!("{field}: {e}"))?;
    }
    Ok(Some(cp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_the_form_and_defaults_store_nothing() {
        assert_eq!(CallPathForm::default().apply(false).unwrap(), None);
        assert_eq!(
            CallPathForm::of(None).apply(false).unwrap(),
            None,
            "the defaults shown store nothing"
        );
        assert_eq!(
            CallPathForm::default().apply(true).unwrap(),
            Some(CallPath::default())
        );
        let cp = CallPath {
            machine: MachineHandling::Message,
            machine_sound: "custom/m".into(),
            recording: Recording::All,
            recording_format: RecordingFormat::Mp3,
            abandon_sound: "custom/a".into(),
            amd: AmdParams::parse("greeting=2000").unwrap(),
            ..CallPath::default()
        };
        assert_eq!(CallPathForm::of(Some(&cp)).apply(false).unwrap(), Some(cp));
        let bad = CallPathForm {
            machine: "voicemail".into(),
            ..CallPathForm::default()
        };
        assert!(bad
            .apply(false)
            .unwrap_err()
            .contains("answering machine handling"));
        let bad = CallPathForm {
            amd: "greeting=1".into(),
            ..CallPathForm::default()
        };
        assert!(bad.apply(false).unwrap_err().contains("AMD parameters"));
    }
}
