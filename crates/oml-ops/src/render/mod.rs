//! Configuration rendering: every host-dependent file of the installation
//! (Asterisk, Kamailio, rtpengine, nginx, the systemd unit of `oml serve`,
//! oml's own environment file) rendered from the inventory and the database
//! into a root folder (`/` in production, a temporary folder in tests).
//!
//! [`plan`] is pure apart from reading the current files: it renders every
//! template (minijinja, strict undefined, no escaping) and compares with
//! what is on disk; [`crate::Plan::apply`] writes only what changed.
//! Files the administrator owns (`*_custom.conf`, `*_override.conf`) are
//! included by the generated ones and never written.

mod call_path;
mod model;

pub(crate) use call_path::entries as call_path_entries;
pub use model::{load, Agent, Campaign, DialerData, Server, Trunk};

use crate::inventory::InventoryConfig;
use crate::plan::Plan;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use oml_store::dialplan;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Settings of oml itself that the inventory does not hold.
#[derive(Debug, Clone)]
pub struct OmlSettings {
    /// Address `oml serve` listens on (nginx proxies to it).
    pub listen: String,
    /// `OML_HOME`: the data folder.
    pub data_dir: PathBuf,
    /// The `oml` binary the systemd unit runs.
    pub binary: PathBuf,
    /// The system user `oml serve` runs as.
    pub user: String,
    /// TLS certificate and key nginx serves (the inventory's trusted_cert /
    /// trusted_key win when set).
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// Point oml at the inventory's PostgreSQL (`OML_DATABASE_URL`); when
    /// false oml keeps its embedded SQLite file in the data folder.
    pub postgres_from_inventory: bool,
    /// The inventory file, recorded in oml.toml (`paths.inventory`).
    pub inventory_path: Option<PathBuf>,
    /// Folder of the default music-on-hold class (Debian's standard).
    pub moh_dir: PathBuf,
    /// Where Asterisk writes call recordings (oml.toml's
    /// `paths.recordings_dir`): the dialplan's MixMonitor writes there, the
    /// console serves from there and `oml backup --with-recordings` reads it.
    pub recordings_dir: PathBuf,
}

impl Default for OmlSettings {
    fn default() -> Self {
        OmlSettings {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("/var/lib/oml"),
            binary: PathBuf::from("/usr/local/bin/oml"),
            user: "oml".into(),
            tls_cert: PathBuf::from("/etc/oml/tls/oml.crt"),
            tls_key: PathBuf::from("/etc/oml/tls/oml.key"),
            postgres_from_inventory: false,
            inventory_path: None,
            moh_dir: PathBuf::from("/var/lib/asterisk/moh"),
            recordings_dir: PathBuf::from("/var/lib/oml/recordings"),
        }
    }
}

/// Everything the templates are rendered from.
#[derive(Debug, Clone)]
pub struct RenderContext {
    pub inventory: InventoryConfig,
    pub data: DialerData,
    pub oml: OmlSettings,
}

impl RenderContext {
    /// The context restore, deploy and the CLI use: the validated inventory
    /// plus servers, trunks, campaigns and agents read from the store.
    pub async fn load(
        inventory: &crate::Inventory,
        store: &oml_store::Store,
        oml: OmlSettings,
    ) -> Result<RenderContext, LoadError> {
        let config = inventory.config()?;
        let data = load(store).await?;
        Ok(RenderContext {
            inventory: config,
            data,
            oml,
        })
    }
}

/// Why a [`RenderContext`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Inventory(#[from] crate::InventoryError),
    #[error("reading servers, trunks, campaigns and agents: {0}")]
    Store(#[from] oml_store::StoreError),
}

/// Which family of files a template belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Component {
    Asterisk,
    Kamailio,
    Rtpengine,
    Nginx,
    Systemd,
    Oml,
}

/// One generated file: its template, where it goes, its mode, and whether it
/// carries secrets.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub component: Component,
    pub template: &'static str,
    /// Path below the root folder.
    pub path: &'static str,
    pub mode: u32,
    pub secret: bool,
}

/// Every file oml generates.
pub const TARGETS: &[Target] = &[
    Target {
        component: Component::Asterisk,
        template: "asterisk/oml_manager.conf",
        path: "etc/asterisk/oml_manager.conf",
        mode: 0o640,
        secret: true,
    },
    Target {
        component: Component::Asterisk,
        template: "asterisk/oml_queues.conf",
        path: "etc/asterisk/oml_queues.conf",
        mode: 0o644,
        secret: false,
    },
    Target {
        component: Component::Asterisk,
        template: "asterisk/oml_pjsip_agents.conf",
        path: "etc/asterisk/oml_pjsip_agents.conf",
        mode: 0o644,
        secret: false,
    },
    Target {
        component: Component::Asterisk,
        template: "asterisk/oml_pjsip_trunks.conf",
        path: "etc/asterisk/oml_pjsip_trunks.conf",
        mode: 0o644,
        secret: false,
    },
    Target {
        component: Component::Asterisk,
        template: "asterisk/oml_extensions.conf",
        path: "etc/asterisk/oml_extensions.conf",
        mode: 0o644,
        secret: false,
    },
    Target {
        component: Component::Asterisk,
        template: "asterisk/oml_extensions_outr.conf",
        path: "etc/asterisk/oml_extensions_outr.conf",
        mode: 0o644,
        secret: false,
    },
    Target {
        component: Component::Asterisk,
        template: "asterisk/oml_moh.conf",
        path: "etc/asterisk/oml_moh.conf",
        mode: 0o644,
        secret: false,
    },
    Target {
        component: Component::Kamailio,
        template: "kamailio/kamailio.cfg",
        path: "etc/kamailio/kamailio.cfg",
        mode: 0o644,
        secret: false,
    },
    Target {
        component: Component::Rtpengine,
        template: "rtpengine/rtpengine.conf",
        path: "etc/rtpengine/rtpengine.conf",
        mode: 0o644,
        secret: false,
    },
    Target {
        component: Component::Nginx,
        template: "nginx/oml.conf",
        path: "etc/nginx/conf.d/oml.conf",
        mode: 0o644,
        secret: false,
    },
    Target {
        component: Component::Systemd,
        template: "systemd/oml.service",
        path: "etc/systemd/system/oml.service",
        mode: 0o644,
        secret: false,
    },
    Target {
        component: Component::Oml,
        template: "oml/oml.env",
        path: "etc/oml/oml.env",
        mode: 0o600,
        secret: true,
    },
];

const TEMPLATES: &[(&str, &str)] = &[
    (
        "asterisk/oml_manager.conf",
        include_str!("../../templates/asterisk/oml_manager.conf.j2"),
    ),
    (
        "asterisk/oml_queues.conf",
        include_str!("../../templates/asterisk/oml_queues.conf.j2"),
    ),
    (
        "asterisk/oml_pjsip_agents.conf",
        include_str!("../../templates/asterisk/oml_pjsip_agents.conf.j2"),
    ),
    (
        "asterisk/oml_pjsip_trunks.conf",
        include_str!("../../templates/asterisk/oml_pjsip_trunks.conf.j2"),
    ),
    (
        "asterisk/oml_extensions.conf",
        include_str!("../../templates/asterisk/oml_extensions.conf.j2"),
    ),
    (
        "asterisk/oml_extensions_outr.conf",
        include_str!("../../templates/asterisk/oml_extensions_outr.conf.j2"),
    ),
    (
        "asterisk/oml_moh.conf",
        include_str!("../../templates/asterisk/oml_moh.conf.j2"),
    ),
    (
        "kamailio/kamailio.cfg",
        include_str!("../../templates/kamailio/kamailio.cfg.j2"),
    ),
    (
        "rtpengine/rtpengine.conf",
        include_str!("../../templates/rtpengine/rtpengine.conf.j2"),
    ),
    (
        "nginx/oml.conf",
        include_str!("../../templates/nginx/oml.conf.j2"),
    ),
    (
        "systemd/oml.service",
        include_str!("../../templates/systemd/oml.service.j2"),
    ),
    (
        "oml/oml.env",
        include_str!("../../templates/oml/oml.env.j2"),
    ),
];

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {template}: {message}")]
    Template { template: String, message: String },
    #[error("{path}: {message}")]
    OwnConfig { path: String, message: String },
    #[error("{what} {name}: {message}")]
    Data {
        what: &'static str,
        name: String,
        message: String,
    },
}

/// The template environment: strict undefined (a missing value is an error,
/// never an empty string), no auto-escaping (these are not HTML files).
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    for (name, src) in TEMPLATES {
        env.add_template(name, src)
            .expect("built-in templates parse");
    }
    env
}

/// Keeps a value that goes into an Asterisk/Kamailio config on one line and
/// out of comment syntax.
fn one_line(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// A name safe as an Asterisk section/context/queue name.
pub fn conf_name(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    out
}

/// Percent-encodes a URL user or password.
fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Asterisk treats `;` as a comment start: escape it.
fn ast_value(s: &str) -> String {
    one_line(s).replace(';', "\\;")
}

#[derive(Serialize)]
struct HostView {
    ip: String,
    advertised_ip: String,
    domain: String,
    hostname: String,
    time_zone: String,
    recording_format: String,
    login_failure_limit: u32,
    session_cookie_age_s: u64,
    install_prefix: String,
    https_port: u16,
}

#[derive(Serialize)]
struct AmiView {
    user: String,
    password: String,
}

#[derive(Serialize)]
struct OmlView {
    listen: String,
    data_dir: String,
    binary: String,
    user: String,
    tls_cert: String,
    tls_key: String,
    database_url: String,
    moh_dir: String,
    recordings_dir: String,
}

/// The names the engine and the dialplan share ([`oml_store::dialplan`]).
#[derive(Serialize)]
struct ContractView {
    /// The context `Local/...@from-oml` trunks enter.
    dial_context: &'static str,
    /// `OMLCAMPID`, and `${OMLCAMPID}` to read it.
    campaign_var: &'static str,
    campaign: String,
    contact_var: &'static str,
    attempt_var: &'static str,
    /// The extension of a campaign's context Originates start at.
    answer_exten: &'static str,
    amd_event: &'static str,
    abandon_event: &'static str,
    recording_event: &'static str,
    recording_prefix: &'static str,
    recfile_key: &'static str,
    agent_key: &'static str,
    /// The AstDB family of the call's record,
    /// `OML/CALL/<instance>/<channel id>` (`RECORD_FAMILY_EXPR`).
    record: &'static str,
    instance_var: &'static str,
    /// Preview calls (agent-first): the context and the dial variable.
    preview_context: &'static str,
    preview_dial_var: &'static str,
}

#[derive(Serialize)]
struct CampaignView {
    id: i64,
    name: String,
    qname: String,
    mode: String,
    /// The campaign's own context and the extension Originates start at.
    context: String,
    exten: &'static str,
    /// The administrator's context,extension the call is handed to
    /// (empty: straight into the queue).
    handoff_context: String,
    handoff_exten: String,
    ring_timeout_s: i64,
    queue_time_s: i64,
    caller_id: String,
    trunk_id: i64,
    path: call_path::CallPathView,
}

#[derive(Serialize)]
struct TrunkView {
    id: i64,
    name: String,
    tech: String,
    dial: String,
    context: String,
    max_channels: i64,
    caller_id: String,
    carrier: bool,
}

#[derive(Serialize)]
struct AgentView {
    id: i64,
    name: String,
    sip: String,
}

#[derive(Serialize)]
struct View {
    contract: ContractView,
    host: HostView,
    ami: AmiView,
    oml: OmlView,
    campaigns: Vec<CampaignView>,
    trunks: Vec<TrunkView>,
    agents: Vec<AgentView>,
    /// The SIP port Asterisk listens on behind Kamailio.
    asterisk_sip_port: u16,
    /// The first trunk that reaches a carrier (Local/...@from-oml trunks
    /// leave through it).
    default_carrier: Option<i64>,
}

/// The queue a campaign's calls reach: its own, else OMniLeads'
/// `<id>_<name>` ([`oml_store::dialplan::queue`], the name the engine
/// counts agents of).
pub fn queue_name(c: &Campaign) -> String {
    conf_name(&dialplan::queue_of(c.id, &c.name, &c.queue_name))
}

fn view(ctx: &RenderContext) -> Result<View, RenderError> {
    let inv = &ctx.inventory;
    for t in &ctx.data.trunks {
        if t.dial_string.contains(['\n', '\r']) || !t.dial_string.contains('/') {
            return Err(RenderError::Data {
                what: "trunk",
                name: t.name.clone(),
                message: format!(
                    "dial string `{}` must look like TECH/resource (e.g. PJSIP/${{num}}@carrier)",
                    one_line(&t.dial_string)
                ),
            });
        }
    }
    for c in &ctx.data.campaigns {
        if !ctx.data.trunks.iter().any(|t| t.id == c.trunk_id) {
            return Err(RenderError::Data {
                what: "campaign",
                name: c.name.clone(),
                message: format!("uses trunk id {} which does not exist", c.trunk_id),
            });
        }
    }
    let rec_dir = ctx.oml.recordings_dir.display().to_string();
    if !rec_dir.starts_with('/')
        || !rec_dir
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.'))
    {
        return Err(RenderError::Data {
            what: "setting",
            name: "paths.recordings_dir".into(),
            message: format!(
                "`{}` must be an absolute folder of letters, digits and / _ - . (MixMonitor writes there)",
                one_line(&rec_dir)
            ),
        });
    }
    let trunk_cid = |id: i64| {
        ctx.data
            .trunks
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.caller_id.clone())
            .unwrap_or_default()
    };
    let pg = &inv.postgres;
    let database_url = if ctx.oml.postgres_from_inventory {
        format!(
            "postgres://{}:{}@{}:{}/{}",
            url_encode(&pg.user),
            url_encode(pg.password.expose_secret()),
            pg.host,
            pg.port,
            pg.database
        )
    } else {
        String::new()
    };
    let (tls_cert, tls_key) = match (&inv.trusted_cert, &inv.trusted_key) {
        (Some(c), Some(k)) => (
            Path::new("/etc/oml/tls").join(c).display().to_string(),
            Path::new("/etc/oml/tls").join(k).display().to_string(),
        ),
        _ => (
            ctx.oml.tls_cert.display().to_string(),
            ctx.oml.tls_key.display().to_string(),
        ),
    };
    Ok(View {
        contract: ContractView {
            dial_context: dialplan::DIAL_CONTEXT,
            campaign_var: dialplan::CAMPAIGN_VAR,
            campaign: format!("${{{}}}", dialplan::CAMPAIGN_VAR),
            contact_var: dialplan::CONTACT_VAR,
            attempt_var: dialplan::ATTEMPT_VAR,
            answer_exten: dialplan::ANSWER_EXTEN,
            amd_event: dialplan::AMD_EVENT,
            abandon_event: dialplan::ABANDON_MESSAGE_EVENT,
            recording_event: dialplan::RECORDING_EVENT,
            recording_prefix: dialplan::RECORDING_PREFIX,
            recfile_key: dialplan::RECFILE_KEY,
            agent_key: dialplan::AGENT_KEY,
            record: dialplan::RECORD_FAMILY_EXPR,
            instance_var: dialplan::INSTANCE_VAR,
            preview_context: dialplan::PREVIEW_CONTEXT,
            preview_dial_var: dialplan::PREVIEW_DIAL_VAR,
        },
        host: HostView {
            ip: inv.ip.to_string(),
            advertised_ip: inv.advertised_ip().to_string(),
            domain: inv.domain(),
            hostname: inv.inventory_hostname.clone(),
            time_zone: inv.time_zone.name().to_string(),
            recording_format: inv.recording_format.clone(),
            login_failure_limit: inv.login_failure_limit,
            session_cookie_age_s: inv.session_cookie_age_s,
            install_prefix: inv.install_prefix.display().to_string(),
            https_port: inv.external_port.unwrap_or(443),
        },
        ami: AmiView {
            user: conf_name(&inv.ami_user),
            password: inv.ami_password.expose_secret().to_string(),
        },
        oml: OmlView {
            listen: ctx.oml.listen.clone(),
            data_dir: ctx.oml.data_dir.display().to_string(),
            binary: ctx.oml.binary.display().to_string(),
            user: ctx.oml.user.clone(),
            tls_cert,
            tls_key,
            database_url,
            moh_dir: ctx.oml.moh_dir.display().to_string(),
            recordings_dir: ctx
                .oml
                .recordings_dir
                .display()
                .to_string()
                .trim_end_matches('/')
                .to_string(),
        },
        campaigns: ctx
            .data
            .campaigns
            .iter()
            .map(|c| (c, c.route()))
            .map(|(c, route)| CampaignView {
                id: c.id,
                name: one_line(&c.name).replace(';', ","),
                qname: conf_name(&route.queue),
                mode: c.mode.clone(),
                context: dialplan::campaign_context(c.id),
                exten: dialplan::ANSWER_EXTEN,
                handoff_context: route
                    .handoff
                    .as_ref()
                    .map(|h| conf_name(&h.0))
                    .unwrap_or_default(),
                handoff_exten: route
                    .handoff
                    .as_ref()
                    .map(|h| ast_value(&h.1))
                    .unwrap_or_default(),
                ring_timeout_s: c.ring_timeout_s,
                queue_time_s: c.abandon_seconds,
                caller_id: ast_value(&if c.caller_id.is_empty() {
                    trunk_cid(c.trunk_id)
                } else {
                    c.caller_id.clone()
                }),
                trunk_id: c.trunk_id,
                path: call_path::view(&c.call_path),
            })
            .collect(),
        trunks: ctx
            .data
            .trunks
            .iter()
            .map(|t| TrunkView {
                id: t.id,
                name: one_line(&t.name).replace(';', ","),
                tech: t.tech(),
                dial: ast_value(&t.dial_for("${EXTEN}")),
                context: format!("oml-trunk-{}", t.id),
                max_channels: t.max_channels,
                caller_id: ast_value(&t.caller_id),
                carrier: !t.loops_through_from_oml(),
            })
            .collect(),
        agents: ctx
            .data
            .agents
            .iter()
            .filter(|a| a.active)
            .map(|a| AgentView {
                id: a.id,
                name: one_line(&a.username).replace(';', ","),
                sip: a.sip_extension().to_string(),
            })
            .collect(),
        asterisk_sip_port: 5160,
        default_carrier: ctx
            .data
            .trunks
            .iter()
            .filter(|t| !t.loops_through_from_oml())
            .map(|t| t.id)
            .min(),
    })
}

/// Renders one template to text.
pub fn render_one(
    env: &Environment<'_>,
    template: &str,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let v = view(ctx)?;
    render_view(env, template, &v)
}

fn render_view(env: &Environment<'_>, template: &str, v: &View) -> Result<String, RenderError> {
    let t = env
        .get_template(template)
        .map_err(|e| RenderError::Template {
            template: template.into(),
            message: e.to_string(),
        })?;
    t.render(v).map_err(|e| RenderError::Template {
        template: template.into(),
        message: format!("{e:#}"),
    })
}

/// Plans every generated file below `root`.
pub fn plan(ctx: &RenderContext, root: &Path) -> Result<Plan, RenderError> {
    plan_only(ctx, root, |_| true)
}

/// Plans only the Asterisk files (what `regenerate-asterisk` rewrites).
pub fn plan_asterisk(ctx: &RenderContext, root: &Path) -> Result<Plan, RenderError> {
    plan_only(ctx, root, |t| t.component == Component::Asterisk)
}

/// Plans the targets `keep` selects. Everything is rendered before the plan
/// is returned, so a template error means no step at all.
pub fn plan_only(
    ctx: &RenderContext,
    root: &Path,
    keep: impl Fn(&Target) -> bool,
) -> Result<Plan, RenderError> {
    let env = environment();
    let v = view(ctx)?;
    let secrets: Vec<String> = [
        ctx.inventory.ami_password.expose_secret().to_string(),
        ctx.inventory.postgres.password.expose_secret().to_string(),
        ctx.inventory.admin_password.expose_secret().to_string(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect();
    let mut rendered = Vec::new();
    for t in TARGETS.iter().filter(|t| keep(t)) {
        rendered.push((t, render_view(&env, t.template, &v)?));
    }
    let own = OWN_CONFIG;
    let own_config = if keep(&own) {
        Some(own_config(ctx, root)?)
    } else {
        None
    };
    let mut plan = Plan::default();
    for (t, text) in rendered {
        let secrets = if t.secret {
            secrets.clone()
        } else {
            Vec::new()
        };
        plan.file(root.join(t.path), text, t.mode, secrets);
    }
    if let Some((path, text)) = own_config {
        plan.file(path, text, own.mode, Vec::new());
    }
    Ok(plan)
}

/// oml's own configuration (`<data-dir>/oml.toml`); its path depends on the
/// data folder, so it is not in [`TARGETS`].
pub const OWN_CONFIG: Target = Target {
    component: Component::Oml,
    template: "",
    path: "<data-dir>/oml.toml",
    mode: 0o644,
    secret: false,
};

/// `<data-dir>/oml.toml` with the settings the inventory owns
/// (`LOGIN_FAILURE_LIMIT`, `SCA`, the inventory path, the listen address
/// nginx proxies to) set, and every other byte kept as the administrator
/// wrote it (comments and order included); a missing file starts from the
/// commented defaults.
fn own_config(ctx: &RenderContext, root: &Path) -> Result<(PathBuf, String), RenderError> {
    let dir = root.join(
        ctx.oml
            .data_dir
            .strip_prefix("/")
            .unwrap_or(&ctx.oml.data_dir),
    );
    let path = dir.join(oml_config::CONFIG_FILE);
    let shown = path.display().to_string();
    let failed = |e: oml_config::ConfigError| RenderError::OwnConfig {
        path: shown.clone(),
        message: format!("{e} (fix it before rendering: oml keeps your other settings)"),
    };
    let mut text = oml_config::ConfigText::read(&dir).map_err(failed)?;
    let listen: std::net::SocketAddr =
        ctx.oml.listen.parse().map_err(|_| RenderError::OwnConfig {
            path: shown.clone(),
            message: format!("`{}` is not an address:port for web.listen", ctx.oml.listen),
        })?;
    let set = |text: &mut oml_config::ConfigText| -> Result<(), oml_config::ConfigError> {
        let limit = i64::from(ctx.inventory.login_failure_limit);
        text.set("lockout.login_failure_limit", limit)?;
        let idle = i64::try_from(ctx.inventory.session_cookie_age_s).unwrap_or(i64::MAX);
        text.set("web.session_idle_seconds", idle)?;
        if text.config()?.web.listen != listen {
            text.set("web.listen", listen.to_string())?;
        }
        let loopback: std::net::IpAddr = std::net::Ipv4Addr::LOCALHOST.into();
        if !text.config()?.web.trusted_proxies.contains(&loopback) {
            text.add_to_list("web.trusted_proxies", &loopback.to_string())?;
        }
        if let Some(inv) = &ctx.oml.inventory_path {
            text.set("paths.inventory", inv.to_string_lossy().into_owned())?;
        }
        Ok(())
    };
    set(&mut text).map_err(failed)?;
    Ok((path, text.text().map_err(failed)?))
}

#[cfg(test)]
mod tests;
