//! Role checks as extractors: a handler names the role it needs in its
//! signature (`AdminUser`, `SupervisorUser`, `AnyUser`), so no page or
//! action runs for a user without it. Roles are ordered
//! agent < supervisor < admin.

use crate::session::{Authed, RequestCtx};
use crate::WebError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use oml_store::Role;

fn require(parts: &Parts, min: Role) -> Result<(RequestCtx, Authed), WebError> {
    let ctx = parts
        .extensions
        .get::<RequestCtx>()
        .cloned()
        .ok_or_else(|| WebError::Setup("the console middleware is not installed".into()))?;
    let auth = ctx.auth.clone().ok_or(WebError::LoginRequired)?;
    if auth.user.role < min {
        tracing::info!(user = %auth.user.username, path = %ctx.path, "access refused: role too low");
        return Err(WebError::Forbidden);
    }
    Ok((ctx, auth))
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        pub struct $name {
            pub ctx: RequestCtx,
            pub auth: Authed,
        }

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = WebError;
            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
                let (ctx, auth) = require(parts, $role)?;
                Ok($name { ctx, auth })
            }
        }
    };
}

role_extractor!(
    /// Any logged-in user (agent, supervisor or admin).
    AnyUser,
    Role::Agent
);
role_extractor!(
    /// A supervisor or an admin.
    SupervisorUser,
    Role::Supervisor
);
role_extractor!(
    /// An admin.
    AdminUser,
    Role::Admin
);
