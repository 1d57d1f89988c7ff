//! `oml users pause-reasons [LIST]`: the reasons agents choose from when
//! they pause on the agent page (issue 19 item 2), shown or replaced
//! (setting `agent.pause_reasons`, audited).

use crate::output::outln;
use anyhow::{anyhow, Result};
use oml_store::Store;
use oml_web::pages::agent_queue::{checked_pause_reasons, pause_reasons, PAUSE_REASONS_SETTING};

/// Shows the pause reasons, or replaces them with `list` (comma-separated).
pub async fn run(store: &Store, actor: &str, now: i64, list: Option<String>) -> Result<()> {
    let Some(text) = list else {
        let stored = store.setting(PAUSE_REASONS_SETTING).await?;
        outln!(
            "Pause reasons: {}.",
            pause_reasons(stored.as_deref()).join(", ")
        )?;
        return Ok(());
    };
    let reasons =
        checked_pause_reasons(&text).map_err(|e| anyhow!("invalid pause reasons: {e}"))?;
    let value = reasons.join(", ");
    store.set_setting(PAUSE_REASONS_SETTING, &value).await?;
    store
        .audit(now, actor, "pause_reasons_set", "", None, &value)
        .await?;
    outln!("Pause reasons: {value}.")?;
    Ok(())
}
