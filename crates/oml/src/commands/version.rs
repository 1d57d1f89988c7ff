//! `oml version`: what is installed and what the database holds.

use crate::cli::GlobalArgs;
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
    let (backend, schema, location, db_error) = match g.open_store().await {
        Ok(store) => {
            let s = store.schema_version().await?;
            (
                Some(store.backend().to_string()),
                s,
                store.location().describe(),
                None,
            )
        }
        Err(e) => (
            None,
            None,
            g.location().describe(),
            Some(crate::cli::one_line(&e)),
        ),
    };
    if a.json {
        let v = serde_json::json!({
            "version": version,
            "schema_version": schema,
            "schema_version_supported": supported,
            "database_backend": backend,
            "database": location,
            "database_error": db_error,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("oml {version}");
        println!("schema version supported: {supported}");
        match (backend, schema) {
            (Some(b), Some(s)) => {
                println!("database: {b} at {location}");
                println!("database schema version: {s}");
            }
            _ => println!(
                "database: not available ({})",
                db_error.unwrap_or_else(|| "no schema".into())
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}
