//! Uploaded sounds (issue 18 item 1): the welcome, abandon and machine
//! messages a campaign plays, added with `oml sound add` or the console.
//!
//! A sound is checked and converted before anything is stored: a WAV file
//! (decoded with `hound`) must be 8 kHz; any channel count and sample
//! format is converted to what Asterisk plays as `.wav` (8 kHz mono 16-bit
//! PCM); other rates are refused naming the expected format (no
//! resampling). A `.gsm` file must be raw GSM 06.10 frames (33 bytes each,
//! 20 ms, each starting with the 0xD signature). Over 5 MB or over 60 s, or
//! not audio, is refused with a message saying which. The file is written
//! to a temporary name in the sounds folder and renamed into place, so a
//! refused or interrupted upload leaves nothing.
//!
//! Sounds live in `paths.sounds_dir` as `NAME.wav` or `NAME.gsm`;
//! `oml regenerate-asterisk` copies them into Asterisk's sounds folder
//! under `oml/` ([`install`]), so a campaign plays an uploaded sound as
//! `oml/NAME`.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

/// Largest file taken (5 MB).
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Longest sound taken, in seconds.
pub const MAX_SECONDS: f64 = 60.0;
/// The sample rate Asterisk plays `.wav` sounds at (slin, 8 kHz).
pub const RATE: u32 = 8000;
/// The folder under Asterisk's sounds folder that holds uploaded sounds;
/// campaigns name them `oml/NAME`.
pub const ASTERISK_FOLDER: &str = "oml";
/// Asterisk's sounds folder on Debian (`astdatadir` /usr/share/asterisk),
/// relative to the root files are written under.
pub const ASTERISK_SOUNDS: &str = "usr/share/asterisk/sounds";
/// Longest sound name.
pub const MAX_NAME: usize = 64;

const GSM_FRAME: usize = 33;
const GSM_FRAME_SECONDS: f64 = 0.02;

/// Why a sound was refused or could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum SoundError {
    #[error("sound name `{0}`: use 1 to 64 lower-case letters, digits, - and _, starting with a letter or digit (it becomes the file name and the dialplan's oml/NAME)")]
    BadName(String),
    #[error("{0}")]
    Refused(String),
    #[error("a sound called `{0}` exists already: remove it first (`oml sound remove {0}`)")]
    Exists(String),
    #[error("no sound called `{0}` (see `oml sound list`)")]
    NotFound(String),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SoundError {
    let path = path.to_path_buf();
    move |source| SoundError::Io { what, path, source }
}

/// A stored sound.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sound {
    pub name: String,
    /// `wav` or `gsm`.
    pub format: &'static str,
    pub bytes: u64,
    pub seconds: f64,
    /// What a campaign setting names it by: `oml/NAME`.
    pub asterisk_name: String,
}

/// `name` if it is a valid sound name.
pub fn check_name(name: &str) -> Result<&str, SoundError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(name)
    } else {
        Err(SoundError::BadName(name.chars().take(80).collect()))
    }
}

fn expected() -> String {
    format!(
        "a WAV file at {RATE} Hz (any channels and sample size: it is converted to {RATE} Hz mono 16-bit PCM) or a raw GSM 06.10 .gsm file, at most {MAX_SECONDS} s and {} MB",
        MAX_BYTES / (1024 * 1024)
    )
}

/// Checks and converts `data` (the uploaded file, named `file_name` for its
/// extension): the stored format, the bytes to store and the length in
/// seconds. Pure: nothing is written.
pub fn convert(file_name: &str, data: &[u8]) -> Result<(&'static str, Vec<u8>, f64), SoundError> {
    if data.len() as u64 > MAX_BYTES {
        return Err(SoundError::Refused(format!(
            "{file_name} is {} bytes, over the 5 MB a sound may have: give {}",
            data.len(),
            expected()
        )));
    }
    if data.starts_with(b"RIFF") {
        return convert_wav(file_name, data).map(|(d, s)| ("wav", d, s));
    }
    if file_name.to_ascii_lowercase().ends_with(".gsm") {
        return check_gsm(file_name, data).map(|s| ("gsm", data.to_vec(), s));
    }
    Err(SoundError::Refused(format!(
        "{file_name} is not a WAV file (no RIFF header) nor a .gsm file: give {}",
        expected()
    )))
}

fn too_long(file_name: &str, seconds: f64) -> SoundError {
    SoundError::Refused(format!(
        "{file_name} lasts {seconds:.1} s, over the {MAX_SECONDS} s a sound may last: shorten it"
    ))
}

fn convert_wav(file_name: &str, data: &[u8]) -> Result<(Vec<u8>, f64), SoundError> {
    let bad = |e: hound::Error| {
        SoundError::Refused(format!(
            "{file_name} is not a WAV file oml can read ({e}): give {}",
            expected()
        ))
    };
    let mut reader = hound::WavReader::new(Cursor::new(data)).map_err(bad)?;
    let spec = reader.spec();
    if spec.sample_rate != RATE {
        return Err(SoundError::Refused(format!(
            "{file_name} is sampled at {} Hz; oml does not resample: convert it to {RATE} Hz mono 16-bit PCM (e.g. `sox IN.wav -r 8000 -c 1 -b 16 OUT.wav`)",
            spec.sample_rate
        )));
    }
    let channels = usize::from(spec.channels.max(1));
    let frames = reader.duration() as usize;
    let seconds = frames as f64 / f64::from(RATE);
    if seconds > MAX_SECONDS {
        return Err(too_long(file_name, seconds));
    }
    if frames == 0 {
        return Err(SoundError::Refused(format!(
            "{file_name} holds no sound (0 samples)"
        )));
    }
    // Every sample as a float in -1..1, then mixed down and written as i16.
    let samples: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, _) => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        (hound::SampleFormat::Int, bits) => {
            let scale = (1_i64 << (bits.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 / scale))
                .collect::<Result<_, _>>()
                .map_err(bad)?
        }
    };
    let out_spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(frames * 2 + 44));
    {
        let mut w = hound::WavWriter::new(&mut out, out_spec).map_err(bad)?;
        for frame in samples.chunks(channels) {
            let mean = frame.iter().sum::<f32>() / frame.len() as f32;
            let v = (mean * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
            w.write_sample(v).map_err(bad)?;
        }
        w.finalize().map_err(bad)?;
    }
    Ok((out.into_inner(), seconds))
}

fn check_gsm(file_name: &str, data: &[u8]) -> Result<f64, SoundError> {
    let frames_ok = !data.is_empty()
        && data.len().is_multiple_of(GSM_FRAME)
        && data.chunks(GSM_FRAME).all(|f| f[0] >> 4 == 0xD);
    if !frames_ok {
        return Err(SoundError::Refused(format!(
            "{file_name} is not raw GSM 06.10 audio (33-byte frames, each starting with 0xD): give {}",
            expected()
        )));
    }
    let seconds = (data.len() / GSM_FRAME) as f64 * GSM_FRAME_SECONDS;
    if seconds > MAX_SECONDS {
        return Err(too_long(file_name, seconds));
    }
    Ok(seconds)
}

fn sound_of(dir: &Path, name: &str, format: &'static str) -> Option<Sound> {
    let meta = std::fs::metadata(dir.join(format!("{name}.{format}"))).ok()?;
    let seconds = match format {
        "wav" => hound::WavReader::open(dir.join(format!("{name}.wav")))
            .map(|r| f64::from(r.duration()) / f64::from(RATE))
            .unwrap_or(0.0),
        _ => (meta.len() / GSM_FRAME as u64) as f64 * GSM_FRAME_SECONDS,
    };
    Some(Sound {
        name: name.to_string(),
        format,
        bytes: meta.len(),
        seconds,
        asterisk_name: format!("{ASTERISK_FOLDER}/{name}"),
    })
}

/// The stored sound called `name`, if any.
pub fn find(dir: &Path, name: &str) -> Option<Sound> {
    let name = check_name(name).ok()?;
    ["wav", "gsm"]
        .into_iter()
        .find_map(|f| sound_of(dir, name, f))
}

/// Checks, converts and stores `data` as sound `name` in `dir` (created if
/// missing). Refused: a bad name, a name taken, anything [`convert`]
/// refuses. Written to a temporary file and renamed: all or nothing.
pub fn add(dir: &Path, name: &str, file_name: &str, data: &[u8]) -> Result<Sound, SoundError> {
    let name = check_name(name)?;
    let (format, bytes, _) = convert(file_name, data)?;
    std::fs::create_dir_all(dir).map_err(io("cannot create the sounds folder", dir))?;
    if find(dir, name).is_some() {
        return Err(SoundError::Exists(name.into()));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".upload-")
        .tempfile_in(dir)
        .map_err(io("cannot write into the sounds folder", dir))?;
    tmp.write_all(&bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(io("cannot write into the sounds folder", dir))?;
    let path = dir.join(format!("{name}.{format}"));
    tmp.persist_noclobber(&path).map_err(|e| SoundError::Io {
        what: "cannot store",
        path: path.clone(),
        source: e.error,
    })?;
    find(dir, name).ok_or_else(|| SoundError::NotFound(name.into()))
}

/// Every stored sound, by name.
pub fn list(dir: &Path) -> Result<Vec<Sound>, SoundError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("cannot read the sounds folder", dir)(e)),
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().to_string();
        let Some((name, ext)) = file.rsplit_once('.') else {
            continue;
        };
        let format = match ext {
            "wav" => "wav",
            "gsm" => "gsm",
            _ => continue,
        };
        if check_name(name).is_ok() {
            out.extend(sound_of(dir, name, format));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Deletes sound `name` from `dir`.
pub fn remove(dir: &Path, name: &str) -> Result<Sound, SoundError> {
    let name = check_name(name)?;
    let s = find(dir, name).ok_or_else(|| SoundError::NotFound(name.into()))?;
    let path = dir.join(format!("{}.{}", s.name, s.format));
    std::fs::remove_file(&path).map_err(io("cannot delete", &path))?;
    Ok(s)
}

/// What [`install`] did (or would do) in Asterisk's sounds folder.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Installed {
    /// The folder: `<root>/usr/share/asterisk/sounds/oml`.
    pub folder: PathBuf,
    /// Files copied because they were new or different.
    pub copied: Vec<String>,
    /// Files already the same.
    pub unchanged: usize,
    /// Files removed because their sound was removed.
    pub removed: Vec<String>,
}

/// Copies every sound of `dir` into `<root>/usr/share/asterisk/sounds/oml/`
/// (only new or changed files, each through a temporary name) and removes
/// the files there whose sound was removed; `dry_run` changes nothing.
pub fn install(dir: &Path, root: &Path, dry_run: bool) -> Result<Installed, SoundError> {
    let folder = root.join(ASTERISK_SOUNDS).join(ASTERISK_FOLDER);
    let mut done = Installed {
        folder: folder.clone(),
        ..Installed::default()
    };
    let sounds = list(dir)?;
    if !dry_run && !sounds.is_empty() {
        std::fs::create_dir_all(&folder).map_err(io("cannot create", &folder))?;
    }
    let mut wanted = std::collections::BTreeSet::new();
    for s in &sounds {
        let file = format!("{}.{}", s.name, s.format);
        let from = dir.join(&file);
        let to = folder.join(&file);
        wanted.insert(file.clone());
        let data = std::fs::read(&from).map_err(io("cannot read", &from))?;
        if std::fs::read(&to).ok().as_deref() == Some(&data[..]) {
            done.unchanged += 1;
            continue;
        }
        if !dry_run {
            let mut tmp = tempfile::Builder::new()
                .prefix(".oml-")
                .tempfile_in(&folder)
                .map_err(io("cannot write into", &folder))?;
            tmp.write_all(&data)
                .map_err(io("cannot write into", &folder))?;
            set_readable(tmp.as_file());
            tmp.persist(&to).map_err(|e| SoundError::Io {
                what: "cannot store",
                path: to.clone(),
                source: e.error,
            })?;
        }
        done.copied.push(file);
    }
    if let Ok(entries) = std::fs::read_dir(&folder) {
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().to_string();
            let ours = (file.ends_with(".wav") || file.ends_with(".gsm")) && !file.starts_with('.');
            if ours && !wanted.contains(&file) {
                if !dry_run {
                    std::fs::remove_file(e.path()).map_err(io("cannot delete", &e.path()))?;
                }
                done.removed.push(file);
            }
        }
    }
    done.removed.sort();
    Ok(done)
}

/// Asterisk (another user) reads the copies: 0644.
fn set_readable(f: &std::fs::File) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = f.set_permissions(std::fs::Permissions::from_mode(0o644));
    }
}

#[cfg(test)]
mod tests;

/// A campaign's message setting as stored: `oml/NAME` must name an uploaded
/// sound in `dir`; a bare name of an uploaded sound becomes `oml/NAME`;
/// anything else is a sound Asterisk already has, kept as given (the store
/// checks it is a safe name under the sounds folder). Empty stays empty.
pub fn campaign_sound(dir: &Path, value: &str) -> Result<String, SoundError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    if let Some(name) = v.strip_prefix(&format!("{ASTERISK_FOLDER}/")) {
        return match find(dir, name) {
            Some(s) => Ok(s.asterisk_name),
            None => Err(SoundError::Refused(format!(
                "`{v}`: no uploaded sound is called `{name}` (see `oml sound list`, or upload it first)"
            ))),
        };
    }
    match find(dir, v) {
        Some(s) if !v.contains('/') => Ok(s.asterisk_name),
        _ => Ok(v.to_string()),
    }
}
