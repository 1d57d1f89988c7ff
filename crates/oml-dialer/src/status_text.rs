//! `oml dialer status` as text: the dialer and its engines, each Asterisk
//! server's link and agents, one line per campaign with its live figures
//! and abandon rate against its limit, and which statistics each
//! campaign's pacing started from. Pure, so the command line and any other
//! front end print the same table.

use std::fmt::Write;

use crate::campaign_view::pacing_start_text;
use crate::control::DialerStatus;

/// The status as the terminal shows it.
pub fn text(s: &DialerStatus) -> String {
    let mut w = String::new();
    let _ = writeln!(
        w,
        "dialer: {}   engine: {}",
        if s.play { "started" } else { "stopped" },
        match (s.engine_running, s.engine_seen_at) {
            (true, _) => format!("running (node {})", s.nodes.join(", ")),
            (false, Some(t)) => format!("not running (last seen {})", oml_store::format_ms(t)),
            (false, None) => "never ran (start `oml serve` or `oml dialer run`)".to_string(),
        }
    );
    if let Some(live) = s.live.as_ref().filter(|_| s.engine_running) {
        let _ = writeln!(w, "calls in flight: {}", live.calls_in_flight);
        if let Some(since) = live.journal_waiting_since {
            let _ = writeln!(
                w,
                "outcomes waiting in the journal: {} (waiting since {}; the database does not take them, no call is placed meanwhile)",
                live.journal_waiting,
                oml_store::format_ms(since)
            );
        }
        if let Some(sharing) = live.sharing.as_ref().filter(|s| !s.nodes.is_empty()) {
            w.push('\n');
            w.push_str(&crate::sharing_view::text(sharing));
        }
        w.push('\n');
        let _ = writeln!(
            w,
            "{:<16} {:<10} {:>7} {:>6} {:>8}  ERROR",
            "SERVER", "LINK", "AGENTS", "FREE", "TALKING"
        );
        for s in &live.servers {
            let _ = writeln!(
                w,
                "{:<16} {:<10} {:>7} {:>6} {:>8}  {}",
                s.name,
                if s.connected { "up" } else { "down" },
                s.agents_logged_in,
                s.agents_free,
                s.agents_talking,
                s.last_error.as_deref().unwrap_or("")
            );
        }
    }
    w.push('\n');
    let _ = writeln!(
        w,
        "{:<16} {:<9} {:>6} {:>7} {:>8} {:>6} {:>5} {:>9} {:>14}  NOTE",
        "CAMPAIGN", "STATE", "WINDOW", "RINGING", "WAITING", "TALK", "FREE", "OCCUPANCY", "ABANDON"
    );
    for c in &s.campaigns {
        let live = s.live_campaign(&c.name);
        let dash = "-".to_string();
        let (window, ringing, waiting, talk, free, occ, note) = match live {
            Some(l) => (
                if l.window_open { "open" } else { "closed" }.to_string(),
                l.ringing.to_string(),
                l.waiting_for_agent.to_string(),
                l.talking.to_string(),
                l.agents_free.to_string(),
                format!("{:.0} %", l.occupancy * 100.0),
                l.problem
                    .clone()
                    .or(l.pacing_note.clone())
                    .unwrap_or_default(),
            ),
            None => (
                dash.clone(),
                dash.clone(),
                dash.clone(),
                dash.clone(),
                dash.clone(),
                dash,
                String::new(),
            ),
        };
        let abandon = format!(
            "{:.2} %/{:.1} %",
            c.abandon_rate * 100.0,
            c.max_abandon_rate * 100.0
        );
        let note = if note.is_empty() {
            String::new()
        } else {
            format!("; {note}")
        };
        let _ = writeln!(
            w,
            "{:<16} {:<9} {:>6} {:>7} {:>8} {:>6} {:>5} {:>9} {:>14}  {} contacts left{}",
            c.name,
            c.state,
            window,
            ringing,
            waiting,
            talk,
            free,
            occ,
            abandon,
            c.contacts_left,
            note
        );
    }
    if !s.campaigns.is_empty() {
        w.push('\n');
        let _ = writeln!(w, "{:<16} PACING STARTED FROM", "CAMPAIGN");
        for c in &s.campaigns {
            let from = pacing_start_text(c.pacing_start.as_ref());
            let _ = writeln!(w, "{:<16} {from}", c.name);
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign_view::PacingStartView;
    use crate::control::CampaignSummary;
    use crate::engine::{CampaignLive, LiveStatus, ServerStatus};
    use oml_store::pacing_memory::{PacingStart, StartSource};

    fn status(engine: bool) -> DialerStatus {
        DialerStatus {
            play: true,
            engine_running: engine,
            engine_seen_at: None,
            live: Some(LiveStatus {
                servers: vec![ServerStatus {
                    name: "pbx1".into(),
                    connected: true,
                    agents_logged_in: 4,
                    ..ServerStatus::default()
                }],
                campaigns: vec![CampaignLive {
                    name: "sales".into(),
                    window_open: true,
                    ringing: 3,
                    problem: Some("no agents".into()),
                    ..CampaignLive::default()
                }],
                ..LiveStatus::default()
            }),
            nodes: if engine { vec!["n1".into()] } else { vec![] },
            campaigns: vec![
                CampaignSummary {
                    name: "sales".into(),
                    mode: "predictive".into(),
                    state: "running".into(),
                    contacts_left: 120,
                    due_now: 0,
                    in_flight: 0,
                    abandon_rate: 0.0125,
                    abandoned: 1,
                    live_answered: 80,
                    max_abandon_rate: 0.03,
                    pacing_start: Some(PacingStartView::of(PacingStart {
                        at: 4_000,
                        source: StartSource::Own {
                            age_ms: 2 * 3_600_000,
                        },
                        attempts: 250,
                        talks: 70,
                    })),
                },
                CampaignSummary {
                    name: "promo".into(),
                    mode: "progressive".into(),
                    state: "stopped".into(),
                    contacts_left: 5,
                    due_now: 0,
                    in_flight: 0,
                    abandon_rate: 0.0,
                    abandoned: 0,
                    live_answered: 0,
                    max_abandon_rate: 0.03,
                    pacing_start: None,
                },
            ],
        }
    }

    #[test]
    fn live_figures_only_while_an_engine_runs() {
        let t = text(&status(true));
        assert!(
            t.starts_with("dialer: started   engine: running (node n1)"),
            "{t}"
        );
        assert!(t.contains("pbx1"), "{t}");
        let line = t.lines().find(|l| l.starts_with("sales")).unwrap();
        assert!(
            line.contains("open") && line.contains("1.25 %/3.0 %"),
            "{line}"
        );
        assert!(line.ends_with("120 contacts left; no agents"), "{line}");

        let t = text(&status(false));
        assert!(t.contains("never ran (start `oml serve`"), "{t}");
        assert!(!t.contains("pbx1"), "{t}");
        let line = t.lines().find(|l| l.starts_with("sales")).unwrap();
        assert!(
            !line.contains("open") && line.ends_with("120 contacts left"),
            "{line}"
        );
    }

    #[test]
    fn who_leads_what_and_the_journal() {
        let mut st = status(true);
        assert!(!text(&st).contains("journal") && !text(&st).contains("CAPACITY"));
        let live = st.live.as_mut().unwrap();
        live.journal_waiting = 7;
        live.journal_waiting_since = Some(4_000);
        live.sharing = Some(crate::sharing_view::Sharing {
            nodes: vec![crate::sharing_view::NodeShare {
                name: "n1".into(),
                capacity: 100,
                campaigns: vec!["sales".into()],
            }],
            campaigns: vec![crate::sharing_view::CampaignLead {
                campaign: "sales".into(),
                node: "n1".into(),
                reason: "only live node".into(),
            }],
        });
        let t = text(&st);
        let at = oml_store::format_ms(4_000);
        assert!(
            t.contains(&format!(
                "outcomes waiting in the journal: 7 (waiting since {at};"
            )),
            "{t}"
        );
        assert!(t.contains("n1                    100  sales\n"), "{t}");
        assert!(
            t.contains("sales            n1               only live node\n"),
            "{t}"
        );
        let json = serde_json::to_value(&st).unwrap();
        assert_eq!(json["live"]["journal_waiting"], 7);
        assert_eq!(
            json["live"]["sharing"]["campaigns"][0]["reason"],
            "only live node"
        );
    }

    #[test]
    fn where_each_campaigns_pacing_started() {
        for engine in [true, false] {
            let t = text(&status(engine));
            let (_, tail) = t
                .split_once("CAMPAIGN         PACING STARTED FROM\n")
                .unwrap_or_else(|| panic!("no pacing section: {t}"));
            let at = oml_store::format_ms(4_000);
            assert_eq!(
                tail,
                format!(
                    "sales            own previous runs, 2 h old (at {at}; 250 attempts, 70 talks)\n\
                     promo            not yet paced\n"
                ),
                "{t}"
            );
        }
        let json = serde_json::to_value(status(true)).unwrap();
        let sales = &json["campaigns"][0]["pacing_start"];
        assert_eq!(sales["source"]["from"], "own", "{json}");
        assert_eq!(sales["description"], "own previous runs, 2 h old");
        assert_eq!(sales["attempts"], 250);
        assert!(json["campaigns"][1]["pacing_start"].is_null(), "{json}");
    }
}
