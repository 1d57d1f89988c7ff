//! The backup and restore of `oml backup --with-recordings` / `oml restore
//! NAME --yes`, as a small binary for `scripts/bench-backup.sh`: the same
//! library calls with the default layout (`<OML_HOME>/backup`,
//! `<OML_HOME>/recordings`), without the rest of the `oml` binary, so a
//! release build for benchmarking takes seconds instead of many minutes.
//!
//!   OML_HOME=DIR [OML_DATABASE_URL=URL] backup_bench backup
//!   OML_HOME=DIR [OML_DATABASE_URL=URL] backup_bench restore NAME

use oml_backup::backup::{create, BackupOptions};
use oml_backup::restore::{restore, RestoreTarget};
use oml_backup::writer::WriteOptions;
use oml_backup::{Format, Layout, NoProgress};
use oml_store::{Backend, Location, OpenMode, Store};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let home = std::env::var("OML_HOME").map_err(|_| "set OML_HOME")?;
    let url = std::env::var("OML_DATABASE_URL").ok();
    let location = Location::from_args(home.as_ref(), url.as_deref());
    let layout = Layout::defaults(&home);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("backup") => {
            let store = Store::open(&location, OpenMode::Existing).await?;
            let options = BackupOptions {
                with_recordings: true,
                write: WriteOptions::new(Format::Zst),
                output: None,
            };
            let out = create(&store, &layout, &options, &NoProgress).await?;
            store.close().await;
            println!("{}", out.name);
        }
        Some("restore") => {
            let name = args.get(1).ok_or("restore NAME")?;
            let (backend, pg_url) = match location {
                Location::DataDir(_) => (Backend::Sqlite, None),
                Location::Postgres(u) => (Backend::Postgres, Some(u)),
            };
            let target = RestoreTarget::new(layout.clone(), backend, pg_url);
            let path = oml_backup::catalog::resolve(&layout.backup_dir, name)?;
            let report = restore(&path, &target, &NoProgress).await?;
            println!("restored, schema {}", report.schema_after);
        }
        _ => return Err("usage: backup_bench backup | restore NAME".into()),
    }
    Ok(())
}
