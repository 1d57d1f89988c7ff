//! A campaign's context after the answer, as oml's rendered dialplan runs
//! it (`oml_extensions.conf.j2`, issue 18), driven by the campaign's AstDB
//! settings under `OML/CAMP/<id>` (what `oml regenerate-asterisk` writes):
//! `AMD` yes runs `AMD()` (its verdict after the model's AMD time, the
//! `UserEvent` `OmlAmd` with `Status` and `Cause`; a machine hears the
//! `AMDPLAY` message if set, then the context hangs up); `REC` yes starts a
//! recording (`UserEvent` `OmlRecording` with `File`, an empty file of that
//! name in `SimConfig::recordings`); then the queue, which times out after
//! `QUEUETIME` seconds when `ABANDONPLAY` is set: the `UserEvent`
//! `OmlAbandonMessage`, the message, and the hang-up. The AstDB record
//! writes these events imply are `dialplan.rs`'s. A campaign without those
//! settings (or a call into another context) goes straight to its queue.

use std::time::Instant;

use oml_ami::Message;

use super::channels::CallState;
use super::Timer;
use super::World;

/// The context prefix of a campaign's own context (`oml_store::dialplan`).
const CONTEXT_PREFIX: &str = "oml-campaign-";

/// A campaign's call path settings, read from AstDB.
#[derive(Debug, Default)]
struct Path {
    amd: bool,
    machine_message: bool,
    record: Option<String>,
    abandon_message: bool,
    queue_time_s: Option<f64>,
}

impl World {
    fn path_of(&self, c: u64) -> Option<(String, Path)> {
        let call = self.calls.get(&c)?;
        let id = call.context.strip_prefix(CONTEXT_PREFIX)?;
        let family = format!("OML/CAMP/{id}");
        let get = |k: &str| self.db.get(&family, k).unwrap_or("").trim();
        let path = Path {
            amd: get("AMD") == "yes",
            machine_message: !get("AMDPLAY").is_empty(),
            record: (get("REC") == "yes").then(|| match get("RECFORMAT") {
                "" => "wav".to_owned(),
                f => f.to_owned(),
            }),
            abandon_message: !get("ABANDONPLAY").is_empty(),
            queue_time_s: get("QUEUETIME").parse().ok().filter(|t: &f64| *t > 0.0),
        };
        Some((id.to_owned(), path))
    }

    /// An answered call enters its context: `AMD()` first when the campaign
    /// detects machines, else on to the queue.
    pub(super) fn answered(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let machine = self.cfg.machines.is_machine(&mut self.rng);
        if let Some(call) = self.calls.get_mut(&c) {
            call.machine = machine;
        }
        match self.path_of(c) {
            Some((_, p)) if p.amd => {
                let t = self.cfg.machines.amd_time.sample(&mut self.rng);
                if let Some(call) = self.calls.get_mut(&c) {
                    call.state = CallState::InContext;
                    call.at_exten = "s".into();
                }
                self.schedule(now, t, Timer::Amd(c));
            }
            _ => self.on_to_queue(c, now, events),
        }
    }

    /// `AMD()`'s verdict: a machine goes to the `machine` extension.
    pub(super) fn amd_verdict(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        // Still in AMD() (a Redirect may have taken the call elsewhere).
        if call.state != CallState::InContext || call.at_exten != "s" {
            return;
        }
        let machine = call.machine;
        let v = self.cfg.machines.verdict(machine, &mut self.rng);
        let call = self.calls.get(&c).expect("present");
        events.push(
            self.channel_event("UserEvent", call)
                .with("UserEvent", "OmlAmd")
                .with("Status", v.status)
                .with("Cause", &v.cause),
        );
        if !v.machine() {
            self.on_to_queue(c, now, events);
            return;
        }
        self.stats.machines += 1;
        let message = self.path_of(c).is_some_and(|(_, p)| p.machine_message);
        if let Some(call) = self.calls.get_mut(&c) {
            call.at_exten = "machine".into();
        }
        if message {
            let t = self.cfg.machines.message_time.sample(&mut self.rng);
            self.schedule(now, t, Timer::MessageEnd(c));
        } else {
            self.context_hangup(c, events);
        }
    }

    /// Recording (when the campaign records), then the queue, with its
    /// time-out when the campaign plays an abandon message.
    fn on_to_queue(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let path = self.path_of(c);
        if let Some((
            id,
            Path {
                record: Some(fmt), ..
            },
        )) = &path
        {
            self.start_recording(c, id, fmt, now, events);
        }
        if let Some((_, p)) = &path {
            if let (true, Some(t)) = (p.abandon_message, p.queue_time_s) {
                self.schedule(now, t, Timer::QueueTimeout(c));
            }
        }
        self.enqueue(c, now, events);
    }

    /// `MixMonitor` as the context names its file:
    /// `dialer-<campaign>-<YYYYMMDD>-<number>-<uniqueid>.<format>`.
    fn start_recording(
        &mut self,
        c: u64,
        id: &str,
        fmt: &str,
        now: Instant,
        events: &mut Vec<Message>,
    ) {
        let epoch = self.sim_epoch(now);
        let day = yyyymmdd(epoch);
        let call = self.calls.get(&c).expect("present");
        let file = format!("dialer-{id}-{day}-{}-{}.{fmt}", call.number, call.uniqueid);
        if let Some(dir) = &self.cfg.recordings {
            if let Err(e) = std::fs::write(dir.join(&file), b"") {
                tracing::warn!(file = %file, error = %e, "pbxsim: cannot write the recording file");
            }
        }
        events.push(
            self.channel_event("UserEvent", call)
                .with("UserEvent", "OmlRecording")
                .with("File", &file),
        );
    }

    /// `Queue()` returned without an agent: the abandon message plays,
    /// then the context hangs up.
    pub(super) fn queue_timeout(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        if call.state != CallState::Queued {
            return;
        }
        let queue = call.queue.clone().unwrap_or_default();
        let (mut position, mut count) = (0, 0);
        if let Some(q) = self.queues.get_mut(&queue) {
            if let Some(i) = q.waiting.iter().position(|&x| x == c) {
                q.waiting.remove(i);
                position = i + 1;
            }
            count = q.waiting.len();
        }
        let call = self.calls.get(&c).expect("present");
        events.push(
            self.channel_event("QueueCallerLeave", call)
                .with("Queue", &queue)
                .with("Count", count.to_string())
                .with("Position", position.to_string()),
        );
        self.play_abandon_message(c, now, events);
    }

    /// Whether the call's campaign plays an abandon message (its context
    /// has the `abandon` extension).
    pub(super) fn plays_abandon_message(&self, c: u64) -> bool {
        self.path_of(c).is_some_and(|(_, p)| p.abandon_message)
    }

    /// The context's `abandon` extension: `OmlAbandonMessage`, the message,
    /// then the hang-up (after `Queue()` gave up, or an AMI `Redirect`).
    pub(super) fn play_abandon_message(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let Some(call) = self.calls.get_mut(&c) else {
            return;
        };
        call.state = CallState::InContext;
        call.at_exten = "abandon".into();
        let call = self.calls.get(&c).expect("present");
        events.push(
            self.channel_event("UserEvent", call)
                .with("UserEvent", "OmlAbandonMessage"),
        );
        self.stats.abandon_messages += 1;
        let t = self.cfg.machines.message_time.sample(&mut self.rng);
        self.schedule(now, t, Timer::MessageEnd(c));
    }

    /// The context's `Hangup()`: the `;1` half ends with cause 16, then the
    /// customer's `;2` half.
    pub(super) fn context_hangup(&mut self, c: u64, events: &mut Vec<Message>) {
        self.context_hangup_with(c, 16, events);
    }

    /// A call in its context ends with `cause` (its `Hangup()` or an AMI
    /// `Hangup`).
    pub(super) fn context_hangup_with(&mut self, c: u64, cause: u32, events: &mut Vec<Message>) {
        if self.calls.get(&c).map(|x| x.state) != Some(CallState::InContext) {
            return;
        }
        let call = self.remove_call(c).expect("present");
        events.push(self.hangup_event(&call, cause));
        events.extend(self.half2_hangup(&call, cause));
    }
}

/// The UTC day of `epoch` seconds as `YYYYMMDD` (`STRFTIME(..,%Y%m%d)`;
/// days to civil date after H. Hinnant's algorithm).
fn yyyymmdd(epoch: i64) -> String {
    let z = epoch.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}")
}

#[cfg(test)]
#[path = "call_path_tests.rs"]
mod tests;
