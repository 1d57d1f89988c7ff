//! Applying a re-read configuration to the decision core: which servers to
//! keep links to, which campaigns exist and whether they can dial (with the
//! reason in words an administrator can act on), and which hoppers go back.

use std::collections::{HashMap, HashSet, VecDeque};

use oml_pacing::{CallStats, ModeSpec};
use oml_store::{AsteriskServer, Campaign, CampaignMode, CampaignState};
use secrecy::ExposeSecret;

use super::history::ledger_of;
use super::memory::Memory;
use super::{Action, CampaignRt, Core, History, Key, Loaded, Now};
use crate::window::CallingWindow;

fn mode_spec(mode: CampaignMode) -> ModeSpec {
    match mode {
        // The agent's preview happens in the console; the engine places the
        // call for a ready agent, like progressive.
        CampaignMode::Preview => ModeSpec::Preview,
        CampaignMode::Progressive => ModeSpec::Progressive,
        CampaignMode::Predictive => "predictive".parse().unwrap_or(ModeSpec::Progressive),
    }
}

/// Whether a server's link must be made again (or closed) for `wanted`.
fn link_changed(had: &AsteriskServer, wanted: Option<&AsteriskServer>) -> bool {
    match wanted {
        None => true,
        Some(w) => {
            w.host != had.host
                || w.ami_port != had.ami_port
                || w.ami_user != had.ami_user
                || w.ami_secret.expose_secret() != had.ami_secret.expose_secret()
        }
    }
}

impl Core {
    pub(super) fn on_config(&mut self, l: Loaded, now: Now) {
        if self.play != l.play {
            tracing::info!(play = l.play, "dialer: play state changed");
        }
        self.play = l.play;
        self.trunks = l.trunks.into_iter().map(|t| (t.id, t)).collect();
        // Servers: stop the links of removed, disabled or changed ones.
        let wanted: HashMap<i64, AsteriskServer> = l
            .servers
            .into_iter()
            .filter(|s| s.enabled)
            .map(|s| (s.id, s))
            .collect();
        let gone: Vec<i64> = self
            .servers
            .iter()
            .filter(|(id, s)| link_changed(&s.conf, wanted.get(id)))
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.servers.remove(&id);
            self.act(Action::Disconnect { server: id });
        }
        // Links are opened for the servers this node's work needs
        // (`links.rs`), after the campaigns below.
        self.links.known = wanted;
        // Campaigns.
        self.deadlines.configure(
            l.campaigns.iter().map(|(c, _)| c),
            &l.call_paths,
            &l.amd_false_positive_rates,
        );
        let seen: HashSet<i64> = l.campaigns.iter().map(|(c, _)| c.id).collect();
        let dropped: Vec<i64> = self
            .campaigns
            .keys()
            .filter(|id| !seen.contains(id))
            .copied()
            .collect();
        for id in dropped {
            self.release(id);
            self.campaigns.remove(&id);
        }
        for (conf, rules) in l.campaigns {
            let problem = self.check_campaign(&conf);
            let window = CallingWindow::of(&conf).ok();
            match self.campaigns.get_mut(&conf.id) {
                Some(c) => {
                    let mode_changed = c.conf.mode != conf.mode
                        || c.conf.max_abandon_rate != conf.max_abandon_rate
                        || c.conf.abandon_seconds != conf.abandon_seconds;
                    // Another window or abandon rule: the ledger is read again.
                    let rule_changed = c.conf.abandon_window != conf.abandon_window
                        || c.conf.abandon_seconds != conf.abandon_seconds;
                    // A campaign we marked finished stays so until the store agrees.
                    let keep_finished = c.conf.state == CampaignState::Finished
                        && conf.state == CampaignState::Running;
                    let st = c.conf.state;
                    c.conf = conf;
                    if keep_finished {
                        c.conf.state = st;
                    }
                    c.rules = rules;
                    c.window = window;
                    if c.problem != problem {
                        if let Some(p) = &problem {
                            tracing::error!(campaign = %c.conf.name, problem = %p, "dialer: campaign cannot dial");
                        }
                    }
                    c.problem = problem;
                    if mode_changed {
                        c.mode = mode_spec(c.conf.mode);
                        c.pacers.clear();
                    }
                    if rule_changed {
                        c.ledger = ledger_of(&c.conf);
                        c.history = History::Needed;
                    }
                }
                None => {
                    if let Some(p) = &problem {
                        tracing::error!(campaign = %conf.name, problem = %p, "dialer: campaign cannot dial");
                    }
                    let mode = mode_spec(conf.mode);
                    let ledger = ledger_of(&conf);
                    self.campaigns.insert(
                        conf.id,
                        CampaignRt {
                            conf,
                            rules,
                            window,
                            problem,
                            hopper: VecDeque::new(),
                            claiming: false,
                            idle_until: None,
                            claimed_at: None,
                            pacers: HashMap::new(),
                            stats: CallStats::default(),
                            memory: Memory::default(),
                            last_save: None,
                            ledger,
                            abandons: Default::default(),
                            history: History::Needed,
                            trigger: None,
                            mode,
                        },
                    );
                }
            }
        }
        // Hoppers of campaigns that may not dial go back to the store.
        let mut ids: Vec<i64> = self
            .campaigns
            .iter()
            .filter(|(_, c)| !(c.hopper.is_empty() || c.wanted(self.play)))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        for id in ids {
            self.release(id);
        }
        self.want_leadership();
        // Attempts a crash left on servers that are gone cannot be followed.
        if !self.loaded {
            self.loaded = true;
            let orphaned: Vec<Key> = self
                .calls
                .iter()
                .filter(|(_, l)| !self.links.known.contains_key(&l.server))
                .map(|(k, _)| k.clone())
                .collect();
            for k in orphaned {
                if let Some(l) = self.calls.get_mut(&k) {
                    l.call.vanished(now.ms);
                }
                self.finish_if_over(&k, now);
            }
        }
    }

    /// Why a campaign cannot dial, in words an administrator can act on.
    fn check_campaign(&self, c: &Campaign) -> Option<String> {
        let Some(t) = self.trunks.get(&c.trunk_id) else {
            return Some(format!(
                "its trunk (id {}) no longer exists; set one with `oml campaign edit {} --trunk NAME`",
                c.trunk_id, c.name
            ));
        };
        if !t.dial_string.contains("${num}") {
            return Some(format!(
                "trunk `{}` has a dial string without ${{num}}; fix it with `oml trunk edit`",
                t.name
            ));
        }
        if let Err(e) = CallingWindow::of(c) {
            return Some(e.to_string());
        }
        if c.window_end_minute <= c.window_start_minute {
            return Some("its time window ends before it starts".into());
        }
        if let Some(sid) = t.server_id {
            if !self.links.known.contains_key(&sid) {
                return Some(format!(
                    "trunk `{}` is on a server that is disabled or removed",
                    t.name
                ));
            }
        }
        None
    }
}
