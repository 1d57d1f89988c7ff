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
    /// Show oml's version, the database schema version and the backend.
    Version(commands::version::Args),
    /// Is everything all right? Database, disk space, last backup, Asterisk
    /// links and agents, dialer nodes, abandon rates against their limits,
    /// lock-outs; exit code 0 all well, 1 warnings, 2 failures.
    Status(commands::status::Args),
    /// Create the data folder, oml.toml, the database and the first
    /// administrator.
    Init(commands::init::Args),
    /// Migrate the database to this version after a package upgrade
    /// (pre-flight, pre-upgrade backup, rolled back on failure); `--check`
    /// runs only the pre-flight.
    Migrate(commands::migrate::Args),
    /// Console users: list, add, passwd, block, unblock, blocked (the
    /// lock-outs in force) and token (API tokens: add, list, revoke).
    #[command(subcommand)]
    Users(commands::users::UsersCommand),
    /// Asterisk servers the dialer drives: add, list, edit, remove, and
    /// check an AMI connection (login, permissions, events).
    #[command(subcommand)]
    Asterisk(commands::asterisk::AsteriskCommand),
    /// The predictive dialer: start and stop dialing ("play"/"stop"),
    /// status of every node and campaign, run an engine in the foreground,
    /// and simulate a campaign's pacing in virtual time.
    #[command(subcommand)]
    Dialer(commands::dialer::DialerCommand),
    /// Run a simulated PBX that speaks AMI (queues, agents, customers), to
    /// try or load-test the dialer without Asterisk.
    Pbxsim(commands::pbxsim::Args),
    /// Render every host-dependent configuration file (Asterisk, Kamailio,
    /// rtpengine, nginx, systemd, oml.toml) from the inventory and database.
    Render(commands::render::Args),
    /// Deploy tasks on this host: `--update` to this version (rolled back
    /// on failure), `--change-network` to the inventory's new address,
    /// `--change-passwords` to the inventory's new service passwords.
    Deploy(commands::deploy::Args),
    /// Rewrite the Asterisk files and the AstDB families on every Asterisk server.
    RegenerateAsterisk(commands::regenerate::Args),
    /// Read, check and edit the OMniLeads inventory in place: show, check, set.
    #[command(subcommand)]
    Inventory(commands::inventory::InventoryCommand),
    /// Trunks the dialer originates through: add, list, edit, remove.
    #[command(subcommand)]
    Trunk(commands::trunk::TrunkCommand),
    /// Outbound campaigns: create, edit, list, show, contacts (list them
    /// with their state and attempts), import contacts,
    /// start, pause, stop, stats, delete.
    #[command(subcommand)]
    Campaign(commands::campaign::CampaignCommand),
    /// One contact's history: `show PHONE|ID` prints the contact in every
    /// campaign that has the number, and every attempt to call it.
    #[command(subcommand)]
    Contact(commands::contact::ContactCommand),
    /// Call recordings: `keep DAYS` sets how long they are kept, `prune`
    /// deletes older ones now (shows the plan, asks or takes --yes).
    #[command(subcommand)]
    Recordings(commands::recordings::RecordingsCommand),
    /// Sounds campaigns play (welcome, abandon, machine messages): add NAME
    /// FILE (WAV 8 kHz or GSM, checked and converted), list, remove.
    #[command(subcommand)]
    Sound(commands::sound::SoundCommand),
    /// The do-not-call list, global or per campaign: add, remove, list, import.
    #[command(subcommand)]
    Dnc(commands::dnc::DncCommand),
    /// Run the service: the web console, the JSON API, the metrics endpoint
    /// and the dialer engine.
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
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(commands::shell_help::CompletionsArgs),
    /// Write the man pages of oml and every subcommand into a folder.
    Man(commands::shell_help::ManArgs),
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
        Command::Status(a) => commands::status::run(g, a).await,
        Command::Init(a) => commands::init::run(g, a).await,
        Command::Migrate(a) => commands::migrate::run(g, a).await,
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
        Command::Contact(c) => commands::contact::run(g, c).await,
        Command::Dnc(c) => commands::dnc::run(g, c).await,
        Command::Recordings(c) => commands::recordings::run(g, c).await,
        Command::Sound(c) => commands::sound::run(g, c).await,
        Command::Serve(a) => commands::serve::run(g, a).await,
        Command::Backup(a) => commands::backup::run(g, a).await,
        Command::Restore(a) => commands::restore::run(g, a).await,
        Command::Demo(a) => commands::demo::run(g, a).await,
        Command::Completions(a) => commands::shell_help::completions(a),
        Command::Man(a) => commands::shell_help::man(a),
    }
}
