//! What a campaign's answered calls go through in the rendered dialplan
//! (issue 18): answering-machine detection (Asterisk's `AMD()`) and what
//! happens to a machine, recording, the welcome message and the abandon
//! message played when no agent takes the call in time. Pure types and
//! their checks; stored by `call_path/db.rs`, written to AstDB by
//! `oml regenerate-asterisk`.

use crate::{AbandonWindow, CampaignMode, Result, StoreError};
use serde::Serialize;

pub mod db;

/// What happens to a call Asterisk's `AMD()` says a machine answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MachineHandling {
    /// No detection: every answer goes to the queue.
    #[default]
    Off,
    /// Detect and hang up on machines.
    Hangup,
    /// Detect and leave the machine sound, then hang up.
    Message,
}

/// Which calls are recorded (`MixMonitor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Recording {
    #[default]
    Off,
    /// Every answered call from the answer on.
    All,
}

/// The file format `MixMonitor` writes (`mp3` needs Asterisk's
/// format_mp3 module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordingFormat {
    #[default]
    Wav,
    Gsm,
    Mp3,
}

crate::dialer_config::text_enum!(MachineHandling { Off => "off", Hangup => "hangup", Message => "message" }, "answering machine handling");
crate::dialer_config::text_enum!(Recording { Off => "off", All => "all" }, "recording");
crate::dialer_config::text_enum!(RecordingFormat { Wav => "wav", Gsm => "gsm", Mp3 => "mp3" }, "recording format");

/// The arguments of Asterisk's `AMD()`, in its order, in milliseconds except
/// the word count and the silence threshold. The defaults are amd.conf's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AmdParams {
    pub initial_silence: u32,
    pub greeting: u32,
    pub after_greeting_silence: u32,
    pub total_analysis_time: u32,
    pub min_word_length: u32,
    pub between_words_silence: u32,
    pub maximum_number_of_words: u32,
    pub silence_threshold: u32,
    pub maximum_word_length: u32,
}

impl Default for AmdParams {
    fn default() -> Self {
        AmdParams {
            initial_silence: 2500,
            greeting: 1500,
            after_greeting_silence: 800,
            total_analysis_time: 5000,
            min_word_length: 100,
            between_words_silence: 50,
            maximum_number_of_words: 2,
            silence_threshold: 256,
            maximum_word_length: 5000,
        }
    }
}

/// The names `--amd` takes, in `AMD()`'s order, with their allowed range.
const AMD_FIELDS: [(&str, u32, u32); 9] = [
    ("initial_silence", 100, 20_000),
    ("greeting", 100, 20_000),
    ("after_greeting_silence", 100, 20_000),
    ("total_analysis_time", 500, 30_000),
    ("min_word_length", 10, 5_000),
    ("between_words_silence", 10, 5_000),
    ("maximum_number_of_words", 1, 100),
    ("silence_threshold", 1, 32_767),
    ("maximum_word_length", 100, 20_000),
];

impl AmdParams {
    fn values(&self) -> [u32; 9] {
        [
            self.initial_silence,
            self.greeting,
            self.after_greeting_silence,
            self.total_analysis_time,
            self.min_word_length,
            self.between_words_silence,
            self.maximum_number_of_words,
            self.silence_threshold,
            self.maximum_word_length,
        ]
    }

    /// `AMD()`'s argument list: `2500,1500,800,5000,100,50,2,256,5000`.
    pub fn to_args(&self) -> String {
        self.values().map(|v| v.to_string()).join(",")
    }

    /// Changes the settings named in `text`, `greeting=2000,total_analysis_time=4000`
    /// (names as in amd.conf), or replaces all nine from a bare list in
    /// `AMD()`'s order.
    pub fn apply(&mut self, text: &str) -> Result<()> {
        let mut v = self.values();
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let bare = parts.iter().all(|p| !p.contains('='));
        if bare && parts.len() != 9 {
            return Err(StoreError::invalid(
                "AMD parameters",
                format!(
                    "give NAME=MS pairs ({}) or all nine numbers in AMD()'s order",
                    AMD_FIELDS.map(|f| f.0).join(", ")
                ),
            ));
        }
        for (i, p) in parts.iter().enumerate() {
            let (idx, value) = if bare {
                (i, *p)
            } else {
                let (name, value) = p.split_once('=').ok_or_else(|| {
                    StoreError::invalid("AMD parameters", format!("`{p}` is not NAME=MS"))
                })?;
                let idx = AMD_FIELDS
                    .iter()
                    .position(|f| f.0 == name.trim())
                    .ok_or_else(|| {
                        StoreError::invalid(
                            "AMD parameters",
                            format!(
                                "`{name}` is not one of {}",
                                AMD_FIELDS.map(|f| f.0).join(", ")
                            ),
                        )
                    })?;
                (idx, value.trim())
            };
            let (name, lo, hi) = AMD_FIELDS[idx];
            v[idx] = value
                .parse::<u32>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| {
                    StoreError::invalid(
                        "AMD parameters",
                        format!("{name} `{value}` must be a whole number from {lo} to {hi}"),
                    )
                })?;
        }
        *self = AmdParams {
            initial_silence: v[0],
            greeting: v[1],
            after_greeting_silence: v[2],
            total_analysis_time: v[3],
            min_word_length: v[4],
            between_words_silence: v[5],
            maximum_number_of_words: v[6],
            silence_threshold: v[7],
            maximum_word_length: v[8],
        };
        Ok(())
    }

    /// Parses [`Self::to_args`]'s form; empty is the defaults.
    pub fn parse(text: &str) -> Result<AmdParams> {
        let mut p = AmdParams::default();
        if !text.trim().is_empty() {
            p.apply(text)?;
        }
        Ok(p)
    }
}

/// A campaign's call path settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CallPath {
    pub machine: MachineHandling,
    /// Played to a machine when `machine` is `message`.
    pub machine_sound: String,
    pub amd: AmdParams,
    pub recording: Recording,
    pub recording_format: RecordingFormat,
    /// Played to a person before the queue; empty for none.
    pub welcome_sound: String,
    /// Played when no agent takes the call within the campaign's abandon
    /// seconds, before hanging up.
    pub abandon_sound: String,
}

/// Checks a sound name Asterisk plays: `custom/oml-3-abandon`, `vm-goodbye`
/// (relative to its sounds folder, without extension).
pub fn check_sound(field: &'static str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Ok(());
    }
    if name.len() > 128 {
        return Err(StoreError::invalid(field, "longer than 128 characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.')))
    {
        return Err(StoreError::invalid(
            field,
            format!("`{name}`: character {c:?} is not allowed in a sound name (letters, digits, _ - . /)"),
        ));
    }
    if name.starts_with('/')
        || name
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(StoreError::invalid(
            field,
            format!("`{name}` must be a name under Asterisk's sounds folder, like custom/welcome"),
        ));
    }
    Ok(())
}

impl CallPath {
    /// Every sound the settings play, with the setting that names it.
    pub fn sounds(&self) -> Vec<(&'static str, &str)> {
        [
            ("machine message", self.machine_sound.as_str()),
            ("welcome message", self.welcome_sound.as_str()),
            ("abandon message", self.abandon_sound.as_str()),
        ]
        .into_iter()
        .filter(|(_, s)| !s.is_empty())
        .collect()
    }

    /// Checks the settings alone and against the campaign's rule set: a
    /// campaign that may abandon calls (progressive or predictive) needs
    /// an abandon message under both FCC and Ofcom rules, unless marked
    /// non-compliant.
    pub fn validate(
        &self,
        mode: CampaignMode,
        window: AbandonWindow,
        non_compliant: bool,
    ) -> Result<()> {
        check_sound("machine message", &self.machine_sound)?;
        check_sound("welcome message", &self.welcome_sound)?;
        check_sound("abandon message", &self.abandon_sound)?;
        match (self.machine, self.machine_sound.is_empty()) {
            (MachineHandling::Message, true) => {
                return Err(StoreError::invalid(
                    "machine message",
                    "answering machine handling `message` needs the sound to leave (--machine-message)",
                ))
            }
            (MachineHandling::Off | MachineHandling::Hangup, false) => {
                return Err(StoreError::invalid(
                    "machine message",
                    format!(
                        "a sound is set but answering machine handling is `{}`: use `message`, or clear the sound",
                        self.machine
                    ),
                ))
            }
            _ => {}
        }
        if self.amd.total_analysis_time < self.amd.initial_silence {
            return Err(StoreError::invalid(
                "AMD parameters",
                "total_analysis_time is shorter than initial_silence: AMD() would stop before a greeting can start",
            ));
        }
        if let Some(rule) = abandon_message_breach(mode, window, &self.abandon_sound) {
            if !non_compliant {
                return Err(StoreError::invalid(
                    "abandon message",
                    format!(
                        "{rule}; set one (--abandon-message), or mark the campaign non-compliant"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The rule a campaign without an abandon message breaks, if any.
pub fn abandon_message_breach(
    mode: CampaignMode,
    window: AbandonWindow,
    abandon_sound: &str,
) -> Option<String> {
    if mode == CampaignMode::Preview || !abandon_sound.is_empty() {
        return None;
    }
    let r = window.rule_set();
    Some(format!(
        "the {} rule ({}) requires {} on every abandoned call of a {mode} campaign",
        r.name, r.message_source, r.message
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amd_params_by_name_or_in_order() {
        let mut p = AmdParams::default();
        assert_eq!(p.to_args(), "2500,1500,800,5000,100,50,2,256,5000");
        p.apply("greeting=2000, total_analysis_time=4000").unwrap();
        assert_eq!(p.to_args(), "2500,2000,800,4000,100,50,2,256,5000");
        assert_eq!(AmdParams::parse(&p.to_args()).unwrap(), p);
        assert_eq!(AmdParams::parse("").unwrap(), AmdParams::default());
        let e = p.apply("greting=3").unwrap_err().to_string();
        assert!(e.contains("`greting` is not one of initial_silence"), "{e}");
        let e = p.apply("greeting=0").unwrap_err().to_string();
        assert!(
            e.contains("greeting `0` must be a whole number from 100"),
            "{e}"
        );
        let e = p.apply("1,2,3").unwrap_err().to_string();
        assert!(e.contains("all nine numbers"), "{e}");
        assert_eq!(p.greeting, 2000, "a refused change leaves the settings");
    }

    #[test]
    fn sound_names_stay_under_the_sounds_folder() {
        for ok in ["vm-goodbye", "custom/oml-3-abandon", "en/tt-monkeys", ""] {
            check_sound("welcome message", ok).unwrap();
        }
        for bad in [
            "../etc/passwd",
            "/tmp/x",
            "a//b",
            "a b",
            "x;Hangup",
            "a/./b",
        ] {
            let e = check_sound("welcome message", bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid welcome message"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_abandon_message_is_required_where_the_rules_say() {
        let none = CallPath::default();
        let e = none
            .validate(CampaignMode::Predictive, AbandonWindow::Us, false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("abandon message") && e.contains("FCC") && e.contains("64.1200(a)(7)"),
            "{e}"
        );
        let e = none
            .validate(CampaignMode::Progressive, AbandonWindow::Uk, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Ofcom"), "{e}");
        none.validate(CampaignMode::Preview, AbandonWindow::Us, false)
            .unwrap();
        none.validate(CampaignMode::Predictive, AbandonWindow::Us, true)
            .unwrap();
        let with = CallPath {
            abandon_sound: "custom/abandon".into(),
            ..CallPath::default()
        };
        with.validate(CampaignMode::Predictive, AbandonWindow::Uk, false)
            .unwrap();
    }

    #[test]
    fn a_machine_message_goes_with_handling_message() {
        let base = CallPath {
            abandon_sound: "a".into(),
            ..CallPath::default()
        };
        let msg = CallPath {
            machine: MachineHandling::Message,
            ..base.clone()
        };
        let e = msg
            .validate(CampaignMode::Predictive, AbandonWindow::Us, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--machine-message"), "{e}");
        let stray = CallPath {
            machine_sound: "m".into(),
            ..base.clone()
        };
        assert!(stray
            .validate(CampaignMode::Predictive, AbandonWindow::Us, false)
            .is_err());
        let ok = CallPath {
            machine: MachineHandling::Message,
            machine_sound: "m".into(),
            ..base
        };
        ok.validate(CampaignMode::Predictive, AbandonWindow::Us, false)
            .unwrap();
        assert_eq!(
            ok.sounds(),
            [("machine message", "m"), ("abandon message", "a")]
        );
    }
}
