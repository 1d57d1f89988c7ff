//! First-run setup, login, logout and changing one's own password.

use super::render;
use crate::auth::AnyUser;
use crate::forms::{self, FormErrors};
use crate::login::{LoginOutcome, Policy, Purpose};
use crate::session::{self, redirect_with_flash, RequestCtx};
use crate::{AppState, WebError};
use axum::extract::{Form, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use oml_store::{BlockKind, NewUser, Role};
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SetupForm {
    username: String,
    password: String,
    password_confirm: String,
}

async fn setup_done(state: &AppState) -> Result<bool, WebError> {
    Ok(state.store().count_active_admins().await? > 0)
}

pub async fn setup_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> Result<Response, WebError> {
    if setup_done(&state).await? {
        return Err(WebError::NotFound);
    }
    Ok(render(
        &state,
        &ctx,
        "setup.html",
        context! { title => "First-run setup", values => context!{}, errors => FormErrors::default() },
    )?
    .into_response())
}

pub async fn setup_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    let _one_at_a_time = state.setup_lock().await;
    if setup_done(&state).await? {
        return Err(WebError::NotFound);
    }
    let mut errors = FormErrors::default();
    let username = forms::username(&mut errors, "username", &form.username);
    let password = forms::new_password(
        &mut errors,
        "password",
        &form.password,
        Some(("password_confirm", &form.password_confirm)),
    );
    let (Some(username), Some(password)) = (username, password) else {
        let page = render(
            &state,
            &ctx,
            "setup.html",
            context! { title => "First-run setup", values => context!{ username => form.username }, errors => errors },
        )?;
        return Ok((super::REFUSED, page).into_response());
    };
    let user = state
        .store()
        .create_user(&NewUser {
            username: &username,
            password: &password,
            role: Role::Admin,
            must_change_password: false,
        })
        .await?;
    let now = oml_store::now_ms();
    let ip = ctx.client_ip.to_string();
    state
        .store()
        .audit(
            now,
            &username,
            "setup",
            &username,
            Some(&ip),
            "first administrator created",
        )
        .await?;
    tracing::info!(%username, "first administrator created by the setup page");
    let cookie = session::start_session(&state, &ctx, &user).await?;
    let mut resp = redirect_with_flash(
        &ctx,
        "/",
        "ok",
        &format!("Setup complete. You are logged in as {username}, the administrator."),
    );
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn login_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> Result<Response, WebError> {
    if !setup_done(&state).await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    if ctx.auth.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    Ok(render(
        &state,
        &ctx,
        "login.html",
        context! { title => "Log in", values => context!{}, errors => FormErrors::default() },
    )?
    .into_response())
}

/// The text the login page shows for a block.
fn blocked_message(kind: BlockKind, until: Option<i64>, now: i64) -> String {
    let who = match kind {
        BlockKind::User => "This account is blocked after too many failed logins",
        BlockKind::Ip => {
            "Logins from your network address are blocked after too many failed attempts"
        }
    };
    match until {
        Some(t) => {
            let minutes = ((t - now).max(0) + 59_999) / 60_000;
            format!(
                "{who}, until {} (about {minutes} minute{}). Contact your administrator to unblock it sooner.",
                oml_store::format_ms(t),
                if minutes == 1 { "" } else { "s" }
            )
        }
        None => format!("{who}, until an administrator unblocks it. Contact your administrator."),
    }
}

pub async fn login_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let mut errors = FormErrors::default();
    let username = if form.username.trim().is_empty() {
        errors.add("username", "Enter your username.");
        None
    } else {
        forms::username(&mut errors, "username", &form.username)
    };
    if form.password.is_empty() {
        errors.add("password", "Enter your password.");
    } else if form.password.chars().count() > forms::MAX_PASSWORD_LEN {
        errors.add("password", "Wrong username or password.");
    }
    let values = context! { username => form.username.clone() };
    let page = |errors: FormErrors,
                message: Option<String>,
                status: StatusCode|
     -> Result<Response, WebError> {
        let html = render(
            &state,
            &ctx,
            "login.html",
            context! { title => "Log in", values => values.clone(), errors => errors, blocked => message },
        )?;
        Ok((status, html).into_response())
    };
    let Some(username) = username.filter(|_| errors.is_empty()) else {
        return page(errors, None, super::REFUSED);
    };
    let policy = Policy::from_config(&state.config().lockout);
    let now = oml_store::now_ms();
    let outcome = state
        .guard()
        .attempt(
            state.store(),
            &policy,
            &username,
            SecretString::from(form.password),
            ctx.client_ip,
            now,
        )
        .await?;
    match outcome {
        LoginOutcome::Success(user) => {
            if let Some(old) = &ctx.auth {
                state
                    .store()
                    .delete_web_session(&old.session.token_hash)
                    .await?;
            }
            let cookie = session::start_session(&state, &ctx, &user).await?;
            let to = if user.must_change_password {
                "/account/password"
            } else {
                "/"
            };
            let mut resp = Redirect::to(to).into_response();
            resp.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(resp)
        }
        LoginOutcome::Invalid => {
            let mut errors = FormErrors::default();
            errors.add("form", "Wrong username or password.");
            page(errors, None, StatusCode::UNAUTHORIZED)
        }
        LoginOutcome::Blocked { kind, until } => page(
            FormErrors::default(),
            Some(blocked_message(kind, until, oml_store::now_ms())),
            StatusCode::FORBIDDEN,
        ),
    }
}

pub async fn logout(State(state): State<AppState>, ctx: RequestCtx) -> Result<Response, WebError> {
    if let Some(a) = &ctx.auth {
        state
            .store()
            .delete_web_session(&a.session.token_hash)
            .await?;
        let ip = ctx.client_ip.to_string();
        state
            .store()
            .audit(
                oml_store::now_ms(),
                &a.user.username,
                "logout",
                &a.user.username,
                Some(&ip),
                "",
            )
            .await?;
    }
    let mut resp = redirect_with_flash(&ctx, "/login", "ok", "You are logged out.");
    resp.headers_mut()
        .append(header::SET_COOKIE, session::end_session_cookie(&ctx));
    Ok(resp)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_confirm: String,
}

pub async fn password_page(
    State(state): State<AppState>,
    u: AnyUser,
) -> Result<Response, WebError> {
    Ok(render(
        &state,
        &u.ctx,
        "password.html",
        context! { title => "Change your password", errors => FormErrors::default() },
    )?
    .into_response())
}

pub async fn password_submit(
    State(state): State<AppState>,
    u: AnyUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let mut errors = FormErrors::default();
    let user = &u.auth.user;
    if form.current_password.is_empty() {
        errors.add("current_password", "Enter your current password.");
    } else if form.current_password.chars().count() > forms::MAX_PASSWORD_LEN {
        errors.add("current_password", "This is not your current password.");
    }
    let new = forms::new_password(
        &mut errors,
        "new_password",
        &form.new_password,
        Some(("new_password_confirm", &form.new_password_confirm)),
    );
    if errors.is_empty() && form.new_password == form.current_password {
        errors.add(
            "new_password",
            "Choose a password different from the current one.",
        );
    }
    if errors.is_empty() {
        // Checked like a login: same counters, blocks, audit and hashing
        // threads, so a stolen session cannot guess the password unchecked.
        let policy = Policy::from_config(&state.config().lockout);
        let outcome = state
            .guard()
            .check(
                state.store(),
                &policy,
                Purpose::CurrentPassword,
                &user.username,
                SecretString::from(form.current_password.clone()),
                u.ctx.client_ip,
                oml_store::now_ms(),
            )
            .await?;
        match outcome {
            LoginOutcome::Success(_) => {}
            LoginOutcome::Invalid => {
                errors.add("current_password", "This is not your current password.");
            }
            LoginOutcome::Blocked { kind, until } => {
                // Blocked: every session of the account ends with it.
                state.store().delete_web_sessions_of_user(user.id).await?;
                let msg = blocked_message(kind, until, oml_store::now_ms());
                let mut resp = redirect_with_flash(&u.ctx, "/login", "error", &msg);
                resp.headers_mut()
                    .append(header::SET_COOKIE, session::end_session_cookie(&u.ctx));
                return Ok(resp);
            }
        }
    }
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        let html = render(
            &state,
            &u.ctx,
            "password.html",
            context! { title => "Change your password", errors => errors },
        )?;
        return Ok((super::REFUSED, html).into_response());
    };
    state
        .store()
        .set_password(&user.username, &new, false)
        .await?;
    // Every other session of this user ends; this one is replaced.
    state.store().delete_web_sessions_of_user(user.id).await?;
    let ip = u.ctx.client_ip.to_string();
    state
        .store()
        .audit(
            oml_store::now_ms(),
            &user.username,
            "password_change",
            &user.username,
            Some(&ip),
            "",
        )
        .await?;
    let cookie = session::start_session(&state, &u.ctx, user).await?;
    let mut resp = redirect_with_flash(&u.ctx, "/", "ok", "Your password is changed.");
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_messages_say_until_when_and_whom_to_call() {
        let m = blocked_message(BlockKind::User, Some(300_000), 0);
        assert!(m.contains("blocked"), "{m}");
        assert!(m.contains("1970-01-01 00:05:00 UTC"), "{m}");
        assert!(m.contains("about 5 minutes"), "{m}");
        assert!(m.contains("administrator"), "{m}");
        let m = blocked_message(BlockKind::User, None, 0);
        assert!(m.contains("until an administrator unblocks it"), "{m}");
        let m = blocked_message(BlockKind::Ip, Some(60_000), 0);
        assert!(
            m.contains("network address") && m.contains("about 1 minute)"),
            "{m}"
        );
    }
}
