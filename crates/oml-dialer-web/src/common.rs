//! What the console pages of this crate share: finding the campaign a URL
//! names, writing an audit row for a change, and wording a store refusal
//! for the page that caused it.

use oml_store::{Campaign, StoreError};
use oml_web::auth::SupervisorUser;
use oml_web::{AppState, WebError};

/// The campaign called `name`, or the console's 404 page.
pub async fn campaign_or_404(state: &AppState, name: &str) -> Result<Campaign, WebError> {
    state
        .store()
        .campaign_by_name(name)
        .await?
        .ok_or(WebError::NotFound)
}

/// Audits a change made by `u` from the console (user, address, action).
/// A failure to write it is logged, not fatal: the change itself is done.
pub async fn audit(
    state: &AppState,
    u: &SupervisorUser,
    action: &str,
    subject: &str,
    detail: &str,
) {
    let ip = u.ctx.client_ip.to_string();
    if let Err(e) = state
        .store()
        .audit(
            oml_store::now_ms(),
            &u.auth.user.username,
            action,
            subject,
            Some(&ip),
            detail,
        )
        .await
    {
        tracing::warn!(error = %e, action, "cannot write the audit log");
    }
}

/// A store refusal (bad value, name taken, not found) as a message for the
/// page; any other store error is a server error.
pub fn refusal(e: StoreError) -> Result<String, WebError> {
    match e {
        StoreError::Invalid { .. }
        | StoreError::AlreadyExists { .. }
        | StoreError::NotFound { .. } => Ok(e.to_string()),
        other => Err(other.into()),
    }
}
