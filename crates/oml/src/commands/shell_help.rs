//! `oml completions SHELL` and `oml man DIR`: shell completions and man
//! pages generated from the same clap definition that parses the command
//! line, so they can never disagree with it (clap_complete, clap_mangen).

use crate::output;
use anyhow::{Context, Result};
use clap::{Args as ClapArgs, CommandFactory};
use clap_complete::Shell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    shell: Shell,
}

#[derive(ClapArgs, Debug)]
pub struct ManArgs {
    /// Folder the pages are written to (created if missing): `oml.1`, and
    /// `oml-SUBCOMMAND.1` for each subcommand, e.g. /usr/local/share/man/man1.
    dir: PathBuf,
}

/// Prints the completion script for the shell to standard output.
pub fn completions(a: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "oml", &mut script);
    output::text(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes one man page per command, and says which.
pub fn man(a: ManArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(&a.dir)
        .with_context(|| format!("cannot create the folder {}", a.dir.display()))?;
    let written = write_pages(crate::Cli::command(), &a.dir)?;
    for path in written {
        output::line(format_args!("wrote {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The page of `cmd` and of each of its subcommands (named `oml-a-b.1`).
fn write_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut pending = vec![("oml".to_string(), cmd.bin_name("oml"))];
    while let Some((name, cmd)) = pending.pop() {
        for sub in cmd.get_subcommands() {
            if sub.get_name() != "help" {
                let sub_name = format!("{name}-{}", sub.get_name());
                let words = sub_name.replace('-', " ");
                let sub = sub.clone().display_name(sub_name.clone()).bin_name(words);
                pending.push((sub_name, sub));
            }
        }
        let path = dir.join(format!("{name}.1"));
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .with_context(|| format!("rendering the man page {name}.1"))?;
        std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    written.sort();
    Ok(written)
}
