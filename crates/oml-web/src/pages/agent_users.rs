//! The Users page's agent columns (issue 19): each agent's SIP extension and
//! campaigns, shown in the table and changed from its row; the add form's
//! agent fields are read here too.

use super::admin::{row_error, row_user, RowForm};
use crate::auth::AdminUser;
use crate::forms::FormErrors;
use crate::session::redirect_with_flash;
use crate::{AppState, WebError};
use axum::extract::{Form, State};
use axum::response::Response;
use oml_store::{AgentSetup, Role, StoreError};
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

/// POST /admin/users/agent: an agent's extension and campaigns.
pub async fn user_agent(
    State(state): State<AppState>,
    a: AdminUser,
    Form(form): Form<RowForm>,
) -> Result<Response, WebError> {
    let user = match row_user(&state, &form).await? {
        Ok(u) => u,
        Err(m) => return row_error(&state, &a, &form.username, &m).await,
    };
    if user.role != Role::Agent {
        let m = "Only agents have an extension and campaigns: make the user an agent first.";
        return row_error(&state, &a, &user.username, m).await;
    }
    let setup = setup(&form.extension, &form.campaigns, true);
    if let Err(e) = state.store().set_agent(&user.username, &setup).await {
        let mut errors = FormErrors::default();
        field_error(&mut errors, e)?;
        let m = ["extension", "campaigns", "role"]
            .iter()
            .find_map(|f| errors.get(f))
            .unwrap_or_default()
            .to_string();
        return row_error(&state, &a, &user.username, &m).await;
    }
    let ip = a.ctx.client_ip.to_string();
    state
        .store()
        .audit(
            oml_store::now_ms(),
            &a.auth.user.username,
            "agent_set",
            &user.username,
            Some(&ip),
            &setup.describe(),
        )
        .await?;
    Ok(redirect_with_flash(
        &a.ctx,
        "/admin/users",
        "ok",
        &format!("{}'s extension and campaigns are saved.", user.username),
    ))
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
