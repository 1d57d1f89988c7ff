//! The PBXs the throughput comparison runs against: a pbxsim started in
//! this process, and the real Asterisk of `.ci/asterisk-bench.sh` when
//! `OML_TEST_ASTERISK_*` are set. Every number dialed is busy, so calls end
//! within milliseconds and the dialer, not the simulated people, is the
//! limit. On Asterisk the queue `oml-test` gets bench members (busy
//! numbers, penalty 9, removed at the end) so that a progressive campaign
//! has as many ready agents as it has channels.

use std::time::Duration;

use oml_ami::{AmiClient, AuthKind, ClientConfig, Message};
use oml_dialer::pbx_record::FAMILY;
use oml_pbxsim::{NumberOutcome, PbxSim, SimConfig};
use secrecy::SecretString;

/// One PBX for one run of the comparison.
pub struct Pbx {
    pub name: &'static str,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub secret: SecretString,
    /// The queue whose agents the campaign counts.
    pub queue: String,
    /// Calls in flight at once (trunk limit, and the bare loop's window).
    pub channels: usize,
    sim: Option<PbxSim>,
    /// Bench members added to the Asterisk queue (removed by `shutdown`).
    members: Vec<String>,
}

impl Pbx {
    /// A pbxsim with `channels` agents where every call is busy after
    /// 10-40 ms (simulated 1-4 s at 100x).
    pub async fn pbxsim(channels: usize) -> Pbx {
        let mut cfg = SimConfig::new("oml", SecretString::from("bench"), channels + 10);
        cfg.time_scale = 100.0;
        cfg.customers.answer_rate = 0.0;
        cfg.customers.busy_rate = 1.0;
        cfg.customers.congestion_rate = 0.0;
        cfg.numbers.insert("0".into(), NumberOutcome::Busy);
        let sim = PbxSim::start(cfg).await.expect("pbxsim starts");
        Pbx {
            name: "pbxsim",
            host: "127.0.0.1".into(),
            port: sim.local_addr().port(),
            user: "oml".into(),
            secret: SecretString::from("bench"),
            queue: "oml-default".into(),
            channels,
            sim: Some(sim),
            members: Vec::new(),
        }
    }

    /// The real Asterisk bench, or `None` (said loudly) when not configured.
    pub async fn asterisk(channels: usize) -> Option<Pbx> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let (Some(host), Some(port), Some(user), Some(secret)) = (
            var("OML_TEST_ASTERISK_HOST"),
            var("OML_TEST_ASTERISK_PORT"),
            var("OML_TEST_ASTERISK_USER"),
            var("OML_TEST_ASTERISK_SECRET"),
        ) else {
            eprintln!("SKIPPED: real Asterisk rows (OML_TEST_ASTERISK_* not set; run `. \"$(bash .ci/asterisk-bench.sh env-file)\"`)");
            return None;
        };
        let mut pbx = Pbx {
            name: "asterisk",
            host,
            port: port
                .parse()
                .expect("OML_TEST_ASTERISK_PORT is a port number"),
            user,
            secret: SecretString::from(secret),
            queue: "oml-test".into(),
            channels,
            sim: None,
            members: Vec::new(),
        };
        // Ready members for the progressive campaign: busy numbers (a
        // caller of another test that reaches one moves on at once), after
        // the queue's own agents (penalty 9).
        let client = pbx.connect().await;
        let members: Vec<String> = (0..channels + 10)
            .map(|i| format!("Local/99{i:05}2@from-oml/n"))
            .collect();
        for m in &members {
            let _ = client.send(remove_member(&pbx.queue, m)).await;
            client
                .send_ok(
                    Message::action("QueueAdd")
                        .with("Queue", &pbx.queue)
                        .with("Interface", m)
                        .with("Penalty", "9")
                        .with("MemberName", "oml-bench"),
                )
                .await
                .expect("QueueAdd of a bench member on Asterisk");
        }
        pbx.members = members;
        let _ = client.logoff().await;
        Some(pbx)
    }

    /// A client for this PBX: rate limit off, no keep-alive.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new(
            format!("{}:{}", self.host, self.port),
            self.user.clone(),
            self.secret.clone(),
        );
        c.auth = AuthKind::Md5;
        c.rate_limit = None;
        c.ping_interval = None;
        c.action_timeout = Duration::from_secs(30);
        c.event_capacity = 1 << 16;
        c
    }

    pub async fn connect(&self) -> AmiClient {
        AmiClient::connect(self.client_config())
            .await
            .unwrap_or_else(|e| panic!("cannot log in to {}: {e}", self.name))
    }

    /// The `i`-th number dialed: busy on both PBXs (Asterisk's bench busies
    /// numbers ending in 2; pbxsim busies every number here).
    pub fn number(&self, run: u32, i: usize) -> String {
        format!("7{run}{i:07}2")
    }

    /// Removes the bench members and the attempt records the runs left on
    /// Asterisk, and stops pbxsim. The bare loop's calls (`bare-*`) write
    /// records that nothing else deletes, and an engine stopped at the end
    /// of a run deletes only what one round allows: the whole family goes
    /// (the benchmark runs alone on the test bench).
    pub async fn shutdown(self) {
        if !self.members.is_empty() {
            let client = self.connect().await;
            for m in &self.members {
                let _ = client.send(remove_member(&self.queue, m)).await;
            }
            if let Err(e) = client.db_deltree(FAMILY, None).await {
                eprintln!("cannot clear the bench's attempt records ({FAMILY}): {e}");
            }
            let _ = client.logoff().await;
        }
        if let Some(sim) = self.sim {
            sim.shutdown().await;
        }
    }
}

fn remove_member(queue: &str, interface: &str) -> Message {
    Message::action("QueueRemove")
        .with("Queue", queue)
        .with("Interface", interface)
}
