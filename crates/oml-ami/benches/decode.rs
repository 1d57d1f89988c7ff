//! Decoder throughput on a recorded-style stream of mixed AMI events
//! (the sequence a busy dialer sees: Newchannel, Newstate, VarSet,
//! OriginateResponse, queue and agent events, Hangup), compared in the same
//! run with the `asterisk-rs-ami` crate's codec. Run:
//! `cargo bench -p oml-ami --bench decode`.

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use oml_ami::{encode_message, FrameDecoder, Message, DEFAULT_MAX_FRAME};
use tokio_util::codec::Decoder;

fn chan(ev: &str, i: usize, state: &str) -> Message {
    Message::event(ev)
        .with("Privilege", "call,all")
        .with("Channel", format!("Local/55512{i:05}@from-oml-{i:08x};1"))
        .with("ChannelState", if state == "Up" { "6" } else { "0" })
        .with("ChannelStateDesc", state)
        .with("CallerIDNum", format!("55512{i:05}"))
        .with("CallerIDName", "<unknown>")
        .with("ConnectedLineNum", "5550000")
        .with("ConnectedLineName", "Ventas Norte")
        .with("Language", "es")
        .with("AccountCode", "")
        .with("Context", "oml-campaign")
        .with("Exten", "1")
        .with("Priority", "1")
        .with("Uniqueid", format!("1764270000.{i}"))
        .with("Linkedid", format!("1764270000.{i}"))
}

/// One call's worth of events, ~12 events.
fn call_events(i: usize) -> Vec<Message> {
    vec![
        chan("Newchannel", i, "Down"),
        chan("VarSet", i, "Down")
            .with("Variable", "OMLCAMP")
            .with("Value", "17"),
        chan("Newstate", i, "Up"),
        Message::event("OriginateResponse")
            .with("Privilege", "call,all")
            .with("ActionID", format!("oml-1-1-{i}"))
            .with("Response", "Success")
            .with("Channel", format!("Local/55512{i:05}@from-oml-{i:08x};1"))
            .with("Context", "oml-campaign")
            .with("Exten", "1")
            .with("Application", "")
            .with("Data", "")
            .with("Reason", "4")
            .with("Uniqueid", format!("1764270000.{i}"))
            .with("CallerIDNum", "5550000")
            .with("CallerIDName", "Ventas Norte"),
        chan("QueueCallerJoin", i, "Up")
            .with("Queue", "sales")
            .with("Position", "1")
            .with("Count", "1"),
        chan("QueueCallerLeave", i, "Up")
            .with("Queue", "sales")
            .with("Position", "1")
            .with("Count", "0"),
        chan("AgentConnect", i, "Up")
            .with("DestChannel", "PJSIP/agent7-00000abc")
            .with("DestChannelState", "6")
            .with("DestChannelStateDesc", "Up")
            .with("DestUniqueid", "1764270000.9999")
            .with("Queue", "sales")
            .with("MemberName", "Agent 7")
            .with("Interface", "PJSIP/agent7")
            .with("HoldTime", "1")
            .with("RingTime", "0"),
        Message::event("QueueMemberStatus")
            .with("Privilege", "agent,all")
            .with("Queue", "sales")
            .with("MemberName", "Agent 7")
            .with("Interface", "PJSIP/agent7")
            .with("StateInterface", "PJSIP/agent7")
            .with("Membership", "static")
            .with("Penalty", "0")
            .with("CallsTaken", "12")
            .with("LastCall", "1764270100")
            .with("LastPause", "0")
            .with("LoginTime", "1764260000")
            .with("InCall", "1")
            .with("Status", "2")
            .with("Paused", "0")
            .with("PausedReason", "")
            .with("Ringinuse", "0")
            .with("Wrapuptime", "0"),
        chan("AgentComplete", i, "Up")
            .with("Queue", "sales")
            .with("MemberName", "Agent 7")
            .with("Interface", "PJSIP/agent7")
            .with("HoldTime", "1")
            .with("TalkTime", "95")
            .with("Reason", "caller"),
        chan("Hangup", i, "Up")
            .with("Cause", "16")
            .with("Cause-txt", "Normal Clearing"),
        Message::event("PeerStatus")
            .with("Privilege", "system,all")
            .with("ChannelType", "PJSIP")
            .with("Peer", "PJSIP/agent7")
            .with("PeerStatus", "Reachable")
            .with("Time", "3"),
    ]
}

fn stream() -> (Vec<u8>, usize) {
    let mut wire = BytesMut::new();
    wire.extend_from_slice(b"Asterisk Call Manager/5.0.1\r\n");
    let mut n = 0;
    for i in 0..1000 {
        for e in call_events(i) {
            encode_message(&e, &mut wire).unwrap();
            n += 1;
        }
    }
    (wire.to_vec(), n)
}

fn bench(c: &mut Criterion) {
    let (wire, n) = stream();
    let mut g = c.benchmark_group("decode_mixed_events");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(30);
    g.bench_function("oml-ami", |b| {
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut buf| {
                let mut d = FrameDecoder::client(DEFAULT_MAX_FRAME);
                let mut count = 0usize;
                while let Some(f) = d.decode(&mut buf).unwrap() {
                    black_box(&f);
                    count += 1;
                }
                assert_eq!(count, n + 1);
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("asterisk-rs-ami 0.8", |b| {
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut buf| {
                let mut d = asterisk_rs_ami::AmiCodec::new();
                let mut count = 0usize;
                while let Some(f) = d.decode(&mut buf).unwrap() {
                    black_box(&f);
                    count += 1;
                }
                assert_eq!(count, n);
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
