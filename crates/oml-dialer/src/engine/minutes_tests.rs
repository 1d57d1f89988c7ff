//! Tests of the per-minute book: counts from the core's actions, gauges
//! averaged over the minute's samples, one row per campaign paced here.

use oml_store::dialing::{AttemptResult, DialingWrite, NewAttempt};
use oml_store::history::MINUTE_MS;

use super::super::core::Action;
use super::super::status::{CampaignLive, LiveStatus};
use super::MinuteBook;

fn attempt(campaign: i64, contact: i64) -> NewAttempt {
    NewAttempt {
        campaign_id: campaign,
        contact_id: contact,
        attempt_no: 1,
        server_id: Some(1),
        channel_id: format!("c{contact}"),
        placed_at: 0,
        node: "n".into(),
    }
}

fn end(contact: i64, outcome: &str, answered: Option<i64>, connected: Option<i64>) -> Action {
    Action::Write(DialingWrite::End(AttemptResult {
        contact_id: contact,
        attempt_no: 1,
        answered_at: answered,
        connected_at: connected,
        ended_at: 100_000,
        outcome: outcome.into(),
        hangup_cause: Some(16),
        agent: None,
        contact_state: "done".into(),
        next_attempt_at: 0,
    }))
}

fn status(at: i64, talking: u32, paced_here: bool) -> LiveStatus {
    LiveStatus {
        updated_at: at,
        campaigns: vec![CampaignLive {
            id: 7,
            paced_here,
            agents_logged_in: 4,
            agents_free: 4 - talking,
            agents_talking: talking,
            occupancy: f64::from(talking) / 4.0,
            ringing: 3,
            abandon_rate: 0.01,
            max_abandon_rate: 0.03,
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn a_minute_counts_its_calls_and_averages_its_samples() {
    let mut b = MinuteBook::default();
    let t0 = 1_000 * MINUTE_MS;
    assert!(b.sample(&status(t0, 1, true)).is_empty());
    for c in 1..=4 {
        b.placed(&attempt(7, c));
    }
    b.see(&end(1, "connected", Some(10_000), Some(12_000)));
    b.see(&end(2, "abandoned", Some(20_000), None));
    b.see(&end(3, "no_answer", None, None));
    // An attempt this node did not place (followed after a restart).
    b.see(&end(99, "connected", Some(1), Some(2)));
    assert!(b.sample(&status(t0 + 30_000, 3, true)).is_empty());
    let rows = b.sample(&status(t0 + MINUTE_MS, 0, true));
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.campaign_id, r.minute_at), (7, t0));
    assert_eq!(r.calls_placed, 4);
    assert_eq!(
        (r.ended, r.live_answers, r.abandons, r.connected),
        (3, 2, 1, 1)
    );
    assert_eq!(r.answer_rate, Some(2.0 / 3.0));
    assert_eq!(r.avg_talk_s, Some(88.0));
    assert_eq!(r.avg_wait_s, Some(2.0));
    assert_eq!(r.agents_talking, 2.0);
    assert_eq!(r.occupancy, 0.5);
    assert_eq!(r.calls_in_flight, 3.0);
    // Ringing 3 against 3 and 1 free agents: 0 and 2 ahead.
    assert_eq!(r.dial_ahead, 1.0);
    assert_eq!(r.max_abandon_rate, 0.03);
    // The next minute started with the last sample.
    let rows = b.finish();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].minute_at, t0 + MINUTE_MS);
    assert_eq!(rows[0].calls_placed, 0);
}

#[test]
fn campaigns_paced_elsewhere_get_no_row() {
    let mut b = MinuteBook::default();
    let t0 = 5 * MINUTE_MS;
    b.sample(&status(t0, 2, false));
    assert!(b.sample(&status(t0 + MINUTE_MS, 2, false)).is_empty());
}

#[test]
fn adopted_calls_count_when_they_end_and_machines_apart() {
    use super::super::core::Input;
    use oml_store::dialing::OpenAttempt;
    let mut b = MinuteBook::default();
    let t0 = 9 * MINUTE_MS;
    b.sample(&status(t0, 1, true));
    let open = |contact: i64| OpenAttempt {
        id: contact,
        campaign_id: 7,
        contact_id: contact,
        attempt_no: 1,
        server_id: Some(1),
        channel_id: format!("c{contact}"),
        placed_at: 0,
        answered_at: None,
        connected_at: None,
        node: "gone".into(),
    };
    // Left open by a node that stopped, and by this node's previous run.
    b.input(&Input::Adopt(vec![open(50)]));
    b.input(&Input::NameRecovered(vec![open(51)]));
    b.placed(&attempt(7, 1));
    b.see(&end(50, "connected", Some(10_000), Some(12_000)));
    b.see(&end(51, "abandoned", Some(20_000), None));
    b.see(&end(1, "machine", Some(5_000), None));
    let rows = b.sample(&status(t0 + MINUTE_MS, 0, true));
    let r = &rows[0];
    assert_eq!(r.calls_placed, 1, "placed by the node that placed them");
    assert_eq!(
        (r.ended, r.live_answers, r.abandons, r.connected),
        (3, 2, 1, 1)
    );
    assert_eq!(r.machines, Some(1), "a machine is no live answer");
    assert!(r.sampled);
}
