//! How long operations report progress without knowing about terminals: the
//! binary plugs a progress bar in, tests and scripts plug in nothing.

/// Receives progress of a long operation, phase by phase.
pub trait Progress: Sync {
    /// A phase starts; `total` bytes are expected.
    fn start(&self, phase: &str, total: u64);
    /// `n` more bytes were processed.
    fn advance(&self, n: u64);
    /// The phase ended.
    fn finish(&self);
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _phase: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
