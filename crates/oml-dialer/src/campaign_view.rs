//! A campaign as an administrator reads it: every setting, its reschedule
//! rules, contacts by state, its contact lists and do-not-call count, in one
//! serialisable view ([`CampaignView`]) with its text report. `oml campaign
//! show|list` print it; the console and the API can return the same view.
//! Building it reads the store; the reports are pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use oml_store::compliance::{percent, Breach, RuleSet, COUNTED_FROM};
use oml_store::{
    format_days, format_minute, format_ms, AbandonWindow, Campaign, CampaignMode, CampaignState,
    ContactList, DncScope, RescheduleRule, Store,
};
use serde::Serialize;

mod pacing_start;
pub use pacing_start::{pacing_start, pacing_start_text, PacingStartView};

/// Everything `oml campaign show` prints, and `--json` gives.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignView {
    pub name: String,
    pub mode: CampaignMode,
    pub state: CampaignState,
    pub trunk: String,
    pub delivery: Delivery,
    pub max_abandon_rate: f64,
    pub abandon_window: AbandonWindow,
    pub abandon_seconds: i64,
    pub ring_timeout_s: i64,
    /// The rules its abandon window stands for (FCC or Ofcom) and their limits.
    pub rule_set: RuleSet,
    /// Settings beyond the rule set were allowed explicitly.
    pub non_compliant: bool,
    /// Which settings go beyond the rule set (empty when compliant).
    pub breaches: Vec<Breach>,
    pub caller_id: String,
    pub time_zone: String,
    pub window: String,
    pub days: String,
    pub priority: i64,
    pub reschedule_rules: Vec<String>,
    pub contacts: ContactCounts,
    pub lists: Vec<ContactList>,
    pub do_not_call_numbers: usize,
    pub created_at: String,
    pub updated_at: String,
    /// Which statistics the pacer started from when last paced (`show` only).
    pub pacing_start: Option<PacingStartView>,
}

/// Where answered calls go: the Originate's context and extension and the
/// queue they reach ([`oml_store::dialplan::route`]).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Delivery {
    /// The queue whose agents take the calls (and are counted for pacing).
    pub queue: String,
    pub context: String,
    pub exten: String,
    /// `context` is the campaign's own rendered context (no
    /// `--deliver-to CONTEXT,EXTEN` of the administrator's).
    pub own_context: bool,
}

impl Delivery {
    pub fn of(c: &Campaign) -> Delivery {
        let r = oml_store::dialplan::route(c);
        Delivery {
            own_context: r.handoff.is_none(),
            queue: r.queue,
            context: r.context,
            exten: r.exten,
        }
    }
}

impl std::fmt::Display for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Delivery {
            queue,
            context,
            exten,
            own_context,
        } = self;
        if *own_context {
            write!(f, "queue {queue} (context {context},{exten})")
        } else {
            write!(f, "{context},{exten}, then queue {queue}")
        }
    }
}

/// A campaign's contacts: how many, and how many in each state.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ContactCounts {
    pub total: i64,
    pub by_state: BTreeMap<String, i64>,
}

impl ContactCounts {
    /// Contacts in `state` (0 when none).
    pub fn of(&self, state: &str) -> i64 {
        self.by_state.get(state).copied().unwrap_or(0)
    }
}

/// A reschedule rule as `--retry` takes it: `OUTCOME:MAX:AFTER_S:BACKOFF`.
pub fn rule_text(r: &RescheduleRule) -> String {
    format!(
        "{}:{}:{}:{}",
        r.outcome, r.max_attempts, r.retry_after_s, r.backoff
    )
}

/// Reads campaign `c`'s view. `detailed` adds its contact lists and the
/// size of its own do-not-call list (what `show` prints and `list` skips).
pub async fn campaign_view(
    store: &Store,
    c: &Campaign,
    detailed: bool,
) -> oml_store::Result<CampaignView> {
    let spec = store.campaign_spec(c).await?;
    let mut counts = ContactCounts::default();
    for (state, n) in store.contact_counts(c.id).await? {
        counts.total += n;
        counts.by_state.insert(state, n);
    }
    let (lists, dnc) = if detailed {
        (
            store.contact_lists(c.id).await?,
            store.dnc_list(Some(DncScope::Campaign(c.id))).await?.len(),
        )
    } else {
        (Vec::new(), 0)
    };
    Ok(CampaignView {
        name: c.name.clone(),
        mode: c.mode,
        state: c.state,
        trunk: spec.trunk,
        delivery: Delivery::of(c),
        max_abandon_rate: c.max_abandon_rate,
        abandon_window: c.abandon_window,
        abandon_seconds: c.abandon_seconds,
        ring_timeout_s: c.ring_timeout_s,
        rule_set: *c.abandon_window.rule_set(),
        non_compliant: c.non_compliant,
        breaches: c.breaches(),
        caller_id: c.caller_id.clone(),
        time_zone: c.time_zone.clone(),
        window: format!(
            "{}-{}",
            format_minute(c.window_start_minute),
            format_minute(c.window_end_minute)
        ),
        days: format_days(c.days_mask),
        priority: c.priority,
        reschedule_rules: spec.rules.iter().map(rule_text).collect(),
        contacts: counts,
        lists,
        do_not_call_numbers: dnc,
        created_at: format_ms(c.created_at),
        updated_at: format_ms(c.updated_at),
        pacing_start: if detailed {
            pacing_start(store, c.id).await
        } else {
            None
        },
    })
}

/// Every campaign's view (without lists), in the store's order.
pub async fn campaign_views(store: &Store) -> oml_store::Result<Vec<CampaignView>> {
    let mut views = Vec::new();
    for c in store.campaigns().await? {
        views.push(campaign_view(store, &c, false).await?);
    }
    Ok(views)
}

impl CampaignView {
    /// The text `oml campaign show` prints, one line per setting, each
    /// ending with a newline.
    pub fn report(&self) -> String {
        let mut out = String::new();
        self.write_report(&mut out).expect("writing to a String");
        out
    }

    fn write_report(&self, o: &mut String) -> std::fmt::Result {
        let v = self;
        let pct = percent(v.max_abandon_rate);
        writeln!(o, "Campaign {}", v.name)?;
        writeln!(o, "  mode              {}", v.mode)?;
        writeln!(o, "  state             {}", v.state)?;
        writeln!(o, "  trunk             {}", v.trunk)?;
        writeln!(o, "  answered calls to {}", v.delivery)?;
        write_rules(o, &v.rule_set, v.non_compliant, &v.breaches)?;
        writeln!(
            o,
            "  max abandon rate  {pct}% over the {} window ({}), abandoned after {} s without an agent",
            v.abandon_window, v.rule_set.period, v.abandon_seconds
        )?;
        writeln!(o, "  ring timeout      {} s", v.ring_timeout_s)?;
        writeln!(
            o,
            "  caller ID         {}",
            if v.caller_id.is_empty() {
                "(the trunk's)"
            } else {
                &v.caller_id
            }
        )?;
        writeln!(
            o,
            "  calling window    {} {} ({})",
            v.window, v.days, v.time_zone
        )?;
        writeln!(o, "  priority          {}", v.priority)?;
        writeln!(
            o,
            "  retries           {}",
            if v.reschedule_rules.is_empty() {
                "none".to_string()
            } else {
                v.reschedule_rules.join(" ")
            }
        )?;
        let states: Vec<String> = v
            .contacts
            .by_state
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        writeln!(
            o,
            "  contacts          {}{}",
            v.contacts.total,
            if states.is_empty() {
                String::new()
            } else {
                format!(" ({})", states.join(", "))
            }
        )?;
        for l in &v.lists {
            writeln!(
                o,
                "    list {:<24} {} rows, {} imported, {} rejected, {}",
                l.name,
                l.rows_total,
                l.rows_imported,
                l.rows_rejected,
                format_ms(l.imported_at)
            )?;
        }
        writeln!(
            o,
            "  do-not-call       {} number(s) of its own (+ the global list)",
            v.do_not_call_numbers
        )?;
        writeln!(
            o,
            "  pacing started    from {}",
            pacing_start_text(v.pacing_start.as_ref())
        )?;
        writeln!(o, "  created           {}", v.created_at)?;
        writeln!(o, "  updated           {}", v.updated_at)
    }
}

/// The rule-set lines of `show`: the regulator and its limits, then either
/// "compliant" or every setting beyond them, marked NON-COMPLIANT.
pub fn write_rules(
    o: &mut String,
    r: &RuleSet,
    non_compliant: bool,
    breaches: &[Breach],
) -> std::fmt::Result {
    writeln!(
        o,
        "  rule set          {} ({}): abandon at most {}% of live answers over {}, an agent {}, ring at least {} s",
        r.name,
        r.source,
        percent(r.max_abandon_rate),
        r.period,
        r.abandon_note,
        r.min_ring_timeout_s
    )?;
    writeln!(o, "                    ({COUNTED_FROM})")?;
    if breaches.is_empty() {
        let mark = if non_compliant {
            " (marked non-compliant, which allows going beyond it)"
        } else {
            ""
        };
        return writeln!(o, "  compliance        within the {} rules{mark}", r.name);
    }
    writeln!(
        o,
        "  compliance        NON-COMPLIANT: settings beyond the {} rules, allowed explicitly",
        r.name
    )?;
    for b in breaches {
        writeln!(o, "                    {b}")?;
    }
    Ok(())
}

/// The table `oml campaign list` prints: a header and one row per campaign,
/// each line ending with a newline; a hint when there is none.
pub fn list_table(views: &[CampaignView]) -> String {
    if views.is_empty() {
        return "No campaigns. Create one with: oml campaign create NAME --trunk TRUNK\n".into();
    }
    let mut out = format!(
        "{:<20} {:<12} {:<9} {:<14} {:>8} {:>10} {:>10}\n",
        "NAME", "MODE", "STATE", "TRUNK", "PRIORITY", "CONTACTS", "PENDING"
    );
    for v in views {
        out.push_str(&format!(
            "{:<20} {:<12} {:<9} {:<14} {:>8} {:>10} {:>10}\n",
            v.name,
            v.mode,
            v.state,
            v.trunk,
            v.priority,
            v.contacts.total,
            v.contacts.of("pending")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use oml_store::pacing_memory::{PacingMemory, PacingStart, StartSource};
    use oml_store::testing::backends;
    use oml_store::{CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};

    #[test]
    fn rules_read_as_retry_takes_them() {
        let r = RescheduleRule::parse("busy:5:60:multiplied").unwrap();
        assert_eq!(rule_text(&r), "busy:5:60:multiplied");
        assert_eq!(
            RescheduleRule::parse(&rule_text(&r)).unwrap().max_attempts,
            5
        );
    }

    #[tokio::test]
    async fn view_report_and_table_show_what_is_stored() {
        for t in backends().await {
            let store = &t.store;
            assert_eq!(
                list_table(&campaign_views(store).await.unwrap()),
                "No campaigns. Create one with: oml campaign create NAME --trunk TRUNK\n"
            );
            store
                .create_trunk(&TrunkSpec {
                    name: "t1".into(),
                    dial_string: DEFAULT_DIAL_STRING.into(),
                    max_channels: 10,
                    server: None,
                    caller_id: String::new(),
                })
                .await
                .unwrap();
            let mut spec = CampaignSpec::new("sales", "t1");
            spec.queue_name.clear();
            spec.delivery_context = "agents".into();
            spec.delivery_exten = "s".into();
            spec.max_abandon_rate = 0.025;
            spec.caller_id = "5550100".into();
            let c = store.create_campaign(&spec).await.unwrap();
            store
                .seed_contacts(c.id, &["+5491100000001".into(), "+5491100000002".into()])
                .await
                .unwrap();
            store
                .dnc_add(Some(c.id), &["+5491100000009".to_string()])
                .await
                .unwrap();

            let v = campaign_view(store, &c, true).await.unwrap();
            assert_eq!(
                v.delivery,
                Delivery {
                    queue: format!("{}_sales", c.id),
                    context: "agents".into(),
                    exten: "s".into(),
                    own_context: false,
                },
                "{}",
                t.label
            );
            assert_eq!((v.contacts.total, v.contacts.of("pending")), (2, 2));
            assert_eq!(v.do_not_call_numbers, 1);
            let report = v.report();
            assert!(report.starts_with("Campaign sales\n"), "{report}");
            assert!(
                report.contains(&format!(
                    "  answered calls to agents,s, then queue {}_sales\n",
                    c.id
                )),
                "{report}"
            );
            assert!(
                report.contains("  max abandon rate  2.5% over the"),
                "{report}"
            );
            assert!(report.contains("  caller ID         5550100\n"), "{report}");
            assert!(
                report.contains("  rule set          FCC (47 CFR 64.1200(a)(6)-(7)): abandon at most 3% of live answers over 30 days"),
                "{report}"
            );
            assert!(
                report.contains("  compliance        within the FCC rules\n"),
                "{report}"
            );
            assert!(
                report.contains("  contacts          2 (pending 2)\n"),
                "{report}"
            );
            assert!(report.ends_with(&format!("  updated           {}\n", v.updated_at)));
            assert!(
                report.contains("  pacing started    from not yet paced\n"),
                "{report}"
            );
            store
                .save_pacing_memory(&PacingMemory {
                    campaign_id: c.id,
                    saved_at: 5_000,
                    node: "n1".into(),
                    learned: Default::default(),
                    started: Some(PacingStart {
                        at: 4_000,
                        source: StartSource::Campaign {
                            campaign_id: 99,
                            name: "promo".into(),
                            age_ms: 3 * 86_400_000,
                            own_attempts: 0,
                        },
                        attempts: 400,
                        talks: 100,
                    }),
                })
                .await
                .unwrap();
            let v = campaign_view(store, &c, true).await.unwrap();
            let line = format!(
                "  pacing started    from campaign promo on the same trunk and queue, 3 days old (at {}; 400 attempts, 100 talks)\n",
                format_ms(4_000)
            );
            assert!(v.report().contains(&line), "{}", v.report());
            let json = serde_json::to_value(&v).unwrap();
            assert_eq!(json["pacing_start"]["source"]["from"], "campaign");
            assert_eq!(json["pacing_start"]["source"]["name"], "promo");
            assert_eq!(
                json["pacing_start"]["description"],
                "campaign promo on the same trunk and queue, 3 days old"
            );

            let mut uk = store.campaign_spec(&c).await.unwrap();
            uk.abandon_window = AbandonWindow::Uk;
            uk.ring_timeout_s = 10;
            uk.non_compliant = true;
            let c2 = store.update_campaign("sales", &uk).await.unwrap();
            let report = campaign_view(store, &c2, false).await.unwrap().report();
            assert!(report.contains("  rule set          Ofcom"), "{report}");
            assert!(
                report
                    .contains("  compliance        NON-COMPLIANT: settings beyond the Ofcom rules"),
                "{report}"
            );
            assert!(
                report.contains("ring timeout: 10 s is shorter than the 15 s"),
                "{report}"
            );

            let brief = campaign_view(store, &c, false).await.unwrap();
            assert_eq!(brief.do_not_call_numbers, 0, "list skips the DNC count");
            let table = list_table(&[brief]);
            let row = table.lines().nth(1).unwrap();
            assert!(row.starts_with("sales "), "{table}");
            assert!(row.trim_end().ends_with("2          2"), "{table}");
        }
    }
}
