//! The CSV exports' rows, pure: each table's header and each record as
//! text fields, every time twice (ISO 8601 in the campaign's time zone,
//! with its offset, and in UTC), and a page of records written as CSV bytes.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use oml_store::contact_history::ContactSummary;
use oml_store::exports::ExportAttempt;
use oml_store::history::CampaignMinute;

use crate::report::Report;

/// A time as `[local, utc]`: `2026-12-07T18:00:00-03:00`, `2026-12-07T21:00:00Z`.
pub fn times(ms: Option<i64>, tz: Tz) -> [String; 2] {
    match ms.and_then(DateTime::<Utc>::from_timestamp_millis) {
        // RFC 3339 to the second (no format string to read at each call).
        Some(t) => [
            t.with_timezone(&tz)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            t.to_rfc3339_opts(SecondsFormat::Secs, true),
        ],
        None => [String::new(), String::new()],
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// Both columns of each time column named in `names`.
fn with_times(plain: &[&str], timed: &[&str]) -> Vec<String> {
    let mut h: Vec<String> = plain.iter().map(|s| s.to_string()).collect();
    for t in timed {
        h.push(format!("{t}_local"));
        h.push(format!("{t}_utc"));
    }
    h
}

pub fn attempt_header() -> Vec<String> {
    let mut h = with_times(
        &["attempt_id", "contact_id", "phone", "attempt_no"],
        &["placed_at", "answered_at", "connected_at", "ended_at"],
    );
    h.extend(
        [
            "outcome",
            "hangup_cause",
            "agent",
            "server",
            "node",
            "channel_id",
        ]
        .map(String::from),
    );
    h
}

pub fn attempt_record(a: &ExportAttempt, tz: Tz) -> Vec<String> {
    let mut r = vec![
        a.id.to_string(),
        a.contact_id.to_string(),
        a.phone.clone(),
        a.attempt_no.to_string(),
    ];
    for t in [Some(a.placed_at), a.answered_at, a.connected_at, a.ended_at] {
        r.extend(times(t, tz));
    }
    r.extend([
        opt(&a.outcome),
        opt(&a.hangup_cause),
        opt(&a.agent),
        opt(&a.server),
        a.node.clone(),
        a.channel_id.clone(),
    ]);
    r
}

pub fn contact_header() -> Vec<String> {
    with_times(
        &["contact_id", "phone", "state", "attempts", "last_outcome"],
        &["next_attempt_at"],
    )
}

pub fn contact_record(c: &ContactSummary, tz: Tz) -> Vec<String> {
    let mut r = vec![
        c.id.to_string(),
        c.phone.clone(),
        c.state.clone(),
        c.attempts.to_string(),
        opt(&c.last_outcome),
    ];
    r.extend(times(c.next_attempt_at, tz));
    r
}

pub fn minute_header() -> Vec<String> {
    let mut h = with_times(&[], &["minute"]);
    h.extend(
        [
            "calls_placed",
            "live_answers",
            "machines",
            "abandons",
            "connected",
            "ended",
            "agents_logged_in",
            "agents_ready",
            "agents_talking",
            "agents_paused",
            "agents_wrap_up",
            "occupancy",
            "answer_rate",
            "avg_talk_s",
            "avg_wait_s",
            "calls_in_flight",
            "dial_ahead",
            "risk_threshold",
            "window_abandon_rate",
            "max_abandon_rate",
        ]
        .map(String::from),
    );
    h
}

/// A gauge or rate with up to 4 decimals, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

pub fn minute_record(m: &CampaignMinute, tz: Tz) -> Vec<String> {
    let mut r: Vec<String> = times(Some(m.minute_at), tz).into();
    r.extend([
        m.calls_placed.to_string(),
        m.live_answers.to_string(),
        opt(&m.machines),
        m.abandons.to_string(),
        m.connected.to_string(),
        m.ended.to_string(),
    ]);
    for g in [
        m.agents_logged_in,
        m.agents_ready,
        m.agents_talking,
        m.agents_paused,
        m.agents_wrap_up,
        m.occupancy,
    ] {
        r.push(num(g));
    }
    for o in [m.answer_rate, m.avg_talk_s, m.avg_wait_s] {
        r.push(o.map(num).unwrap_or_default());
    }
    r.push(num(m.calls_in_flight));
    r.push(num(m.dial_ahead));
    r.push(m.risk_threshold.map(num).unwrap_or_default());
    r.push(num(m.window_abandon_rate));
    r.push(num(m.max_abandon_rate));
    r
}

/// The compliance report as `item,value` rows.
pub fn report_records(r: &Report, tz: Tz) -> Vec<Vec<String>> {
    let [start_local, start_utc] = times(Some(r.window_start_ms), tz);
    let mut rows: Vec<(String, String)> = vec![
        ("campaign".into(), r.name.clone()),
        ("state".into(), r.state.clone()),
        ("abandon_window".into(), r.abandon_window.clone()),
        ("window_start_local".into(), start_local),
        ("window_start_utc".into(), start_utc),
        ("abandon_seconds".into(), r.abandon_seconds.to_string()),
        ("non_compliant".into(), r.non_compliant.to_string()),
        ("breaches".into(), r.breaches.join("; ")),
        ("live_answered".into(), r.live_answered.to_string()),
        ("abandoned".into(), r.abandoned.to_string()),
        ("abandon_rate".into(), num(r.abandon_rate)),
        ("max_abandon_rate".into(), num(r.max_abandon_rate)),
        ("within_limit".into(), r.within_limit.to_string()),
        ("contacts_total".into(), r.contacts_total.to_string()),
        ("contacts_left".into(), r.contacts_left.to_string()),
        ("due_now".into(), r.due_now.to_string()),
        ("attempts_total".into(), r.attempts_total.to_string()),
        ("in_flight".into(), r.in_flight.to_string()),
    ];
    for (k, v) in &r.contacts {
        rows.push((format!("contacts_{k}"), v.to_string()));
    }
    for (k, v) in &r.outcomes {
        rows.push((format!("outcome_{k}"), v.to_string()));
    }
    rows.into_iter().map(|(k, v)| vec![k, v]).collect()
}

/// Records written as CSV (RFC 4180 quoting, `\n` line ends).
pub fn csv_bytes(records: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for r in records {
        // Writing to a Vec cannot fail.
        let _ = w.write_record(&r);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_local_with_offset_and_utc() {
        let tz: Tz = "America/Argentina/Buenos_Aires".parse().unwrap();
        // 2026-12-07 21:00:00 UTC.
        let [l, u] = times(Some(1_796_677_200_000), tz);
        assert_eq!(u, "2026-12-07T21:00:00Z");
        assert_eq!(l, "2026-12-07T18:00:00-03:00");
        assert_eq!(times(None, tz), [String::new(), String::new()]);
    }

    #[test]
    fn every_record_has_its_header_s_width_and_quotes_commas() {
        let tz = chrono_tz::UTC;
        let a = ExportAttempt {
            id: 1,
            contact_id: 2,
            phone: "+5491140000001".into(),
            attempt_no: 1,
            placed_at: 0,
            answered_at: None,
            connected_at: None,
            ended_at: Some(1000),
            outcome: Some("busy".into()),
            hangup_cause: Some(17),
            agent: Some("Ana, Sales".into()),
            server: None,
            node: "n1".into(),
            channel_id: "c".into(),
        };
        assert_eq!(attempt_record(&a, tz).len(), attempt_header().len());
        let m = CampaignMinute::default();
        assert_eq!(minute_record(&m, tz).len(), minute_header().len());
        let text =
            String::from_utf8(csv_bytes([attempt_header(), attempt_record(&a, tz)])).unwrap();
        assert!(text.contains("\"Ana, Sales\""), "{text}");
        assert!(text
            .starts_with("attempt_id,contact_id,phone,attempt_no,placed_at_local,placed_at_utc,"));
        assert_eq!(text.lines().count(), 2);
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(3.0), "3");
    }
}
