//! `oml status`: is everything all right? One screen (or `--json`) from
//! oml-status, and an exit code for monitoring: 0 all well, 1 warnings,
//! 2 failures.

use crate::cli::GlobalArgs;
use crate::output;
use anyhow::Result;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the report as JSON (the same as `GET /api/v1/status`).
    #[arg(long)]
    json: bool,
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    let inputs = oml_status::Inputs::new(g.data_dir.clone(), g.location());
    let report = oml_status::gather(&inputs).await;
    if a.json {
        output::json(&report)?;
    } else {
        output::text(&report.text())?;
    }
    Ok(ExitCode::from(report.exit_code()))
}
