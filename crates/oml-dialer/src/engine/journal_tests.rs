//! The journal file's rules: entries come back in order across a reopen,
//! a write cut by a crash is left out, a full journal refuses (all or
//! nothing) and keeps what it holds, one engine per node name uses it.

use oml_store::dialing::{AttemptResult, DialingWrite};

use super::*;

fn end(contact: i64) -> Entry {
    Entry::Write(DialingWrite::End(AttemptResult {
        contact_id: contact,
        attempt_no: 1,
        answered_at: Some(1_000),
        connected_at: Some(2_000),
        ended_at: 9_000,
        outcome: "connected".into(),
        hangup_cause: Some(16),
        agent: Some("Agent \"One\"\nsecond line".into()),
        contact_state: "done".into(),
        next_attempt_at: 0,
    }))
}

#[test]
fn entries_come_back_in_order_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path(), "node a/1", MAX_BYTES).unwrap();
    assert!(j.path().ends_with("node%20a%2F1.jsonl"), "{:?}", j.path());
    j.append(&[end(1), Entry::Release(vec![7, 8])]).unwrap();
    j.append(&[end(2)]).unwrap();
    drop(j);
    let mut j = Journal::open(dir.path(), "node a/1", MAX_BYTES).unwrap();
    assert_eq!(
        j.read().unwrap(),
        [end(1), Entry::Release(vec![7, 8]), end(2)]
    );
    j.clear().unwrap();
    assert_eq!(j.read().unwrap(), []);
    assert_eq!(std::fs::metadata(j.path()).unwrap().len(), 0);
}

#[test]
fn a_line_cut_by_a_crash_is_left_out_and_a_bad_line_is_named() {
    let text = encode(&[end(1), end(2)]);
    let cut = &text[..text.len() - 10];
    assert_eq!(decode(cut).unwrap(), [end(1)]);
    assert_eq!(decode(&text).unwrap(), [end(1), end(2)]);
    let bad = format!("{}not json\n", encode(&[end(1)]));
    assert_eq!(decode(&bad).unwrap_err().0, 2);
}

#[test]
fn a_full_journal_refuses_all_and_keeps_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let one = encode(&[end(1)]).len() as u64;
    let mut j = Journal::open(dir.path(), "n", one * 2).unwrap();
    j.append(&[end(1)]).unwrap();
    let e = j.append(&[end(2), end(3)]).unwrap_err();
    assert!(matches!(e, JournalError::Full { .. }), "{e}");
    assert!(e.to_string().contains("stops dialing"), "{e}");
    assert_eq!(j.read().unwrap(), [end(1)]);
    j.append(&[end(2)]).unwrap();
    assert_eq!(j.read().unwrap(), [end(1), end(2)]);
}

#[test]
fn one_engine_per_node_name_and_file_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path(), "n", MAX_BYTES).unwrap();
    let e = Journal::open(dir.path(), "n", MAX_BYTES).unwrap_err();
    assert!(matches!(e, JournalError::Locked { .. }), "{e}");
    assert!(Journal::open(dir.path(), "other", MAX_BYTES).is_ok());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(j.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(j);
    assert!(Journal::open(dir.path(), "n", MAX_BYTES).is_ok());
}

#[test]
fn file_names_cannot_leave_the_folder() {
    assert_eq!(file_name("oml-1.example"), "oml-1.example.jsonl");
    assert_eq!(file_name("../x"), "%2E.%2Fx.jsonl");
    assert_eq!(file_name(".."), "%2E..jsonl");
    assert!(!file_name("a/b").contains('/'));
}
