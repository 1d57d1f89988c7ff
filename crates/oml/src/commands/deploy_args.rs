//! The arguments of `oml deploy`, in a file of their own because its three
//! tasks (`deploy.rs`, `passwords.rs`, `update.rs`) all read them.

use crate::commands::render::InventoryArg;
use clap::{ArgGroup, Args as ClapArgs};
use std::path::PathBuf;

#[derive(ClapArgs, Debug)]
#[command(group(ArgGroup::new("task").required(true).args(["change_network", "change_passwords", "update"])))]
pub struct Args {
    /// Re-address the installation to the host name and IP the inventory
    /// now gives: check they are this machine's, re-render every
    /// host-dependent file, restart what reads them.
    #[arg(long)]
    pub change_network: bool,
    /// Apply the passwords the inventory now gives (PostgreSQL role, AMI
    /// user, console admin and dialer users) to their services and files,
    /// all or nothing.
    #[arg(long)]
    pub change_passwords: bool,
    /// Bring this installation to this oml's version: pre-flight, backup,
    /// migrations, re-render, restarts; rolled back if a step fails.
    #[arg(long)]
    pub update: bool,
    /// With --update: run it on another host over SSH (user@host[:port]).
    /// That host reads its own inventory and root: --inventory and --root
    /// are refused with it.
    #[arg(long, value_name = "USER@HOST[:PORT]", requires = "update")]
    pub host: Option<String>,
    /// Print the plan and the diff (passwords masked); change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Write the files but restart nothing (the commands are printed).
    #[arg(long)]
    pub no_restart: bool,
    /// Folder the files are written under. Services are restarted only when
    /// it is `/` (the host itself). Default: paths.config_root of oml.toml, else `/`.
    #[arg(long)]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub inventory: InventoryArg,
}
