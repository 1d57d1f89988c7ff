//! `oml init`: creates the data folder, the database and the first
//! administrator. Refuses to touch a folder that is already initialised.

use crate::cli::{self, GlobalArgs};
use crate::output::outln;
use anyhow::{bail, Context, Result};
use oml_store::{Location, NewUser, OpenMode, Role, Store};
use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Name of the first administrator.
    #[arg(long, default_value = "admin")]
    admin_user: String,
    /// Read the administrator's password from this file (first line) instead
    /// of generating one.
    #[arg(long)]
    admin_password_file: Option<PathBuf>,
}

pub async fn run(g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    oml_store::validate_username(&a.admin_user)?;
    let password = match &a.admin_password_file {
        Some(path) => {
            let p = cli::read_secret_file(path)?;
            oml_store::validate_password(&p)
                .with_context(|| format!("password file {}", path.display()))?;
            Some(p)
        }
        None => None,
    };
    let location = g.location();
    if let Location::DataDir(dir) = &location {
        let db = dir.join(oml_store::SQLITE_FILE);
        if db.exists() {
            bail!(
                "{} is already initialised (found {}): nothing was changed",
                dir.display(),
                db.display()
            );
        }
        if dir.exists() && !dir.is_dir() {
            bail!("data folder {} exists and is not a folder", dir.display());
        }
    } else {
        std::fs::create_dir_all(&g.data_dir)
            .with_context(|| format!("cannot create the data folder {}", g.data_dir.display()))?;
    }
    let store = Store::open(&location, OpenMode::Create).await?;
    if !store.users().await?.is_empty() {
        bail!(
            "the database {} already has users: it is initialised, nothing was changed",
            location.describe()
        );
    }
    let generated = password.is_none();
    let password = password.unwrap_or_else(cli::generate_password);
    store
        .create_user(&NewUser {
            username: &a.admin_user,
            password: &password,
            role: Role::Admin,
            must_change_password: generated,
        })
        .await?;
    let now = oml_store::now_ms();
    store
        .audit(
            now,
            &crate::actor::cli_actor(),
            "init",
            &a.admin_user,
            None,
            "first administrator created",
        )
        .await?;
    store
        .set_setting(
            super::update::INSTALLED_VERSION_KEY,
            env!("CARGO_PKG_VERSION"),
        )
        .await?;
    let schema = store.schema_version().await?.unwrap_or(0);
    outln!(
        "Initialised oml in {} ({} database, schema version {schema}).",
        g.data_dir.display(),
        store.backend()
    )?;
    if generated {
        outln!(
            "Administrator `{}` created with this password (shown once; you must change it at first login):",
            a.admin_user
        )?;
        outln!("{}", password.expose_secret())?;
    } else {
        outln!("Administrator `{}` created.", a.admin_user)?;
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
