//! Property tests: whatever we serialise parses back to the same headers,
//! however the bytes are split into reads, with CRLF or bare LF; and random
//! bytes never panic the decoder nor make it buffer past its limit.

use bytes::BytesMut;
use oml_ami::{encode_message, Frame, FrameDecoder, Message};
use proptest::prelude::*;

fn header() -> impl Strategy<Value = (String, String)> {
    ("[A-Za-z][A-Za-z0-9_()-]{0,20}", "[^\r\n]{0,40}")
}

fn message() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(header(), 1..12).prop_filter("not a Follows frame", |h| {
        !h[0].0.eq_ignore_ascii_case("Response")
    })
}

fn build(h: &[(String, String)]) -> Message {
    let mut m = Message::new();
    for (k, v) in h {
        m.push(k, v);
    }
    m
}

fn headers(m: &Message) -> Vec<(String, String)> {
    m.iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn decode_chunked(wire: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let mut dec = FrameDecoder::server(1 << 20);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(wire.len());
    for c in cuts {
        if c > pos {
            buf.extend_from_slice(&wire[pos..c]);
            pos = c;
        }
        while let Some(f) = dec.decode(&mut buf).expect("valid input decodes") {
            out.push(f);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn serialise_then_parse_round_trips(msgs in prop::collection::vec(message(), 1..6),
                                         cuts in prop::collection::vec(any::<usize>(), 0..8),
                                         bare_lf in any::<bool>()) {
        let mut wire = BytesMut::new();
        for h in &msgs {
            encode_message(&build(h), &mut wire).unwrap();
        }
        let wire: Vec<u8> = if bare_lf {
            String::from_utf8(wire.to_vec()).unwrap().replace("\r\n", "\n").into_bytes()
        } else {
            wire.to_vec()
        };
        let frames = decode_chunked(&wire, &cuts);
        prop_assert_eq!(frames.len(), msgs.len());
        for (f, h) in frames.iter().zip(&msgs) {
            match f {
                Frame::Message(m) => prop_assert_eq!(&headers(m), h),
                Frame::Greeting(g) => prop_assert!(false, "greeting {}", g),
            }
        }
    }

    #[test]
    fn follows_body_round_trips(lines in prop::collection::vec("[^\r\n]{0,30}", 0..6)) {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        prop_assume!(!body.contains("--END COMMAND--"));
        let mut m = Message::response("Follows").with("Privilege", "Command").with("ActionID", "9");
        m.set_body(&body);
        let mut wire = BytesMut::new();
        encode_message(&m, &mut wire).unwrap();
        let frames = decode_chunked(&wire, &[]);
        prop_assert_eq!(frames.len(), 1);
        match &frames[0] {
            Frame::Message(got) => {
                prop_assert_eq!(got.body(), Some(body.as_str()));
                prop_assert_eq!(got.action_id(), Some("9"));
            }
            Frame::Greeting(_) => prop_assert!(false),
        }
    }

    #[test]
    fn random_bytes_never_panic_nor_grow(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..30),
                                         client in any::<bool>()) {
        let limit = 512;
        let mut dec = if client { FrameDecoder::client(limit) } else { FrameDecoder::server(limit) };
        let mut buf = BytesMut::new();
        'outer: for c in chunks {
            buf.extend_from_slice(&c);
            loop {
                match dec.decode(&mut buf) {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
            }
            // Without an error, what stays buffered is within the limit
            // plus at most one read.
            prop_assert!(buf.len() <= limit + 300);
        }
    }
}
