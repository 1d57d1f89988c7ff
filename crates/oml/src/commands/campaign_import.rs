//! `oml campaign import CAMPAIGN FILE`: a contact list into a campaign, with
//! a progress bar, the first rejected rows on the terminal and every one in
//! a report file. The import itself (streamed, one transaction, all or
//! nothing) is `oml_dialer::contact_import`; the report file is
//! `oml_dialer::rejection_file`.

use super::dnc;
use crate::cli::{self, GlobalArgs};
use crate::output::{self, outln};
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use oml_dialer::contact_import::{import_contacts, ImportOptions, ImportSink};
use oml_dialer::import::{Rejection, Summary};
use oml_dialer::rejection_file::RejectionFile;
use serde::Serialize;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ImportArgs {
    /// The campaign to add contacts to.
    pub campaign: String,
    /// CSV file with a header row.
    pub file: PathBuf,
    /// The column holding the phone number (default: detected from names
    /// such as phone, telefono, number, mobile, celular).
    #[arg(long, value_name = "NAME")]
    pub phone_column: Option<String>,
    /// Make numbers without + international: 00 becomes +, otherwise one
    /// leading 0 is dropped and +CODE added (e.g. 54).
    #[arg(long, value_name = "CODE")]
    pub default_country_code: Option<String>,
    /// Field delimiter (default: detected from the header: , ; TAB or |).
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Where to write every rejected row [default: FILE.rejected.csv next
    /// to the input].
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "tab" | "TAB" => Ok(b'\t'),
        s if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err("give one character, or `tab`".into()),
    }
}

/// Rejections printed on the terminal; the report file has them all.
const PRINTED_REJECTIONS: usize = 20;

/// Where `oml campaign import` puts rejected rows: the report file, the
/// first few for the terminal, and the progress bar.
struct CliSink {
    report: RejectionFile,
    shown: Vec<Rejection>,
    pb: ProgressBar,
}

impl ImportSink for CliSink {
    fn rejected(&mut self, r: &Rejection) -> std::io::Result<()> {
        self.report.write(r).map_err(std::io::Error::other)?;
        if self.shown.len() < PRINTED_REJECTIONS {
            self.shown.push(r.clone());
        }
        Ok(())
    }
    fn progress(&mut self, bytes: u64, imported: u64) {
        self.pb.set_position(bytes);
        self.pb.set_message(format!("{imported} imported"));
    }
}

/// What one import did, for the summary and `--json`.
#[derive(Serialize)]
struct ImportOutcome {
    campaign: String,
    file: String,
    phone_column: String,
    #[serde(flatten)]
    summary: Summary,
    report: Option<String>,
    seconds: f64,
}

fn progress_bar(size: u64) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let pb = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] [{bar:40}] {bytes}/{total_bytes} ({eta}) {msg}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        pb
    } else {
        ProgressBar::hidden()
    }
}

pub async fn import(g: &GlobalArgs, a: ImportArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let store = g.open_store().await?;
    let campaign = cli::find_campaign(&store, &a.campaign).await?;
    let file = std::fs::File::open(&a.file)
        .with_context(|| format!("cannot open {}; nothing was imported", a.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let input = std::io::BufReader::with_capacity(256 * 1024, file);
    let opts = ImportOptions {
        phone_column: a.phone_column.clone(),
        delimiter: a.delimiter,
        default_country_code: match &a.default_country_code {
            Some(c) => Some(c.clone()),
            None => {
                oml_config::Config::load(&g.data_dir)?
                    .dialer
                    .default_country
            }
        },
        list_name: a
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| a.file.display().to_string()),
    };
    let report_path = a
        .report
        .clone()
        .unwrap_or_else(|| RejectionFile::default_path(&a.file));
    let mut sink = CliSink {
        report: RejectionFile::new(report_path),
        shown: Vec::new(),
        pb: progress_bar(size),
    };
    let done = import_contacts(&store, campaign.id, input, &opts, &mut sink)
        .await
        .map_err(|e| anyhow::anyhow!(e.about(&a.file.display().to_string())))?;
    let CliSink { report, shown, pb } = sink;
    pb.finish_and_clear();
    let summary = done.summary;
    let report_path = report.finish()?;
    store
        .audit(
            oml_store::now_ms(),
            &crate::actor::cli_actor(),
            "contacts_import",
            &campaign.name,
            None,
            &format!(
                "{}: {} rows, {} imported, {} rejected",
                a.file.display(),
                summary.rows,
                summary.imported,
                summary.rejected()
            ),
        )
        .await?;
    let outcome = ImportOutcome {
        campaign: campaign.name.clone(),
        file: a.file.display().to_string(),
        phone_column: done.phone_column,
        summary,
        report: report_path.as_ref().map(|p| p.display().to_string()),
        seconds: started.elapsed().as_secs_f64(),
    };
    if a.json {
        output::json(&outcome)?;
        return Ok(ExitCode::SUCCESS);
    }
    let s = &outcome.summary;
    if !shown.is_empty() {
        outln!("Rejected rows (row numbers count the header as row 1):")?;
        dnc::print_rejections(&shown, PRINTED_REJECTIONS)?;
        if s.rejected() as usize > shown.len() {
            outln!("  ... and {} more", s.rejected() as usize - shown.len())?;
        }
    }
    outln!(
        "Imported {} into campaign `{}` (phone column `{}`) in {:.1} s:",
        a.file.display(),
        campaign.name,
        outcome.phone_column,
        outcome.seconds
    )?;
    outln!("{s}")?;
    if let Some(p) = &outcome.report {
        outln!("Every rejected row is in {p}")?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_delimiter;

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert!(parse_delimiter(";;").is_err());
    }
}
