//! Reading the dialer's configuration from the store for the core: play
//! state, servers, trunks, campaigns with their reschedule rules. (A
//! campaign's abandon ledger and learned statistics are read when this
//! node starts pacing it: see `core/history.rs`.)

use oml_store::Store;

use super::core::Loaded;
use super::PLAY_KEY;

pub(super) async fn load(store: &Store) -> oml_store::Result<Loaded> {
    let play = store.setting(PLAY_KEY).await?.as_deref() == Some("on");
    let servers = store.servers().await?;
    let trunks = store.trunks().await?;
    let mut campaigns = Vec::new();
    for c in store.campaigns().await? {
        let rules = store.reschedule_rules(c.id).await?;
        campaigns.push((c, rules));
    }
    Ok(Loaded {
        play,
        servers,
        trunks,
        campaigns,
    })
}
