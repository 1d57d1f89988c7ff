//! `oml pbxsim`: runs the AMI-speaking PBX simulator from the shell, so the
//! dialer (or any AMI tool) can be tried and load-tested without Asterisk or
//! a telephone line. Flags map one-to-one onto `oml_pbxsim::SimConfig`.

use crate::output::outln;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use oml_pacing::Schedule;
use oml_pbxsim::{
    parse_answer_rate, parse_number_rule, parse_queue, parse_route, Dist, Fault, NumberOutcome,
    PbxSim, QueueConfig, SimConfig,
};
use secrecy::SecretString;

use crate::cli::{self, GlobalArgs};

mod machines;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Address to listen on (AMI port). Use 127.0.0.1:0 for any free port.
    #[arg(long, default_value = "127.0.0.1:5038")]
    listen: SocketAddr,
    /// AMI user clients log in with.
    #[arg(long, default_value = "oml")]
    user: String,
    /// AMI secret clients log in with. Simulator only: prefer the
    /// OML_AMI_SECRET variable or --secret-file, a flag shows in `ps`.
    #[arg(long, env = cli::AMI_SECRET_ENV, hide_env_values = true)]
    secret: Option<String>,
    /// File whose first line is the AMI secret.
    #[arg(long, conflicts_with = "secret")]
    secret_file: Option<PathBuf>,
    /// Agents in the default queue.
    #[arg(long, default_value_t = 10)]
    agents: usize,
    /// Name of the default queue (answered calls not routed elsewhere go here).
    #[arg(long, default_value = "oml-default")]
    queue: String,
    /// More queues as NAME:AGENTS (repeatable), e.g. --extra-queue sales:5.
    #[arg(long = "extra-queue", value_parser = parse_queue)]
    extra_queues: Vec<QueueConfig>,
    /// Route answered calls of a dialplan context (or a Queue application's
    /// queue name) to a queue, CONTEXT=QUEUE (repeatable).
    #[arg(long = "route", value_parser = parse_route)]
    routes: Vec<(String, String)>,
    /// Probability that a customer answers: 0.3, 30%, or a schedule in
    /// simulated time such as 40%@0,15%@60m (40 % until minute 60, then 15 %).
    #[arg(long, default_value = "0.3", value_parser = parse_answer_rate)]
    answer_rate: Schedule<f64>,
    /// Probability of busy.
    #[arg(long, default_value_t = 0.1)]
    busy_rate: f64,
    /// Probability of congestion.
    #[arg(long, default_value_t = 0.02)]
    congestion_rate: f64,
    /// Ring time before an answer, seconds: 5 | uniform:5:20 | exp:10 | lognormal:8:0.5.
    #[arg(long, default_value = "uniform:5:20")]
    time_to_answer: Dist,
    /// Ring time before an unanswered call gives up (capped by the
    /// Originate Timeout).
    #[arg(long, default_value = "uniform:10:30")]
    no_answer_after: Dist,
    /// How long an answered customer waits in queue before hanging up.
    #[arg(long, default_value = "uniform:5:30")]
    patience: Dist,
    /// Agent talk time, seconds.
    #[arg(long, default_value = "uniform:60:180")]
    talk: Dist,
    /// Agent wrap-up time after each call, seconds.
    #[arg(long, default_value = "5")]
    wrapup: Dist,
    /// Simulated seconds per real second (60: an hour of calls in a minute).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Random seed: the same seed and the same actions give the same calls.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Force the outcome of one number, NUMBER=answer|busy|congestion|noanswer|fail (repeatable).
    #[arg(long = "number", value_parser = parse_number_rule)]
    numbers: Vec<(String, NumberOutcome)>,
    /// Print a statistics line this often (real seconds); 0 = never.
    #[arg(long, default_value_t = 10)]
    stats_every: u64,
    /// Fault injection: drop every client connection this often (real
    /// seconds), to exercise reconnects; 0 = never.
    #[arg(long, default_value_t = 0)]
    drop_every: u64,
    /// A manager.conf-style file (e.g. the rendered oml_manager.conf) whose
    /// `[user]` sections are further AMI users, reread on `manager reload`.
    #[arg(long, value_name = "FILE")]
    manager_file: Option<PathBuf>,
    #[command(flatten)]
    machines: machines::MachineArgs,
}

fn read_secret(a: &Args) -> Result<SecretString> {
    if let Some(p) = &a.secret_file {
        return cli::read_secret_file(p);
    }
    match &a.secret {
        Some(s) if !s.is_empty() => Ok(SecretString::from(s.clone())),
        _ => bail!(
            "no AMI secret: set {}, or give --secret-file PATH (or --secret) for the simulator",
            cli::AMI_SECRET_ENV
        ),
    }
}

/// Builds the simulator configuration from the flags (pure; tested).
pub fn sim_config(a: &Args, secret: SecretString) -> Result<SimConfig> {
    if !(a.time_scale.is_finite() && a.time_scale > 0.0) {
        bail!("--time-scale {} must be a positive number", a.time_scale);
    }
    let mut c = SimConfig::new(&a.user, secret, a.agents);
    c.listen = a.listen;
    c.queues[0].name = a.queue.clone();
    for q in &a.extra_queues {
        if c.queues.iter().any(|x| x.name == q.name) {
            bail!("queue {:?} is given twice", q.name);
        }
        c.queues.push(q.clone());
    }
    for (ctx, q) in &a.routes {
        if !c.queues.iter().any(|x| &x.name == q) {
            bail!("--route {ctx}={q}: no queue named {q:?}; add it with --extra-queue {q}:AGENTS");
        }
        c.routes.insert(ctx.clone(), q.clone());
    }
    c.customers.set_answer_rate(a.answer_rate.clone());
    c.customers.busy_rate = a.busy_rate;
    c.customers.congestion_rate = a.congestion_rate;
    c.customers.check_rates()?;
    c.customers.time_to_answer = a.time_to_answer;
    c.customers.no_answer_after = a.no_answer_after;
    c.customers.patience = a.patience;
    c.talk_time = a.talk;
    c.wrapup_time = a.wrapup;
    c.time_scale = a.time_scale;
    c.seed = a.seed;
    c.numbers = a.numbers.iter().cloned().collect();
    a.machines.apply(&mut c)?;
    if let Some(f) = &a.manager_file {
        std::fs::read_to_string(f).with_context(|| format!("--manager-file {}", f.display()))?;
        c.manager_file = Some(f.clone());
    }
    Ok(c)
}

pub async fn run(_g: &GlobalArgs, a: Args) -> Result<ExitCode> {
    let secret = read_secret(&a)?;
    let cfg = sim_config(&a, secret)?;
    let queues: Vec<String> = cfg
        .queues
        .iter()
        .map(|q| format!("{} ({} agents)", q.name, q.agents))
        .collect();
    let sim = PbxSim::start(cfg).await.with_context(|| {
        format!(
            "cannot listen on {}; is another AMI server (Asterisk?) using the port?",
            a.listen
        )
    })?;
    outln!(
        "pbxsim: AMI on {} as user {:?}; queues: {}; time x{}; seed {}. Ctrl-C to stop.",
        sim.local_addr(),
        a.user,
        queues.join(", "),
        a.time_scale,
        a.seed
    )?;
    let mut tick = tokio::time::interval(Duration::from_secs(a.stats_every.max(1)));
    tick.tick().await;
    let mut drops = tokio::time::interval(Duration::from_secs(a.drop_every.max(1)));
    drops.tick().await;
    loop {
        tokio::select! {
            r = tokio::signal::ctrl_c() => {
                r.context("cannot wait for Ctrl-C")?;
                break;
            }
            _ = tick.tick(), if a.stats_every > 0 => print_stats(&sim)?,
            _ = drops.tick(), if a.drop_every > 0 => {
                outln!("pbxsim: fault injected: dropping {} client connection(s)", sim.connections())?;
                sim.inject(Fault::DropConnections);
            }
        }
    }
    print_stats(&sim)?;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

fn print_stats(sim: &PbxSim) -> Result<()> {
    outln!("pbxsim: {}", sim.stats_line())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: Args,
    }

    fn parse(args: &[&str]) -> Result<SimConfig> {
        let t = T::try_parse_from(std::iter::once("pbxsim").chain(args.iter().copied()))?;
        sim_config(&t.a, SecretString::from("x"))
    }

    #[test]
    fn flags_map_to_config() {
        let c = parse(&[
            "--agents",
            "4",
            "--extra-queue",
            "sales:2",
            "--route",
            "camp=sales",
            "--number",
            "555=busy",
            "--talk",
            "exp:90",
            "--time-scale",
            "60",
            "--answer-rate",
            "40%@0,15%@60m",
        ])
        .unwrap();
        assert_eq!(c.queues.len(), 2);
        assert_eq!(c.queues[0].agents, 4);
        assert_eq!(c.routes["camp"], "sales");
        assert_eq!(c.numbers["555"], NumberOutcome::Busy);
        assert_eq!(c.talk_time, Dist::Exponential { mean: 90.0 });
        assert_eq!(c.time_scale, 60.0);
        assert_eq!(c.customers.answer_rate_at(3599.0), 0.4);
        assert_eq!(c.customers.answer_rate_at(3600.0), 0.15);
    }

    #[test]
    fn bad_flags_are_refused_with_the_flag_named() {
        let e = parse(&["--route", "camp=nosuch"]).unwrap_err().to_string();
        assert!(e.contains("--extra-queue nosuch"), "{e}");
        let e = parse(&["--answer-rate", "0.9", "--busy-rate", "0.2"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("must not exceed 100%"), "{e}");
        assert!(parse(&["--talk", "normal:3"]).is_err());
    }
}
