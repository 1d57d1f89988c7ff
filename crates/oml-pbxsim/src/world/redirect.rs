//! AMI `Redirect` as oml's engine sends it (issue 18,
//! `oml-dialer/src/engine/core/abandon_deadline.rs`): the campaign
//! context's channel goes to the context's `abandon` extension before the
//! queue's own time-out, and the abandon message plays (`UserEvent`
//! `OmlAbandonMessage`, the message, the hang-up) as after `Queue()` gave
//! up. As on Asterisk: a call waiting in the queue leaves it
//! (`QueueCallerAbandon`, `QueueCallerLeave`: app_queue counts a caller
//! taken out by a Redirect as abandoned); a call already bridged to an
//! agent is taken out of the bridge (the agent's `AgentComplete`, the
//! agent's wrap-up) and hears the message; a call still in its context
//! (`AMD()` listening) goes to the message at once. Other destinations are
//! refused: pbxsim has no dialplan beyond the rendered campaign context.

use std::time::Instant;

use oml_ami::Message;

use super::channels::CallState;
use super::reply::reply;
use super::{Timer, World};

/// The extension of a campaign's context that plays the abandon message.
const ABANDON_EXTEN: &str = "abandon";

impl World {
    /// `Redirect` (`Channel`, `Context`, `Exten`, `Priority`).
    pub(super) fn redirect_action(
        &mut self,
        m: &Message,
        now: Instant,
        events: &mut Vec<Message>,
    ) -> Vec<Message> {
        let id = m.action_id();
        let err = |msg: &str| vec![reply("Error", id).with("Message", msg)];
        let Some(ch) = m.get("Channel").filter(|c| !c.is_empty()) else {
            return err("Channel not specified");
        };
        let Some(c) = self.by_channel.get(ch).copied() else {
            return err(&format!("Channel does not exist: {ch}"));
        };
        let call = &self.calls[&c];
        let (ctx, exten) = (m.get("Context").unwrap_or(""), m.get("Exten").unwrap_or(""));
        if ctx != call.context || exten != ABANDON_EXTEN || !self.plays_abandon_message(c) {
            return err(&format!(
                "pbxsim: Redirect goes only to the {ABANDON_EXTEN} extension of the call's campaign context with an abandon message set, not {ctx},{exten}"
            ));
        }
        match call.state {
            CallState::Ringing => return err("pbxsim: the call is not answered yet"),
            CallState::Queued => self.leave_queue_redirected(c, now, events),
            CallState::Talking => self.leave_bridge_redirected(c, now, events),
            CallState::InContext if call.at_exten == ABANDON_EXTEN => {
                return vec![reply("Success", id).with("Message", "Redirect successful")];
            }
            CallState::InContext => {}
        }
        self.play_abandon_message(c, now, events);
        vec![reply("Success", id).with("Message", "Redirect successful")]
    }

    /// A queued caller taken out by a Redirect: app_queue reports it as an
    /// abandon, then the leave.
    fn leave_queue_redirected(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let sim_now = self.sim_secs(now);
        let call = self.calls.get(&c).expect("present");
        let queue = call.queue.clone().unwrap_or_default();
        let (mut position, mut count) = (0, 0);
        if let Some(q) = self.queues.get_mut(&queue) {
            if let Some(i) = q.waiting.iter().position(|&x| x == c) {
                q.waiting.remove(i);
                position = i + 1;
            }
            q.abandoned += 1;
            count = q.waiting.len();
        }
        let call = self.calls.get(&c).expect("present");
        let hold = (sim_now - call.joined_at).max(0.0);
        events.push(
            self.channel_event("QueueCallerAbandon", call)
                .with("Queue", &queue)
                .with("Position", position.to_string())
                .with("OriginalPosition", call.original_position.to_string())
                .with("HoldTime", (hold.round() as i64).to_string()),
        );
        events.push(
            self.channel_event("QueueCallerLeave", call)
                .with("Queue", &queue)
                .with("Count", count.to_string())
                .with("Position", position.to_string()),
        );
    }

    /// A bridged caller taken out by a Redirect: the agent's call ends
    /// (`AgentComplete`, reason `caller`) and the agent wraps up.
    fn leave_bridge_redirected(&mut self, c: u64, now: Instant, events: &mut Vec<Message>) {
        let sim_now = self.sim_secs(now);
        let call = self.calls.get_mut(&c).expect("present");
        let Some(a) = call.agent.take() else {
            return;
        };
        let talk = (sim_now - call.connected_at).max(0.0);
        let hold = (call.connected_at - call.joined_at).max(0.0);
        let call = self.calls.get(&c).expect("present");
        events.push(
            self.agent_event("AgentComplete", call, a)
                .with("HoldTime", (hold.round() as i64).to_string())
                .with("TalkTime", (talk.round() as i64).to_string())
                .with("Reason", "caller"),
        );
        self.agents[a].call = None;
        self.agents[a].wrapup = true;
        let w = self.cfg.wrapup_time.sample(&mut self.rng);
        if w > 0.0 {
            self.agents[a].acw_paused = true;
            events.push(self.member_pause(a));
        }
        events.push(self.member_status(a));
        self.schedule(now, w, Timer::WrapupEnd(a));
    }
}

#[cfg(test)]
#[path = "redirect_tests.rs"]
mod tests;
