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
    /// The country of phone numbers written without a country code
    /// (`54`, `+54` or `AR`), written to oml.toml as
    /// `[dialer] default_country`: every contact import and do-not-call
    /// entry uses it unless told otherwise.
    #[arg(long)]
    default_country: Option<String>,
}

/// `<data_dir>/oml.toml` to write: the commented defaults when it is
/// missing, else the administrator's file as it is; `[dialer]
/// default_country` set when given (nothing else in the file changes).
/// Read before anything is created, so a broken file changes nothing.
fn config_text(
    data_dir: &std::path::Path,
    country: Option<&str>,
) -> Result<oml_config::ConfigText> {
    let mut text = oml_config::ConfigText::read(data_dir)?;
    if let Some(country) = country {
        text.set("dialer.default_country", country)?;
    }
    text.text()?;
    Ok(text)
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
    let country = match a.default_country.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => {
            oml_store::phone::Country::parse(c)?;
            Some(c.to_string())
        }
    };
    // Where the data folder cannot be: checked before its oml.toml is read.
    if let Some(blocker) = g.data_dir.ancestors().find(|p| p.exists()) {
        if !blocker.is_dir() {
            bail!(
                "cannot create the data folder {}: {} is not a folder",
                g.data_dir.display(),
                blocker.display()
            );
        }
    }
    let config = config_text(&g.data_dir, country.as_deref())?;
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
    std::fs::create_dir_all(&g.data_dir)
        .with_context(|| format!("cannot create the data folder {}", g.data_dir.display()))?;
    let config_path = g.data_dir.join(oml_config::CONFIG_FILE);
    config.write(&config_path)?;
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
    outln!(
        "Settings in {} (every key with its default, commented).",
        config_path.display()
    )?;
    match &country {
        Some(c) => outln!("Default country for phone numbers: {c} (oml.toml, [dialer] default_country).")?,
        None => outln!("No default country: numbers without a country code are kept as written (set one with [dialer] default_country in oml.toml).")?,
    }
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
