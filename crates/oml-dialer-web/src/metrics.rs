//! `GET /metrics`: the dialer's figures for Prometheus (OpenMetrics text),
//! read from the same status the page and the API show: gauges of "now"
//! (the abandon figures are over each campaign's regulatory window), and
//! the counters of `metrics_counters.rs`, whose running totals are kept
//! between scrapes (one [`TotalsCache`] per database). Scrapers
//! authenticate like any API caller (`authorization: credentials` in the
//! Prometheus job).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use oml_dialer::control::{self, DialerStatus};
use oml_store::call_totals::{CallTotals, TotalsCache};
use oml_web::api::{ApiError, ApiSupervisor};
use oml_web::AppState;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;

use crate::view;

type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The counters' running totals, by database (its description).
static TOTALS: LazyLock<tokio::sync::Mutex<HashMap<String, TotalsCache>>> =
    LazyLock::new(Default::default);

pub async fn metrics(
    State(state): State<AppState>,
    _caller: ApiSupervisor,
) -> Result<Response, ApiError> {
    let s = control::status(state.store()).await?;
    let totals = {
        let mut caches = TOTALS.lock().await;
        let cache = caches
            .entry(state.store().location().describe())
            .or_default();
        state
            .store()
            .call_totals(cache, oml_store::now_ms())
            .await?
    };
    let body = exposition(&s, &totals).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the metrics: {e}"),
        )
    })?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response())
}

/// One gauge family registered under `name`.
fn family(reg: &mut Registry, name: &str, help: &str) -> Family<Labels, FloatGauge> {
    let f = Family::<Labels, FloatGauge>::default();
    reg.register(name, help, f.clone());
    f
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// The exposition text of status `s` and the campaigns' call totals.
pub fn exposition(s: &DialerStatus, totals: &[CallTotals]) -> Result<String, std::fmt::Error> {
    let mut reg = Registry::with_prefix("oml");
    let plain = |reg: &mut Registry, name: &str, help: &str, v: f64| {
        let g = FloatGauge::default();
        g.set(v);
        reg.register(name, help, g);
    };
    plain(
        &mut reg,
        "dialer_started",
        "1 while the dialer is started (play)",
        flag(s.play),
    );
    plain(
        &mut reg,
        "dialer_engine_running",
        "1 while an engine publishes its figures",
        flag(s.engine_running),
    );
    let live = s.live.as_ref().filter(|_| s.engine_running);
    plain(
        &mut reg,
        "dialer_calls_in_flight",
        "Calls placed and not yet ended",
        live.map_or(0.0, |l| l.calls_in_flight as f64),
    );

    let link = family(
        &mut reg,
        "ami_link_up",
        "1 while the AMI link to the server is up",
    );
    let logged = family(
        &mut reg,
        "server_agents_logged_in",
        "Agents logged in on the server",
    );
    let free = family(&mut reg, "server_agents_free", "Agents free on the server");
    let talking = family(
        &mut reg,
        "server_agents_talking",
        "Agents on a call on the server",
    );
    for srv in live.map(|l| l.servers.as_slice()).unwrap_or_default() {
        let l = vec![("server", srv.name.clone())];
        link.get_or_create(&l).set(flag(srv.connected));
        logged
            .get_or_create(&l)
            .set(f64::from(srv.agents_logged_in));
        free.get_or_create(&l).set(f64::from(srv.agents_free));
        talking.get_or_create(&l).set(f64::from(srv.agents_talking));
    }

    let state = family(
        &mut reg,
        "campaign_state",
        "1 for the campaign's current state",
    );
    let left = family(
        &mut reg,
        "campaign_contacts_left",
        "Contacts not yet in a final state",
    );
    let rate = family(
        &mut reg,
        "campaign_abandon_ratio",
        "Abandoned / live-answered over the regulatory window",
    );
    let limit = family(
        &mut reg,
        "campaign_abandon_limit_ratio",
        "The campaign's abandon limit",
    );
    let abandoned = family(
        &mut reg,
        "campaign_abandoned",
        "Abandoned calls in the regulatory window",
    );
    let answered = family(
        &mut reg,
        "campaign_live_answered",
        "Calls answered by a person in the regulatory window",
    );
    let ringing = family(&mut reg, "campaign_ringing", "Calls ringing");
    let waiting = family(
        &mut reg,
        "campaign_waiting_for_agent",
        "Answered calls not yet with an agent",
    );
    let on_call = family(
        &mut reg,
        "campaign_talking",
        "Agents on a call of the campaign",
    );
    let occupancy = family(
        &mut reg,
        "campaign_occupancy_ratio",
        "Agents on a call / agents logged in",
    );
    for c in view::campaigns(s) {
        let l = vec![("campaign", c.name.clone())];
        let mut with_state = l.clone();
        with_state.push(("state", c.state.clone()));
        state.get_or_create(&with_state).set(1.0);
        left.get_or_create(&l).set(c.contacts_left as f64);
        rate.get_or_create(&l).set(c.abandon_rate);
        limit.get_or_create(&l).set(c.max_abandon_rate);
        abandoned.get_or_create(&l).set(c.abandoned as f64);
        answered.get_or_create(&l).set(c.live_answered as f64);
        if let Some(lv) = &c.live {
            ringing.get_or_create(&l).set(lv.ringing as f64);
            waiting.get_or_create(&l).set(lv.waiting_for_agent as f64);
            on_call.get_or_create(&l).set(lv.talking as f64);
            occupancy.get_or_create(&l).set(lv.occupancy);
        }
    }
    crate::metrics_counters::counters(&mut reg, totals);
    crate::metrics_counters::reaction(&mut reg, live.map(|l| &l.reaction));
    let mut out = String::new();
    encode(&mut out, &reg)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oml_dialer::control::CampaignSummary;
    use oml_dialer::engine::{CampaignLive, ServerStatus};
    use oml_dialer::LiveStatus;

    #[test]
    fn every_figure_is_exposed_with_its_labels() {
        let s = DialerStatus {
            play: true,
            engine_running: true,
            engine_seen_at: Some(1),
            nodes: vec!["oml".into()],
            live: Some(LiveStatus {
                calls_in_flight: 7,
                servers: vec![ServerStatus {
                    name: "pbx1".into(),
                    connected: true,
                    agents_logged_in: 12,
                    agents_free: 3,
                    agents_talking: 9,
                    last_error: None,
                }],
                campaigns: vec![CampaignLive {
                    name: "sales".into(),
                    ringing: 4,
                    talking: 9,
                    occupancy: 0.75,
                    ..CampaignLive::default()
                }],
                ..LiveStatus::default()
            }),
            campaigns: vec![CampaignSummary {
                name: "sales".into(),
                mode: "predictive".into(),
                state: "running".into(),
                contacts_left: 250,
                due_now: 10,
                in_flight: 7,
                abandon_rate: 0.025,
                abandoned: 5,
                live_answered: 200,
                max_abandon_rate: 0.03,
                pacing_start: None,
            }],
        };
        let totals = [CallTotals {
            campaign: "sales".into(),
            placed: 120,
            answered: 60,
            abandoned: 2,
            originate_errors: 3,
        }];
        let reaction = oml_dialer::engine::reaction_hist::ReactionHistogram::default();
        for us in [400, 1_500, 1_800, 30_000] {
            reaction.observe(us);
        }
        let mut s = s;
        if let Some(l) = s.live.as_mut() {
            l.reaction = reaction.summary();
        }
        let text = exposition(&s, &totals).unwrap();
        for line in [
            "oml_dialer_started 1.0",
            "oml_dialer_calls_in_flight 7.0",
            "oml_ami_link_up{server=\"pbx1\"} 1.0",
            "oml_server_agents_talking{server=\"pbx1\"} 9.0",
            "oml_campaign_state{campaign=\"sales\",state=\"running\"} 1.0",
            "oml_campaign_contacts_left{campaign=\"sales\"} 250.0",
            "oml_campaign_abandon_ratio{campaign=\"sales\"} 0.025",
            "oml_campaign_live_answered{campaign=\"sales\"} 200.0",
            "oml_campaign_ringing{campaign=\"sales\"} 4.0",
            "oml_campaign_occupancy_ratio{campaign=\"sales\"} 0.75",
            "# TYPE oml_calls_placed counter",
            "oml_calls_placed_total{campaign=\"sales\"} 120",
            "oml_calls_answered_total{campaign=\"sales\"} 60",
            "oml_calls_abandoned_total{campaign=\"sales\"} 2",
            "oml_originate_errors_total{campaign=\"sales\"} 3",
            "# TYPE oml_dialer_reaction_seconds histogram",
            "oml_dialer_reaction_seconds_count 4",
            "oml_dialer_reaction_seconds_bucket{le=\"0.0005\"} 1",
            "oml_dialer_reaction_seconds_bucket{le=\"0.002\"} 3",
            "oml_dialer_reaction_seconds_bucket{le=\"0.05\"} 4",
            "oml_dialer_reaction_seconds_bucket{le=\"+Inf\"} 4",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in:\n{text}"
            );
        }
        assert!(text.ends_with("# EOF\n"));

        // Without an engine: no live lines, no stale servers.
        let idle = DialerStatus {
            engine_running: false,
            ..s
        };
        let text = exposition(&idle, &totals).unwrap();
        assert!(text.contains("oml_dialer_engine_running 0.0"), "{text}");
        assert!(!text.contains("server=\"pbx1\""), "{text}");
        assert!(!text.contains("oml_campaign_ringing{"), "{text}");
        assert!(text.contains("oml_campaign_contacts_left{campaign=\"sales\"} 250.0"));
    }
}
