//! A campaign's dispositions in the console (issue 19 item 5; supervisors
//! and admins): `/dialer/campaigns/{name}/dispositions` lists them with
//! what each does, adds one, removes one, and sets the wrap-up limit. The
//! rules are the store's ([`Disposition::validate`], the wrap-up limit's
//! range), the same as `oml campaign disposition` and the API; each change
//! is audited with the same action names.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::{context, Value};
use oml_store::dispositions::{Disposition, DncTarget, DEFAULT_WRAPUP_S, MAX_WRAPUP_S};
use oml_store::Campaign;
use oml_web::auth::SupervisorUser;
use oml_web::pages::{render, REFUSED};
use oml_web::session::redirect_with_flash;
use oml_web::{AppState, WebError};
use serde::{Deserialize, Serialize};

use crate::common::{audit, campaign_or_404, refusal};

/// What a disposition does, in words (as `oml campaign disposition list`
/// prints it): `final`, `callback`, `dnc campaign`, `retry after 3600 s`.
pub fn effect_words(d: &Disposition) -> String {
    let mut words = Vec::new();
    if d.is_final {
        words.push("final".to_string());
    }
    if d.callback {
        words.push("callback".to_string());
    }
    if d.dnc != DncTarget::No {
        words.push(format!("dnc {}", d.dnc.as_str()));
    }
    if words.is_empty() {
        words.push(format!("retry after {} s", d.retry_after_s));
    }
    words.join(", ")
}

fn url(c: &Campaign) -> String {
    format!("/dialer/campaigns/{}/dispositions", c.name)
}

/// The page, with an error and the add form's values that caused it.
async fn page(
    state: &AppState,
    u: &SupervisorUser,
    c: &Campaign,
    error: Option<String>,
    form: Value,
) -> Result<Response, WebError> {
    let rows: Vec<Value> = state
        .store()
        .dispositions(c.id)
        .await?
        .iter()
        .map(|d| context! { name => d.name.clone(), effect => effect_words(d) })
        .collect();
    let wrapup = state.store().wrapup_limit_s(c.id).await?;
    let status = if error.is_some() {
        REFUSED
    } else {
        StatusCode::OK
    };
    let html = render(
        state,
        &u.ctx,
        "dispositions.html",
        context! {
            title => format!("Dispositions of {}", c.name),
            campaign => c.name.clone(),
            dispositions => rows,
            wrapup_s => wrapup,
            default_wrapup_s => DEFAULT_WRAPUP_S,
            max_wrapup_s => MAX_WRAPUP_S,
            error => error,
            form => form,
        },
    )?;
    Ok((status, html).into_response())
}

/// `GET /dialer/campaigns/{name}/dispositions`.
pub async fn dispositions_page(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let c = campaign_or_404(&state, &name).await?;
    page(&state, &u, &c, None, Value::UNDEFINED).await
}

/// The add form.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AddForm {
    name: String,
    /// `retry` (default), `final`, `callback`, `dnc campaign`, `dnc global`.
    effect: String,
    retry_after: String,
}

/// The disposition the form describes, or what to fix.
fn from_form(f: &AddForm) -> Result<Disposition, String> {
    let retry_after_s = match f.retry_after.trim() {
        "" => 3600,
        t => t
            .parse::<i64>()
            .map_err(|_| format!("Retry after: `{t}` is not a number of seconds (e.g. 3600)."))?,
    };
    let (is_final, callback, dnc) = match f.effect.as_str() {
        "" | "retry" => (false, false, DncTarget::No),
        "final" => (true, false, DncTarget::No),
        "callback" => (false, true, DncTarget::No),
        "dnc-campaign" => (false, false, DncTarget::Campaign),
        "dnc-global" => (false, false, DncTarget::Global),
        other => return Err(format!("Effect: `{other}` is not one of the choices.")),
    };
    let d = Disposition {
        name: f.name.trim().to_string(),
        is_final,
        callback,
        dnc,
        retry_after_s,
    };
    d.validate().map_err(|e| format!("{e}."))?;
    Ok(d)
}

/// `POST /dialer/campaigns/{name}/dispositions`: adds one.
pub async fn add(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
    Form(f): Form<AddForm>,
) -> Result<Response, WebError> {
    let c = campaign_or_404(&state, &name).await?;
    let refused = |msg: String| format!("Nothing was changed: {msg}");
    let d = match from_form(&f) {
        Ok(d) => d,
        Err(msg) => {
            return page(
                &state,
                &u,
                &c,
                Some(refused(msg)),
                Value::from_serialize(&f),
            )
            .await
        }
    };
    if let Err(e) = state.store().add_disposition(c.id, &d).await {
        let msg = format!("{}.", refusal(e)?);
        return page(
            &state,
            &u,
            &c,
            Some(refused(msg)),
            Value::from_serialize(&f),
        )
        .await;
    }
    let detail = format!("{}: {}", d.name, effect_words(&d));
    audit(&state, &u, "disposition_add", &c.name, &detail).await;
    Ok(redirect_with_flash(
        &u.ctx,
        &url(&c),
        "ok",
        &format!("Disposition `{}` added ({}).", d.name, effect_words(&d)),
    ))
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    name: String,
}

/// `POST /dialer/campaigns/{name}/dispositions/remove`.
pub async fn remove(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
    Form(f): Form<RemoveForm>,
) -> Result<Response, WebError> {
    let c = campaign_or_404(&state, &name).await?;
    if !state.store().remove_disposition(c.id, &f.name).await? {
        let msg = format!(
            "Nothing was changed: campaign `{}` has no disposition `{}`.",
            c.name, f.name
        );
        return page(&state, &u, &c, Some(msg), Value::UNDEFINED).await;
    }
    audit(&state, &u, "disposition_remove", &c.name, &f.name).await;
    Ok(redirect_with_flash(
        &u.ctx,
        &url(&c),
        "ok",
        &format!(
            "Disposition `{}` removed; calls that were given it keep its name.",
            f.name
        ),
    ))
}

#[derive(Debug, Deserialize)]
pub struct WrapupForm {
    #[serde(default)]
    seconds: String,
}

/// `POST /dialer/campaigns/{name}/wrapup`: the wrap-up limit.
pub async fn wrapup(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
    Form(f): Form<WrapupForm>,
) -> Result<Response, WebError> {
    let c = campaign_or_404(&state, &name).await?;
    let text = f.seconds.trim();
    let Ok(seconds) = text.parse::<i64>() else {
        let msg = format!(
            "Nothing was changed: wrap-up limit `{text}` is not a number of seconds (1 to {MAX_WRAPUP_S})."
        );
        return page(&state, &u, &c, Some(msg), Value::UNDEFINED).await;
    };
    let set = state
        .store()
        .set_wrapup_limit_s(c.id, seconds)
        .await
        .map(|_| seconds);
    match set {
        Ok(s) => {
            audit(&state, &u, "wrapup_set", &c.name, &format!("wrap-up {s} s")).await;
            Ok(redirect_with_flash(
                &u.ctx,
                &url(&c),
                "ok",
                &format!("Wrap-up limit of `{}`: {s} s.", c.name),
            ))
        }
        Err(e) => {
            let msg = format!("Nothing was changed: {}.", refusal(e)?);
            page(&state, &u, &c, Some(msg), Value::UNDEFINED).await
        }
    }
}

/// The routes of this file, merged into [`crate::routes`].
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/dialer/campaigns/{name}/dispositions",
            get(dispositions_page).post(add),
        )
        .route("/dialer/campaigns/{name}/dispositions/remove", post(remove))
        .route("/dialer/campaigns/{name}/wrapup", post(wrapup))
}

/// Registers the page's template.
pub fn register(b: oml_web::state::AppStateBuilder) -> oml_web::state::AppStateBuilder {
    b.template(
        "dispositions.html",
        include_str!("../templates/dispositions.html"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, effect: &str, retry: &str) -> AddForm {
        AddForm {
            name: name.into(),
            effect: effect.into(),
            retry_after: retry.into(),
        }
    }

    #[test]
    fn the_form_reads_as_the_cli_does() {
        let d = from_form(&form("sale", "final", "")).unwrap();
        assert!(d.is_final && !d.callback);
        assert_eq!(effect_words(&d), "final");
        let d = from_form(&form("later", "", "600")).unwrap();
        assert_eq!(effect_words(&d), "retry after 600 s");
        let d = from_form(&form("no", "dnc-global", "")).unwrap();
        assert_eq!(effect_words(&d), "dnc global");
        assert!(from_form(&form("a,b", "final", ""))
            .unwrap_err()
            .contains("commas"));
        assert!(from_form(&form("x", "retry", "soon"))
            .unwrap_err()
            .contains("seconds"));
        assert!(from_form(&form("x", "retry", "-1"))
            .unwrap_err()
            .contains("retry"));
        assert!(from_form(&form("x", "maybe", "")).is_err());
    }
}
