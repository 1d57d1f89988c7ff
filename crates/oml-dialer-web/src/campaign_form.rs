//! Creating and editing a campaign in the console (supervisors and admins):
//! one form with every setting `oml campaign create|edit` takes, checked by
//! the same store rules. A refused form comes back with the values typed
//! and a message naming the field to fix; nothing is stored.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use oml_store::{
    dialplan, format_days, format_minute, parse_days, parse_rate, parse_window, AbandonWindow,
    CampaignMode, CampaignSpec, RescheduleRule, StoreError,
};
use oml_web::auth::SupervisorUser;
use oml_web::pages::{render, REFUSED};
use oml_web::session::redirect_with_flash;
use oml_web::{AppState, WebError};

use crate::common::{audit, campaign_or_404, refusal};
use call_path::CallPathForm;
use serde::{Deserialize, Serialize};

mod call_path;

/// The form, as typed (every field text, so a refused form comes back as is).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CampaignForm {
    name: String,
    mode: String,
    trunk: String,
    queue: String,
    deliver_to: String,
    max_abandon_rate: String,
    abandon_window: String,
    abandon_seconds: String,
    ring_timeout: String,
    /// The checkbox: `on` when ticked, absent otherwise.
    non_compliant: Option<String>,
    caller_id: String,
    time_zone: String,
    window: String,
    days: String,
    priority: String,
    rules: String,
    /// Answering machines, recording, messages.
    #[serde(flatten)]
    call_path: CallPathForm,
}

impl CampaignForm {
    /// The form showing `spec`.
    fn of(spec: &CampaignSpec) -> CampaignForm {
        CampaignForm {
            name: spec.name.clone(),
            mode: spec.mode.as_str().into(),
            trunk: spec.trunk.clone(),
            queue: spec.queue_name.clone(),
            deliver_to: if spec.delivery_context.is_empty() {
                String::new()
            } else {
                format!("{},{}", spec.delivery_context, spec.delivery_exten)
            },
            max_abandon_rate: format!("{}%", (spec.max_abandon_rate * 1000.0).round() / 10.0),
            abandon_window: spec.abandon_window.as_str().into(),
            abandon_seconds: spec.abandon_seconds.to_string(),
            ring_timeout: spec.ring_timeout_s.to_string(),
            non_compliant: spec.non_compliant.then(|| "on".to_string()),
            caller_id: spec.caller_id.clone(),
            time_zone: spec.time_zone.clone(),
            window: format!(
                "{}-{}",
                format_minute(spec.window_start_minute),
                format_minute(spec.window_end_minute)
            ),
            days: format_days(spec.days_mask),
            priority: spec.priority.to_string(),
            rules: spec
                .rules
                .iter()
                .map(RescheduleRule::to_text)
                .collect::<Vec<_>>()
                .join("\n"),
            call_path: CallPathForm::default(),
        }
    }

    /// The spec this form asks for, on top of `base` (the defaults or the
    /// campaign being edited); the first problem found, named, otherwise.
    fn apply(&self, base: &CampaignSpec) -> Result<CampaignSpec, String> {
        let mut spec = base.clone();
        let number = |field: &str, text: &str| -> Result<i64, String> {
            text.trim()
                .parse::<i64>()
                .map_err(|_| format!("{field}: `{}` is not a whole number", text.trim()))
        };
        spec.name = self.name.trim().to_string();
        spec.mode = self
            .mode
            .parse::<CampaignMode>()
            .map_err(|e| e.to_string())?;
        spec.trunk = self.trunk.trim().to_string();
        match (self.queue.trim(), self.deliver_to.trim()) {
            ("", "") => {
                return Err(
                    "answered calls: give a queue, or a CONTEXT,EXTEN of the dialplan".into(),
                )
            }
            // Both are kept, as `--queue` and `--deliver-to` (see
            // oml_store::dialplan): an empty delivery is the campaign's own
            // context.
            (q, to) => {
                (spec.delivery_context, spec.delivery_exten) = if to.is_empty() {
                    (String::new(), String::new())
                } else {
                    dialplan::parse_delivery(to).map_err(|e| format!("deliver to: {e}"))?
                };
                spec.queue_name = q.to_string();
            }
        }
        spec.max_abandon_rate = parse_rate(&self.max_abandon_rate).map_err(|e| e.to_string())?;
        spec.abandon_window = self
            .abandon_window
            .parse::<AbandonWindow>()
            .map_err(|e| e.to_string())?;
        spec.abandon_seconds = number("abandon seconds", &self.abandon_seconds)?;
        spec.ring_timeout_s = number("ring timeout", &self.ring_timeout)?;
        spec.non_compliant = self.non_compliant.is_some();
        spec.caller_id = self.caller_id.trim().to_string();
        spec.time_zone = self.time_zone.trim().to_string();
        (spec.window_start_minute, spec.window_end_minute) =
            parse_window(&self.window).map_err(|e| e.to_string())?;
        spec.days_mask = parse_days(&self.days).map_err(|e| e.to_string())?;
        spec.priority = number("priority", &self.priority)?;
        spec.rules = self
            .rules
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(RescheduleRule::parse)
            .collect::<Result<Vec<_>, StoreError>>()
            .map_err(|e| e.to_string())?;
        spec.rules.sort_by_key(|r| r.outcome.as_str());
        spec.validate().map_err(|e| e.to_string())?;
        Ok(spec)
    }
}

async fn page(
    state: &AppState,
    u: &SupervisorUser,
    editing: Option<&str>,
    form: &CampaignForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let trunks: Vec<String> = state
        .store()
        .trunks()
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let title = match editing {
        Some(n) => format!("Edit campaign {n}"),
        None => "New campaign".to_string(),
    };
    // A refused form comes back with its error and 422, like every other
    // form of the console (scripts and tests tell refusal from success).
    let status = if error.is_some() {
        REFUSED
    } else {
        StatusCode::OK
    };
    let html = render(
        state,
        &u.ctx,
        "campaign_form.html",
        context! {
            title => title,
            editing => editing,
            form => form,
            trunks => trunks,
            modes => ["predictive", "progressive", "preview"],
            windows => ["us", "uk"],
            machines => ["off", "hangup", "message"],
            recordings => ["off", "all"],
            formats => ["wav", "gsm", "mp3"],
            error => error,
        },
    )?;
    Ok((status, html).into_response())
}

fn defaults(trunk: &str) -> CampaignSpec {
    CampaignSpec::new("", trunk)
}

pub async fn new_page(
    State(state): State<AppState>,
    u: SupervisorUser,
) -> Result<Response, WebError> {
    let trunks = state.store().trunks().await?;
    let only = match trunks.as_slice() {
        [t] => t.name.clone(),
        _ => String::new(),
    };
    let mut form = CampaignForm::of(&defaults(&only));
    form.deliver_to.clear(); // a new campaign gets a queue named after it
    page(&state, &u, None, &form, None).await
}

pub async fn create(
    State(state): State<AppState>,
    u: SupervisorUser,
    Form(mut form): Form<CampaignForm>,
) -> Result<Response, WebError> {
    if form.queue.trim().is_empty() && form.deliver_to.trim().is_empty() {
        form.queue = form.name.trim().to_string();
    }
    let sounds_dir = &state.config().paths.sounds_dir;
    let (spec, cp) = match form
        .apply(&defaults(""))
        .and_then(|s| Ok((s, form.call_path.apply(false)?)))
        .and_then(|(s, cp)| Ok((s, call_path::uploaded_sounds(cp, sounds_dir)?)))
    {
        Ok(s) => s,
        Err(msg) => return page(&state, &u, None, &form, Some(msg)).await,
    };
    match state.store().create_campaign_with(&spec, cp.as_ref()).await {
        Ok(c) => {
            audit(&state, &u, "campaign_create", &c.name, "").await;
            let msg = format!(
                "Campaign {} created, stopped. Next: upload its contacts, then press Start.",
                c.name
            );
            let to = format!("/dialer/campaigns/{}/contacts", c.name);
            Ok(redirect_with_flash(&u.ctx, &to, "ok", &msg))
        }
        Err(e) => {
            let msg = refusal(e)?;
            page(&state, &u, None, &form, Some(msg)).await
        }
    }
}

pub async fn edit_page(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let c = campaign_or_404(&state, &name).await?;
    let spec = state.store().campaign_spec(&c).await?;
    let mut form = CampaignForm::of(&spec);
    form.call_path = CallPathForm::of(state.store().call_path(c.id).await?.as_ref());
    page(&state, &u, Some(&c.name), &form, None).await
}

pub async fn edit(
    State(state): State<AppState>,
    u: SupervisorUser,
    Path(name): Path<String>,
    Form(form): Form<CampaignForm>,
) -> Result<Response, WebError> {
    let c = campaign_or_404(&state, &name).await?;
    let base = state.store().campaign_spec(&c).await?;
    let stored = state.store().call_path(c.id).await?.is_some();
    let sounds_dir = &state.config().paths.sounds_dir;
    let (spec, cp) = match form
        .apply(&base)
        .and_then(|s| Ok((s, form.call_path.apply(stored)?)))
        .and_then(|(s, cp)| Ok((s, call_path::uploaded_sounds(cp, sounds_dir)?)))
    {
        Ok(s) => s,
        Err(msg) => return page(&state, &u, Some(&c.name), &form, Some(msg)).await,
    };
    match state
        .store()
        .update_campaign_with(&c.name, &spec, cp.as_ref())
        .await
    {
        Ok(c2) => {
            audit(&state, &u, "campaign_edit", &c2.name, "").await;
            let msg = format!(
                "Campaign {} saved; the dialer uses the new settings within a second.",
                c2.name
            );
            Ok(redirect_with_flash(&u.ctx, "/dialer", "ok", &msg))
        }
        Err(e) => {
            let msg = refusal(e)?;
            page(&state, &u, Some(&c.name), &form, Some(msg)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_survives_the_form_both_ways() {
        let mut spec = CampaignSpec::new("sales", "carrier");
        spec.queue_name = "sales".into();
        spec.max_abandon_rate = 0.025;
        spec.days_mask = parse_days("mon-sat").unwrap();
        let form = CampaignForm::of(&spec);
        assert_eq!(form.max_abandon_rate, "2.5%");
        assert_eq!(form.window, "09:00-21:00");
        assert_eq!(form.apply(&defaults("")).unwrap(), spec);
        spec.ring_timeout_s = 10;
        spec.non_compliant = true;
        let form = CampaignForm::of(&spec);
        assert_eq!(form.non_compliant.as_deref(), Some("on"));
        assert_eq!(form.apply(&defaults("")).unwrap(), spec);
    }

    #[test]
    fn a_queue_and_a_delivery_context_are_both_kept() {
        let mut form = CampaignForm::of(&{
            let mut s = CampaignSpec::new("sales", "carrier");
            s.queue_name = "sales".into();
            s
        });
        assert_eq!(form.deliver_to, "", "the campaign's own context");
        form.deliver_to = "my-ivr,s".into();
        let spec = form.apply(&defaults("")).unwrap();
        assert_eq!(spec.queue_name, "sales");
        assert_eq!(
            (spec.delivery_context.as_str(), spec.delivery_exten.as_str()),
            ("my-ivr", "s")
        );
        assert_eq!(CampaignForm::of(&spec).deliver_to, "my-ivr,s");
        form.deliver_to = "my-ivr".into();
        assert!(form
            .apply(&defaults(""))
            .unwrap_err()
            .contains("CONTEXT,EXTEN"));
    }

    #[test]
    fn each_bad_field_is_named() {
        let ok = CampaignForm::of(&{
            let mut s = CampaignSpec::new("sales", "carrier");
            s.queue_name = "sales".into();
            s
        });
        type Spoil = fn(&mut CampaignForm);
        let cases: [(Spoil, &str); 8] = [
            (|f| f.mode = "turbo".into(), "mode"),
            (|f| f.max_abandon_rate = "5".into(), "5%"),
            (|f| f.window = "21:00-09:00".into(), "time window"),
            (|f| f.days = "funday".into(), "day"),
            (|f| f.ring_timeout = "soon".into(), "ring timeout"),
            (|f| f.ring_timeout = "10".into(), "FCC"),
            (|f| f.rules = "ringing:3:60".into(), "ringing"),
            (
                |f| {
                    f.queue.clear();
                    f.deliver_to = "from-oml".into()
                },
                "CONTEXT,EXTEN",
            ),
        ];
        for (spoil, word) in cases {
            let mut f = ok.clone();
            spoil(&mut f);
            let e = f.apply(&defaults("")).unwrap_err();
            assert!(e.contains(word), "{word}: {e}");
        }
    }
}
