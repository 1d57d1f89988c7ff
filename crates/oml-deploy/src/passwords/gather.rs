//! Reading what a password change starts from: oml's database URL, the
//! Asterisk servers on this host, the console users and their current
//! hashes, the files re-rendered. Nothing is changed here.

use super::plan::{Found, PgChange, UserChange, UNMANAGED};
use crate::host::{is_this_host, url_role, with_password};
use crate::{bail, Context, Result};
use oml_ops::network::HostFacts;
use oml_ops::render::RenderContext;
use oml_store::Store;
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;

/// Gathers what changes. `database_url` is oml's PostgreSQL URL (`None`
/// on SQLite). Refuses, changing nothing, when a new console password is
/// not acceptable or the inventory's PostgreSQL user is not oml's.
pub async fn gather(
    ctx: &RenderContext,
    inv: &oml_ops::Inventory,
    root: &Path,
    store: &Store,
    database_url: Option<&SecretString>,
    facts: &HostFacts,
) -> Result<Found> {
    let cfg = &ctx.inventory;
    let pg = match database_url {
        Some(url) => {
            let (role, current) = url_role(url)?;
            if role != cfg.postgres.user {
                bail!(
                    "`postgres_user` is {} but oml connects to PostgreSQL as {role}: fix the inventory or OML_DATABASE_URL; nothing was changed",
                    cfg.postgres.user
                );
            }
            if current.as_deref() != Some(cfg.postgres.password.expose_secret()) {
                Some(PgChange {
                    role,
                    new_url: with_password(url, &cfg.postgres.password)?,
                    old_url: url.clone(),
                })
            } else {
                None
            }
        }
        None => None,
    };
    let local_servers = store
        .servers()
        .await?
        .into_iter()
        .filter(|s| s.ami_user == cfg.ami_user && is_this_host(&s.host, cfg, facts))
        .collect();
    let mut wanted = vec![(
        "admin".to_string(),
        cfg.admin_password.clone(),
        "admin_pass",
    )];
    if let (Some(u), Some(p)) = (&cfg.dialer_user, &cfg.dialer_password) {
        wanted.push((u.clone(), p.clone(), "dialer_password"));
    }
    let mut users = Vec::new();
    let mut missing_users = Vec::new();
    for (username, password, variable) in wanted {
        match store.user_by_name(&username).await? {
            Some(u) if oml_store::verify_password_hash(&password, &u.password_hash) => {}
            Some(u) => {
                oml_store::validate_password(&password).with_context(|| {
                    format!("`{variable}` in the inventory; nothing was changed")
                })?;
                users.push(UserChange {
                    username,
                    variable,
                    password,
                    old_hash: u.password_hash,
                    old_must_change: u.must_change_password,
                });
            }
            None => missing_users.push((username, variable)),
        }
    }
    let unmanaged = UNMANAGED
        .iter()
        .filter_map(|(v, _)| {
            inv.var(v)
                .filter(|x| !x.value.trim().is_empty())
                .map(|x| (*v, x.line))
        })
        .collect();
    Ok(Found {
        pg,
        sqlite: database_url.is_none(),
        local_servers,
        ami_user: cfg.ami_user.clone(),
        new_ami_secret: cfg.ami_password.clone(),
        users,
        missing_users,
        files: oml_ops::render::plan(ctx, root)?,
        unmanaged,
    })
}
