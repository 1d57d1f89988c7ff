//! `oml migrate`: bring the database to this binary's schema and record its
//! version, for a package upgrade (the Debian package's `postinst` runs it).
//! Unlike `oml deploy --update` it needs no inventory and renders nothing:
//! pre-flight (database opens as it is, tested upgrade path, schema not
//! newer), then a pre-upgrade backup, the migrations, and a roll-back from
//! that backup if they fail. `--check` runs only the pre-flight.

use crate::cli::GlobalArgs;
use crate::output::outln;
use anyhow::{anyhow, Context, Result};
use oml_deploy::update::{self, UpgradePath};
use oml_store::{Location, OpenMode, Store};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Only the pre-flight: say what would be done, change nothing.
    #[arg(long)]
    check: bool,
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    let current = env!("CARGO_PKG_VERSION");
    if let Location::DataDir(dir) = g.location() {
        if !dir.join(oml_store::SQLITE_FILE).is_file() {
            outln!(
                "no installation in {} yet (no {}): nothing to migrate; run `oml init`",
                dir.display(),
                oml_store::SQLITE_FILE
            )?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let store = Store::open(&g.location(), OpenMode::AsIs)
        .await
        .context("pre-flight: the database does not open; nothing was changed")?;
    let installed = update::installed(&store).await;
    store.close().await;
    let installed = installed?;
    let path = update::upgrade_path(&installed.version, current)
        .map_err(|e| anyhow!("pre-flight: {e}; nothing was changed"))?;
    let latest = oml_store::latest_schema_version();
    if path == UpgradePath::Same && installed.schema == latest {
        outln!("oml {current}, schema {latest}: nothing to migrate")?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "pre-flight: ok: oml {} (schema {}) → {current} (schema {latest})",
        installed.version,
        installed.schema
    )?;
    if a.check {
        return Ok(ExitCode::SUCCESS);
    }
    let _alone = crate::running::hold_exclusive(&g.data_dir, "migrate")?;
    let layout = super::backup::layout(g)?;
    let inventory = layout.inventory.clone().unwrap_or_default();
    let backup = super::backup::pre_upgrade_backup(g, inventory, layout.generated_root)
        .await
        .context("the pre-upgrade backup failed; nothing was changed")?;
    match update::migrate(&g.location(), current).await {
        Ok(schema) => {
            outln!(
                "done: schema {} → {schema}, oml {current} recorded; the pre-upgrade backup is {}",
                installed.schema,
                backup.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let back = update::roll_back(&backup, &super::restore::target(g)?).await;
            let e = oml_deploy::Error::new(format!("{e:#}"));
            Err(update::rolled_back_error(e, &backup, back).into())
        }
    }
}
