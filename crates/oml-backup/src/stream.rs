//! Streaming building blocks: readers and writers that hash what passes
//! through them, and the compressed output that can switch between
//! compressed and stored frames between archive entries (so already
//! compressed media is copied, not recompressed, inside one `.tar.zst` or
//! `.tgz` stream that standard tools still read).

use crate::manifest::Format;
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};

/// A reader that hashes and counts every byte read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Hex SHA-256 and byte count of what was read.
    pub fn finish(self) -> (String, u64) {
        (hex::encode(self.hasher.finalize()), self.count)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// A writer that hashes and counts every byte written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hasher.finalize()), self.count)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// SHA-256 and size of a whole stream, read in 1 MiB chunks.
pub fn hash_stream<R: Read>(r: R) -> io::Result<(String, u64)> {
    let mut h = HashingReader::new(r);
    io::copy(
        &mut io::BufReader::with_capacity(1 << 20, &mut h),
        &mut io::sink(),
    )?;
    Ok(h.finish())
}

/// Largest block a stored zstd frame may carry.
const ZSTD_BLOCK: usize = 128 * 1024;

/// A zstd frame made only of raw (stored) blocks: no compression work at
/// all, yet any zstd decoder reads it as part of the stream (RFC 8878:
/// frames concatenate; block type 0 is "Raw").
pub struct StoredZstd<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> StoredZstd<W> {
    pub fn new(mut inner: W) -> io::Result<Self> {
        // Magic, frame header descriptor 0 (no content size, no checksum, not
        // single-segment), window descriptor: 2^(10+7) = 128 KiB window.
        inner.write_all(&[0x28, 0xB5, 0x2F, 0xFD, 0x00, 7 << 3])?;
        Ok(StoredZstd {
            inner,
            buf: Vec::with_capacity(ZSTD_BLOCK),
        })
    }

    fn emit(&mut self, last: bool) -> io::Result<()> {
        let header = (last as u32) | ((self.buf.len() as u32) << 3);
        self.inner.write_all(&header.to_le_bytes()[..3])?;
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.emit(true)?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for StoredZstd<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = ZSTD_BLOCK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == ZSTD_BLOCK {
            self.emit(false)?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// How the bytes of the next entries are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Compressed,
    Stored,
}

enum State<W: Write> {
    Idle(W),
    Zstd(zstd::stream::write::Encoder<'static, W>),
    ZstdStored(StoredZstd<W>),
    Gz(flate2::write::GzEncoder<W>),
    Broken,
}

/// The compressed output of an archive: a sequence of zstd frames or gzip
/// members, each either compressed or stored, switched between entries.
pub struct FrameSink<W: Write> {
    format: Format,
    level: i32,
    threads: u32,
    mode: Option<Mode>,
    state: State<W>,
}

impl<W: Write> FrameSink<W> {
    pub fn new(inner: W, format: Format, level: i32, threads: u32) -> Self {
        FrameSink {
            format,
            level,
            threads,
            mode: None,
            state: State::Idle(inner),
        }
    }

    fn close_frame(&mut self) -> io::Result<W> {
        match std::mem::replace(&mut self.state, State::Broken) {
            State::Idle(w) => Ok(w),
            State::Zstd(e) => e.finish(),
            State::ZstdStored(s) => s.finish(),
            State::Gz(g) => g.finish(),
            State::Broken => Err(io::Error::other("archive stream is broken")),
        }
    }

    /// Ends the current frame (if its mode differs) and starts one in `mode`.
    pub fn set_mode(&mut self, mode: Mode) -> io::Result<()> {
        if self.mode == Some(mode) {
            return Ok(());
        }
        let w = self.close_frame()?;
        self.state = match (self.format, mode) {
            (Format::Zst, Mode::Compressed) => {
                let mut e = zstd::stream::write::Encoder::new(w, self.level)?;
                e.include_checksum(true)?;
                if self.threads > 1 {
                    e.multithread(self.threads)?;
                }
                State::Zstd(e)
            }
            (Format::Zst, Mode::Stored) => State::ZstdStored(StoredZstd::new(w)?),
            (Format::Tgz, Mode::Compressed) => State::Gz(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::new(self.level.clamp(1, 9) as u32),
            )),
            (Format::Tgz, Mode::Stored) => State::Gz(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::none(),
            )),
        };
        self.mode = Some(mode);
        Ok(())
    }

    /// Ends the last frame and gives the underlying writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.close_frame()
    }
}

impl<W: Write> Write for FrameSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.mode.is_none() {
            self.set_mode(Mode::Compressed)?;
        }
        match &mut self.state {
            State::Zstd(e) => e.write(buf),
            State::ZstdStored(s) => s.write(buf),
            State::Gz(g) => g.write(buf),
            State::Idle(_) | State::Broken => Err(io::Error::other("archive stream is broken")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Zstd(e) => e.flush(),
            State::ZstdStored(s) => s.flush(),
            State::Gz(g) => g.flush(),
            State::Idle(w) => w.flush(),
            State::Broken => Ok(()),
        }
    }
}

/// Opens the decompressed stream of an archive, recognising the format by
/// its first bytes (zstd or gzip; anything else is refused).
pub fn decoder<R: io::BufRead + 'static>(mut input: R) -> io::Result<(Box<dyn Read>, Format)> {
    let head = input.fill_buf()?;
    if head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        Ok((
            Box::new(zstd::stream::read::Decoder::with_buffer(input)?),
            Format::Zst,
        ))
    } else if head.starts_with(&[0x1F, 0x8B]) {
        Ok((
            Box::new(flate2::bufread::MultiGzDecoder::new(input)),
            Format::Tgz,
        ))
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a zstd or gzip archive",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(format: Format) {
        let mut sink = FrameSink::new(Vec::new(), format, 3, 1);
        let text = b"hello hello hello hello ".repeat(1000);
        let media: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        sink.write_all(&text).unwrap();
        sink.set_mode(Mode::Stored).unwrap();
        sink.write_all(&media).unwrap();
        sink.set_mode(Mode::Compressed).unwrap();
        sink.write_all(b"tail").unwrap();
        let out = sink.finish().unwrap();
        let (mut d, f) = decoder(io::Cursor::new(out.clone())).unwrap();
        assert_eq!(f, format);
        let mut back = Vec::new();
        d.read_to_end(&mut back).unwrap();
        let mut want = text.clone();
        want.extend_from_slice(&media);
        want.extend_from_slice(b"tail");
        assert_eq!(back, want);
        // The stored part is there verbatim: no recompression happened.
        assert!(out.windows(1000).any(|w| w == &media[5000..6000]));
    }

    #[test]
    fn zstd_frames_switch_and_decode_as_one_stream() {
        roundtrip(Format::Zst);
    }

    #[test]
    fn gzip_members_switch_and_decode_as_one_stream() {
        roundtrip(Format::Tgz);
    }

    #[test]
    fn hashing_reader_matches_known_digest() {
        let (h, n) = hash_stream(&b"abc"[..]).unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
