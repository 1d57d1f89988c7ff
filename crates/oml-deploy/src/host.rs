//! What the host operations share, in one place both sides import: is an
//! address this host, the role and password in a database URL, whether
//! PostgreSQL takes a password, an AMI login, and running the service
//! commands (`systemctl ...`) through a [`Runner`] that tests replace.

use crate::{bail, Context, Error, Result, Say};
use oml_ami::{AmiClient, ClientConfig};
use oml_ops::network::HostFacts;
use oml_store::AsteriskServer;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, Executor};
use std::net::IpAddr;

/// Is `host` this machine (loopback, its inventory address or names)?
pub fn is_this_host(host: &str, cfg: &oml_ops::InventoryConfig, facts: &HostFacts) -> bool {
    let host = host.trim();
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip == cfg.ip || facts.addresses.contains(&ip))
        || cfg
            .fqdn
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case(host))
        || host.eq_ignore_ascii_case(&facts.hostname)
}

/// `url` with its password replaced by `password`.
pub fn with_password(url: &SecretString, password: &SecretString) -> Result<SecretString> {
    let mut u = url::Url::parse(url.expose_secret())
        .map_err(|_| Error::new("the database URL is not valid"))?;
    u.set_password(Some(password.expose_secret()))
        .map_err(|_| Error::new("the database URL cannot carry a password"))?;
    Ok(SecretString::from(u.to_string()))
}

/// The role and password a database URL connects with.
pub fn url_role(url: &SecretString) -> Result<(String, Option<String>)> {
    let u = url::Url::parse(url.expose_secret())
        .map_err(|_| Error::new("the database URL is not valid"))?;
    let user = percent_encoding::percent_decode_str(u.username())
        .decode_utf8_lossy()
        .into_owned();
    let pw = u.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    Ok((user, pw))
}

/// A PostgreSQL string literal (single quotes doubled): `ALTER ROLE` takes
/// no bind parameters.
fn pg_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `ALTER ROLE role PASSWORD ...`, connected with `connect_with`.
pub async fn alter_role(
    connect_with: &SecretString,
    role: &str,
    password: &SecretString,
) -> Result<()> {
    let mut c = sqlx::PgConnection::connect(connect_with.expose_secret())
        .await
        .map_err(|e| {
            Error(format!(
                "cannot connect to PostgreSQL: {}",
                scrub(&e.to_string(), connect_with)
            ))
        })?;
    let sql = format!(
        "ALTER ROLE {} PASSWORD {}",
        oml_backup::pg::quote_ident(role),
        pg_literal(password.expose_secret())
    );
    c.execute(sql.as_str()).await.map_err(|e| {
        Error(format!(
            "ALTER ROLE {role} failed: {}",
            scrub(&e.to_string(), connect_with)
        ))
    })?;
    c.close().await.ok();
    Ok(())
}

/// Whether a new connection with `url` is accepted (the error, scrubbed).
pub async fn pg_opens(url: &SecretString) -> Result<(), String> {
    match sqlx::PgConnection::connect(url.expose_secret()).await {
        Ok(c) => {
            c.close().await.ok();
            Ok(())
        }
        Err(e) => Err(scrub(&e.to_string(), url)),
    }
}

/// Error texts from the database never carry the statement, but keep only
/// the first line to be sure no literal is echoed; the URL and each
/// credential in it (user-info, `password=`) are removed too.
fn scrub(e: &str, url: &SecretString) -> String {
    oml_store::scrub_url(e.lines().next().unwrap_or(""), url.expose_secret())
}

/// Logs in to an Asterisk server's AMI with `secret` (no keep-alive).
pub async fn ami_login(server: &AsteriskServer, secret: &SecretString) -> Result<AmiClient> {
    let mut cfg = ClientConfig::new(
        format!("{}:{}", server.host, server.ami_port),
        server.ami_user.clone(),
        secret.clone(),
    );
    cfg.ping_interval = None;
    AmiClient::connect(cfg).await.map_err(|e| {
        Error(format!(
            "Asterisk server `{}` ({}:{}): {e}",
            server.name, server.host, server.ami_port
        ))
    })
}

/// Runs one service command; the error carries its output.
pub trait Runner {
    fn run(&self, command: &[String]) -> Result<()>;
}

/// Runs commands on this host.
pub struct System;

impl Runner for System {
    fn run(&self, c: &[String]) -> Result<()> {
        let out = std::process::Command::new(&c[0])
            .args(&c[1..])
            .output()
            .with_context(|| format!("cannot run `{}`", c.join(" ")))?;
        if !out.status.success() {
            bail!(
                "`{}` failed ({}): {}{}",
                c.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim(),
                String::from_utf8_lossy(&out.stdout).trim()
            );
        }
        Ok(())
    }
}

/// A restart that stopped part-way: which command failed, why, and the
/// commands that were not run after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartFailed {
    pub why: String,
    pub not_run: Vec<String>,
}

impl std::fmt::Display for RestartFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.why)?;
        if !self.not_run.is_empty() {
            write!(f, " (not run after it: {})", self.not_run.join("; "))?;
        }
        Ok(())
    }
}

/// Runs the restart commands in order; stops at the first failure.
pub fn restart(
    commands: &[Vec<String>],
    runner: &dyn Runner,
    say: Say<'_>,
) -> Result<(), RestartFailed> {
    for (i, c) in commands.iter().enumerate() {
        say(&format!("running   {}", c.join(" ")));
        if let Err(e) = runner.run(c) {
            return Err(RestartFailed {
                why: e.0,
                not_run: commands[i + 1..].iter().map(|c| c.join(" ")).collect(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn restarts_stop_at_the_first_failure_and_say_what_is_left() {
        let quiet = |_: &str| {};
        assert!(restart(&[cmd(&["true"]), cmd(&["true"])], &System, &quiet).is_ok());
        let e = restart(
            &[
                cmd(&["true"]),
                cmd(&["sh", "-c", "echo 'job for kamailio failed' >&2; exit 3"]),
                cmd(&["systemctl", "reload", "nginx"]),
            ],
            &System,
            &quiet,
        )
        .unwrap_err();
        assert!(e.why.contains("job for kamailio failed"), "{e}");
        assert!(e.why.contains("exit status: 3"), "{e}");
        assert_eq!(e.not_run, ["systemctl reload nginx"]);
        let e = restart(
            &[cmd(&["/nonexistent/systemctl", "restart", "oml"])],
            &System,
            &quiet,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("cannot run `/nonexistent/systemctl restart oml`"),
            "{e}"
        );
    }

    #[test]
    fn urls_give_their_role_and_take_a_new_password() {
        let url = SecretString::from("postgres://oml:old%40pw@127.0.0.1:5432/oml");
        assert_eq!(
            url_role(&url).unwrap(),
            ("oml".to_string(), Some("old@pw".to_string()))
        );
        let new = with_password(&url, &SecretString::from("n'ew")).unwrap();
        assert_eq!(url_role(&new).unwrap().1.as_deref(), Some("n'ew"));
        assert_eq!(pg_literal("n'ew"), "'n''ew'");
        let e = url_role(&SecretString::from("not a url secret")).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    /// Issue 16 item 7: no credential form of the URL reaches an error.
    #[test]
    fn database_errors_never_show_credentials() {
        for url in [
            "postgres://u@127.0.0.1:1/x?password=topsecret",
            "postgres://u:topsecret@127.0.0.1:1/x",
            "postgres://u@127.0.0.1:1/x?sslmode=disable&PassWord=topsecret",
        ] {
            let url = SecretString::from(url);
            let quoted = format!(
                "error connecting to {}: password topsecret refused\nsecond line",
                url.expose_secret()
            );
            let shown = scrub(&quoted, &url);
            assert!(!shown.contains("topsecret"), "{shown}");
            assert!(!shown.contains("second line"), "{shown}");
        }
    }

    #[tokio::test]
    async fn a_refused_connection_does_not_show_the_password() {
        let url = SecretString::from("postgres://u@127.0.0.1:1/x?password=topsecret");
        let e = pg_opens(&url).await.unwrap_err();
        assert!(!e.contains("topsecret"), "{e}");
        let e = alter_role(&url, "r", &SecretString::from("newpw"))
            .await
            .unwrap_err()
            .to_string();
        assert!(!e.contains("topsecret") && !e.contains("newpw"), "{e}");
    }
}
