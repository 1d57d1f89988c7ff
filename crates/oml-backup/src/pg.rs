//! PostgreSQL through its own tools: `pg_dump --format=custom` for the
//! snapshot, `pg_restore` into a fresh database, and the database rename
//! that switches over. The password never appears on a command line or in a
//! message: it goes to the tools through `PGPASSWORD` in their environment.

use crate::error::{BackupError, Result};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, Executor};
use std::path::Path;

/// A PostgreSQL URL split into what the tools need.
pub struct PgUrl {
    /// The URL without its password.
    base: url::Url,
    password: Option<SecretString>,
    pub database: String,
}

impl PgUrl {
    pub fn parse(url: &SecretString) -> Result<PgUrl> {
        let mut u = url::Url::parse(url.expose_secret())
            .map_err(|e| BackupError::Other(format!("the database URL is not valid ({e})")))?;
        let password = u.password().map(|p| {
            SecretString::from(
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        });
        let _ = u.set_password(None);
        // libpq also takes the password as a query parameter; it must not
        // reach the tools' command lines (visible in `ps`) nor messages.
        let (secret, kept): (Vec<_>, Vec<_>) = u
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .partition(|(k, _)| k == "password");
        let password = password.or_else(|| {
            secret
                .into_iter()
                .next()
                .map(|(_, v)| SecretString::from(v))
        });
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
        let database = percent_encoding::percent_decode_str(u.path().trim_start_matches('/'))
            .decode_utf8_lossy()
            .into_owned();
        if database.is_empty() {
            return Err(BackupError::Other(
                "the database URL names no database (postgres://user@host/DBNAME)".into(),
            ));
        }
        Ok(PgUrl {
            base: u,
            password,
            database,
        })
    }

    /// The URL of another database on the same server, without password.
    pub fn for_database(&self, db: &str) -> String {
        let mut u = self.base.clone();
        u.set_path(&format!("/{db}"));
        u.to_string()
    }

    /// The URL of another database with the password, for sqlx.
    fn secret_url(&self, db: &str) -> SecretString {
        let mut u = self.base.clone();
        u.set_path(&format!("/{db}"));
        if let Some(p) = &self.password {
            let _ = u.set_password(Some(p.expose_secret()));
        }
        SecretString::from(u.to_string())
    }

    /// Same server, database `db`, as a store location.
    pub fn location(&self, db: &str) -> oml_store::Location {
        oml_store::Location::Postgres(self.secret_url(db))
    }

    fn command(&self, program: &str) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(program);
        if let Some(p) = &self.password {
            c.env("PGPASSWORD", p.expose_secret());
        }
        c.env("PGCONNECT_TIMEOUT", "10")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        c
    }

    fn scrub(&self, text: &str) -> String {
        match &self.password {
            Some(p) if !p.expose_secret().is_empty() => text.replace(p.expose_secret(), "***"),
            _ => text.to_string(),
        }
    }

    async fn run(&self, program: &str, args: &[String]) -> Result<()> {
        let out = self
            .command(program)
            .args(args)
            .output()
            .await
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    BackupError::Snapshot(format!(
                        "{program} not found: install the Debian package postgresql-client"
                    ))
                } else {
                    BackupError::Snapshot(format!("cannot run {program}: {e}"))
                }
            })?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(BackupError::Snapshot(format!(
                "{program} failed ({}): {}",
                out.status,
                self.scrub(err.trim())
            )));
        }
        Ok(())
    }

    /// `pg_dump --format=custom` of the live database into `file`: an
    /// online, transactionally consistent snapshot. Uncompressed: the
    /// archive's zstd does that faster.
    pub async fn dump(&self, file: &Path) -> Result<()> {
        self.run(
            "pg_dump",
            &[
                "--format=custom".into(),
                "--compress=0".into(),
                format!("--file={}", file.display()),
                format!("--dbname={}", self.for_database(&self.database)),
            ],
        )
        .await
    }

    /// `pg_restore` of `file` into the (empty) database `db`.
    pub async fn restore(&self, db: &str, file: &Path) -> Result<()> {
        self.run(
            "pg_restore",
            &[
                "--no-owner".into(),
                "--no-privileges".into(),
                "--exit-on-error".into(),
                "--single-transaction".into(),
                format!("--dbname={}", self.for_database(db)),
                file.display().to_string(),
            ],
        )
        .await
    }

    /// A connection to the server's maintenance database (`postgres`, else
    /// `template1`), for CREATE/ALTER/DROP DATABASE.
    async fn maintenance(&self) -> Result<sqlx::PgConnection> {
        let mut last = String::new();
        for db in ["postgres", "template1"] {
            match sqlx::PgConnection::connect(self.secret_url(db).expose_secret()).await {
                Ok(c) => return Ok(c),
                Err(e) => last = self.scrub(&e.to_string()),
            }
        }
        Err(BackupError::Sql(format!(
            "cannot connect to the maintenance database (postgres or template1): {last}"
        )))
    }

    pub async fn exists(&self, db: &str) -> Result<bool> {
        let mut c = self.maintenance().await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
            .bind(db)
            .fetch_one(&mut c)
            .await?;
        c.close().await.ok();
        Ok(n > 0)
    }

    pub async fn create(&self, db: &str) -> Result<()> {
        let mut c = self.maintenance().await?;
        c.execute(format!("CREATE DATABASE {}", quote_ident(db)).as_str())
            .await
            .map_err(|e| {
                BackupError::Sql(format!(
                    "CREATE DATABASE {db}: {e} (the role needs CREATEDB)"
                ))
            })?;
        c.close().await.ok();
        Ok(())
    }

    pub async fn drop_db(&self, db: &str) -> Result<()> {
        let mut c = self.maintenance().await?;
        c.execute(format!("DROP DATABASE IF EXISTS {}", quote_ident(db)).as_str())
            .await
            .map_err(|e| BackupError::Sql(format!("DROP DATABASE {db}: {e}")))?;
        c.close().await.ok();
        Ok(())
    }

    /// Renames `a` → `b` and `c` → `a`... as one transaction: either every
    /// rename happens or none. Fails while anyone is connected to them;
    /// retries for a few seconds first, since a client that just closed
    /// its connection may take a moment to go away on the server.
    pub async fn rename_all(&self, renames: &[(&str, &str)]) -> Result<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_rename_all(renames).await {
                Err((e, true)) if attempt < 20 => {
                    tracing::debug!("database in use, retrying the rename: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                Err((e, busy)) => {
                    if busy {
                        let who = self.clients(renames[0].0).await.unwrap_or_default();
                        return Err(BackupError::Sql(format!("{e}; connected now: {who}")));
                    }
                    return Err(e);
                }
                Ok(()) => return Ok(()),
            }
        }
    }

    /// Who is connected to `db` (application names and states), for messages.
    async fn clients(&self, db: &str) -> Result<String> {
        let mut c = self.maintenance().await?;
        let rows: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT application_name, state, left(query, 60) FROM pg_stat_activity WHERE datname = $1",
        )
        .bind(db)
        .fetch_all(&mut c)
        .await?;
        c.close().await.ok();
        Ok(rows
            .iter()
            .map(|(a, s, q)| {
                format!(
                    "{} ({}, last query: {})",
                    a.as_deref()
                        .filter(|a| !a.is_empty())
                        .unwrap_or("unnamed client"),
                    s.as_deref().unwrap_or("?"),
                    q.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("; "))
    }

    /// The error, and whether it is "database in use" (SQLSTATE 55006).
    async fn try_rename_all(&self, renames: &[(&str, &str)]) -> Result<(), (BackupError, bool)> {
        let mut c = self.maintenance().await.map_err(|e| (e, false))?;
        let mut tx = c.begin().await.map_err(|e| (e.into(), false))?;
        for (from, to) in renames {
            let sql = format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_ident(from),
                quote_ident(to)
            );
            if let Err(e) = tx.execute(sql.as_str()).await {
                let busy = e
                    .as_database_error()
                    .and_then(|d| d.code())
                    .is_some_and(|c| c == "55006");
                let msg = format!(
                    "renaming database {from} to {to}: {e} (stop `oml serve` and every other client of {from}, then retry)"
                );
                return Err((BackupError::Sql(msg), busy));
            }
        }
        tx.commit().await.map_err(|e| (e.into(), false))?;
        c.close().await.ok();
        Ok(())
    }
}

/// A PostgreSQL identifier in double quotes.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Runs `pg_dump`-free checks: whether the tools are installed.
pub fn tools_available() -> bool {
    std::process::Command::new("pg_dump")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_kept_out_of_the_tool_url() {
        let u = PgUrl::parse(&SecretString::from(
            "postgres://oml:p%40ss@127.0.0.1:5432/omldb?sslmode=disable".to_string(),
        ))
        .unwrap();
        assert_eq!(u.database, "omldb");
        let shown = u.for_database("other");
        assert_eq!(shown, "postgres://oml@127.0.0.1:5432/other?sslmode=disable");
        assert_eq!(u.password.as_ref().unwrap().expose_secret(), "p@ss");
        assert_eq!(u.scrub("bad p@ss here"), "bad *** here");
    }

    #[test]
    fn a_password_in_the_query_is_taken_out_too() {
        let u = PgUrl::parse(&SecretString::from(
            "postgres://oml@127.0.0.1:5432/omldb?password=top%20secret&sslmode=disable".to_string(),
        ))
        .unwrap();
        let shown = u.for_database("other");
        assert_eq!(shown, "postgres://oml@127.0.0.1:5432/other?sslmode=disable");
        assert_eq!(u.password.as_ref().unwrap().expose_secret(), "top secret");
        assert_eq!(u.scrub("failed: top secret"), "failed: ***");
        let only = PgUrl::parse(&SecretString::from(
            "postgres://oml@db/omldb?password=x1".to_string(),
        ))
        .unwrap();
        assert_eq!(only.for_database("omldb"), "postgres://oml@db/omldb");
        assert!(only.secret_url("omldb").expose_secret().contains(":x1@db"));
    }
}
