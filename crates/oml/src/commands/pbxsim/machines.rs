//! `oml pbxsim`'s answering-machine flags (issue 18): how many answers are
//! machines, how long `AMD()` takes and how often it errs, how long the
//! messages play, and where recording campaigns' files go. Apart from
//! `pbxsim.rs` so each file keeps one concern; they fill
//! `oml_pbxsim::MachineModel` and `SimConfig::recordings`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args as ClapArgs;
use oml_pbxsim::{parse_fraction, Dist, SimConfig};

#[derive(ClapArgs, Debug)]
pub struct MachineArgs {
    /// Fraction of answers that come from an answering machine: 0.3 or
    /// 30%. Campaigns whose AstDB settings run AMD() (AMD yes, written by
    /// `oml regenerate-asterisk`) detect them.
    #[arg(long, default_value = "0", value_parser = parse_fraction)]
    machine_rate: f64,
    /// How long AMD() listens before its verdict, seconds: 3 | uniform:2:4.
    #[arg(long, default_value = "uniform:2:4")]
    amd_time: Dist,
    /// Fraction of people AMD() calls a machine (hung up on: counted
    /// abandoned by Ofcom).
    #[arg(long, default_value = "0", value_parser = parse_fraction)]
    amd_false_positive: f64,
    /// Fraction of machines AMD() calls a person (they reach the queue).
    #[arg(long, default_value = "0", value_parser = parse_fraction)]
    amd_false_negative: f64,
    /// How long a machine or abandon message plays, seconds.
    #[arg(long, default_value = "5")]
    message_time: Dist,
    /// Folder where recording campaigns' calls leave an empty file named as
    /// MixMonitor names it (dialer-<campaign>-<YYYYMMDD>-<number>-<uniqueid>.wav).
    #[arg(long, value_name = "DIR")]
    recordings: Option<PathBuf>,
}

impl MachineArgs {
    /// Puts the flags into `c`.
    pub fn apply(&self, c: &mut SimConfig) -> Result<()> {
        let m = &mut c.machines;
        m.rate = self.machine_rate;
        m.amd_time = self.amd_time;
        m.false_positive = self.amd_false_positive;
        m.false_negative = self.amd_false_negative;
        m.message_time = self.message_time;
        m.check()?;
        if let Some(dir) = &self.recordings {
            if !dir.is_dir() {
                bail!(
                    "--recordings {}: no such folder; create it first",
                    dir.display()
                );
            }
            c.recordings = Some(dir.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use secrecy::SecretString;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: MachineArgs,
    }

    fn parse(args: &[&str]) -> Result<SimConfig> {
        let t = T::try_parse_from(std::iter::once("pbxsim").chain(args.iter().copied()))?;
        let mut c = SimConfig::new("u", SecretString::from("x"), 1);
        t.a.apply(&mut c)?;
        Ok(c)
    }

    #[test]
    fn flags_fill_the_machine_model() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let m = parse(&[
            "--machine-rate",
            "30%",
            "--amd-time",
            "3",
            "--recordings",
            d,
        ])
        .unwrap();
        assert_eq!(
            (m.machines.rate, m.machines.amd_time),
            (0.3, Dist::Fixed(3.0))
        );
        assert_eq!(m.recordings.as_deref(), Some(dir.path()));
        assert_eq!(parse(&[]).unwrap().machines.rate, 0.0);
    }

    #[test]
    fn bad_flags_name_themselves() {
        assert!(parse(&["--machine-rate", "130%"]).is_err());
        let e = parse(&["--recordings", "/no/such/folder"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--recordings /no/such/folder"), "{e}");
    }
}
