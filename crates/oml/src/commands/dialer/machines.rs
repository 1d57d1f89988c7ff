//! `oml dialer simulate`'s answering-machine options, apart from the other
//! floor parameters so that the command file stays short.

use clap::Args;
use oml_pacing::overrides::MachineOverrides;

#[derive(Args)]
pub struct MachineArgs {
    /// Share of answers given by answering machines: 0.3 or 30% (default 0).
    #[arg(long, allow_hyphen_values = true)]
    machine_rate: Option<String>,
    /// Turns answering-machine detection on, with its decision time in
    /// seconds: const(3), U(2,4) (a machine holds a line that long and takes
    /// no agent). Without it every machine is put through to an agent.
    #[arg(long, allow_hyphen_values = true)]
    amd_time: Option<String>,
    /// Share of persons the AMD takes for machines (hung up on: abandoned calls).
    #[arg(long, allow_hyphen_values = true)]
    amd_false_positive: Option<String>,
    /// Share of machines the AMD takes for persons (put through to an agent).
    #[arg(long, allow_hyphen_values = true)]
    amd_false_negative: Option<String>,
    /// Agent time on a machine put through, seconds (default U(5,15)).
    #[arg(long, allow_hyphen_values = true)]
    machine_talk: Option<String>,
}

impl MachineArgs {
    pub fn overrides(&self) -> MachineOverrides {
        MachineOverrides {
            rate: self.machine_rate.clone(),
            amd_time: self.amd_time.clone(),
            false_positive: self.amd_false_positive.clone(),
            false_negative: self.amd_false_negative.clone(),
            machine_talk: self.machine_talk.clone(),
        }
    }
}
