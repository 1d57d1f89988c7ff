//! What every command shares: global options, opening the store, reading
//! secrets (from a file, an environment variable or a prompt, never a flag),
//! logging setup and error formatting.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use oml_store::{Location, OpenMode, Store};
use secrecy::SecretString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Environment variable holding an AMI secret (never a flag): read by
/// `oml asterisk check|add|edit` and served by `oml pbxsim`.
pub const AMI_SECRET_ENV: &str = "OML_AMI_SECRET";

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Data folder (database, configuration, backups).
    #[arg(long, global = true, env = "OML_HOME", default_value = "./oml-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (postgres://user:password@host:port/db) instead of the
    /// SQLite file in the data folder.
    #[arg(long, global = true, env = "OML_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
}

impl GlobalArgs {
    pub fn location(&self) -> Location {
        Location::from_args(&self.data_dir, self.database_url.as_deref())
    }

    /// Opens the existing database (applying pending migrations).
    pub async fn open_store(&self) -> Result<Store> {
        let location = self.location();
        let store = Store::open(&location, OpenMode::Existing)
            .await
            .map_err(anyhow::Error::new)?;
        self.renormalise_phones(&store).await?;
        Ok(store)
    }

    /// The data half of the phone-number migration: contacts stored under
    /// older rules or another default country are rewritten once (one
    /// settings query when they are current). A broken oml.toml is left
    /// for the command that reads it to report.
    async fn renormalise_phones(&self, store: &Store) -> Result<()> {
        let Ok(cfg) = oml_config::Config::load(&self.data_dir) else {
            return Ok(());
        };
        let normalizer = oml_store::phone::Normalizer::new(cfg.dialer.default_country.as_deref())?;
        if let Some(r) = store.renormalise_contacts_if_needed(&normalizer).await? {
            if r.changed + r.kept_duplicate + r.unparsable > 0 {
                eprintln!(
                    "note: phone numbers brought up to the current rules: {} of {} contacts rewritten; {} kept as written (their campaign already has the number in the new form); {} not parsable, kept",
                    r.changed, r.examined, r.kept_duplicate, r.unparsable
                );
            }
        }
        Ok(())
    }
}

/// Sets up tracing: human-readable on stderr, or JSON lines. `RUST_LOG`
/// refines the level (default `info`).
pub fn init_logging(format: LogFormat) {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour_wanted(
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
            std::env::var_os("NO_COLOR").as_deref(),
        ));
    let _ = match format {
        LogFormat::Human => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Whether log lines may carry colour codes: only on a terminal, and never
/// when `NO_COLOR` is set to anything but the empty string (no-color.org).
pub fn colour_wanted(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// The error and its causes on one line: `what failed: why`.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}

/// Reads a secret from the first line of `path` (trailing newline removed).
pub fn read_secret_file(path: &Path) -> Result<SecretString> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the password file {}", path.display()))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        bail!("the password file {} is empty", path.display());
    }
    Ok(SecretString::from(line))
}

#[allow(dead_code)] // used by the asterisk, pbxsim and deploy commands
/// A secret from `env_var` when set, else typed at a prompt (never echoed).
/// Fails without a terminal so scripts learn to set the variable.
pub fn secret_from_env_or_prompt(env_var: &str, prompt: &str) -> Result<SecretString> {
    if let Ok(v) = std::env::var(env_var) {
        if !v.is_empty() {
            return Ok(SecretString::from(v));
        }
    }
    if !std::io::stdin().is_terminal() {
        bail!("no secret given: set {env_var} or run on a terminal to be prompted");
    }
    let v =
        rpassword::prompt_password(prompt).context("cannot read the secret from the terminal")?;
    if v.is_empty() {
        bail!("the secret is empty");
    }
    Ok(SecretString::from(v))
}

/// A random password of 20 letters and digits, for generated credentials.
pub fn generate_password() -> SecretString {
    use rand::distributions::{Alphanumeric, DistString};
    SecretString::from(Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20))
}

/// The campaign named `name`, or an error saying where to look.
pub async fn find_campaign(store: &Store, name: &str) -> Result<oml_store::Campaign> {
    store
        .campaign_by_name(name)
        .await?
        .with_context(|| format!("campaign `{name}` not found (see `oml campaign list`)"))
}

/// Asks before a command changes the installation: unless `yes`, the
/// operator must type `expected` at `prompt`. Without a terminal (and
/// without `--yes`) it refuses; `what` names the change in that message.
/// Either refusal says that nothing was changed.
pub fn confirm(yes: bool, what: &str, prompt: &str, expected: &str) -> Result<()> {
    use std::io::Write;
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("refusing to {what} without confirmation: add --yes (no terminal to ask on); nothing was changed");
    }
    print!("{prompt}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the answer")?;
    if line.trim() != expected {
        bail!("cancelled: nothing was changed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::colour_wanted;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None));
    }
}
