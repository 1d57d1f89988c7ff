//! Cold start in the decision core (issue 15 item 5), driven by the test
//! harness of `core/tests.rs`: a predictive campaign with no statistics of
//! its own dials ahead from its first decision when a campaign on the same
//! trunk and queue learned before, and stays on the priors (one call per
//! free agent) when nothing did; where it started is saved with its memory.

use std::collections::HashSet;

use oml_ami::Message;
use oml_store::pacing_memory::{LearnedCalls, Lender, PacingMemory, StartSource, StartingPoints};
use oml_store::{Campaign, CampaignMode, CampaignState};

use crate::engine::core::tests::{campaign, contact, placed, Harness, CAMPAIGN, SERVER};
use crate::engine::core::{Action, Input};

/// A campaign that learned a 10 % answer rate, 6 s rings, 120 s talks,
/// saved `age_ms` before the harness's now.
fn promo(h: &Harness, age_ms: i64) -> Lender {
    Lender {
        name: "promo".into(),
        memory: PacingMemory {
            campaign_id: 8,
            saved_at: h.now.ms - age_ms,
            node: "n0".into(),
            learned: LearnedCalls {
                attempts: (0..2000).map(|i| (i % 10 == 0, 6.0)).collect(),
                talks: vec![120.0; 500],
                wrap_ups: vec![10.0; 500],
                ..LearnedCalls::default()
            },
            started: None,
        },
    }
}

/// A predictive campaign whose history (no answers, no memory of its own)
/// comes with these lenders, then 30 contacts and two free agents: the
/// calls of its first decision, and the actions of the next tick.
fn first_decision(lenders: impl FnOnce(&Harness) -> Vec<Lender>) -> (usize, Vec<Action>) {
    let mut h = Harness::with(
        vec![Campaign {
            mode: CampaignMode::Predictive,
            ..campaign(CampaignState::Running)
        }],
        50,
    );
    let lenders = lenders(&h);
    // Pacing starts again (as on another node): the history is read.
    h.feed(Input::Leading {
        named: true,
        campaigns: HashSet::new(),
    });
    h.feed(Input::Leading {
        named: true,
        campaigns: HashSet::from([CAMPAIGN]),
    });
    h.feed(Input::Tick);
    h.feed(Input::History {
        campaign: CAMPAIGN,
        answers: Vec::new(),
        memory: Some(StartingPoints { own: None, lenders }),
    });
    h.feed(Input::Claimed {
        campaign: CAMPAIGN,
        contacts: (1..=30).map(contact).collect(),
        left: 1,
    });
    let members = (0..2)
        .map(|i| {
            Message::event("QueueMember")
                .with("Queue", "q1")
                .with("Interface", format!("PJSIP/a{i}"))
                .with("Status", "1")
                .with("Paused", "0")
        })
        .collect();
    let calls = placed(&h.feed(Input::Members {
        server: SERVER,
        members,
    }))
    .len();
    (calls, h.feed(Input::Tick))
}

fn saved_start(actions: &[Action]) -> (StartSource, usize) {
    let m = actions
        .iter()
        .find_map(|a| match a {
            Action::SaveMemory(m) => Some(m),
            _ => None,
        })
        .expect("the start is saved");
    let s = m.started.clone().expect("with where it started");
    (s.source, m.learned.attempts.len())
}

#[test]
fn borrowed_statistics_pace_predictively_from_the_first_decision() {
    let (calls, next) = first_decision(|h| vec![promo(h, 3_600_000)]);
    assert!(
        calls > 2,
        "dials ahead of 2 free agents at 10 % answers: {calls}"
    );
    let (source, own) = saved_start(&next);
    assert!(
        matches!(&source, StartSource::Campaign { campaign_id: 8, name, .. } if name == "promo"),
        "{source:?}"
    );
    assert_eq!(own, 0, "the borrowed observations are not saved as its own");
}

#[test]
fn with_no_source_it_stays_on_the_priors() {
    let (calls, next) = first_decision(|_| Vec::new());
    assert_eq!(calls, 2, "one call per free agent");
    assert_eq!(saved_start(&next), (StartSource::Priors, 0));
    // A lender older than a week is no source either.
    let (calls, next) = first_decision(|h| vec![promo(h, 8 * 24 * 3_600_000)]);
    assert_eq!(calls, 2);
    assert_eq!(saved_start(&next).0, StartSource::Priors);
}
