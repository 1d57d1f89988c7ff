//! The AMI side of the engine: one task per enabled server keeps its
//! connection up (reconnecting with back-off; one failing server does not
//! stop the others) and forwards its events to the shell, and short-lived
//! tasks answer the core's queries (channels, queue members). Every
//! [`PING_EVERY`] a `Ping` reads the PBX's clock, from which the core
//! learns its time scale (see `core/clock.rs`).

use std::time::{Duration, Instant};

use oml_ami::{AmiClient, ClientConfig, Event, Message};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::core::Input;
use super::msg::Msg;
use super::record;

/// Asks a server for its channels and attempt records; the answer goes to
/// the core.
pub(super) fn query_channels(
    tx: mpsc::UnboundedSender<Msg>,
    server: i64,
    client: AmiClient,
    records: record::Records,
) {
    let asked_at = Instant::now();
    tokio::spawn(async move {
        match client.core_show_channels().await {
            Ok(channels) => {
                // After the channels: a call that ends in between is seen
                // alive (and followed), never missing from both.
                let records = records.read(&client).await;
                let _ = tx.send(Msg::Input(Input::Channels {
                    server,
                    asked_at,
                    channels,
                    records,
                }));
            }
            Err(e) => {
                tracing::warn!(error = %e, "dialer: CoreShowChannels failed; will retry on the next link-up")
            }
        }
    });
}

/// Asks a server for its queue members; the answer goes to the core.
pub(super) fn query_members(tx: mpsc::UnboundedSender<Msg>, server: i64, client: AmiClient) {
    tokio::spawn(async move {
        if let Ok(members) = client.queue_status(None).await {
            let _ = tx.send(Msg::Input(Input::Members { server, members }));
        }
    });
}

/// Sends AMI `Redirect` of the call `key`'s `channel` to `context`,
/// `exten`, priority 1 (the abandon message: `core/abandon_deadline.rs`).
/// A refusal (the channel gone, its call over) is logged and changes
/// nothing: the call's events tell how it ended.
pub(super) fn redirect(
    client: AmiClient,
    key: String,
    channel: String,
    context: String,
    exten: String,
) {
    tokio::spawn(async move {
        let m = Message::action("Redirect")
            .with("Channel", &channel)
            .with("Context", &context)
            .with("Exten", &exten)
            .with("Priority", "1");
        match client.send(m).await {
            Ok(r) if r.is_success() => {
                tracing::debug!(call = %key, "dialer: abandon message asked for (Redirect)")
            }
            Ok(r) => {
                tracing::info!(call = %key, reply = r.get("Message").unwrap_or(""), "dialer: Redirect to the abandon message refused (the call ended or an agent took it)")
            }
            Err(e) => {
                tracing::warn!(call = %key, error = %e, "dialer: Redirect to the abandon message not sent; the dialplan's queue time-out plays it")
            }
        }
    });
}

/// How often the PBX's clock is read.
pub(super) const PING_EVERY: Duration = Duration::from_secs(2);

/// Reads the PBX's clock (`Ping`'s `Timestamp`, seconds) for the core; the
/// reading is dated halfway through the round trip.
fn read_clock(tx: mpsc::UnboundedSender<Msg>, server: i64, client: AmiClient) {
    tokio::spawn(async move {
        let sent = Instant::now();
        let Ok(r) = client.send(Message::action("Ping")).await else {
            return;
        };
        let at = sent + sent.elapsed() / 2;
        if let Some(pbx_s) = r
            .get("Timestamp")
            .and_then(|t| t.trim().parse::<f64>().ok())
        {
            let _ = tx.send(Msg::Input(Input::PbxTime { server, pbx_s, at }));
        }
    });
}

/// Keeps one AMI connection up and forwards its events.
pub(super) async fn run_link(
    server: i64,
    name: String,
    cfg: ClientConfig,
    tx: mpsc::UnboundedSender<Msg>,
    cancel: CancellationToken,
) {
    let mut attempt = 0u32;
    let mut last_error = String::new();
    let down = |reason: String| Msg::Input(Input::LinkDown { server, reason });
    loop {
        let r = tokio::select! {
            _ = cancel.cancelled() => return,
            r = AmiClient::connect(cfg.clone()) => r,
        };
        let client = match r {
            Ok(c) => c,
            Err(e) => {
                let reason = e.to_string();
                if reason != last_error {
                    tracing::error!(server = %name, error = %reason, "dialer: cannot connect to the AMI server; retrying (other servers keep dialing)");
                    last_error = reason.clone();
                }
                let _ = tx.send(down(reason));
                let wait = cfg.reconnect.delay(attempt);
                attempt = attempt.saturating_add(1);
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
        };
        attempt = 0;
        last_error.clear();
        let mut events = client.events();
        let up = || Msg::LinkUp {
            server,
            client: client.clone(),
        };
        let _ = tx.send(up());
        let mut clock = tokio::time::interval(PING_EVERY);
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let ev = tokio::select! {
                _ = cancel.cancelled() => {
                    let _ = client.logoff().await;
                    return;
                }
                ev = events.recv() => ev,
                _ = clock.tick() => {
                    read_clock(tx.clone(), server, client.clone());
                    continue;
                }
            };
            match ev {
                Ok(Event::Ami(m)) => {
                    let _ = tx.send(Msg::Input(Input::Ami {
                        server,
                        msg: m,
                        at: Instant::now(),
                    }));
                }
                Ok(Event::Disconnected { reason }) => {
                    let _ = tx.send(down(reason));
                }
                Ok(Event::Reconnected) => {
                    let _ = tx.send(up());
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(server = %name, missed = n, "dialer: fell behind the AMI events; reconciling");
                    let _ = tx.send(up());
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    }
}
