//! The metrics that are not gauges of "now" (issue 20 item 6): counters of
//! each campaign's calls since it was created (`oml_calls_placed_total`,
//! `..._answered_total`, `..._abandoned_total`, `oml_originate_errors_total`,
//! from the attempts stored) and the histogram of the engine's reaction
//! times since it started (`oml_dialer_reaction_seconds`).

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

use oml_dialer::engine::reaction_hist::ReactionSummary;
use oml_store::call_totals::CallTotals;

type Labels = Vec<(&'static str, String)>;

/// Registers the four counters, by campaign.
pub fn counters(reg: &mut Registry, totals: &[CallTotals]) {
    let mut family = |name: &str, help: &str, value: &dyn Fn(&CallTotals) -> i64| {
        let f = Family::<Labels, Counter>::default();
        for t in totals {
            f.get_or_create(&vec![("campaign", t.campaign.clone())])
                .inc_by(value(t).max(0) as u64);
        }
        reg.register(name, help, f);
    };
    family(
        "calls_placed",
        "Calls placed (attempts recorded), by campaign",
        &|t| t.placed,
    );
    family(
        "calls_answered",
        "Calls answered by the far end, by campaign",
        &|t| t.answered,
    );
    family(
        "calls_abandoned",
        "Answered calls that reached no agent in time, by campaign",
        &|t| t.abandoned,
    );
    family(
        "originate_errors",
        "Calls that could not be placed (outcome failed), by campaign",
        &|t| t.originate_errors,
    );
}

/// A histogram whose buckets were counted elsewhere (by the engine).
#[derive(Debug)]
struct Counted(ReactionSummary);

impl TypedMetric for Counted {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Counted {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.0;
        let mut buckets: Vec<(f64, u64)> = s
            .bounds_s
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(s.counts.iter().copied())
            .collect();
        if buckets.is_empty() {
            buckets.push((f64::INFINITY, 0));
        }
        encoder.encode_histogram::<NoLabelSet>(s.sum_s, s.count(), &buckets, None)
    }
    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Registers the reaction-time histogram (empty without an engine).
pub fn reaction(reg: &mut Registry, summary: Option<&ReactionSummary>) {
    reg.register_with_unit(
        "dialer_reaction",
        "From an agent freed to the Originate it caused, since the engine started",
        prometheus_client::registry::Unit::Seconds,
        Counted(summary.cloned().unwrap_or_default()),
    );
}
