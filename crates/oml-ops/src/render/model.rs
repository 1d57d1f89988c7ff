//! The dialer's data that configuration is rendered from: Asterisk servers,
//! trunks, campaigns and agents, as plain values (loaded from the store by
//! [`super::load`], built by hand in tests).

use secrecy::SecretString;

/// An Asterisk server the dialer drives over AMI.
#[derive(Clone)]
pub struct Server {
    pub id: i64,
    pub name: String,
    pub host: String,
    pub ami_port: u16,
    pub ami_user: String,
    pub ami_secret: SecretString,
    pub enabled: bool,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Server({} {}:{} user {})",
            self.name, self.host, self.ami_port, self.ami_user
        )
    }
}

/// A trunk: how a number is dialed (`${num}` is replaced by the number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunk {
    pub id: i64,
    pub name: String,
    pub dial_string: String,
    pub max_channels: i64,
    pub server_id: Option<i64>,
    pub caller_id: String,
}

impl Trunk {
    /// The channel technology: the part of the dial string before `/`.
    pub fn tech(&self) -> String {
        self.dial_string.split('/').next().unwrap_or("").to_string()
    }
    /// A `Local/...@from-oml` trunk hands calls back to oml's own dialplan
    /// (the seed's default); any other trunk reaches a carrier.
    pub fn loops_through_from_oml(&self) -> bool {
        self.tech().eq_ignore_ascii_case("local")
            && self
                .dial_string
                .contains(&format!("@{}", oml_store::dialplan::DIAL_CONTEXT))
    }
    /// The dial string with `${num}` replaced for dialplan use.
    pub fn dial_for(&self, number_expr: &str) -> String {
        self.dial_string.replace("${num}", number_expr)
    }
}

/// A campaign, with what the dialplan needs of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    /// preview, progressive or predictive.
    pub mode: String,
    pub trunk_id: i64,
    pub delivery_context: String,
    pub delivery_exten: String,
    pub queue_name: String,
    pub ring_timeout_s: i64,
    pub abandon_seconds: i64,
    pub max_abandon_rate: f64,
    pub caller_id: String,
    pub state: String,
    /// Answering machines, recording, messages (all off when never set).
    pub call_path: oml_store::CallPath,
}

impl Campaign {
    /// Where its answered calls go ([`oml_store::dialplan::route`]).
    pub fn route(&self) -> oml_store::dialplan::Route {
        oml_store::dialplan::route_of(
            self.id,
            &self.name,
            &self.delivery_context,
            &self.delivery_exten,
            &self.queue_name,
        )
    }
}

/// An agent (a user with role `agent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: i64,
    pub username: String,
    pub active: bool,
    /// The agent's SIP extension, as stored (`oml users agent`; checked by
    /// [`oml_store::validate_extension`], unique).
    pub extension: String,
}

impl Agent {
    /// The agent's SIP extension: the endpoint's name in pjsip.
    pub fn sip_extension(&self) -> &str {
        &self.extension
    }
}

/// Everything read from the database for rendering and AstDB.
#[derive(Debug, Clone, Default)]
pub struct DialerData {
    pub servers: Vec<Server>,
    pub trunks: Vec<Trunk>,
    pub campaigns: Vec<Campaign>,
    pub agents: Vec<Agent>,
}

/// Reads servers, trunks, campaigns and agents (users with role `agent`)
/// from the store.
pub async fn load(store: &oml_store::Store) -> Result<DialerData, oml_store::StoreError> {
    let servers = store
        .servers()
        .await?
        .into_iter()
        .map(|s| Server {
            id: s.id,
            name: s.name,
            host: s.host,
            ami_port: s.ami_port,
            ami_user: s.ami_user,
            ami_secret: s.ami_secret,
            enabled: s.enabled,
        })
        .collect();
    let trunks = store
        .trunks()
        .await?
        .into_iter()
        .map(|t| Trunk {
            id: t.id,
            name: t.name,
            dial_string: t.dial_string,
            max_channels: t.max_channels,
            server_id: t.server_id,
            caller_id: t.caller_id,
        })
        .collect();
    let mut paths: std::collections::HashMap<i64, oml_store::CallPath> =
        store.call_paths().await?.into_iter().collect();
    let campaigns = store
        .campaigns()
        .await?
        .into_iter()
        .map(|c| Campaign {
            call_path: paths.remove(&c.id).unwrap_or_default(),
            id: c.id,
            name: c.name,
            mode: c.mode.as_str().to_string(),
            trunk_id: c.trunk_id,
            delivery_context: c.delivery_context,
            delivery_exten: c.delivery_exten,
            queue_name: c.queue_name,
            ring_timeout_s: c.ring_timeout_s,
            abandon_seconds: c.abandon_seconds,
            max_abandon_rate: c.max_abandon_rate,
            caller_id: c.caller_id,
            state: c.state.as_str().to_string(),
        })
        .collect();
    let agents = store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.role == oml_store::Role::Agent)
        .map(|u| Agent {
            id: u.id,
            extension: u.extension.unwrap_or_else(|| (1000 + u.id).to_string()),
            username: u.username,
            active: u.active,
        })
        .collect();
    Ok(DialerData {
        servers,
        trunks,
        campaigns,
        agents,
    })
}
