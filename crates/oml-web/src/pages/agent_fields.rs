//! The agent fields of the Users page (issue 19): what the page shows of
//! agents, how its forms' extension and campaigns are read, and where a
//! refused value is shown. Used by the add form (`admin.rs`) and each
//! agent's row (`agent_users.rs`).

use crate::forms::FormErrors;
use crate::{AppState, WebError};
use oml_store::{AgentSetup, StoreError};
use std::collections::BTreeMap;

/// What the Users page shows of agents: username → their campaigns
/// (comma-separated), and every campaign's name for the hint.
pub(super) async fn agent_columns(
    state: &AppState,
) -> Result<(BTreeMap<String, String>, Vec<String>), WebError> {
    let store = state.store();
    let by_id = store.agent_campaigns().await?;
    let mut by_name = BTreeMap::new();
    for u in store.users().await? {
        if let Some(c) = by_id.get(&u.id) {
            by_name.insert(u.username, c.join(","));
        }
    }
    let names = store
        .campaigns()
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect();
    Ok((by_name, names))
}

/// The agent fields of a form: blank fields keep what is stored (or the
/// defaults) except campaigns on a row, where blank means none.
pub(super) fn setup(
    extension: &str,
    campaigns: &str,
    blank_campaigns_are_none: bool,
) -> AgentSetup {
    let ext = extension.trim();
    let camps = campaigns.trim();
    AgentSetup {
        extension: (!ext.is_empty()).then(|| ext.to_string()),
        campaigns: (blank_campaigns_are_none || !camps.is_empty())
            .then(|| camps.split(',').map(|c| c.trim().to_string()).collect()),
    }
}

/// Puts a refused agent setup on the form field it is about; other errors
/// are returned.
pub(super) fn field_error(errors: &mut FormErrors, e: StoreError) -> Result<(), StoreError> {
    match e {
        StoreError::Invalid { field, reason }
            if matches!(field, "extension" | "campaigns" | "role") =>
        {
            errors.add(field, capitalise(&reason));
            Ok(())
        }
        e => Err(e),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_fields_mean_keep_or_none() {
        let s = setup(" 1001 ", "sales, promo", false);
        assert_eq!(s.extension.as_deref(), Some("1001"));
        assert_eq!(s.campaigns, Some(vec!["sales".into(), "promo".into()]));
        let s = setup("", "", false);
        assert!(s.extension.is_none() && s.campaigns.is_none());
        let s = setup("", " ", true);
        assert_eq!(s.campaigns, Some(vec![String::new()]));
    }
}
