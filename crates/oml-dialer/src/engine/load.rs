//! Reading the dialer's configuration from the store for the core: play
//! state, servers, trunks, campaigns with their reschedule rules, and the
//! abandon tally of campaigns the core does not know yet (so a restart
//! keeps counting the regulatory window where it was).

use std::collections::HashSet;

use oml_pacing::AbandonCounts;
use oml_store::Store;

use super::core::Loaded;
use super::PLAY_KEY;

pub(super) async fn load(store: &Store, known: &HashSet<i64>) -> oml_store::Result<Loaded> {
    let play = store.setting(PLAY_KEY).await?.as_deref() == Some("on");
    let servers = store.servers().await?;
    let trunks = store.trunks().await?;
    let mut campaigns = Vec::new();
    let now = oml_store::now_ms();
    for c in store.campaigns().await? {
        let rules = store.reschedule_rules(c.id).await?;
        let tally = if known.contains(&c.id) {
            None
        } else {
            let t = store
                .abandon_tally(
                    c.id,
                    now - c.abandon_window.millis(),
                    c.abandon_seconds * 1000,
                )
                .await?;
            Some(AbandonCounts {
                live_answered: t.live_answered as u64,
                abandoned: t.abandoned as u64,
            })
        };
        campaigns.push((c, rules, tally));
    }
    Ok(Loaded {
        play,
        servers,
        trunks,
        campaigns,
    })
}
