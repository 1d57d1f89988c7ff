//! The call path flags of `oml campaign create|edit` (issue 18): answering
//! machine detection, recording, the welcome and abandon messages, and how
//! they apply onto a campaign's [`CallPath`]. Pure, tested without a store.

use anyhow::{Context, Result};
use clap::Args;
use oml_store::{CallPath, MachineHandling, Recording, RecordingFormat};

/// What answered calls go through; absent flags keep the stored value.
#[derive(Args, Default)]
pub struct CallPathFields {
    /// Answering machines: off (no detection), hangup, or message (leave
    /// --machine-message, then hang up) [create: off].
    #[arg(long, value_name = "off|hangup|message")]
    pub machine: Option<MachineHandling>,
    /// Sound left on answering machines with --machine message: an
    /// uploaded sound (`oml sound add`; stored as oml/NAME) or a name under
    /// Asterisk's sounds folder without extension (custom/machine).
    #[arg(long, value_name = "SOUND")]
    pub machine_message: Option<String>,
    /// Asterisk AMD() settings in milliseconds by amd.conf's names, e.g.
    /// greeting=2000,total_analysis_time=4000 [create: amd.conf's defaults].
    #[arg(long, value_name = "NAME=MS,...")]
    pub amd: Option<String>,
    /// Record answered calls: off or all [create: off].
    #[arg(long, value_name = "off|all")]
    pub recording: Option<Recording>,
    /// Recording file format: wav, gsm or mp3 (mp3 needs Asterisk's
    /// format_mp3) [create: wav].
    #[arg(long, value_name = "wav|gsm|mp3")]
    pub recording_format: Option<RecordingFormat>,
    /// Sound played to a person before the queue (an uploaded sound or an
    /// Asterisk sound, as --machine-message); "" for none.
    #[arg(long, value_name = "SOUND")]
    pub welcome_message: Option<String>,
    /// Sound played when no agent takes the call within the abandon
    /// seconds, then the call hangs up; required by the FCC and Ofcom rules
    /// for progressive and predictive campaigns (an uploaded sound or an
    /// Asterisk sound, as --machine-message).
    #[arg(long, value_name = "SOUND")]
    pub abandon_message: Option<String>,
    /// Share of AMD()'s machine verdicts that were really people (5% or
    /// 0.05): under the uk (Ofcom) rule set this share of machine answers
    /// counts as abandoned calls [default: 5%].
    #[arg(long, value_name = "PERCENT")]
    pub amd_false_positives: Option<String>,
}

impl CallPathFields {
    /// The AMD false positive rate given (`--amd-false-positives`),
    /// checked before anything is stored.
    pub fn false_positive_rate(&self) -> Result<Option<f64>> {
        self.amd_false_positives
            .as_deref()
            .map(|t| {
                oml_store::amd_false_positives::parse_rate(t)
                    .with_context(|| format!("--amd-false-positives `{t}`"))
            })
            .transpose()
    }

    /// True when any call path flag is given.
    pub fn any(&self) -> bool {
        self.machine.is_some()
            || self.machine_message.is_some()
            || self.amd.is_some()
            || self.recording.is_some()
            || self.recording_format.is_some()
            || self.welcome_message.is_some()
            || self.abandon_message.is_some()
    }

    /// Applies the flags given onto `cp`. Turning machine handling off or
    /// to hangup drops the machine message unless one is given.
    pub fn apply(&self, cp: &mut CallPath) -> Result<()> {
        if let Some(m) = self.machine {
            cp.machine = m;
            if m != MachineHandling::Message {
                cp.machine_sound.clear();
            }
        }
        if let Some(s) = &self.machine_message {
            cp.machine_sound = s.trim().to_string();
        }
        if let Some(a) = &self.amd {
            cp.amd.apply(a).with_context(|| format!("--amd `{a}`"))?;
        }
        if let Some(r) = self.recording {
            cp.recording = r;
        }
        if let Some(f) = self.recording_format {
            cp.recording_format = f;
        }
        if let Some(s) = &self.welcome_message {
            cp.welcome_sound = s.trim().to_string();
        }
        if let Some(s) = &self.abandon_message {
            cp.abandon_sound = s.trim().to_string();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_change_only_what_is_given() {
        let mut cp = CallPath::default();
        CallPathFields::default().apply(&mut cp).unwrap();
        assert_eq!(cp, CallPath::default());
        assert!(!CallPathFields::default().any());
        let f = CallPathFields {
            machine: Some(MachineHandling::Message),
            machine_message: Some("custom/machine".into()),
            amd: Some("greeting=2000".into()),
            recording: Some(Recording::All),
            abandon_message: Some("custom/abandon".into()),
            ..CallPathFields::default()
        };
        assert!(f.any());
        f.apply(&mut cp).unwrap();
        assert_eq!(cp.machine_sound, "custom/machine");
        assert_eq!(cp.amd.greeting, 2000);
        assert_eq!(cp.recording_format, RecordingFormat::Wav);
        let hangup = CallPathFields {
            machine: Some(MachineHandling::Hangup),
            ..CallPathFields::default()
        };
        hangup.apply(&mut cp).unwrap();
        assert_eq!(cp.machine_sound, "", "hangup drops the machine message");
        assert_eq!(cp.abandon_sound, "custom/abandon");
        let bad = CallPathFields {
            amd: Some("greeting=1".into()),
            ..CallPathFields::default()
        };
        let e = format!("{:#}", bad.apply(&mut cp).unwrap_err());
        assert!(
            e.contains("--amd `greeting=1`") && e.contains("from 100"),
            "{e}"
        );
    }
}
