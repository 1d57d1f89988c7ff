//! Reading from the store what the core decides on: the dialer's
//! configuration (play state, servers, trunks, campaigns with their
//! reschedule rules), and a campaign's history when this node starts
//! pacing it (its abandon ledger and learned statistics: see
//! `core/history.rs`).

use oml_store::pacing_memory::StartingPoints;
use oml_store::Store;

use super::core::{Input, Loaded};
use super::PLAY_KEY;

pub(super) async fn load(store: &Store) -> oml_store::Result<Loaded> {
    let play = store.setting(PLAY_KEY).await?.as_deref() == Some("on");
    let servers = store.servers().await?;
    let trunks = store.trunks().await?;
    // Every campaign's rules in one query, not one per campaign.
    let mut rules = store.all_reschedule_rules().await?;
    let campaigns = store
        .campaigns()
        .await?
        .into_iter()
        .map(|c| {
            let r = rules.remove(&c.id).unwrap_or_default();
            (c, r)
        })
        .collect();
    let call_paths = store.call_paths().await?.into_iter().collect();
    let amd_false_positive_rates = store.amd_false_positive_rates().await?;
    Ok(Loaded {
        play,
        servers,
        trunks,
        campaigns,
        call_paths,
        amd_false_positive_rates,
    })
}

/// Lenders read at most, newest first (the core weighs them by age).
const LENDERS: i64 = 20;

/// A campaign's live answers of its window and what its pacer may start
/// from: its pacing memory and those of the campaigns it may borrow from
/// (same trunk and queue). Memories that cannot be read are ignored (the
/// statistics start from the priors); answers that cannot be read fail the
/// load: nothing is paced without them.
pub(super) async fn history(store: &Store, campaign: i64, since_ms: i64, abandon_ms: i64) -> Input {
    let answers = match store.answers_since(campaign, since_ms, abandon_ms).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, campaign, "dialer: cannot read the campaign's abandons of its window; not pacing it until they are read");
            return Input::HistoryFailed { campaign };
        }
    };
    let own = match store.pacing_memory(campaign).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, campaign, "dialer: cannot read what the pacer learned before; starting from the priors");
            None
        }
    };
    let lenders = match store.pacing_lenders(campaign, 0, LENDERS).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, campaign, "dialer: cannot read what campaigns on the same trunk and queue learned; not borrowing");
            Vec::new()
        }
    };
    Input::History {
        campaign,
        answers,
        memory: Some(StartingPoints { own, lenders }),
    }
}
