//! The progress bar backups, verifications and restores draw on stderr
//! when it is a terminal (silent otherwise, so scripts and logs stay clean).

use oml_backup::Progress;
use std::io::IsTerminal;

/// A progress bar on stderr when it is a terminal; silent otherwise.
pub struct Bar(std::sync::Mutex<Option<indicatif::ProgressBar>>, bool);

impl Bar {
    pub fn new() -> Self {
        Bar(std::sync::Mutex::new(None), std::io::stderr().is_terminal())
    }
}

impl Progress for Bar {
    fn start(&self, phase: &str, total: u64) {
        if !self.1 {
            return;
        }
        let pb = indicatif::ProgressBar::new(total);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>10} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb.set_message(phase.to_string());
        if let Ok(mut g) = self.0.lock() {
            *g = Some(pb);
        }
    }
    fn advance(&self, n: u64) {
        if let Ok(g) = self.0.lock() {
            if let Some(pb) = g.as_ref() {
                pb.inc(n);
            }
        }
    }
    fn finish(&self) {
        if let Ok(mut g) = self.0.lock() {
            if let Some(pb) = g.take() {
                pb.finish_and_clear();
            }
        }
    }
}
