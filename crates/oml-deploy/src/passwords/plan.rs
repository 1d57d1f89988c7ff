//! The password change as data: the steps, in the order they are done,
//! each with the inverse that puts it back; and the notes on the inventory
//! variables oml does not apply. Pure: built from what [`super::gather`]
//! found, tested without a host.

use oml_ops::plan::Plan;
use oml_store::AsteriskServer;
use secrecy::{ExposeSecret, SecretString};

/// The PostgreSQL role change: oml's URL now, and the same with the new password.
#[derive(Clone)]
pub struct PgChange {
    pub role: String,
    pub old_url: SecretString,
    pub new_url: SecretString,
}

/// A console user whose password changes, with what puts it back.
#[derive(Clone)]
pub struct UserChange {
    pub username: String,
    pub variable: &'static str,
    pub password: SecretString,
    /// The hash and flag the user has now (restored by the inverse).
    pub old_hash: String,
    pub old_must_change: bool,
}

/// One change and, by its kind, its inverse.
#[derive(Clone)]
pub enum Step {
    /// `ALTER ROLE` to the new password. Inverse: `ALTER ROLE` back (connected
    /// with the new one).
    Role(PgChange),
    /// Write the files, then `manager reload` each Asterisk server and log in
    /// with the new secret. Inverse: write back what the files held, reload
    /// again.
    Files {
        plan: Plan,
        reload: Vec<AsteriskServer>,
        new_secret: SecretString,
    },
    /// oml's record of each server's AMI secret. Inverse: the old secrets.
    ServerSecrets {
        servers: Vec<AsteriskServer>,
        new_secret: SecretString,
    },
    /// A console user's password. Inverse: the hash it had.
    User(UserChange),
}

impl Step {
    /// What the step does, one line.
    pub fn does(&self) -> String {
        match self {
            Step::Role(p) => format!("postgres  role {}: new password (ALTER ROLE)", p.role),
            Step::Files { plan, reload, .. } => {
                let n = plan.changes().count();
                let names: Vec<String> = reload.iter().map(|s| format!("`{}`", s.name)).collect();
                if names.is_empty() {
                    format!("files     {n} file(s) written")
                } else {
                    format!(
                        "files     {n} file(s) written, then manager reload on {}",
                        names.join(", ")
                    )
                }
            }
            Step::ServerSecrets { servers, .. } => format!(
                "oml       stored AMI secret of {}",
                servers
                    .iter()
                    .map(|s| format!("`{}`", s.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Step::User(u) => format!("console   user {}: new password", u.username),
        }
    }

    /// What putting the step back does, one line.
    pub fn undo(&self) -> String {
        match self {
            Step::Role(p) => format!(
                "postgres  role {}: the current password again (ALTER ROLE)",
                p.role
            ),
            Step::Files { reload, .. } if !reload.is_empty() => {
                "files     the current contents written back, then manager reload again".into()
            }
            Step::Files { .. } => "files     the current contents written back".into(),
            Step::ServerSecrets { .. } => "oml       the current stored AMI secrets".into(),
            Step::User(u) => format!("console   user {}: its current password hash", u.username),
        }
    }
}

/// What [`super::gather`] found on the host, as data.
pub struct Found {
    /// The role change, when oml is on PostgreSQL and the password differs.
    pub pg: Option<PgChange>,
    /// oml keeps its data in SQLite (the role is not oml's).
    pub sqlite: bool,
    /// Asterisk servers on this host with the inventory's AMI user.
    pub local_servers: Vec<AsteriskServer>,
    pub ami_user: String,
    pub new_ami_secret: SecretString,
    pub users: Vec<UserChange>,
    /// Console users the inventory names that do not exist (name, variable).
    pub missing_users: Vec<(String, &'static str)>,
    /// The configuration files re-rendered with the new passwords.
    pub files: Plan,
    /// Password variables of the inventory that oml does not apply, with
    /// their line.
    pub unmanaged: Vec<(&'static str, usize)>,
}

/// Password variables OMniLeads had that oml has no service for, and why.
pub const UNMANAGED: &[(&str, &str)] = &[
    (
        "mysql_root_password",
        "oml uses no MySQL (OMniLeads' Wombat dialer kept its data there; oml's dialer keeps it in oml's own database), so there is nothing to rotate; remove the line, or change MySQL's root password with MySQL's own tools if a MySQL server is still installed",
    ),
    (
        "sup_ami_password",
        "oml renders no supervision AMI user (`sup_ami_user`); if Asterisk still has that OMniLeads user in manager.conf, change its secret there by hand (or remove the user), then remove the line",
    ),
];

/// The password change: its steps, and notes on what is not applied.
pub struct PasswordPlan {
    pub steps: Vec<Step>,
    pub notes: Vec<String>,
    /// Servers whose current secret must still open AMI before anything changes.
    pub check_first: Vec<AsteriskServer>,
}

/// Puts the steps in order: PostgreSQL first (it carries oml's own data),
/// the files and the Asterisk reload, oml's own records last.
pub fn assemble(f: Found) -> PasswordPlan {
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    if let Some(p) = f.pg {
        steps.push(Step::Role(p));
    }
    let changing: Vec<AsteriskServer> = f
        .local_servers
        .iter()
        .filter(|s| s.ami_secret.expose_secret() != f.new_ami_secret.expose_secret())
        .cloned()
        .collect();
    if !f.files.is_noop() || !changing.is_empty() {
        steps.push(Step::Files {
            plan: f.files,
            reload: changing.clone(),
            new_secret: f.new_ami_secret.clone(),
        });
    }
    if !changing.is_empty() {
        steps.push(Step::ServerSecrets {
            servers: changing.clone(),
            new_secret: f.new_ami_secret,
        });
    }
    steps.extend(f.users.into_iter().map(Step::User));
    for (username, variable) in f.missing_users {
        notes.push(format!(
            "`{variable}`: there is no console user `{username}`; not applied"
        ));
    }
    if f.sqlite {
        notes.push("`postgres_password`: oml keeps its data in SQLite; the PostgreSQL role is not oml's to change".into());
    }
    if f.local_servers.is_empty() {
        notes.push(format!(
            "`ami_password`: no Asterisk server on this host is configured in oml with AMI user `{}`; only oml_manager.conf is rewritten",
            f.ami_user
        ));
    }
    for (variable, line) in f.unmanaged {
        let why = UNMANAGED
            .iter()
            .find(|(v, _)| *v == variable)
            .map(|(_, w)| *w)
            .unwrap_or("oml has no service that uses it");
        notes.push(format!("`{variable}` (line {line}): not applied: {why}"));
    }
    PasswordPlan {
        steps,
        notes,
        check_first: changing,
    }
}

impl PasswordPlan {
    /// Nothing to do: every password is already in use.
    pub fn is_noop(&self) -> bool {
        self.steps.iter().all(|s| match s {
            Step::Files { plan, reload, .. } => plan.is_noop() && reload.is_empty(),
            _ => false,
        })
    }

    /// The files step's plan, for the dry run's diff.
    pub fn files(&self) -> Option<&Plan> {
        self.steps.iter().find_map(|s| match s {
            Step::Files { plan, .. } => Some(plan),
            _ => None,
        })
    }

    /// The lines that say what changes (no password in them).
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.steps {
            match s {
                Step::Role(p) => out.push(format!(
                    "postgres  role {}: new password (ALTER ROLE), then oml.env",
                    p.role
                )),
                Step::Files { reload, .. } => {
                    for s in reload {
                        out.push(format!(
                            "asterisk  AMI user {} on `{}` ({}:{}): new secret (oml_manager.conf, manager reload)",
                            s.ami_user, s.name, s.host, s.ami_port
                        ));
                    }
                }
                Step::ServerSecrets { .. } => {}
                Step::User(u) => out.push(format!(
                    "console   user {}: new password (`{}`)",
                    u.username, u.variable
                )),
            }
        }
        if let Some(plan) = self.files() {
            out.extend(plan.changes().map(|s| s.to_string()));
        }
        out
    }

    /// The undo list: if step N fails, the inverses of steps N-1 .. 1 run,
    /// in this order (newest first).
    pub fn undo_list(&self) -> Vec<String> {
        self.steps.iter().rev().map(Step::undo).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn server(name: &str, secret: &str) -> AsteriskServer {
        AsteriskServer {
            id: 1,
            name: name.into(),
            host: "127.0.0.1".into(),
            ami_port: 5038,
            ami_user: "omlami".into(),
            ami_secret: SecretString::from(secret),
            enabled: true,
        }
    }

    fn user(name: &str, variable: &'static str) -> UserChange {
        UserChange {
            username: name.into(),
            variable,
            password: SecretString::from("a brand new password"),
            old_hash: format!("$argon2id$old-hash-of-{name}"),
            old_must_change: false,
        }
    }

    fn found(tmp: &Path) -> Found {
        let mut files = Plan::default();
        files.file(
            tmp.join("etc/asterisk/oml_manager.conf"),
            "secret = new-ami\n".into(),
            0o640,
            vec!["new-ami".into()],
        );
        Found {
            pg: Some(PgChange {
                role: "oml".into(),
                old_url: SecretString::from("postgres://oml:old@h/db"),
                new_url: SecretString::from("postgres://oml:new@h/db"),
            }),
            sqlite: false,
            local_servers: vec![server("pbx1", "old-ami"), server("pbx2", "new-ami")],
            ami_user: "omlami".into(),
            new_ami_secret: SecretString::from("new-ami"),
            users: vec![
                user("admin", "admin_pass"),
                user("dialer", "dialer_password"),
            ],
            missing_users: vec![],
            files,
            unmanaged: vec![],
        }
    }

    #[test]
    fn every_step_has_its_inverse_newest_first() {
        let tmp = tempfile::tempdir().unwrap();
        let p = assemble(found(tmp.path()));
        let does: Vec<String> = p.steps.iter().map(Step::does).collect();
        assert_eq!(
            does,
            [
                "postgres  role oml: new password (ALTER ROLE)",
                "files     1 file(s) written, then manager reload on `pbx1`",
                "oml       stored AMI secret of `pbx1`",
                "console   user admin: new password",
                "console   user dialer: new password",
            ]
        );
        assert_eq!(
            p.undo_list(),
            [
                "console   user dialer: its current password hash",
                "console   user admin: its current password hash",
                "oml       the current stored AMI secrets",
                "files     the current contents written back, then manager reload again",
                "postgres  role oml: the current password again (ALTER ROLE)",
            ]
        );
        // The inverse of a console user's change is the hash it has now.
        let Step::User(u) = &p.steps[3] else { panic!() };
        assert_eq!(u.old_hash, "$argon2id$old-hash-of-admin");
        // pbx2 already has the new secret: not reloaded, not rewritten.
        assert_eq!(p.check_first.len(), 1);
        assert!(!p.is_noop());
    }

    #[test]
    fn nothing_printed_carries_a_password() {
        let tmp = tempfile::tempdir().unwrap();
        let p = assemble(found(tmp.path()));
        let text = [p.summary(), p.undo_list(), p.notes.clone()]
            .concat()
            .join("\n");
        for secret in [
            "old-ami",
            "new-ami",
            "a brand new password",
            "old-hash",
            ":old@",
            ":new@",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("asterisk  AMI user omlami on `pbx1`"),
            "{text}"
        );
        assert!(
            text.contains("console   user admin: new password (`admin_pass`)"),
            "{text}"
        );
    }

    #[test]
    fn variables_oml_does_not_apply_are_named_with_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let mut f = found(tmp.path());
        f.unmanaged = vec![("mysql_root_password", 12), ("sup_ami_password", 14)];
        let notes = assemble(f).notes.join("\n");
        assert!(
            notes.contains("`mysql_root_password` (line 12): not applied: oml uses no MySQL"),
            "{notes}"
        );
        assert!(
            notes.contains(
                "`sup_ami_password` (line 14): not applied: oml renders no supervision AMI user"
            ),
            "{notes}"
        );
    }

    #[test]
    fn nothing_to_do_when_every_password_is_in_use() {
        let f = Found {
            pg: None,
            sqlite: true,
            local_servers: vec![server("pbx1", "same")],
            ami_user: "omlami".into(),
            new_ami_secret: SecretString::from("same"),
            users: vec![],
            missing_users: vec![("dialer".into(), "dialer_password")],
            files: Plan::default(),
            unmanaged: vec![],
        };
        let p = assemble(f);
        assert!(p.is_noop() && p.steps.is_empty());
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("no console user `dialer`")));
        assert!(p.notes.iter().any(|n| n.contains("SQLite")));
    }
}
