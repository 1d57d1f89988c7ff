//! `oml deploy --change-passwords`: the inventory holds new passwords; apply
//! each to its service and to every file that carries it, all or nothing.
//!
//! What oml applies: the PostgreSQL role oml connects as (`postgres_password`,
//! `ALTER ROLE`, then `oml.env`), the AMI user of this host's Asterisk
//! (`ami_password`: `oml_manager.conf`, `manager reload`, and the secret oml
//! keeps for each Asterisk server on this host), and the console users
//! `admin` (`admin_pass`) and `dialer_user` (`dialer_password`) when they
//! exist. Everything is checked first (the current credentials work, the new
//! passwords are acceptable); then each step is done and verified with the
//! new password, and a step that fails puts back every step before it, in
//! reverse, and names the service that refused.

use crate::cli::GlobalArgs;
use crate::commands::render::{self as render_cmd, InventoryArg};
use anyhow::{anyhow, bail, Context, Result};
use oml_ami::{AmiClient, ClientConfig};
use oml_ops::network::HostFacts;
use oml_ops::plan::{Plan, Step};
use oml_ops::render;
use oml_store::{AsteriskServer, Location, OpenMode, ServerSpec, Store};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, Executor};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `--change-passwords` takes besides the inventory.
pub struct Options<'a> {
    pub dry_run: bool,
    pub yes: bool,
    pub no_restart: bool,
    pub root: &'a Option<PathBuf>,
    pub inventory: &'a InventoryArg,
}

/// The PostgreSQL role change: oml's URL now, and the same with the new password.
struct PgChange {
    role: String,
    old_url: SecretString,
    new_url: SecretString,
}

/// A console user whose password changes.
struct UserChange {
    username: String,
    password: SecretString,
    variable: &'static str,
}

/// Something done that can be put back.
enum Undo {
    Role(PgChange),
    /// The files written, and the Asterisk servers to reload after putting
    /// them back (with the secret that may now be in force).
    Files(Plan, Vec<AsteriskServer>, SecretString),
    Servers(Vec<AsteriskServer>),
}

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

pub(crate) fn with_password(url: &SecretString, password: &SecretString) -> Result<SecretString> {
    let mut u = url::Url::parse(url.expose_secret()).context("the database URL is not valid")?;
    u.set_password(Some(password.expose_secret()))
        .map_err(|_| anyhow!("the database URL cannot carry a password"))?;
    Ok(SecretString::from(u.to_string()))
}

pub(crate) fn url_role(url: &SecretString) -> Result<(String, Option<String>)> {
    let u = url::Url::parse(url.expose_secret()).context("the database URL is not valid")?;
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

async fn alter_role(
    connect_with: &SecretString,
    role: &str,
    password: &SecretString,
) -> Result<()> {
    let mut c = sqlx::PgConnection::connect(connect_with.expose_secret())
        .await
        .map_err(|e| anyhow!("cannot connect to PostgreSQL: {}", scrub(&e.to_string())))?;
    let sql = format!(
        "ALTER ROLE {} PASSWORD {}",
        oml_backup::pg::quote_ident(role),
        pg_literal(password.expose_secret())
    );
    c.execute(sql.as_str())
        .await
        .map_err(|e| anyhow!("ALTER ROLE {role} failed: {}", scrub(&e.to_string())))?;
    c.close().await.ok();
    Ok(())
}

/// Whether a new connection with `url` is accepted (the error, scrubbed).
pub(crate) async fn pg_opens(url: &SecretString) -> Result<(), String> {
    match sqlx::PgConnection::connect(url.expose_secret()).await {
        Ok(c) => {
            c.close().await.ok();
            Ok(())
        }
        Err(e) => Err(scrub(&e.to_string())),
    }
}

/// Error texts from the database never carry the statement, but keep only
/// the first line to be sure no literal is echoed.
fn scrub(e: &str) -> String {
    e.lines().next().unwrap_or("").to_string()
}

pub(crate) async fn ami_login(server: &AsteriskServer, secret: &SecretString) -> Result<AmiClient> {
    let mut cfg = ClientConfig::new(
        format!("{}:{}", server.host, server.ami_port),
        server.ami_user.clone(),
        secret.clone(),
    );
    cfg.ping_interval = None;
    AmiClient::connect(cfg).await.map_err(|e| {
        anyhow!(
            "Asterisk server `{}` ({}:{}): {e}",
            server.name,
            server.host,
            server.ami_port
        )
    })
}

pub async fn run(g: &GlobalArgs, o: Options<'_>) -> Result<ExitCode> {
    let ctx = render_cmd::context(g, o.inventory).await?;
    let facts = HostFacts::collect().context("reading this machine's addresses")?;
    let cfg = &ctx.inventory;
    let root = render_cmd::root(g, o.root)?;
    let store = g.open_store().await?;

    // What changes.
    let pg = match &g.database_url {
        Some(url) => {
            let url = SecretString::from(url.clone());
            let (role, current) = url_role(&url)?;
            if role != cfg.postgres.user {
                bail!(
                    "`postgres_user` is {} but oml connects to PostgreSQL as {role}: fix the inventory or OML_DATABASE_URL; nothing was changed",
                    cfg.postgres.user
                );
            }
            (current.as_deref() != Some(cfg.postgres.password.expose_secret())).then(|| {
                Ok::<_, anyhow::Error>(PgChange {
                    role,
                    new_url: with_password(&url, &cfg.postgres.password)?,
                    old_url: url,
                })
            })
        }
        None => None,
    }
    .transpose()?;
    let local_servers: Vec<AsteriskServer> = store
        .servers()
        .await?
        .into_iter()
        .filter(|s| s.ami_user == cfg.ami_user && is_this_host(&s.host, cfg, &facts))
        .collect();
    let ami_changes: Vec<&AsteriskServer> = local_servers
        .iter()
        .filter(|s| s.ami_secret.expose_secret() != cfg.ami_password.expose_secret())
        .collect();
    let mut users: Vec<UserChange> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut wanted = vec![(
        "admin".to_string(),
        cfg.admin_password.clone(),
        "admin_pass",
    )];
    if let (Some(u), Some(p)) = (&cfg.dialer_user, &cfg.dialer_password) {
        wanted.push((u.clone(), p.clone(), "dialer_password"));
    }
    for (username, password, variable) in wanted {
        match store.user_by_name(&username).await? {
            Some(u) if oml_store::verify_password_hash(&password, &u.password_hash) => {}
            Some(_) => {
                oml_store::validate_password(&password).with_context(|| {
                    format!("`{variable}` in the inventory; nothing was changed")
                })?;
                users.push(UserChange {
                    username,
                    password,
                    variable,
                });
            }
            None => notes.push(format!(
                "`{variable}`: there is no console user `{username}`; not applied"
            )),
        }
    }
    if g.database_url.is_none() {
        notes.push("`postgres_password`: oml keeps its data in SQLite; the PostgreSQL role is not oml's to change".into());
    }
    if local_servers.is_empty() {
        notes.push(format!(
            "`ami_password`: no Asterisk server on this host is configured in oml with AMI user `{}`; only oml_manager.conf is rewritten",
            cfg.ami_user
        ));
    }
    let plan = render::plan(&ctx, &root)?;

    // Show it.
    if let Some(p) = &pg {
        println!(
            "postgres  role {}: new password (ALTER ROLE), then oml.env",
            p.role
        );
    }
    for s in &ami_changes {
        println!(
            "asterisk  AMI user {} on `{}` ({}:{}): new secret (oml_manager.conf, manager reload)",
            s.ami_user, s.name, s.host, s.ami_port
        );
    }
    for u in &users {
        println!(
            "console   user {}: new password (`{}`)",
            u.username, u.variable
        );
    }
    for s in plan.changes() {
        println!("{s}");
    }
    for n in &notes {
        println!("note: {n}");
    }
    if pg.is_none() && ami_changes.is_empty() && users.is_empty() && plan.is_noop() {
        println!("nothing to change: every password in the inventory is already in use");
        return Ok(ExitCode::SUCCESS);
    }

    // Check the current credentials before anything changes.
    for s in &ami_changes {
        let c = ami_login(s, &s.ami_secret)
            .await
            .context("the AMI secret oml has now is refused; nothing was changed")?;
        c.logoff().await.ok();
    }
    if o.dry_run {
        println!();
        print!("{}", plan.diff());
        println!("dry run: nothing changed");
        return Ok(ExitCode::SUCCESS);
    }
    crate::cli::confirm(
        o.yes,
        "change passwords",
        "Apply these passwords? Type yes: ",
        "yes",
    )?;
    store.close().await;

    let mut done: Vec<Undo> = Vec::new();
    let result = apply(&mut done, pg, &plan, &ami_changes, &users, cfg, g).await;
    if let Err(e) = result {
        let undo_errors = undo(done, g).await;
        let mut msg = format!("{e:#}\nEverything done before was put back; nothing changed.");
        if !undo_errors.is_empty() {
            msg = format!(
                "{e:#}\nPutting back failed too, fix by hand: {}",
                undo_errors.join("; ")
            );
        }
        bail!(msg);
    }
    let changed: Vec<PathBuf> = plan.changes().map(|s| s.path().to_path_buf()).collect();
    let oml_restart = oml_ops::network::services_for(&changed, &root, &ctx.oml.data_dir)
        .contains(&oml_ops::network::Service::Oml);
    if oml_restart {
        if root == Path::new("/") && !o.no_restart {
            if let Err(e) = super::deploy::restart(&oml_ops::network::Service::Oml.commands(false))
            {
                println!(
                    "warning: {}; restart oml to use the new settings",
                    crate::cli::one_line(&e)
                );
            }
        } else {
            println!("not run   systemctl restart oml (oml reads oml.env when it starts)");
        }
    }
    println!("passwords applied");
    Ok(ExitCode::SUCCESS)
}

async fn apply(
    done: &mut Vec<Undo>,
    pg: Option<PgChange>,
    plan: &Plan,
    ami: &[&AsteriskServer],
    users: &[UserChange],
    cfg: &oml_ops::InventoryConfig,
    g: &GlobalArgs,
) -> Result<()> {
    // PostgreSQL first: it carries oml's own data.
    let store_location = match &pg {
        Some(p) => {
            alter_role(&p.old_url, &p.role, &cfg.postgres.password)
                .await
                .context("PostgreSQL refused the new password")?;
            let location = Location::Postgres(p.new_url.clone());
            let url = p.new_url.clone();
            done.push(Undo::Role(PgChange {
                role: p.role.clone(),
                old_url: p.old_url.clone(),
                new_url: p.new_url.clone(),
            }));
            pg_opens(&url).await.map_err(|e| {
                anyhow!(
                    "PostgreSQL does not accept the new password for {}: {e}",
                    p.role
                )
            })?;
            println!("done      postgres role {}", p.role);
            location
        }
        None => g.location(),
    };
    // Files, then Asterisk reads them.
    plan.apply().context("writing the configuration files")?;
    done.push(Undo::Files(
        plan.clone(),
        ami.iter().map(|s| (*s).clone()).collect(),
        cfg.ami_password.clone(),
    ));
    for s in ami {
        let c = ami_login(s, &s.ami_secret).await.context("Asterisk")?;
        c.command("manager reload")
            .await
            .map_err(|e| anyhow!("Asterisk server `{}`: manager reload failed: {e}", s.name))?;
        c.logoff().await.ok();
        let check = ami_login(s, &cfg.ami_password).await.map_err(|e| {
            anyhow!("Asterisk refused the new AMI secret after manager reload ({e}); is oml_manager.conf included by manager.conf?")
        })?;
        check.logoff().await.ok();
        println!("done      asterisk AMI user {} on `{}`", s.ami_user, s.name);
    }
    // oml's own records last.
    let store = Store::open(&store_location, OpenMode::Existing).await?;
    let result = async {
        done.push(Undo::Servers(ami.iter().map(|s| (*s).clone()).collect()));
        for s in ami {
            store
                .update_server(
                    &s.name,
                    &ServerSpec {
                        name: s.name.clone(),
                        host: s.host.clone(),
                        ami_port: s.ami_port,
                        ami_user: s.ami_user.clone(),
                        ami_secret: cfg.ami_password.clone(),
                        enabled: s.enabled,
                    },
                )
                .await
                .context("oml's database")?;
        }
        for u in users {
            store
                .set_password(&u.username, &u.password, false)
                .await
                .with_context(|| format!("console user {}", u.username))?;
            println!("done      console user {}", u.username);
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    store.close().await;
    result
}

/// Puts back what `apply` did, newest first; returns what could not be put back.
async fn undo(done: Vec<Undo>, g: &GlobalArgs) -> Vec<String> {
    let mut errors = Vec::new();
    // Until the role is put back, oml's database takes the new password.
    let mut location = done
        .iter()
        .find_map(|u| match u {
            Undo::Role(p) => Some(Location::Postgres(p.new_url.clone())),
            _ => None,
        })
        .unwrap_or_else(|| g.location());
    for u in done.into_iter().rev() {
        match u {
            Undo::Servers(servers) => {
                let r = async {
                    let store = Store::open(&location, OpenMode::Existing).await?;
                    for s in &servers {
                        store
                            .update_server(
                                &s.name,
                                &ServerSpec {
                                    name: s.name.clone(),
                                    host: s.host.clone(),
                                    ami_port: s.ami_port,
                                    ami_user: s.ami_user.clone(),
                                    ami_secret: s.ami_secret.clone(),
                                    enabled: s.enabled,
                                },
                            )
                            .await?;
                    }
                    store.close().await;
                    Ok::<_, anyhow::Error>(())
                }
                .await;
                if let Err(e) = r {
                    errors.push(format!("the AMI secrets in oml's database ({e:#})"));
                }
            }
            Undo::Files(plan, servers, new_secret) => {
                for step in &plan.steps {
                    if let Step::Write {
                        path, old, mode, ..
                    } = step
                    {
                        let r = match old {
                            Some(text) => {
                                oml_ops::fsutil::write_atomic(path, text.as_bytes(), Some(*mode))
                            }
                            None => std::fs::remove_file(path),
                        };
                        if let Err(e) = r {
                            errors.push(format!("{} ({e})", path.display()));
                        }
                    }
                }
                println!("put back  the configuration files");
                for s in &servers {
                    let mut reloaded = false;
                    for secret in [&s.ami_secret, &new_secret] {
                        if let Ok(c) = ami_login(s, secret).await {
                            reloaded = c.command("manager reload").await.is_ok();
                            c.logoff().await.ok();
                            if reloaded {
                                break;
                            }
                        }
                    }
                    if !reloaded {
                        errors.push(format!(
                            "`manager reload` on Asterisk server `{}` (run it on the Asterisk console)",
                            s.name
                        ));
                    }
                }
            }
            Undo::Role(p) => {
                let old = match url_role(&p.old_url) {
                    Ok((_, Some(pw))) => SecretString::from(pw),
                    _ => {
                        errors.push(format!("the password of PostgreSQL role {}", p.role));
                        continue;
                    }
                };
                match alter_role(&p.new_url, &p.role, &old).await {
                    Ok(()) => println!("put back  postgres role {}", p.role),
                    Err(e) => errors.push(format!("PostgreSQL role {} ({e:#})", p.role)),
                }
                location = Location::Postgres(p.old_url);
            }
        }
    }
    errors
}
