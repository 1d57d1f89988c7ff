//! The `oml` command: thin glue between the command line and the crates that
//! do the work. Each subcommand lives in `commands/<name>.rs`.

mod actor;
mod cli;
mod commands;
mod output;
mod running;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "oml",
    version,
    about = "Contact-center administration and a native predictive dialer"
)]
pub struct Cli {
    #[command(flatten)]
    global: cli::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the version, the database schema version and backend.
    Version(commands::version::Args),
    /// Create the data folder, the database and the first administrator.
    Init(commands::init::Args),
    /// Manage console users: list, add, passwd, block, unblock.
    #[command(subcommand)]
    Users(commands::users::UsersCommand),
    /// Asterisk servers: check an AMI connection.
    #[command(subcommand)]
    Asterisk(commands::asterisk::AsteriskCommand),
    /// The dialer: simulate a campaign's pacing in virtual time.
    #[command(subcommand)]
    Dialer(commands::dialer::DialerCommand),
    /// Run a simulated PBX that speaks AMI (queues, agents, customers).
    Pbxsim(commands::pbxsim::Args),
    /// Render every host-dependent configuration file (Asterisk, Kamailio,
    /// rtpengine, nginx, systemd, oml.toml) from the inventory and database.
    Render(commands::render::Args),
    /// Deploy tasks on this host: `--change-network` re-addresses every
    /// service to the host name and IP the inventory now gives.
    Deploy(commands::deploy::Args),
    /// Rewrite the Asterisk files and the AstDB families on every Asterisk server.
    RegenerateAsterisk(commands::regenerate::Args),
    /// Read, check and edit the OMniLeads inventory in place.
    #[command(subcommand)]
    Inventory(commands::inventory::InventoryCommand),
    /// Trunks the dialer originates through: add, list, edit, remove.
    #[command(subcommand)]
    Trunk(commands::trunk::TrunkCommand),
    /// Outbound campaigns: create, edit, list, show, import contacts, delete.
    #[command(subcommand)]
    Campaign(commands::campaign::CampaignCommand),
    /// The do-not-call list, global or per campaign: add, remove, list, import.
    #[command(subcommand)]
    Dnc(commands::dnc::DncCommand),
    /// Run the web console (setup, login, blocked users, users, audit log).
    Serve(commands::serve::Args),
    /// Write a backup archive; list, verify and prune the backup folder.
    Backup(commands::backup::Args),
    /// Restore a backup archive (verified first, swapped in atomically).
    Restore(commands::restore::Args),
    /// Remove oml from this host: lists what is stopped, deleted and kept,
    /// offers a final backup, asks for the host's name. Packages stay.
    Uninstall(commands::uninstall::Args),
    /// Run everything without a telephone line: PBX simulator, dialer,
    /// console, a sample campaign and agents.
    Demo(commands::demo::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(cli.global.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(code) => code,
        // The reader of our output went away (`oml ... | head`): it has
        // what it wanted; stop quietly.
        Err(e) if output::closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::one_line(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    // A restore interrupted by a crash is finished or undone before anything
    // else touches the installation.
    commands::restore::recover_interrupted(g).await?;
    match cli.command {
        Command::Version(a) => commands::version::run(g, a).await,
        Command::Init(a) => commands::init::run(g, a).await,
        Command::Users(c) => commands::users::run(g, c).await,
        Command::Asterisk(c) => commands::asterisk::run(g, c).await,
        Command::Dialer(c) => commands::dialer::run(g, c).await,
        Command::Pbxsim(a) => commands::pbxsim::run(g, a).await,
        Command::Render(a) => commands::render::run(g, a).await,
        Command::Deploy(a) => commands::deploy::run(g, a).await,
        Command::Uninstall(a) => commands::uninstall::run(g, a).await,
        Command::RegenerateAsterisk(a) => commands::regenerate::run(g, a).await,
        Command::Inventory(c) => commands::inventory::run(g, c).await,
        Command::Trunk(c) => commands::trunk::run(g, c).await,
        Command::Campaign(c) => commands::campaign::run(g, c).await,
        Command::Dnc(c) => commands::dnc::run(g, c).await,
        Command::Serve(a) => commands::serve::run(g, a).await,
        Command::Backup(a) => commands::backup::run(g, a).await,
        Command::Restore(a) => commands::restore::run(g, a).await,
        Command::Demo(a) => commands::demo::run(g, a).await,
    }
}
