//! The flags of `oml campaign create|edit`, and how `create|edit`
//! apply them onto a campaign's settings: an absent flag keeps the value
//! (or takes the default on `create`), `--retry` replaces one outcome's rule,
//! `--no-retry` removes it. Pure, tested without a store.

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use oml_dialer::dnc_file::{read_numbers, NumberFile};
use oml_store::{
    dialplan, parse_days, parse_rate, parse_window, AbandonWindow, CampaignMode, CampaignSpec,
    RescheduleRule, RetryOutcome,
};
use std::path::PathBuf;

/// Every campaign setting. On `create` an absent option takes the default
/// given in its help; on `edit` it keeps the current value.
#[derive(Args, Default)]
pub struct Fields {
    /// Dialing mode: preview, progressive or predictive [create: predictive].
    #[arg(long)]
    pub mode: Option<CampaignMode>,
    /// Trunk to dial through [create: the only trunk, when there is one].
    #[arg(long)]
    pub trunk: Option<String>,
    /// Send answered calls to this dialplan context and extension of yours
    /// (CONTEXT,EXTEN), which puts them in --queue; `queue` goes back to
    /// the campaign's own context [create: queue].
    #[arg(long, value_name = "CONTEXT,EXTEN")]
    pub deliver_to: Option<String>,
    /// The Asterisk queue answered calls reach; its agents are the
    /// campaign's [create: a queue named after the campaign].
    #[arg(long, value_name = "NAME")]
    pub queue: Option<String>,
    /// Highest abandon rate allowed, as 3% or 0.03 [create: 3%].
    #[arg(long, value_name = "RATE")]
    pub max_abandon_rate: Option<String>,
    /// Period the abandon rate is held over: us (30 days) or uk (24 h)
    /// [create: us].
    #[arg(long)]
    pub abandon_window: Option<AbandonWindow>,
    /// An answered call with no agent within this many seconds counts as
    /// abandoned [create: 2].
    #[arg(long, value_name = "SECONDS")]
    pub abandon_seconds: Option<i64>,
    /// Seconds to let a number ring, at least 15 under both rule sets
    /// [create: 25].
    #[arg(long, value_name = "SECONDS")]
    pub ring_timeout: Option<i64>,
    /// Allow settings beyond the rule set of --abandon-window (FCC for us,
    /// Ofcom for uk: ring at least 15 s, abandon seconds at most 2, maximum
    /// abandon rate at most 3%); stored, and shown by `show` and the report.
    #[arg(long, conflicts_with = "compliant")]
    pub non_compliant: bool,
    /// Remove the non-compliant mark (the settings must then keep the rules).
    #[arg(long)]
    pub compliant: bool,
    /// Caller ID shown to the called person [create: the trunk's].
    #[arg(long)]
    pub caller_id: Option<String>,
    /// IANA time zone of the calling window [create: UTC].
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// Calling hours, local to --time-zone [create: 09:00-21:00].
    #[arg(long, value_name = "HH:MM-HH:MM")]
    pub window: Option<String>,
    /// Calling days: mon-fri, sat,sun, all, ... [create: mon-fri].
    #[arg(long)]
    pub days: Option<String>,
    /// Higher runs first when campaigns share agents or trunks [create: 10].
    #[arg(long)]
    pub priority: Option<i64>,
    /// Reschedule rule OUTCOME:MAX_ATTEMPTS:RETRY_AFTER_S[:fixed|multiplied]
    /// for busy, no_answer, congestion, failed, abandoned or machine (a
    /// machine without its own rule follows no_answer's); repeat for
    /// several outcomes. Replaces that outcome's rule only
    /// [create: busy:3:300 no_answer:3:1800 congestion:3:600 failed:2:1800 abandoned:2:3600].
    #[arg(long = "retry", value_name = "RULE")]
    pub retry: Vec<String>,
    /// Never retry this outcome (removes its rule); repeatable.
    #[arg(long = "no-retry", value_name = "OUTCOME")]
    pub no_retry: Vec<RetryOutcome>,
    /// Add the numbers of this file to the campaign's do-not-call list
    /// (CSV with a phone column, or one number per line).
    #[arg(long, value_name = "FILE")]
    pub dnc_file: Option<PathBuf>,
    /// Country code for numbers of --dnc-file without + (as for imports).
    #[arg(long, value_name = "CODE", requires = "dnc_file")]
    pub dnc_country_code: Option<String>,
    #[command(flatten)]
    pub call_path: super::campaign_call_path_args::CallPathFields,
}

#[derive(Args)]
pub struct CreateArgs {
    /// Campaign name (letters, digits, . _ -).
    pub name: String,
    #[command(flatten)]
    pub fields: Fields,
}

#[derive(Args)]
pub struct EditArgs {
    pub name: String,
    /// New name.
    #[arg(long)]
    pub rename: Option<String>,
    #[command(flatten)]
    pub fields: Fields,
}

impl Fields {
    /// Applies the options given onto `spec`.
    pub fn apply(&self, spec: &mut CampaignSpec) -> Result<()> {
        if let Some(m) = self.mode {
            spec.mode = m;
        }
        if let Some(t) = &self.trunk {
            spec.trunk = t.clone();
        }
        if let Some(d) = &self.deliver_to {
            (spec.delivery_context, spec.delivery_exten) =
                dialplan::parse_delivery(d).map_err(|e| anyhow!("--deliver-to `{d}`: {e}"))?;
        }
        if let Some(q) = &self.queue {
            if q.trim().is_empty() {
                bail!("--queue is empty: give the Asterisk queue name");
            }
            spec.queue_name = q.trim().to_string();
        }
        if let Some(r) = &self.max_abandon_rate {
            spec.max_abandon_rate =
                parse_rate(r).with_context(|| format!("--max-abandon-rate `{r}`"))?;
        }
        if let Some(w) = self.abandon_window {
            spec.abandon_window = w;
        }
        if let Some(s) = self.abandon_seconds {
            spec.abandon_seconds = s;
        }
        if let Some(s) = self.ring_timeout {
            spec.ring_timeout_s = s;
        }
        if self.non_compliant {
            spec.non_compliant = true;
        }
        if self.compliant {
            spec.non_compliant = false;
        }
        if let Some(c) = &self.caller_id {
            spec.caller_id = c.clone();
        }
        if let Some(z) = &self.time_zone {
            spec.time_zone = z.trim().to_string();
        }
        if let Some(w) = &self.window {
            (spec.window_start_minute, spec.window_end_minute) =
                parse_window(w).with_context(|| format!("--window `{w}`"))?;
        }
        if let Some(d) = &self.days {
            spec.days_mask = parse_days(d).with_context(|| format!("--days `{d}`"))?;
        }
        if let Some(p) = self.priority {
            spec.priority = p;
        }
        let mut given = std::collections::HashSet::new();
        for text in &self.retry {
            let rule = RescheduleRule::parse(text).with_context(|| format!("--retry `{text}`"))?;
            if !given.insert(rule.outcome) {
                bail!("--retry: outcome `{}` is given twice", rule.outcome);
            }
            spec.rules.retain(|r| r.outcome != rule.outcome);
            spec.rules.push(rule);
        }
        for o in &self.no_retry {
            if given.contains(o) {
                bail!("outcome `{o}` is both in --retry and --no-retry");
            }
            spec.rules.retain(|r| r.outcome != *o);
        }
        spec.rules.sort_by_key(|r| r.outcome.as_str());
        Ok(())
    }

    /// Reads --dnc-file before anything is stored, so a bad file changes
    /// nothing.
    pub fn dnc_numbers(&self, g: &crate::cli::GlobalArgs) -> Result<Option<(PathBuf, NumberFile)>> {
        match &self.dnc_file {
            None => Ok(None),
            Some(path) => {
                let norm = super::dnc::normalizer(g, self.dnc_country_code.as_deref())?;
                Ok(Some((path.clone(), read_numbers(path, None, &norm)?)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_change_only_what_is_given() {
        let mut spec = CampaignSpec::new("s", "t");
        let before = spec.clone();
        Fields::default().apply(&mut spec).unwrap();
        assert_eq!(format!("{before:?}"), format!("{spec:?}"));
        let f = Fields {
            retry: vec!["busy:5:60:multiplied".into()],
            no_retry: vec![RetryOutcome::Abandoned],
            deliver_to: Some("agents,s".into()),
            ..Fields::default()
        };
        f.apply(&mut spec).unwrap();
        assert_eq!(spec.rules.len(), 4);
        let busy = spec
            .rules
            .iter()
            .find(|r| r.outcome == RetryOutcome::Busy)
            .unwrap();
        assert_eq!(busy.max_attempts, 5);
        assert!(!spec
            .rules
            .iter()
            .any(|r| r.outcome == RetryOutcome::Abandoned));
        assert_eq!(
            (spec.delivery_context.as_str(), spec.delivery_exten.as_str()),
            ("agents", "s")
        );
        assert_eq!(spec.ring_timeout_s, before.ring_timeout_s);
        assert!(!spec.non_compliant);
        let mark = Fields {
            non_compliant: true,
            ring_timeout: Some(10),
            ..Fields::default()
        };
        mark.apply(&mut spec).unwrap();
        assert!(spec.non_compliant && spec.validate().is_ok());
        Fields::default().apply(&mut spec).unwrap();
        assert!(
            spec.non_compliant,
            "an edit without the flag keeps the mark"
        );
        let clear = Fields {
            compliant: true,
            ..Fields::default()
        };
        clear.apply(&mut spec).unwrap();
        let e = spec.validate().unwrap_err().to_string();
        assert!(e.contains("ring timeout"), "{e}");
    }
}
