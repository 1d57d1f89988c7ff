//! `oml version`: what is installed and what the database holds.

use crate::cli::GlobalArgs;
use crate::output::{self, outln};
use anyhow::Result;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    let version = env!("CARGO_PKG_VERSION");
    let supported = oml_store::latest_schema_version();
    // The version is useful even where no database exists yet.
    let (backend, schema, location, db_error, installed) = match g.open_store().await {
        Ok(store) => {
            let s = store.schema_version().await?;
            let installed = store.setting(super::update::INSTALLED_VERSION_KEY).await?;
            (
                Some(store.backend().to_string()),
                s,
                store.location().describe(),
                None,
                installed,
            )
        }
        Err(e) => (
            None,
            None,
            g.location().describe(),
            Some(crate::cli::one_line(&e)),
            None,
        ),
    };
    let upgrades_from = super::update::supported_text();
    if a.json {
        let v = serde_json::json!({
            "version": version,
            "schema_version": schema,
            "schema_version_supported": supported,
            "database_backend": backend,
            "database": location,
            "database_error": db_error,
            "installed_version": installed,
            "upgrades_supported_from": super::update::UPGRADES_FROM
                .iter()
                .map(|s| format!("{s}.x"))
                .collect::<Vec<_>>(),
        });
        output::json(&v)?;
    } else {
        outln!("oml {version}")?;
        outln!("schema version supported: {supported}")?;
        outln!("upgrades supported from: {upgrades_from} (`oml deploy --update`)")?;
        if let Some(v) = &installed {
            outln!("installation at: oml {v}")?;
        }
        match (backend, schema) {
            (Some(b), Some(s)) => {
                outln!("database: {b} at {location}")?;
                outln!("database schema version: {s}")?;
            }
            _ => outln!(
                "database: not available ({})",
                db_error.unwrap_or_else(|| "no schema".into())
            )?,
        }
    }
    Ok(ExitCode::SUCCESS)
}
