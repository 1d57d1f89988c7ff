//! The call counters on both backends: every attempt counted by campaign;
//! later counts read only the attempts placed since and those still open.

use super::{TotalsCache, SETTLE_MS};
use crate::testing::{backends, execute};
use crate::{CampaignSpec, Store, TrunkSpec, DEFAULT_DIAL_STRING};

const NOW: i64 = 1_800_000_000_000;

async fn attempt(s: &Store, campaign: i64, no: i64, placed: i64, answered: &str, outcome: &str) {
    execute(
        s,
        &format!(
            "INSERT INTO call_attempts (campaign_id, contact_id, attempt_no, channel_id, placed_at, answered_at, outcome)
             SELECT {campaign}, MIN(id), {no}, 'c{no}', {placed}, {answered}, {outcome} FROM contacts"
        ),
    )
    .await
    .unwrap();
}

fn four(t: &super::CallTotals) -> (i64, i64, i64, i64) {
    (t.placed, t.answered, t.abandoned, t.originate_errors)
}

#[tokio::test]
async fn totals_count_every_attempt_and_then_only_what_changed() {
    for t in backends().await {
        let s = &t.store;
        s.create_trunk(&TrunkSpec {
            name: "t1".into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
        let a = s
            .create_campaign(&CampaignSpec::new("a", "t1"))
            .await
            .unwrap();
        s.create_campaign(&CampaignSpec::new("b", "t1"))
            .await
            .unwrap();
        s.seed_contacts(a.id, &["+15550001".into(), "+15550002".into()])
            .await
            .unwrap();
        let old = NOW - SETTLE_MS - 1;
        for (no, answered, outcome) in [
            (1, "NULL", "'failed'"),
            (2, "5", "'abandoned'"),
            (3, "5", "'connected'"),
            (4, "NULL", "NULL"),
        ] {
            attempt(s, a.id, no, old, answered, outcome).await;
        }
        let mut cache = TotalsCache::default();
        let got = s.call_totals(&mut cache, NOW).await.unwrap();
        let names: Vec<&str> = got.iter().map(|t| t.campaign.as_str()).collect();
        assert_eq!(names, ["a", "b"], "{}", t.label);
        assert_eq!(four(&got[0]), (4, 2, 1, 1), "{}", t.label);
        assert_eq!(got[1].placed, 0, "{}", t.label);

        // The open attempt ends abandoned; two more are placed, one of them
        // too recently to be kept (it is read again next time).
        execute(
            s,
            "UPDATE call_attempts SET answered_at = 7, outcome = 'abandoned' WHERE attempt_no = 4",
        )
        .await
        .unwrap();
        attempt(s, a.id, 5, old, "NULL", "'failed'").await;
        attempt(s, a.id, 6, NOW - 10, "NULL", "NULL").await;
        // A row already counted is not read again: changing it behind the
        // counters' back (the engine never does) changes nothing.
        execute(
            s,
            "UPDATE call_attempts SET outcome = 'connected' WHERE attempt_no = 1",
        )
        .await
        .unwrap();
        let got = s.call_totals(&mut cache, NOW).await.unwrap();
        assert_eq!(four(&got[0]), (6, 3, 2, 2), "{}", t.label);
        attempt(s, a.id, 7, NOW - 5, "9", "'abandoned'").await;
        let got = s.call_totals(&mut cache, NOW).await.unwrap();
        assert_eq!(four(&got[0]), (7, 4, 3, 2), "{}", t.label);
        // A fresh cache counts what is stored now.
        let got = s
            .call_totals(&mut TotalsCache::default(), NOW)
            .await
            .unwrap();
        assert_eq!(four(&got[0]), (7, 4, 3, 1), "{}", t.label);
    }
}
