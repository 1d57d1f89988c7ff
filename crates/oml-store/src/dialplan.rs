//! The contract between the dialer engine and the dialplan oml renders:
//! where an Originate sends an answered call (context, extension), the
//! channel variables it carries, and the queue the call reaches (whose
//! agents the engine counts for the campaign).
//!
//! It lives here, next to the campaign settings it reads, because its three
//! users sit on both sides of the crate graph: `oml-ops` renders the
//! dialplan (`oml render`, `oml regenerate-asterisk`) and `oml-dialer`
//! builds the Originate; both depend on `oml-store`, neither on the other.
//! Pure: no I/O.

use crate::Campaign;
use std::borrow::Cow;

/// The context `Local/NUMBER@from-oml/n` trunks enter: it reads the
/// campaign's trunk and caller ID from AstDB by [`CAMPAIGN_VAR`].
pub const DIAL_CONTEXT: &str = "from-oml";
/// Channel variable with the campaign's id (OMniLeads' name).
pub const CAMPAIGN_VAR: &str = "OMLCAMPID";
/// Channel variable with the contact's id.
pub const CONTACT_VAR: &str = "OMLCONTACTID";
/// Channel variable with the attempt's number (1 for the first call).
pub const ATTEMPT_VAR: &str = "OMLATTEMPT";
/// The extension of a campaign's own context an answered call starts at.
pub const ANSWER_EXTEN: &str = "s";
/// Prefix of a campaign's own context: `oml-campaign-<id>`.
pub const CONTEXT_PREFIX: &str = "oml-campaign-";
/// `UserEvent` a campaign's context sends after `AMD()` (issue 18), with
/// `Status` (Asterisk's AMDSTATUS: HUMAN, MACHINE, NOTSURE, HANGUP) and
/// `Cause` (AMDCAUSE); its `Linkedid` is the attempt's channel id.
pub const AMD_EVENT: &str = "OmlAmd";
/// `UserEvent` sent as the abandon message starts, on a call no agent took.
pub const ABANDON_MESSAGE_EVENT: &str = "OmlAbandonMessage";
/// `UserEvent` sent as recording starts, with `File` (its name under
/// Asterisk's monitor folder).
pub const RECORDING_EVENT: &str = "OmlRecording";
/// Key of the call's AstDB record (`OML/CALL/<channel id>/RECFILE`) holding
/// its recording's file name, written as recording starts.
pub const RECFILE_KEY: &str = "RECFILE";
/// Key of the call's AstDB record holding the agent who took it (the queue
/// member's name, else its interface), written by the connected gosub.
pub const AGENT_KEY: &str = "AGENT";
/// Channel variable naming the oml database that placed the call: its
/// instance id ([`crate::Store::instance_id`]). The Originate sends it
/// inherited (`__OMLINSTANCE`, so the queue's agent channel has it too) and
/// the dialplan keeps the call's record under
/// `OML/CALL/<instance>/<channel id>` ([`RECORD_FAMILY_EXPR`]), so two oml
/// databases dialing through one Asterisk never read or delete each
/// other's records.
pub const INSTANCE_VAR: &str = "OMLINSTANCE";
/// The AstDB family under which every attempt's record lives.
pub const RECORD_ROOT: &str = "OML/CALL";
/// The family of the running call's record as the dialplan names it:
/// `OML/CALL/${OMLINSTANCE}/${CHANNEL(linkedid)}`, or the older
/// `OML/CALL/${CHANNEL(linkedid)}` when the call carries no instance (an
/// Originate of a dialer before instances, or of a hand-written script).
/// Asterisk substitutes it before `Set` splits at its `=`.
pub const RECORD_FAMILY_EXPR: &str =
    "OML/CALL${IF($[\"${OMLINSTANCE}\" = \"\"]?:/${OMLINSTANCE})}/${CHANNEL(linkedid)}";

/// The AstDB family holding the records of the calls placed by the
/// database with instance id `instance` (`OML/CALL/<instance>`; the older
/// shared `OML/CALL` for an empty one).
pub fn record_family(instance: &str) -> String {
    match instance.trim() {
        "" => RECORD_ROOT.to_string(),
        i => format!("{RECORD_ROOT}/{i}"),
    }
}

/// The start of every recording's file name (OMniLeads' pattern):
/// `dialer-<campaign id>-<YYYYMMDD>-<number>-<uniqueid>.<format>`.
pub const RECORDING_PREFIX: &str = "dialer-";

/// The context a preview call (issue 19 item 4, agent-first) enters once
/// the agent answers the `Originate` of their interface: it dials
/// [`PREVIEW_DIAL_VAR`] (the customer through the campaign's trunk).
pub const PREVIEW_CONTEXT: &str = "oml-preview";
/// Channel variable of a preview call with the customer's dial string (the
/// trunk's, e.g. `Local/<number>@from-oml/n`).
pub const PREVIEW_DIAL_VAR: &str = "OMLPREVIEWDIAL";

/// The context oml renders for campaign `id`: it marks the call with the
/// campaign and puts it in the campaign's queue (or hands it to the
/// administrator's delivery context).
pub fn campaign_context(id: i64) -> String {
    format!("{CONTEXT_PREFIX}{id}")
}

/// The queue of a campaign stored without one (campaigns of schema 6 and
/// earlier): OMniLeads' `<id>_<name>`, kept to Asterisk-safe characters.
pub fn default_queue(id: i64, name: &str) -> String {
    let name: String = name
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{id}_{name}")
}

/// Where a campaign's answered calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The Originate's `Context`.
    pub context: String,
    /// The Originate's `Exten`.
    pub exten: String,
    /// The queue the call reaches: its agents are the campaign's agents.
    pub queue: String,
    /// The administrator's context the campaign's own context hands the
    /// call to, when one is set (`--deliver-to CONTEXT,EXTEN`); it must put
    /// the call in [`Route::queue`].
    pub handoff: Option<(String, String)>,
}

/// The route of `c`. The Originate always goes to the campaign's own
/// context ([`campaign_context`], [`ANSWER_EXTEN`]) unless the campaign was
/// stored with a delivery context of the administrator's, which the
/// Originate then names directly (so a dialplan written by hand works too).
pub fn route(c: &Campaign) -> Route {
    route_of(
        c.id,
        &c.name,
        &c.delivery_context,
        &c.delivery_exten,
        &c.queue_name,
    )
}

/// [`route`] from the stored fields (`oml-ops` renders from its own copy).
pub fn route_of(id: i64, name: &str, context: &str, exten: &str, queue_name: &str) -> Route {
    let (ctx, exten) = (context.trim(), exten.trim());
    let handoff = (!ctx.is_empty()).then(|| (ctx.to_string(), exten.to_string()));
    let (context, exten) = match &handoff {
        Some((ctx, exten)) => (ctx.clone(), exten.clone()),
        None => (campaign_context(id), ANSWER_EXTEN.to_string()),
    };
    Route {
        context,
        exten,
        queue: queue_of(id, name, queue_name).into_owned(),
        handoff,
    }
}

/// The queue `c`'s answered calls reach ([`Route::queue`]), borrowed when
/// the campaign names it (the engine asks on every queue event).
pub fn queue(c: &Campaign) -> Cow<'_, str> {
    queue_of(c.id, &c.name, &c.queue_name)
}

/// [`queue`] from the stored fields.
pub fn queue_of<'a>(id: i64, name: &str, queue_name: &'a str) -> Cow<'a, str> {
    match queue_name.trim() {
        "" => Cow::Owned(default_queue(id, name)),
        q => Cow::Borrowed(q),
    }
}

/// Reads a delivery as `--deliver-to` and the console take it:
/// `CONTEXT,EXTEN` (one of the administrator's), or `queue` for the
/// campaign's own context (stored empty). The names are checked when the
/// campaign is stored.
pub fn parse_delivery(text: &str) -> Result<(String, String), String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("queue") {
        return Ok((String::new(), String::new()));
    }
    match text.split_once(',') {
        Some((ctx, exten)) if !ctx.trim().is_empty() && !exten.trim().is_empty() => {
            Ok((ctx.trim().to_string(), exten.trim().to_string()))
        }
        _ => Err(format!(
            "write CONTEXT,EXTEN (e.g. my-ivr,s), or `queue` for the campaign's own context {CONTEXT_PREFIX}<id>"
        )),
    }
}

/// The channel variables of an Originate for `attempt` of `contact` in
/// `campaign`, in the order they are sent. The dialer's writer adds
/// [`INSTANCE_VAR_INHERITED`] to every Originate it sends.
pub fn variables(campaign: i64, contact: i64, attempt: i64) -> [(&'static str, String); 3] {
    [
        (CAMPAIGN_VAR, campaign.to_string()),
        (CONTACT_VAR, contact.to_string()),
        (ATTEMPT_VAR, attempt.to_string()),
    ]
}

/// [`INSTANCE_VAR`] as the Originate sets it: inherited by every channel
/// the call creates (the Local pair's other half, the agent's channel).
pub const INSTANCE_VAR_INHERITED: &str = "__OMLINSTANCE";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AbandonWindow, CampaignMode, CampaignState};

    fn campaign(ctx: &str, exten: &str, queue: &str) -> Campaign {
        Campaign {
            id: 7,
            name: "win.ter".into(),
            mode: CampaignMode::Predictive,
            trunk_id: 1,
            delivery_context: ctx.into(),
            delivery_exten: exten.into(),
            queue_name: queue.into(),
            max_abandon_rate: 0.03,
            abandon_window: AbandonWindow::Us,
            abandon_seconds: 2,
            ring_timeout_s: 25,
            non_compliant: false,
            caller_id: String::new(),
            time_zone: "UTC".into(),
            window_start_minute: 0,
            window_end_minute: 1440,
            days_mask: 127,
            priority: 10,
            state: CampaignState::Stopped,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_campaign_without_delivery_context_dials_into_its_own_context() {
        let r = route(&campaign("", "", "sales"));
        assert_eq!(
            (r.context.as_str(), r.exten.as_str()),
            ("oml-campaign-7", "s")
        );
        assert_eq!(r.queue, "sales");
        assert_eq!(r.handoff, None);
    }

    #[test]
    fn a_delivery_context_is_dialed_and_keeps_the_queue() {
        let r = route(&campaign("my-ivr", "100", "sales"));
        assert_eq!((r.context.as_str(), r.exten.as_str()), ("my-ivr", "100"));
        assert_eq!(r.queue, "sales", "the agents counted stay the queue's");
        assert_eq!(r.handoff, Some(("my-ivr".into(), "100".into())));
    }

    #[test]
    fn a_campaign_without_queue_gets_omnileads_name() {
        assert_eq!(route(&campaign("", "", " ")).queue, "7_win_ter");
    }

    #[test]
    fn deliveries_parse() {
        assert_eq!(
            parse_delivery(" my-ivr , 100 ").unwrap(),
            ("my-ivr".into(), "100".into())
        );
        assert_eq!(
            parse_delivery("queue").unwrap(),
            (String::new(), String::new())
        );
        for bad in ["my-ivr", "my-ivr,", ",s", ""] {
            let e = parse_delivery(bad).unwrap_err();
            assert!(e.contains("CONTEXT,EXTEN"), "{bad}: {e}");
        }
    }

    #[test]
    fn variables_carry_the_names_the_dialplan_reads() {
        let v = variables(7, 42, 2);
        assert_eq!(v[0], ("OMLCAMPID", "7".to_string()));
        assert_eq!(v[1], ("OMLCONTACTID", "42".to_string()));
        assert_eq!(v[2], ("OMLATTEMPT", "2".to_string()));
        assert_eq!(INSTANCE_VAR_INHERITED, format!("__{INSTANCE_VAR}"));
    }

    #[test]
    fn each_instance_has_its_own_record_family() {
        assert_eq!(record_family("a1b2c3d4e5f6"), "OML/CALL/a1b2c3d4e5f6");
        assert_eq!(record_family(""), "OML/CALL");
        assert!(RECORD_FAMILY_EXPR.starts_with(RECORD_ROOT));
        assert!(RECORD_FAMILY_EXPR.contains(&format!("${{{INSTANCE_VAR}}}")));
    }
}
