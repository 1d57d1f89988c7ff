//! Each agent's row on the Users page (issue 19): POST /admin/users/agent
//! changes the agent's SIP extension and campaigns.

use super::admin::{row_error, row_user, RowForm};
use super::agent_fields::{field_error, setup};
use crate::auth::AdminUser;
use crate::forms::FormErrors;
use crate::session::redirect_with_flash;
use crate::{AppState, WebError};
use axum::extract::{Form, State};
use axum::response::Response;
use oml_store::Role;

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
