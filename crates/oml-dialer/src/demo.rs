//! The demo's dialer side, so `oml demo` only parses, starts and prints: the
//! `demo-*` server, trunk and campaign it (re)creates, the progress line, and
//! the summary (calls, occupancy, abandon rate against the limit, and a plain
//! warning when the limit was passed). Setting up reads and writes the store;
//! the summary is pure and tested alone. The PBX it dials is whatever AMI
//! server the caller gives (the binary starts `oml-pbxsim`).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use oml_store::compliance::percent;
use oml_store::dialing::CampaignStats;
use oml_store::{
    Campaign, CampaignMode, CampaignSpec, CampaignState, RescheduleRule, ServerSpec, Store,
    TrunkSpec, DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;

pub const SERVER: &str = "demo-pbx";
pub const TRUNK: &str = "demo-trunk";
pub const CAMPAIGN: &str = "demo";
pub const QUEUE: &str = "demo-sales";

/// Replaces the demo server, trunk and campaign (every rule set default:
/// 25 s ring, 2 s to an agent, 3 % limit), loads `contacts` numbers and sets
/// the campaign running. Returns the campaign.
pub async fn configure(
    store: &Store,
    ami: SocketAddr,
    ami_user: &str,
    secret: &SecretString,
    mode: CampaignMode,
    contacts: usize,
) -> oml_store::Result<Campaign> {
    if store.campaign_by_name(CAMPAIGN).await?.is_some() {
        store.delete_campaign(CAMPAIGN).await?;
    }
    if store.trunk_by_name(TRUNK).await?.is_some() {
        store.delete_trunk(TRUNK).await?;
    }
    let server = ServerSpec {
        name: SERVER.into(),
        host: ami.ip().to_string(),
        ami_port: ami.port(),
        ami_user: ami_user.into(),
        ami_secret: secret.clone(),
        enabled: true,
    };
    if store.server_by_name(SERVER).await?.is_some() {
        store.update_server(SERVER, &server).await?;
    } else {
        store.create_server(&server).await?;
    }
    store
        .create_trunk(&TrunkSpec {
            name: TRUNK.into(),
            dial_string: DEFAULT_DIAL_STRING.into(),
            max_channels: 200,
            server: Some(SERVER.into()),
            caller_id: String::new(),
        })
        .await?;
    let mut spec = CampaignSpec::new(CAMPAIGN, TRUNK);
    spec.mode = mode;
    spec.queue_name = QUEUE.into();
    spec.window_start_minute = 0;
    spec.window_end_minute = 24 * 60;
    spec.days_mask = 127;
    spec.rules = [
        "busy:3:60",
        "no_answer:3:120",
        "congestion:2:60",
        "failed:2:60",
    ]
    .iter()
    .map(|r| RescheduleRule::parse(r))
    .collect::<oml_store::Result<_>>()?;
    let campaign = store.create_campaign(&spec).await?;
    let phones: Vec<String> = (0..contacts).map(|i| format!("5491155{i:06}")).collect();
    store.seed_contacts(campaign.id, &phones).await?;
    store
        .set_campaign_state(CAMPAIGN, CampaignState::Running)
        .await?;
    Ok(campaign)
}

/// After the demo: its simulated PBX is gone, so the demo server is
/// disabled and the campaign stopped (otherwise `oml status` reports a PBX
/// that refuses logins and a campaign nothing dials). The next `oml demo`
/// sets both up again.
pub async fn finish(store: &Store) -> oml_store::Result<()> {
    if let Some(s) = store.server_by_name(SERVER).await? {
        let spec = ServerSpec {
            name: s.name,
            host: s.host,
            ami_port: s.ami_port,
            ami_user: s.ami_user,
            ami_secret: s.ami_secret,
            enabled: false,
        };
        store.update_server(SERVER, &spec).await?;
    }
    let campaign = store.campaign_by_name(CAMPAIGN).await?;
    if campaign.is_some_and(|c| c.state == CampaignState::Running) {
        store
            .set_campaign_state(CAMPAIGN, CampaignState::Stopped)
            .await?;
    }
    Ok(())
}

/// Occupancy sampled while the demo runs: the share of agents busy with a
/// call or its wrap-up, averaged over the samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Occupancy {
    busy: f64,
    samples: u64,
}

impl Occupancy {
    /// Adds one sample: `free` of `agents` were neither talking nor in wrap-up.
    pub fn sample(&mut self, agents: usize, free: usize) {
        if agents > 0 {
            self.busy += agents.saturating_sub(free) as f64 / agents as f64;
            self.samples += 1;
        }
    }

    /// The mean, 0..1 (0 before any sample).
    pub fn mean(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.busy / self.samples as f64
        }
    }
}

/// One line of progress, printed every few seconds.
pub fn progress_line(elapsed: Duration, scale: f64, s: &CampaignStats, occ: f64) -> String {
    let n = |k: &str| s.outcomes.get(k).copied().unwrap_or(0);
    format!(
        "[{:>4.0} s real, {:>5.1} min simulated] placed {:>5}  in flight {:>3}  connected {:>5}  abandoned {:>3} ({:.2} %)  occupancy {:>5.1} %  contacts left {:>6}",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * scale / 60.0,
        s.attempts_total,
        s.in_flight,
        n("connected"),
        s.abandon.abandoned,
        s.abandon.rate() * 100.0,
        occ * 100.0,
        s.contacts_left
    )
}

/// The summary `oml demo` ends with. `limit` is the campaign's maximum
/// abandon rate; the last line is a plain warning when the rate passed it.
pub fn summary(
    elapsed: Duration,
    scale: f64,
    s: &CampaignStats,
    occupancy: f64,
    limit: f64,
) -> String {
    let mut o = String::new();
    let real = elapsed.as_secs_f64();
    let rate = s.abandon.rate();
    let _ = writeln!(
        o,
        "Summary after {real:.0} s real, {:.0} min simulated:",
        real * scale / 60.0
    );
    let _ = writeln!(o, "  calls placed      {}", s.attempts_total);
    for (outcome, n) in &s.outcomes {
        let _ = writeln!(o, "  {outcome:<17} {n}");
    }
    let _ = writeln!(
        o,
        "  occupancy         {:.1} % (agents talking or in wrap-up, sampled)",
        occupancy * 100.0
    );
    let _ = writeln!(
        o,
        "  abandon rate      {:.2} % ({} abandoned of {} answered by a person; limit {} %)",
        rate * 100.0,
        s.abandon.abandoned,
        s.abandon.live_answered,
        percent(limit)
    );
    let _ = writeln!(o, "  contacts left     {}", s.contacts_left);
    if rate > limit {
        let _ = writeln!(
            o,
            "WARNING: the abandon rate {:.2} % is over the limit of {} %: a real campaign \
             dialing like this would break the law.",
            rate * 100.0,
            percent(limit)
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use oml_store::dialing::AbandonTally;

    fn stats(abandoned: i64, live: i64) -> CampaignStats {
        CampaignStats {
            attempts_total: 300,
            abandon: AbandonTally {
                abandoned,
                live_answered: live,
            },
            ..CampaignStats::default()
        }
    }

    #[test]
    fn the_summary_warns_only_over_the_limit() {
        let over = summary(Duration::from_secs(60), 20.0, &stats(7, 200), 0.93, 0.03);
        assert!(
            over.contains("abandon rate      3.50 % (7 abandoned of 200"),
            "{over}"
        );
        assert!(over.contains("limit 3 %"), "{over}");
        assert!(over.contains("occupancy         93.0 %"), "{over}");
        assert!(
            over.lines().last().unwrap().starts_with("WARNING: "),
            "{over}"
        );
        let within = summary(Duration::from_secs(60), 20.0, &stats(6, 200), 0.93, 0.03);
        assert!(!within.contains("WARNING"), "{within}");
        assert!(
            !within.contains('{') && !within.contains("Stats"),
            "{within}"
        );
    }

    #[test]
    fn occupancy_is_the_mean_busy_share() {
        let mut o = Occupancy::default();
        assert_eq!(o.mean(), 0.0);
        o.sample(20, 0);
        o.sample(20, 10);
        o.sample(0, 0);
        assert!((o.mean() - 0.75).abs() < 1e-12);
    }
}
