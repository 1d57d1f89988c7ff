//! Administrator pages: blocked users and addresses (unblock), users (add,
//! role, activate/deactivate, reset password), and the audit log.

use super::render;
use crate::auth::AdminUser;
use crate::forms::{self, FormErrors};
use crate::session::redirect_with_flash;
use crate::{AppState, WebError};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::{context, Value};
use oml_store::{AuditFilter, BlockKind, NewUser, StoreError};
use serde::Deserialize;
use std::collections::BTreeMap;

fn block_kind_label(kind: BlockKind) -> &'static str {
    match kind {
        BlockKind::User => "username",
        BlockKind::Ip => "address",
    }
}

pub async fn blocked_page(
    State(state): State<AppState>,
    a: AdminUser,
) -> Result<Response, WebError> {
    let now = oml_store::now_ms();
    let blocks: Vec<Value> = state
        .store()
        .active_blocks(now)
        .await?
        .into_iter()
        .map(|b| {
            context! {
                kind => b.kind.as_str(),
                kind_label => block_kind_label(b.kind),
                subject => b.subject,
                since_at => b.since_at,
                until_at => b.until_at,
                failures => b.failures,
                reason => b.reason,
            }
        })
        .collect();
    Ok(render(
        &state,
        &a.ctx,
        "blocked.html",
        context! { title => "Blocked users", blocks => blocks },
    )?
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UnblockForm {
    kind: String,
    subject: String,
}

pub async fn unblock(
    State(state): State<AppState>,
    a: AdminUser,
    Form(form): Form<UnblockForm>,
) -> Result<Response, WebError> {
    let kind: Option<BlockKind> = form.kind.parse().ok();
    let subject = match kind {
        Some(BlockKind::User) => oml_store::validate_username(form.subject.trim())
            .ok()
            .map(|_| form.subject.trim().to_string()),
        Some(BlockKind::Ip) => crate::net::parse_block_subject(&form.subject),
        None => None,
    };
    let (Some(kind), Some(subject)) = (kind, subject) else {
        return Ok(redirect_with_flash(
            &a.ctx,
            "/admin/blocked",
            "error",
            "That unblock request was not valid: use the Unblock button of a listed block.",
        ));
    };
    let now = oml_store::now_ms();
    let actor = &a.auth.user.username;
    let lifted = state.store().unblock(kind, &subject, actor, now).await?;
    let ip = a.ctx.client_ip.to_string();
    state
        .store()
        .audit(
            now,
            actor,
            "unblock",
            &subject,
            Some(&ip),
            &format!("{} block(s) lifted on {}", lifted, kind.as_str()),
        )
        .await?;
    tracing::info!(%actor, %subject, kind = kind.as_str(), "unblocked from the console");
    let what = match kind {
        BlockKind::User => "User",
        BlockKind::Ip => "Address",
    };
    let msg = if lifted == 0 {
        format!("{what} {subject} was not blocked; its failure count is reset.")
    } else {
        format!("{what} {subject} is unblocked and can log in again.")
    };
    Ok(redirect_with_flash(&a.ctx, "/admin/blocked", "ok", &msg))
}

#[derive(Deserialize, Default, Clone, serde::Serialize)]
#[serde(default)]
pub struct AddUserForm {
    username: String,
    role: String,
    #[serde(skip_serializing)]
    password: String,
    temporary: Option<String>,
    extension: String,
    campaigns: String,
}

async fn users_view(
    state: &AppState,
    a: &AdminUser,
    add_values: Value,
    add_errors: FormErrors,
    row_errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let users = state.store().users().await?;
    let (agent_campaigns, campaign_names) = super::agent_fields::agent_columns(state).await?;
    let html = render(
        state,
        &a.ctx,
        "users.html",
        context! {
            title => "Users",
            users => users,
            me => a.auth.user.username.clone(),
            values => add_values,
            errors => add_errors,
            row_errors => row_errors,
            roles => ["agent", "supervisor", "admin"],
            agent_campaigns => agent_campaigns,
            campaign_names => campaign_names,
        },
    )?;
    Ok((status, html).into_response())
}

pub async fn users_page(State(state): State<AppState>, a: AdminUser) -> Result<Response, WebError> {
    users_view(
        &state,
        &a,
        context! { temporary => true },
        FormErrors::default(),
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn user_add(
    State(state): State<AppState>,
    a: AdminUser,
    Form(form): Form<AddUserForm>,
) -> Result<Response, WebError> {
    let mut errors = FormErrors::default();
    let username = forms::username(&mut errors, "username", &form.username);
    let role = forms::role(&mut errors, "role", &form.role);
    let password = forms::new_password(&mut errors, "password", &form.password, None);
    let temporary = form.temporary.is_some();
    let values = context! { username => form.username.clone(), role => form.role.clone(), temporary => temporary,
    extension => form.extension.clone(), campaigns => form.campaigns.clone() };
    let (Some(username), Some(role), Some(password)) = (username, role, password) else {
        return users_view(&state, &a, values, errors, BTreeMap::new(), super::REFUSED).await;
    };
    let agent = match role {
        oml_store::Role::Agent => {
            super::agent_fields::setup(&form.extension, &form.campaigns, false)
        }
        _ => oml_store::AgentSetup::default(),
    };
    let new = NewUser {
        username: &username,
        password: &password,
        role,
        must_change_password: temporary,
    };
    match state.store().create_user_with(&new, &agent).await {
        Ok(_) => {}
        Err(StoreError::AlreadyExists { .. }) => {
            errors.add("username", "A user with this name already exists.");
            return users_view(&state, &a, values, errors, BTreeMap::new(), super::REFUSED).await;
        }
        Err(e) => {
            super::agent_fields::field_error(&mut errors, e)?;
            return users_view(&state, &a, values, errors, BTreeMap::new(), super::REFUSED).await;
        }
    }
    let actor = &a.auth.user.username;
    let ip = a.ctx.client_ip.to_string();
    state
        .store()
        .audit(
            oml_store::now_ms(),
            actor,
            "user_add",
            &username,
            Some(&ip),
            format!(
                "role={role}{} {}",
                if temporary {
                    ", temporary password"
                } else {
                    ""
                },
                agent.describe()
            )
            .trim_end(),
        )
        .await?;
    Ok(redirect_with_flash(
        &a.ctx,
        "/admin/users",
        "ok",
        &format!("User {username} added with role {role}."),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RowForm {
    pub(super) username: String,
    role: String,
    active: String,
    password: String,
    pub(super) extension: String,
    pub(super) campaigns: String,
}

/// The existing user a row action is about, or the row error to show.
pub(super) async fn row_user(
    state: &AppState,
    form: &RowForm,
) -> Result<Result<oml_store::User, String>, WebError> {
    if oml_store::validate_username(form.username.trim()).is_err() {
        return Ok(Err("No such user.".into()));
    }
    Ok(state
        .store()
        .user_by_name(form.username.trim())
        .await?
        .ok_or_else(|| "No such user.".to_string()))
}

pub(super) async fn row_error(
    state: &AppState,
    a: &AdminUser,
    username: &str,
    message: &str,
) -> Result<Response, WebError> {
    let mut rows = BTreeMap::new();
    rows.insert(username.to_string(), message.to_string());
    users_view(
        state,
        a,
        context! { temporary => true },
        FormErrors::default(),
        rows,
        super::REFUSED,
    )
    .await
}

pub async fn user_role(
    State(state): State<AppState>,
    a: AdminUser,
    Form(form): Form<RowForm>,
) -> Result<Response, WebError> {
    let user = match row_user(&state, &form).await? {
        Ok(u) => u,
        Err(m) => return row_error(&state, &a, &form.username, &m).await,
    };
    let mut e = FormErrors::default();
    let Some(role) = forms::role(&mut e, "role", &form.role) else {
        return row_error(
            &state,
            &a,
            &user.username,
            e.get("role").unwrap_or("Choose a role."),
        )
        .await;
    };
    if user.id == a.auth.user.id && role != user.role {
        return row_error(
            &state,
            &a,
            &user.username,
            "You cannot change your own role; ask another administrator.",
        )
        .await;
    }
    state.store().set_role(&user.username, role).await?;
    let ip = a.ctx.client_ip.to_string();
    state
        .store()
        .audit(
            oml_store::now_ms(),
            &a.auth.user.username,
            "role_change",
            &user.username,
            Some(&ip),
            &format!("{} -> {}", user.role, role),
        )
        .await?;
    Ok(redirect_with_flash(
        &a.ctx,
        "/admin/users",
        "ok",
        &format!("{} is now {role}.", user.username),
    ))
}

pub async fn user_active(
    State(state): State<AppState>,
    a: AdminUser,
    Form(form): Form<RowForm>,
) -> Result<Response, WebError> {
    let user = match row_user(&state, &form).await? {
        Ok(u) => u,
        Err(m) => return row_error(&state, &a, &form.username, &m).await,
    };
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return row_error(
                &state,
                &a,
                &user.username,
                "Use the Activate or Deactivate button.",
            )
            .await
        }
    };
    if user.id == a.auth.user.id && !active {
        return row_error(
            &state,
            &a,
            &user.username,
            "You cannot deactivate yourself; ask another administrator.",
        )
        .await;
    }
    state.store().set_active(&user.username, active).await?;
    if !active {
        state.store().delete_web_sessions_of_user(user.id).await?;
    }
    let ip = a.ctx.client_ip.to_string();
    state
        .store()
        .audit(
            oml_store::now_ms(),
            &a.auth.user.username,
            if active {
                "user_activate"
            } else {
                "user_deactivate"
            },
            &user.username,
            Some(&ip),
            "",
        )
        .await?;
    Ok(redirect_with_flash(
        &a.ctx,
        "/admin/users",
        "ok",
        &format!(
            "{} is {}.",
            user.username,
            if active {
                "active again"
            } else {
                "deactivated and logged out"
            }
        ),
    ))
}

pub async fn user_password(
    State(state): State<AppState>,
    a: AdminUser,
    Form(form): Form<RowForm>,
) -> Result<Response, WebError> {
    let user = match row_user(&state, &form).await? {
        Ok(u) => u,
        Err(m) => return row_error(&state, &a, &form.username, &m).await,
    };
    let mut e = FormErrors::default();
    let Some(password) = forms::new_password(&mut e, "password", &form.password, None) else {
        return row_error(
            &state,
            &a,
            &user.username,
            e.get("password").unwrap_or("Enter a password."),
        )
        .await;
    };
    state
        .store()
        .set_password(&user.username, &password, true)
        .await?;
    state.store().delete_web_sessions_of_user(user.id).await?;
    let ip = a.ctx.client_ip.to_string();
    state
        .store()
        .audit(
            oml_store::now_ms(),
            &a.auth.user.username,
            "password_reset",
            &user.username,
            Some(&ip),
            "temporary password; must change at next login",
        )
        .await?;
    Ok(redirect_with_flash(
        &a.ctx,
        "/admin/users",
        "ok",
        &format!(
            "{} has a temporary password and must choose a new one at the next login.",
            user.username
        ),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditQuery {
    user: String,
    from: String,
    to: String,
}

pub async fn audit_page(
    State(state): State<AppState>,
    a: AdminUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let mut errors = FormErrors::default();
    let user = q.user.trim();
    let user_filter = if user.is_empty() {
        None
    } else if oml_store::validate_username(user).is_ok()
        || crate::net::parse_block_subject(user).is_some()
    {
        Some(user.to_string())
    } else {
        errors.add("user", "Enter a username or an IP address.");
        None
    };
    let from_ms = forms::optional_date(&mut errors, "from", &q.from, false);
    let to_ms = forms::optional_date(&mut errors, "to", &q.to, true);
    let entries = if errors.is_empty() {
        state
            .store()
            .audit_entries(&AuditFilter {
                user: user_filter,
                from_ms,
                to_ms,
                limit: 500,
            })
            .await?
    } else {
        Vec::new()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        super::REFUSED
    };
    let html = render(
        &state,
        &a.ctx,
        "audit.html",
        context! {
            title => "Audit log",
            entries => entries,
            values => context! { user => q.user, from => q.from, to => q.to },
            errors => errors,
        },
    )?;
    Ok((status, html).into_response())
}
