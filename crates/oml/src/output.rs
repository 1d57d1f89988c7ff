//! Writing a command's output to standard output without panicking.
//! `println!` panics when the reader has gone (`oml users list --json |
//! head`); these write and return the error instead, as [`StdoutError`],
//! which `main` turns into a quiet exit when the pipe was closed, and into
//! a one-line error otherwise. Every command prints through here.

use std::io::Write;

/// Standard output could not be written.
#[derive(Debug)]
pub struct StdoutError(pub std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

impl StdoutError {
    /// The reader closed the pipe: nothing more is wanted, nothing failed.
    pub fn is_closed_pipe(&self) -> bool {
        self.0.kind() == std::io::ErrorKind::BrokenPipe
    }
}

/// Whether `e` (or a cause of it) is a closed standard output.
pub fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<StdoutError>()
            .is_some_and(|s| s.is_closed_pipe())
    })
}

/// Writes `text` as is.
pub fn text(text: &str) -> Result<(), StdoutError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(StdoutError)
}

/// Writes formatted text and a newline (what [`outln!`] expands to).
pub fn line(args: std::fmt::Arguments<'_>) -> Result<(), StdoutError> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(StdoutError)
}

/// A progress line from a callback that cannot return an error: written
/// like [`line`], a closed pipe ignored (the command goes on and fails, or
/// exits quietly, at its next [`outln!`]).
pub fn progress(text: &str) {
    let _ = line(format_args!("{text}"));
}

/// Writes `value` as indented JSON and a newline.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    line(format_args!("{}", serde_json::to_string_pretty(value)?))?;
    Ok(())
}

/// `println!` that returns `Err(StdoutError)` instead of panicking.
macro_rules! outln {
    () => {
        $crate::output::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;
