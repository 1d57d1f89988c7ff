//! What the simulated PBX looks like: who answers, how fast, how long agents
//! talk, which queues exist, how time is scaled. Also the small text forms
//! the `oml pbxsim` command accepts (`uniform:5:15`, `5551000=busy`,
//! `oml-campaign=sales`), parsed here so they can be tested without a shell.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;

use oml_pacing::{Schedule, Step};
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use secrecy::SecretString;

/// A duration distribution, in simulated seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    /// Always this value.
    Fixed(f64),
    /// Uniform between `min` and `max`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Exponential with this mean.
    Exponential {
        /// Mean.
        mean: f64,
    },
    /// Log-normal with this median and shape `sigma`.
    LogNormal {
        /// Median (e^mu).
        median: f64,
        /// Shape.
        sigma: f64,
    },
}

impl Dist {
    /// Draws one value (never negative).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let v = match *self {
            Dist::Fixed(v) => v,
            Dist::Uniform { min, max } => {
                if max > min {
                    rng.gen_range(min..max)
                } else {
                    min
                }
            }
            Dist::Exponential { mean } => match Exp::new(1.0 / mean.max(1e-9)) {
                Ok(d) => d.sample(rng),
                Err(_) => mean,
            },
            Dist::LogNormal { median, sigma } => {
                match LogNormal::new(median.max(1e-9).ln(), sigma.max(0.0)) {
                    Ok(d) => d.sample(rng),
                    Err(_) => median,
                }
            }
        };
        if v.is_finite() {
            v.max(0.0)
        } else {
            0.0
        }
    }
}

/// Error in a command-line form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ParseError(pub String);

impl FromStr for Dist {
    type Err = ParseError;

    /// `5`, `fixed:5`, `uniform:5:15`, `exp:20`, `lognormal:60:0.5`.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let parts: Vec<&str> = s.split(':').collect();
        let num = |i: usize| -> Result<f64, ParseError> {
            let p = parts.get(i).ok_or_else(|| {
                ParseError(format!("distribution {s:?} is missing a number; forms: 5, uniform:5:15, exp:20, lognormal:60:0.5"))
            })?;
            let v: f64 = p
                .trim()
                .parse()
                .map_err(|_| ParseError(format!("{p:?} in distribution {s:?} is not a number")))?;
            if v.is_finite() && v >= 0.0 {
                Ok(v)
            } else {
                Err(ParseError(format!(
                    "{p:?} in distribution {s:?} must be >= 0"
                )))
            }
        };
        let d = match parts[0].to_ascii_lowercase().as_str() {
            "fixed" => Dist::Fixed(num(1)?),
            "uniform" | "u" => {
                let (min, max) = (num(1)?, num(2)?);
                if max < min {
                    return Err(ParseError(format!("uniform:{min}:{max}: max is below min")));
                }
                Dist::Uniform { min, max }
            }
            "exp" | "exponential" => Dist::Exponential { mean: num(1)? },
            "lognormal" | "lognorm" => Dist::LogNormal {
                median: num(1)?,
                sigma: num(2)?,
            },
            _ if parts.len() == 1 => Dist::Fixed(num(0)?),
            other => {
                return Err(ParseError(format!(
                    "unknown distribution {other:?}; use fixed, uniform, exp or lognormal"
                )))
            }
        };
        Ok(d)
    }
}

/// A forced outcome for one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberOutcome {
    /// Answers (after the model's time to answer) and goes to a queue.
    Answer,
    /// Busy (Reason 5, cause 17).
    Busy,
    /// Congestion (Reason 8, cause 34).
    Congestion,
    /// Rings until the Originate timeout (Reason 3, cause 19).
    NoAnswer,
    /// Cannot be placed at all (Reason 0).
    Fail,
}

impl FromStr for NumberOutcome {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "answer" | "answered" => Self::Answer,
            "busy" => Self::Busy,
            "congestion" => Self::Congestion,
            "noanswer" | "no-answer" => Self::NoAnswer,
            "fail" | "failed" => Self::Fail,
            _ => {
                return Err(ParseError(format!(
                    "unknown outcome {s:?}; use answer, busy, congestion, noanswer or fail"
                )))
            }
        })
    }
}

/// Parses `NUMBER=OUTCOME`.
pub fn parse_number_rule(s: &str) -> Result<(String, NumberOutcome), ParseError> {
    let (n, o) = s
        .split_once('=')
        .ok_or_else(|| ParseError(format!("{s:?}: expected NUMBER=OUTCOME, e.g. 5551000=busy")))?;
    Ok((n.trim().to_owned(), o.trim().parse()?))
}

/// Parses `CONTEXT=QUEUE`.
pub fn parse_route(s: &str) -> Result<(String, String), ParseError> {
    let (c, q) = s
        .split_once('=')
        .filter(|(c, q)| !c.trim().is_empty() && !q.trim().is_empty())
        .ok_or_else(|| {
            ParseError(format!(
                "{s:?}: expected CONTEXT=QUEUE, e.g. oml-campaign=sales"
            ))
        })?;
    Ok((c.trim().to_owned(), q.trim().to_owned()))
}

/// Parses `NAME:AGENTS`.
pub fn parse_queue(s: &str) -> Result<QueueConfig, ParseError> {
    let (n, a) = s
        .split_once(':')
        .ok_or_else(|| ParseError(format!("{s:?}: expected NAME:AGENTS, e.g. sales:10")))?;
    let agents = a
        .trim()
        .parse()
        .map_err(|_| ParseError(format!("{s:?}: {a:?} is not a number of agents")))?;
    Ok(QueueConfig {
        name: n.trim().to_owned(),
        agents,
    })
}

/// How simulated customers behave.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerModel {
    /// Probability a call is answered by a person (from the start; see
    /// `answer_rate_steps` for later).
    pub answer_rate: f64,
    /// Later answer rates: from `at_s` simulated seconds after the PBX
    /// started on, `value` (`--answer-rate 15%@0,40%@65m`), in time order.
    pub answer_rate_steps: Vec<Step<f64>>,
    /// Probability of busy (drawn after answer_rate).
    pub busy_rate: f64,
    /// Probability of congestion (drawn after busy).
    pub congestion_rate: f64,
    /// Ring time before a person answers.
    pub time_to_answer: Dist,
    /// Ring time before an unanswered call gives up (capped by the
    /// Originate `Timeout`).
    pub no_answer_after: Dist,
    /// How long an answered customer waits in queue before hanging up.
    pub patience: Dist,
}

impl Default for CustomerModel {
    fn default() -> Self {
        Self {
            answer_rate: 0.3,
            answer_rate_steps: Vec::new(),
            busy_rate: 0.1,
            congestion_rate: 0.02,
            time_to_answer: Dist::Uniform {
                min: 5.0,
                max: 20.0,
            },
            no_answer_after: Dist::Uniform {
                min: 10.0,
                max: 30.0,
            },
            patience: Dist::Uniform {
                min: 5.0,
                max: 30.0,
            },
        }
    }
}

impl CustomerModel {
    /// The answer rate `sim_s` simulated seconds after the PBX started.
    pub fn answer_rate_at(&self, sim_s: f64) -> f64 {
        self.answer_rate_steps
            .iter()
            .take_while(|s| s.at_s <= sim_s)
            .last()
            .map_or(self.answer_rate, |s| s.value)
    }

    /// The answer rate over time.
    pub fn answer_rate_schedule(&self) -> Schedule<f64> {
        Schedule {
            start: self.answer_rate,
            steps: self.answer_rate_steps.clone(),
        }
    }

    /// Sets the answer rate over time.
    pub fn set_answer_rate(&mut self, s: Schedule<f64>) {
        self.answer_rate = s.start;
        self.answer_rate_steps = s.steps;
    }
}

/// A queue and how many agents are logged in to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// Queue name.
    pub name: String,
    /// Agents logged in.
    pub agents: usize,
}

/// A further AMI user with restricted permissions, like a manager.conf
/// section with `read =` / `write =` class lists (e.g. read `system`,
/// write `system,command,reporting`). The main user has every class.
#[derive(Clone, Debug)]
pub struct SimUser {
    /// Section name (the login Username).
    pub username: String,
    /// Its secret.
    pub secret: SecretString,
    /// Event classes it receives (`all` = every class).
    pub read: Vec<String>,
    /// Action classes it may send (`all` = every class).
    pub write: Vec<String>,
}

/// Everything about a simulated PBX.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// AMI user.
    pub username: String,
    /// AMI secret.
    pub secret: SecretString,
    /// Queues with their agents. The first is the default queue.
    pub queues: Vec<QueueConfig>,
    /// Context (or `Queue` application data) → queue.
    pub routes: HashMap<String, String>,
    /// Customer behaviour.
    pub customers: CustomerModel,
    /// Forced outcomes by number.
    pub numbers: HashMap<String, NumberOutcome>,
    /// Agent talk time.
    pub talk_time: Dist,
    /// Agent wrap-up time after each call.
    pub wrapup_time: Dist,
    /// Simulated seconds per real second (60 = a minute per second).
    pub time_scale: f64,
    /// RNG seed: the same seed and the same actions give the same calls.
    pub seed: u64,
    /// Largest frame accepted from a client.
    pub max_frame: usize,
    /// Asterisk version the greeting and `core show version` claim.
    pub ami_version: String,
    /// Contexts the simulated dialplan has besides the routed ones (the
    /// contexts `Local/NUMBER@CONTEXT` dial strings name). When `routes`
    /// is not empty, an Originate into any other Context is refused with
    /// `Extension does not exist.`, and a Local channel into another
    /// context fails with Reason 0, as Asterisk does. With no routes every
    /// context exists.
    pub dial_contexts: Vec<String>,
    /// Users besides `username`, with restricted permissions.
    pub users: Vec<SimUser>,
    /// A manager.conf-style file whose `[user]` sections (`secret`, `read`,
    /// `write`) are further AMI users, read at start and again on
    /// `Reload` and `Command: manager reload`, as Asterisk rereads its
    /// manager configuration.
    pub manager_file: Option<std::path::PathBuf>,
    /// Answering machines and `AMD()` (for campaigns whose AstDB
    /// settings ask for detection).
    pub machines: crate::machines::MachineModel,
    /// Where recording campaigns' calls leave their (empty) recording
    /// files, named as `MixMonitor` names them; `None` writes none.
    pub recordings: Option<std::path::PathBuf>,
    /// Preview calls (agent-first, an Originate into context
    /// `oml-preview`): how long the agent's extension rings before they
    /// answer (simulated seconds).
    pub agent_answer_time: Dist,
    /// Agents' interfaces (`PJSIP/1001`) that never answer a preview call.
    pub agents_not_answering: Vec<String>,
}

/// The users of a manager.conf-style text: every section but `[general]`
/// that has a `secret`. `;` starts a comment; `#include` lines are ignored.
pub fn parse_manager_users(text: &str) -> Vec<SimUser> {
    struct Section {
        name: String,
        secret: Option<String>,
        read: Vec<String>,
        write: Vec<String>,
    }
    fn finish(section: Option<Section>, out: &mut Vec<SimUser>) {
        let Some(Section {
            name,
            secret: Some(secret),
            read,
            write,
        }) = section
        else {
            return;
        };
        if !name.eq_ignore_ascii_case("general") {
            out.retain(|u| u.username != name);
            out.push(SimUser {
                username: name,
                secret: SecretString::from(secret),
                read,
                write,
            });
        }
    }
    let classes = |v: &str| -> Vec<String> {
        v.split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    };
    let mut out = Vec::new();
    let mut current: Option<Section> = None;
    for raw in text.lines() {
        let line = raw.split(';').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            finish(current.take(), &mut out);
            current = Some(Section {
                name: name.trim().to_string(),
                secret: None,
                read: vec!["all".into()],
                write: vec!["all".into()],
            });
            continue;
        }
        let (Some(c), Some((k, v))) = (current.as_mut(), line.split_once('=')) else {
            continue;
        };
        let v = v.trim_start_matches('>').trim();
        match k.trim() {
            "secret" => c.secret = Some(v.to_string()),
            "read" => c.read = classes(v),
            "write" => c.write = classes(v),
            _ => {}
        }
    }
    finish(current, &mut out);
    out
}

impl SimConfig {
    /// Defaults: listen on 127.0.0.1 (free port), one queue `oml-default`
    /// with `agents` agents, real time.
    pub fn new(username: &str, secret: SecretString, agents: usize) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            username: username.to_owned(),
            secret,
            queues: vec![QueueConfig {
                name: "oml-default".into(),
                agents,
            }],
            routes: HashMap::new(),
            customers: CustomerModel::default(),
            numbers: HashMap::new(),
            talk_time: Dist::Uniform {
                min: 60.0,
                max: 180.0,
            },
            wrapup_time: Dist::Fixed(5.0),
            time_scale: 1.0,
            seed: 1,
            max_frame: 64 * 1024,
            // What Asterisk 22 greets with.
            ami_version: "11.0.0".into(),
            dial_contexts: vec!["from-oml".into()],
            users: Vec::new(),
            manager_file: None,
            machines: crate::machines::MachineModel::default(),
            recordings: None,
            agent_answer_time: Dist::Fixed(2.0),
            agents_not_answering: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parses_distributions() {
        assert_eq!("5".parse::<Dist>().unwrap(), Dist::Fixed(5.0));
        assert_eq!(
            "uniform:5:15".parse::<Dist>().unwrap(),
            Dist::Uniform {
                min: 5.0,
                max: 15.0
            }
        );
        assert_eq!(
            "exp:20".parse::<Dist>().unwrap(),
            Dist::Exponential { mean: 20.0 }
        );
        assert!("uniform:15:5".parse::<Dist>().is_err());
        assert!("normal:1".parse::<Dist>().is_err());
        assert!("uniform:a:5".parse::<Dist>().is_err());
        assert!("exp:-1".parse::<Dist>().is_err());
    }

    #[test]
    fn samples_have_the_right_mean() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for (d, mean) in [
            (
                Dist::Uniform {
                    min: 10.0,
                    max: 20.0,
                },
                15.0,
            ),
            (Dist::Exponential { mean: 20.0 }, 20.0),
            (
                Dist::LogNormal {
                    median: 60.0,
                    sigma: 0.5,
                },
                60.0 * (0.125f64).exp(),
            ),
        ] {
            let n = 20_000;
            let m: f64 = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            assert!((m - mean).abs() / mean < 0.05, "{d:?}: {m} vs {mean}");
        }
    }

    #[test]
    fn parses_rules() {
        assert_eq!(
            parse_number_rule("5551000=busy").unwrap(),
            ("5551000".into(), NumberOutcome::Busy)
        );
        assert!(parse_number_rule("5551000").is_err());
        assert_eq!(
            parse_route("oml-campaign=sales").unwrap(),
            ("oml-campaign".into(), "sales".into())
        );
        assert!(parse_route("=sales").is_err());
        assert_eq!(parse_queue("sales:10").unwrap().agents, 10);
    }
}
