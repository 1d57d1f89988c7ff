//! Doing a password plan: each step in order, verified with the new
//! password; when one fails, the inverses of the steps done, newest first,
//! and an error that says whether everything was put back.

use super::plan::{PasswordPlan, Step};
use crate::host::{alter_role, ami_login, pg_opens, url_role};
use crate::{Context, Error, Result, Say};
use oml_store::{AsteriskServer, Location, OpenMode, ServerSpec, Store};
use secrecy::SecretString;

/// Applies the plan; `location` is oml's database as it is now. On
/// failure, everything done is put back; the error says so, or names what
/// could not be put back.
pub async fn apply(plan: &PasswordPlan, location: Location, say: Say<'_>) -> Result<()> {
    let mut done: Vec<&Step> = Vec::new();
    let mut at = location.clone();
    let mut result = Ok(());
    for step in &plan.steps {
        if let Err(e) = run(step, &mut at, &mut done, say).await {
            result = Err(e);
            break;
        }
    }
    let Err(e) = result else {
        return Ok(());
    };
    let errors = undo(&done, location, say).await;
    if errors.is_empty() {
        Err(Error(format!(
            "{e}\nEverything done before was put back; nothing changed."
        )))
    } else {
        Err(Error(format!(
            "{e}\nPutting back failed too, fix by hand: {}",
            errors.join("; ")
        )))
    }
}

fn spec(s: &AsteriskServer, secret: &SecretString) -> ServerSpec {
    ServerSpec {
        name: s.name.clone(),
        host: s.host.clone(),
        ami_port: s.ami_port,
        ami_user: s.ami_user.clone(),
        ami_secret: secret.clone(),
        enabled: s.enabled,
    }
}

/// Does one step. A step is recorded in `done` as soon as it has changed
/// something, so that a failing check after it still puts it back.
async fn run<'a>(
    step: &'a Step,
    at: &mut Location,
    done: &mut Vec<&'a Step>,
    say: Say<'_>,
) -> Result<()> {
    match step {
        Step::Role(p) => {
            let new_password = match url_role(&p.new_url)? {
                (_, Some(pw)) => SecretString::from(pw),
                _ => return Err(Error::new("the new database URL carries no password")),
            };
            alter_role(&p.old_url, &p.role, &new_password)
                .await
                .context("PostgreSQL refused the new password")?;
            done.push(step);
            *at = Location::Postgres(p.new_url.clone());
            pg_opens(&p.new_url).await.map_err(|e| {
                Error(format!(
                    "PostgreSQL does not accept the new password for {}: {e}",
                    p.role
                ))
            })?;
            say(&format!("done      postgres role {}", p.role));
        }
        Step::Files {
            plan,
            reload,
            new_secret,
        } => {
            plan.apply().context("writing the configuration files")?;
            done.push(step);
            for s in reload {
                let c = ami_login(s, &s.ami_secret).await.context("Asterisk")?;
                c.command("manager reload").await.map_err(|e| {
                    Error(format!(
                        "Asterisk server `{}`: manager reload failed: {e}",
                        s.name
                    ))
                })?;
                c.logoff().await.ok();
                let check = ami_login(s, new_secret).await.map_err(|e| {
                    Error(format!("Asterisk refused the new AMI secret after manager reload ({e}); is oml_manager.conf included by manager.conf?"))
                })?;
                check.logoff().await.ok();
                say(&format!(
                    "done      asterisk AMI user {} on `{}`",
                    s.ami_user, s.name
                ));
            }
        }
        Step::ServerSecrets {
            servers,
            new_secret,
        } => {
            done.push(step);
            with_store(at, async |store| {
                for s in servers {
                    store
                        .update_server(&s.name, &spec(s, new_secret))
                        .await
                        .context("oml's database")?;
                }
                Ok(())
            })
            .await?;
        }
        Step::User(u) => {
            // One user's password is one row: it changed entirely or not
            // at all, so it is recorded only once it has changed.
            with_store(at, async |store| {
                store
                    .set_password(&u.username, &u.password, false)
                    .await
                    .with_context(|| format!("console user {}", u.username))
            })
            .await?;
            done.push(step);
            say(&format!("done      console user {}", u.username));
        }
    }
    Ok(())
}

async fn with_store<T>(at: &Location, f: impl AsyncFnOnce(&Store) -> Result<T>) -> Result<T> {
    let store = Store::open(at, OpenMode::Existing).await?;
    let r = f(&store).await;
    store.close().await;
    r
}

/// Puts back the steps done, newest first; returns what could not be put back.
async fn undo(done: &[&Step], location: Location, say: Say<'_>) -> Vec<String> {
    let mut errors = Vec::new();
    // Until the role is put back, oml's database takes the new password.
    let mut at = done
        .iter()
        .find_map(|s| match s {
            Step::Role(p) => Some(Location::Postgres(p.new_url.clone())),
            _ => None,
        })
        .unwrap_or(location);
    for step in done.iter().rev() {
        match step {
            Step::User(u) => {
                let r = with_store(&at, async |store| {
                    store
                        .restore_password_hash(&u.username, &u.old_hash, u.old_must_change)
                        .await
                        .map_err(Error::from)
                })
                .await;
                match r {
                    Ok(()) => say(&format!("put back  console user {}", u.username)),
                    Err(e) => {
                        errors.push(format!("the password of console user {} ({e})", u.username))
                    }
                }
            }
            Step::ServerSecrets { servers, .. } => {
                let r = with_store(&at, async |store| {
                    for s in servers {
                        store
                            .update_server(&s.name, &spec(s, &s.ami_secret))
                            .await?;
                    }
                    Ok(())
                })
                .await;
                if let Err(e) = r {
                    errors.push(format!("the AMI secrets in oml's database ({e})"));
                }
            }
            Step::Files {
                plan,
                reload,
                new_secret,
            } => {
                errors.extend(crate::change_network::put_back(plan));
                say("put back  the configuration files");
                for s in reload {
                    let mut reloaded = false;
                    for secret in [&s.ami_secret, new_secret] {
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
            Step::Role(p) => {
                let old = match url_role(&p.old_url) {
                    Ok((_, Some(pw))) => SecretString::from(pw),
                    _ => {
                        errors.push(format!("the password of PostgreSQL role {}", p.role));
                        continue;
                    }
                };
                match alter_role(&p.new_url, &p.role, &old).await {
                    Ok(()) => say(&format!("put back  postgres role {}", p.role)),
                    Err(e) => errors.push(format!("PostgreSQL role {} ({e})", p.role)),
                }
                at = Location::Postgres(p.old_url.clone());
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passwords::{PasswordPlan, UserChange};
    use oml_store::{NewUser, Role};

    const OLD: &str = "the old admin password";
    const NEW: &str = "the new admin password";

    #[tokio::test]
    async fn a_failing_console_user_change_puts_back_the_ones_before_it() {
        let tmp = tempfile::tempdir().unwrap();
        let at = Location::DataDir(tmp.path().to_path_buf());
        let store = Store::open(&at, OpenMode::Create).await.unwrap();
        store
            .create_user(&NewUser {
                username: "admin",
                password: &SecretString::from(OLD),
                role: Role::Admin,
                must_change_password: false,
            })
            .await
            .unwrap();
        let old_hash = store
            .user_by_name("admin")
            .await
            .unwrap()
            .unwrap()
            .password_hash;
        store.close().await;
        let change = |username: &str, old_hash: &str| {
            Step::User(UserChange {
                username: username.into(),
                variable: "admin_pass",
                password: SecretString::from(NEW),
                old_hash: old_hash.into(),
                old_must_change: false,
            })
        };
        // The second user is gone by the time it is changed: the first is put back.
        let plan = PasswordPlan {
            steps: vec![change("admin", &old_hash), change("someone-deleted", "x")],
            notes: vec![],
            check_first: vec![],
        };
        let lines = std::sync::Mutex::new(Vec::new());
        let say = |l: &str| lines.lock().unwrap().push(l.to_string());
        let e = apply(&plan, at.clone(), &say)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("console user someone-deleted"), "{e}");
        assert!(e.contains("Everything done before was put back"), "{e}");
        let lines = lines.into_inner().unwrap();
        assert!(
            lines.contains(&"done      console user admin".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"put back  console user admin".to_string()),
            "{lines:?}"
        );
        let store = Store::open(&at, OpenMode::Existing).await.unwrap();
        let admin = store.user_by_name("admin").await.unwrap().unwrap();
        store.close().await;
        assert!(oml_store::verify_password_hash(
            &SecretString::from(OLD),
            &admin.password_hash
        ));
        assert!(!oml_store::verify_password_hash(
            &SecretString::from(NEW),
            &admin.password_hash
        ));
        // Without the failing user, the change holds.
        let plan = PasswordPlan {
            steps: vec![change("admin", &old_hash)],
            notes: vec![],
            check_first: vec![],
        };
        apply(&plan, at.clone(), &|_| {}).await.unwrap();
        let store = Store::open(&at, OpenMode::Existing).await.unwrap();
        let admin = store.user_by_name("admin").await.unwrap().unwrap();
        store.close().await;
        assert!(oml_store::verify_password_hash(
            &SecretString::from(NEW),
            &admin.password_hash
        ));
    }
}
