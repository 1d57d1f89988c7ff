//! `oml sound add NAME FILE | list | remove NAME`: the sounds campaigns play
//! (welcome, abandon and machine messages). A sound is checked and
//! converted before it is stored (see `oml_ops::sounds`), kept in
//! `paths.sounds_dir`, and copied into Asterisk's sounds folder by
//! `oml regenerate-asterisk`; a campaign names it `oml/NAME`. Adding and
//! removing are audited.

use crate::cli::GlobalArgs;
use crate::output::outln;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use oml_ops::sounds;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SoundCommand {
    /// Add a sound: a WAV file at 8 kHz (converted to mono 16-bit PCM) or a
    /// raw GSM file (.gsm), at most 60 s and 5 MB. Campaigns play it as
    /// oml/NAME once `oml regenerate-asterisk` has copied it.
    Add {
        /// Lower-case letters, digits, - and _ (e.g. welcome, sorry-2).
        name: String,
        /// The audio file.
        file: PathBuf,
    },
    /// List the sounds: name, format, length, size, the name campaigns use.
    List {
        /// A JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a sound (refused while a campaign plays it).
    Remove { name: String },
}

pub async fn run(g: &GlobalArgs, cmd: SoundCommand) -> Result<ExitCode> {
    let dir = oml_config::Config::load(&g.data_dir)?.paths.sounds_dir;
    match cmd {
        SoundCommand::Add { name, file } => {
            let size = std::fs::metadata(&file)
                .with_context(|| format!("cannot read {}", file.display()))?
                .len();
            if size > sounds::MAX_BYTES {
                bail!(
                    "{} is {size} bytes, over the 5 MB a sound may have: nothing was stored",
                    file.display()
                );
            }
            let data =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let shown = file
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            let s = sounds::add(&dir, &name, &shown, &data)
                .map_err(|e| anyhow::anyhow!("{e}; nothing was stored"))?;
            audit(
                g,
                "sound_add",
                &s.name,
                &format!("{} {} bytes {:.1} s", s.format, s.bytes, s.seconds),
            )
            .await?;
            outln!(
                "added sound {} ({}, {:.1} s, {} bytes) in {}; campaigns play it as {} after `oml regenerate-asterisk`",
                s.name,
                s.format,
                s.seconds,
                s.bytes,
                dir.display(),
                s.asterisk_name
            )?;
        }
        SoundCommand::List { json } => {
            let all = sounds::list(&dir)?;
            if json {
                crate::output::json(&all)?;
            } else if all.is_empty() {
                outln!(
                    "no sound in {} (add one with `oml sound add NAME FILE`)",
                    dir.display()
                )?;
            } else {
                let mut t = format!(
                    "{:<24} {:<6} {:>8} {:>10}  {}\n",
                    "NAME", "FORMAT", "SECONDS", "BYTES", "CAMPAIGNS PLAY IT AS"
                );
                for s in &all {
                    t.push_str(&format!(
                        "{:<24} {:<6} {:>8.1} {:>10}  {}\n",
                        s.name, s.format, s.seconds, s.bytes, s.asterisk_name
                    ));
                }
                crate::output::text(&t)?;
            }
        }
        SoundCommand::Remove { name } => {
            let store = g.open_store().await?;
            let users = campaigns_playing(&store, &name).await?;
            if !users.is_empty() {
                bail!(
                    "sound {name} is played by campaign(s) {} (as {}/{name}): change their messages first; nothing was removed",
                    users.join(", "),
                    sounds::ASTERISK_FOLDER
                );
            }
            let s = sounds::remove(&dir, &name)?;
            audit(g, "sound_remove", &s.name, s.format).await?;
            outln!(
                "removed sound {}; `oml regenerate-asterisk` removes its copy from Asterisk's sounds folder",
                s.name
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The campaigns whose messages name `oml/NAME`.
pub async fn campaigns_playing(store: &oml_store::Store, name: &str) -> Result<Vec<String>> {
    let wanted = format!("{}/{name}", sounds::ASTERISK_FOLDER);
    let campaigns = store.campaigns().await?;
    let mut out = Vec::new();
    for (id, path) in store.call_paths().await? {
        if path.sounds().iter().any(|(_, s)| *s == wanted) {
            if let Some(c) = campaigns.iter().find(|c| c.id == id) {
                out.push(c.name.clone());
            }
        }
    }
    Ok(out)
}

async fn audit(g: &GlobalArgs, action: &str, subject: &str, detail: &str) -> Result<()> {
    let store = g.open_store().await?;
    store
        .audit(
            oml_store::now_ms(),
            &crate::actor::cli_actor(),
            action,
            subject,
            None,
            detail,
        )
        .await?;
    Ok(())
}
