//! The AMI wire format: splitting a byte stream into frames and writing
//! messages back out.
//!
//! A frame is a block of `Key: Value` lines ended by an empty line. Also
//! handled: the greeting line a server sends first (`Asterisk Call
//! Manager/x.y.z`), old `Response: Follows` command replies whose free text
//! runs until `--END COMMAND--`, bare `\n` line endings, values that contain
//! `: `, and invalid UTF-8 (replaced, never a panic). A frame longer than the
//! configured limit is an error, so a hostile peer cannot make us buffer
//! without bound. [`FrameDecoder::decode`] is a pure function over a buffer;
//! [`AmiCodec`] wraps it for `tokio_util::codec`.

use bytes::{Buf, BytesMut};
use memchr::memmem;

use crate::error::FrameError;
use crate::message::{Message, Span};

/// Default largest frame accepted: 1 MiB (a `CoreShowChannels` event is
/// well under 2 KiB; `Command` output of `core show help` is ~100 KiB).
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;

const END_COMMAND: &[u8] = b"--END COMMAND--";

/// One item read from an AMI stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The server's first line, e.g. `Asterisk Call Manager/5.0.1`.
    Greeting(String),
    /// A response, event or action.
    Message(Message),
}

/// Incremental frame decoder. Keeps where it stopped scanning so a frame
/// arriving in many small reads is scanned once, not once per read.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    max_frame: usize,
    expect_greeting: bool,
    scanned: usize,
}

impl FrameDecoder {
    /// A decoder for a client: the first line is taken as the greeting
    /// when it has no `:` or starts with `Asterisk Call Manager`.
    pub fn client(max_frame: usize) -> Self {
        Self {
            max_frame,
            expect_greeting: true,
            scanned: 0,
        }
    }

    /// A decoder for a server: no greeting is expected.
    pub fn server(max_frame: usize) -> Self {
        Self {
            max_frame,
            expect_greeting: false,
            scanned: 0,
        }
    }

    /// Largest frame accepted, in bytes.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// Takes one complete frame off the front of `buf`, or returns `None`
    /// when more bytes are needed. Empty lines between frames are skipped.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        // Skip blank lines between frames.
        let mut skip = 0;
        while skip < buf.len() {
            match buf[skip] {
                b'\n' => skip += 1,
                b'\r' if buf.get(skip + 1) == Some(&b'\n') => skip += 2,
                b'\r' if skip + 1 == buf.len() => break,
                _ => break,
            }
        }
        if skip > 0 {
            buf.advance(skip);
            self.scanned = 0;
        }
        if buf.is_empty() {
            return Ok(None);
        }

        if self.expect_greeting {
            let Some(nl) = memchr::memchr(b'\n', buf) else {
                return self.need_more(buf.len());
            };
            let line = trim_cr(&buf[..nl]);
            let is_greeting = line.starts_with(b"Asterisk Call Manager") || !line.contains(&b':');
            self.expect_greeting = false;
            if is_greeting {
                let text = String::from_utf8_lossy(line).into_owned();
                buf.advance(nl + 1);
                self.scanned = 0;
                return Ok(Some(Frame::Greeting(text)));
            }
        }

        let end = if starts_with_ignore_case(buf, b"response: follows") {
            match find_end_command(buf) {
                Some(e) => e,
                None => return self.need_more(buf.len()),
            }
        } else {
            match self.find_blank_line(buf) {
                Some(e) => e,
                None => return self.need_more(buf.len()),
            }
        };
        if end > self.max_frame {
            return Err(FrameError::TooLarge {
                limit: self.max_frame,
            });
        }
        let raw = buf.split_to(end);
        self.scanned = 0;
        Ok(Some(Frame::Message(parse_frame(&raw))))
    }

    fn need_more(&self, buffered: usize) -> Result<Option<Frame>, FrameError> {
        if buffered > self.max_frame {
            Err(FrameError::TooLarge {
                limit: self.max_frame,
            })
        } else {
            Ok(None)
        }
    }

    /// Index just past the empty line that ends the frame at `buf[0..]`.
    fn find_blank_line(&mut self, buf: &[u8]) -> Option<usize> {
        let mut pos = self.scanned;
        let limit = buf.len().min(self.max_frame.saturating_add(4));
        for nl in memchr::memchr_iter(b'\n', &buf[pos..limit]) {
            let i = pos + nl;
            match buf.get(i + 1) {
                Some(b'\n') => return Some(i + 2),
                Some(b'\r') => match buf.get(i + 2) {
                    Some(b'\n') => return Some(i + 3),
                    Some(_) => {}
                    None => {
                        self.scanned = i;
                        return None;
                    }
                },
                Some(_) => {}
                None => {
                    self.scanned = i;
                    return None;
                }
            }
        }
        // Resume at the last byte: a `\n` there may start the terminator.
        pos = limit.saturating_sub(1);
        self.scanned = pos;
        None
    }
}

/// End of a `Response: Follows` frame: past `--END COMMAND--`, its line
/// ending and the following empty line.
fn find_end_command(buf: &[u8]) -> Option<usize> {
    let at = memmem::find(buf, END_COMMAND)?;
    let mut i = at + END_COMMAND.len();
    for _ in 0..2 {
        match buf.get(i) {
            Some(b'\n') => i += 1,
            Some(b'\r') => match buf.get(i + 1) {
                Some(b'\n') => i += 2,
                None => return None,
                Some(_) => return Some(i),
            },
            None => return None,
            Some(_) => return Some(i),
        }
    }
    Some(i)
}

fn trim_cr(line: &[u8]) -> &[u8] {
    match line.last() {
        Some(b'\r') => &line[..line.len() - 1],
        _ => line,
    }
}

fn starts_with_ignore_case(buf: &[u8], prefix: &[u8]) -> bool {
    buf.len() >= prefix.len() && buf[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Parses one complete frame (headers, optional `Follows` body). Never
/// fails: invalid UTF-8 is replaced by U+FFFD and a line without `:` is kept
/// as a header with an empty name, so nothing the peer said is lost.
pub fn parse_frame(raw: &[u8]) -> Message {
    let text = match std::str::from_utf8(raw) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    };
    let bytes = text.as_bytes();
    let follows = starts_with_ignore_case(bytes, b"response: follows");
    // One header per line: size the list once.
    let mut fields = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count() + 1);
    let mut body = None;
    let mut start = 0;
    let mut header_count = 0usize;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let mut line_end = end;
        if line_end > start && bytes[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let line = &bytes[start..line_end];
        if follows && header_count > 0 && !is_follows_header(line) {
            // The rest, up to `--END COMMAND--`, is free text.
            let rest = &bytes[start..];
            let stop = memmem::find(rest, END_COMMAND).map_or(bytes.len(), |i| start + i);
            body = Some((start, stop));
            break;
        }
        if !line.is_empty() {
            fields.push(split_line(start, line));
            header_count += 1;
        }
        start = end + 1;
    }
    Message::from_parts(text, fields, body)
}

fn is_follows_header(line: &[u8]) -> bool {
    starts_with_ignore_case(line, b"privilege:") || starts_with_ignore_case(line, b"actionid:")
}

/// Offsets of key and value of one `Key: Value` line starting at `base`.
/// The value starts after the first `:` and one optional space.
fn split_line(base: usize, line: &[u8]) -> Span {
    match memchr::memchr(b':', line) {
        Some(c) => {
            let mut v0 = c + 1;
            if line.get(v0) == Some(&b' ') {
                v0 += 1;
            }
            Span {
                k0: base,
                k1: base + c,
                v0: base + v0,
                v1: base + line.len(),
            }
        }
        None => Span {
            k0: base,
            k1: base,
            v0: base,
            v1: base + line.len(),
        },
    }
}

/// Writes `msg` in wire form: `Key: Value\r\n` per header, then the body
/// and `--END COMMAND--` if it has one, then the empty line. Refuses
/// headers that would break framing (a name with `:`, CR or LF, or a value
/// with CR or LF) instead of sending something the peer would misread.
pub fn encode_message(msg: &Message, dst: &mut BytesMut) -> Result<(), FrameError> {
    check_message(msg)?;
    let mut need = 2;
    for (k, v) in msg.iter() {
        need += k.len() + v.len() + 4;
    }
    if let Some(b) = msg.body() {
        need += b.len() + END_COMMAND.len() + 4;
    }
    dst.reserve(need);
    for (k, v) in msg.iter() {
        dst.extend_from_slice(k.as_bytes());
        dst.extend_from_slice(b": ");
        dst.extend_from_slice(v.as_bytes());
        dst.extend_from_slice(b"\r\n");
    }
    if let Some(b) = msg.body() {
        dst.extend_from_slice(b.as_bytes());
        if !b.is_empty() && !b.ends_with('\n') {
            dst.extend_from_slice(b"\r\n");
        }
        dst.extend_from_slice(END_COMMAND);
        dst.extend_from_slice(b"\r\n");
    }
    dst.extend_from_slice(b"\r\n");
    Ok(())
}

/// Whether [`encode_message`] can write `msg`: every header name non-empty
/// without `:`, CR or LF, every value without CR or LF. Checked before an
/// action is queued, so a refused action fails alone, never the connection.
pub fn check_message(msg: &Message) -> Result<(), FrameError> {
    for (k, v) in msg.iter() {
        if k.is_empty() || memchr::memchr3(b':', b'\r', b'\n', k.as_bytes()).is_some() {
            return Err(FrameError::InvalidHeaderName(k.to_owned()));
        }
        if memchr::memchr2(b'\r', b'\n', v.as_bytes()).is_some() {
            return Err(FrameError::InvalidHeaderValue(k.to_owned()));
        }
    }
    Ok(())
}

/// `tokio_util` codec: decodes [`Frame`]s, encodes [`Message`]s.
#[derive(Debug, Clone)]
pub struct AmiCodec {
    decoder: FrameDecoder,
}

impl AmiCodec {
    /// Codec for the client side (expects a greeting first).
    pub fn client(max_frame: usize) -> Self {
        Self {
            decoder: FrameDecoder::client(max_frame),
        }
    }

    /// Codec for the server side (no greeting expected).
    pub fn server(max_frame: usize) -> Self {
        Self {
            decoder: FrameDecoder::server(max_frame),
        }
    }
}

impl tokio_util::codec::Decoder for AmiCodec {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        self.decoder.decode(src)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        match self.decoder.decode(buf)? {
            Some(f) => Ok(Some(f)),
            None => {
                // A peer closing mid-frame: whatever is left is dropped.
                buf.clear();
                Ok(None)
            }
        }
    }
}

impl tokio_util::codec::Encoder<&Message> for AmiCodec {
    type Error = FrameError;

    fn encode(&mut self, item: &Message, dst: &mut BytesMut) -> Result<(), FrameError> {
        encode_message(item, dst)
    }
}

impl tokio_util::codec::Encoder<Message> for AmiCodec {
    type Error = FrameError;

    fn encode(&mut self, item: Message, dst: &mut BytesMut) -> Result<(), FrameError> {
        encode_message(&item, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(dec: &mut FrameDecoder, input: &[u8]) -> Vec<Frame> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(f) = dec.decode(&mut buf).unwrap() {
            out.push(f);
        }
        out
    }

    fn msg(f: &Frame) -> &Message {
        match f {
            Frame::Message(m) => m,
            Frame::Greeting(g) => panic!("unexpected greeting {g}"),
        }
    }

    #[test]
    fn greeting_then_event() {
        let mut d = FrameDecoder::client(DEFAULT_MAX_FRAME);
        let f = decode_all(
            &mut d,
            b"Asterisk Call Manager/5.0.1\r\nEvent: FullyBooted\r\nStatus: Fully Booted\r\n\r\n",
        );
        assert_eq!(f[0], Frame::Greeting("Asterisk Call Manager/5.0.1".into()));
        assert_eq!(msg(&f[1]).event_name(), Some("FullyBooted"));
        assert_eq!(msg(&f[1]).get("Status"), Some("Fully Booted"));
    }

    #[test]
    fn bare_lf_and_values_with_colon_space() {
        let mut d = FrameDecoder::server(DEFAULT_MAX_FRAME);
        let f = decode_all(
            &mut d,
            b"Action: Originate\nVariable: A=x: y\nVariable: B=2\nData: a:b\n\n",
        );
        let m = msg(&f[0]);
        assert_eq!(m.get_all("Variable").collect::<Vec<_>>(), ["A=x: y", "B=2"]);
        assert_eq!(m.get("Data"), Some("a:b"));
    }

    #[test]
    fn byte_by_byte_equals_whole() {
        let input = b"Event: Hangup\r\nChannel: Local/1@x-0001;1\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\nEvent: Newchannel\r\nChannel: PJSIP/a\r\n\r\n";
        let whole = decode_all(&mut FrameDecoder::server(DEFAULT_MAX_FRAME), input);
        let mut d = FrameDecoder::server(DEFAULT_MAX_FRAME);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in input {
            buf.extend_from_slice(&[*b]);
            while let Some(f) = d.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        assert_eq!(whole, got);
        assert_eq!(got.len(), 2);
        assert_eq!(msg(&got[0]).get("Cause-txt"), Some("Normal Clearing"));
    }

    #[test]
    fn response_follows_body() {
        let mut d = FrameDecoder::client(DEFAULT_MAX_FRAME);
        let input = b"Asterisk Call Manager/1.1\r\nResponse: Follows\r\nPrivilege: Command\r\nActionID: 7\r\nName: x\r\n\r\nUptime: 3 days\n--END COMMAND--\r\n\r\nEvent: X\r\n\r\n";
        let f = decode_all(&mut d, input);
        assert_eq!(f.len(), 3);
        let m = msg(&f[1]);
        assert_eq!(m.action_id(), Some("7"));
        assert_eq!(m.body(), Some("Name: x\r\n\r\nUptime: 3 days\n"));
        assert_eq!(m.output_lines(), ["Name: x", "", "Uptime: 3 days"]);
        assert_eq!(msg(&f[2]).event_name(), Some("X"));
    }

    #[test]
    fn output_headers_form() {
        let mut d = FrameDecoder::server(DEFAULT_MAX_FRAME);
        let f = decode_all(
            &mut d,
            b"Response: Success\r\nMessage: Command output follows\r\nOutput: line 1\r\nOutput: line: 2\r\n\r\n",
        );
        assert_eq!(msg(&f[0]).output_lines(), ["line 1", "line: 2"]);
    }

    #[test]
    fn oversized_frame_is_an_error_not_growth() {
        let mut d = FrameDecoder::server(1024);
        let mut buf = BytesMut::new();
        buf.extend_from_slice(b"Event: X\r\n");
        let mut err = None;
        for _ in 0..100 {
            buf.extend_from_slice(&[b'a'; 100]);
            match d.decode(&mut buf) {
                Ok(None) => {}
                Ok(Some(_)) => panic!("no frame expected"),
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert!(matches!(err, Some(FrameError::TooLarge { limit: 1024 })));
        assert!(buf.len() < 1300);
    }

    #[test]
    fn complete_frame_over_limit_rejected() {
        let mut d = FrameDecoder::server(16);
        let mut buf = BytesMut::from(&b"Event: 0123456789abcdef\r\n\r\n"[..]);
        assert!(d.decode(&mut buf).is_err());
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let mut d = FrameDecoder::server(DEFAULT_MAX_FRAME);
        let f = decode_all(
            &mut d,
            b"Event: Newchannel\r\nCallerIDName: Jos\xe9\r\n\r\n",
        );
        assert_eq!(msg(&f[0]).get("CallerIDName"), Some("Jos\u{fffd}"));
    }

    #[test]
    fn encode_exact_and_rejects_injection() {
        let m = Message::action("Login")
            .with("Username", "u")
            .with("Secret", "s");
        let mut b = BytesMut::new();
        encode_message(&m, &mut b).unwrap();
        assert_eq!(&b[..], b"Action: Login\r\nUsername: u\r\nSecret: s\r\n\r\n");
        let bad = Message::action("Hangup").with("Channel", "x\r\nAction: Command");
        assert!(matches!(
            encode_message(&bad, &mut b),
            Err(FrameError::InvalidHeaderValue(_))
        ));
    }

    #[test]
    fn encode_follows_round_trip() {
        let mut m = Message::response("Follows").with("Privilege", "Command");
        m.set_body("line a\nline b\n");
        let mut b = BytesMut::new();
        encode_message(&m, &mut b).unwrap();
        let got = decode_all(&mut FrameDecoder::server(DEFAULT_MAX_FRAME), &b);
        assert_eq!(msg(&got[0]).body(), Some("line a\nline b\n"));
    }

    #[test]
    fn line_without_colon_kept() {
        let got = decode_all(
            &mut FrameDecoder::server(DEFAULT_MAX_FRAME),
            b"Event: X\r\njunk\r\n\r\n",
        );
        assert_eq!(msg(&got[0]).get(""), Some("junk"));
    }
}
