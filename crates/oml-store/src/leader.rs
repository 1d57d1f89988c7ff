//! Leadership: which dialer engine paces a campaign when several run on one
//! database (several `oml serve` nodes on one PostgreSQL, or `oml serve`
//! and `oml dialer run` on one data folder). Two engines pacing the same
//! campaign would each dial for the same free agents and abandon calls.
//!
//! A lease is a lock the database server (or the kernel) drops by itself
//! when its holder dies, so a crashed node never blocks the others:
//! - PostgreSQL: a session advisory lock on a connection of its own, taken
//!   out of the pool; the server releases it when that connection closes.
//! - SQLite: an exclusive `flock` on a file next to the database; the
//!   kernel releases it when the process exits, even by `kill -9`.
//!
//! [`Leadership::hold`] is called periodically with the keys an engine
//! wants; it takes the free ones, lets go of the others, and answers what
//! it holds now. A PostgreSQL connection that broke loses every lease; the
//! next call notices (its liveness query fails) and starts over, so a
//! server restart costs at most one period of double leadership.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use sqlx::{Connection, PgConnection};

use crate::{Location, Pool, Result, Store, StoreError};

/// The advisory-lock namespace of oml's leases (PostgreSQL's two-key form:
/// this class plus a 32-bit hash of the key), so they cannot collide with
/// another application's advisory locks on the same database.
const LOCK_CLASS: i32 = 0x6F6D_6C31; // "oml1"

/// The leases one engine holds.
pub struct Leadership {
    backend: Backend,
    held: BTreeSet<String>,
}

enum Backend {
    Sqlite {
        dir: PathBuf,
        files: BTreeMap<String, File>,
    },
    Postgres {
        pool: sqlx::PgPool,
        conn: Option<PgConnection>,
    },
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

/// A key's 32-bit lock id (FNV-1a: stable across builds and platforms,
/// unlike std's hasher).
fn lock_id(key: &str) -> i32 {
    let mut h: u32 = 0x811C_9DC5;
    for b in key.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h as i32
}

/// The lock file of `key` in `dir`: only characters safe in a file name.
fn lock_file(dir: &std::path::Path, key: &str) -> PathBuf {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!(".oml-lead-{safe}-{:08x}.lock", lock_id(key) as u32))
}

impl Store {
    /// A new, empty set of leases on this database.
    pub fn leadership(&self) -> Leadership {
        let backend = match (&self.pool, &self.location) {
            (Pool::Postgres(p), _) => Backend::Postgres {
                pool: p.clone(),
                conn: None,
            },
            (Pool::Sqlite(_), Location::DataDir(dir)) => Backend::Sqlite {
                dir: dir.clone(),
                files: BTreeMap::new(),
            },
            (Pool::Sqlite(_), Location::Postgres(_)) => {
                unreachable!("a SQLite pool always comes from a data folder")
            }
        };
        Leadership {
            backend,
            held: BTreeSet::new(),
        }
    }
}

impl Leadership {
    /// Holds every key of `wanted` that no one else holds, releases the held
    /// keys not in `wanted`, and returns the keys held now.
    pub async fn hold(&mut self, wanted: &BTreeSet<String>) -> Result<&BTreeSet<String>> {
        let release: Vec<String> = self.held.difference(wanted).cloned().collect();
        let take: Vec<String> = wanted.difference(&self.held).cloned().collect();
        match &mut self.backend {
            Backend::Sqlite { dir, files } => {
                for k in release {
                    files.remove(&k); // closing the file drops the lock
                    self.held.remove(&k);
                }
                for k in take {
                    let path = lock_file(dir, &k);
                    let f = OpenOptions::new()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(&path)
                        .map_err(|e| StoreError::DataDir {
                            path: path.display().to_string(),
                            reason: format!("cannot open the lease file: {e}"),
                        })?;
                    match f.try_lock() {
                        Ok(()) => {
                            files.insert(k.clone(), f);
                            self.held.insert(k);
                        }
                        Err(TryLockError::WouldBlock) => {}
                        Err(TryLockError::Error(e)) => {
                            return Err(StoreError::DataDir {
                                path: path.display().to_string(),
                                reason: format!("cannot lock the lease file: {e}"),
                            })
                        }
                    }
                }
            }
            Backend::Postgres { pool, conn } => {
                if let Err(e) = pg_hold(pool, conn, &mut self.held, &release, &take).await {
                    // The connection (and with it every lease) is gone or
                    // unusable: start over on a new one next time.
                    if let Some(c) = conn.take() {
                        let _ = c.close().await;
                    }
                    self.held.clear();
                    return Err(e);
                }
            }
        }
        Ok(&self.held)
    }

    /// Whether someone else holds `key` now (a node that runs). Takes and
    /// gives back the lease when it is free, so it never keeps it.
    pub async fn held_elsewhere(&mut self, key: &str) -> Result<bool> {
        if self.held.contains(key) {
            return Ok(false);
        }
        match &mut self.backend {
            Backend::Sqlite { dir, .. } => {
                let path = lock_file(dir, key);
                let f = match OpenOptions::new().write(true).open(&path) {
                    Ok(f) => f,
                    // No lease file: nobody ever held it.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                    Err(e) => {
                        return Err(StoreError::DataDir {
                            path: path.display().to_string(),
                            reason: format!("cannot open the lease file: {e}"),
                        })
                    }
                };
                match f.try_lock() {
                    Ok(()) => Ok(false),
                    Err(TryLockError::WouldBlock) => Ok(true),
                    Err(TryLockError::Error(e)) => Err(StoreError::DataDir {
                        path: path.display().to_string(),
                        reason: format!("cannot lock the lease file: {e}"),
                    }),
                }
            }
            Backend::Postgres { pool, conn } => {
                if conn.is_none() {
                    self.held.clear();
                    *conn = Some(pool.acquire().await?.detach());
                }
                let c = conn.as_mut().expect("connected above");
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                    .bind(LOCK_CLASS)
                    .bind(lock_id(key))
                    .fetch_one(&mut *c)
                    .await?;
                if got {
                    sqlx::query("SELECT pg_advisory_unlock($1, $2)")
                        .bind(LOCK_CLASS)
                        .bind(lock_id(key))
                        .execute(&mut *c)
                        .await?;
                }
                Ok(!got)
            }
        }
    }

    /// The keys held now.
    pub fn held(&self) -> &BTreeSet<String> {
        &self.held
    }

    /// Lets go of every lease.
    pub async fn release_all(&mut self) {
        let _ = self.hold(&BTreeSet::new()).await;
        if let Backend::Postgres { conn, .. } = &mut self.backend {
            if let Some(c) = conn.take() {
                let _ = c.close().await;
            }
        }
        self.held.clear();
    }
}

async fn pg_hold(
    pool: &sqlx::PgPool,
    conn: &mut Option<PgConnection>,
    held: &mut BTreeSet<String>,
    release: &[String],
    take: &[String],
) -> Result<()> {
    if conn.is_none() {
        held.clear();
        *conn = Some(pool.acquire().await?.detach());
    }
    let c = conn.as_mut().expect("connected above");
    // Liveness: a dead connection has lost its leases.
    sqlx::query("SELECT 1").execute(&mut *c).await?;
    for k in release {
        sqlx::query("SELECT pg_advisory_unlock($1, $2)")
            .bind(LOCK_CLASS)
            .bind(lock_id(k))
            .execute(&mut *c)
            .await?;
        held.remove(k);
    }
    for k in take {
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
            .bind(LOCK_CLASS)
            .bind(lock_id(k))
            .fetch_one(&mut *c)
            .await?;
        if got {
            held.insert(k.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::backends;

    fn keys(k: &[&str]) -> BTreeSet<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lock_ids_are_stable_and_file_names_safe() {
        assert_eq!(lock_id("campaign:1"), lock_id("campaign:1"));
        assert_ne!(lock_id("campaign:1"), lock_id("campaign:2"));
        let p = lock_file(std::path::Path::new("/d"), "node:../etc/x y");
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(".oml-lead-node____etc_x_y-"), "{name}");
        assert_eq!(p.parent(), Some(std::path::Path::new("/d")));
    }

    #[tokio::test]
    async fn one_holder_per_key_and_release_hands_over() {
        for t in backends().await {
            let mut a = t.store.leadership();
            let mut b = t.store.leadership();
            let both = keys(&["campaign:1", "campaign:2"]);
            assert_eq!(
                a.hold(&keys(&["campaign:1"])).await.unwrap(),
                &keys(&["campaign:1"])
            );
            // b gets only what a does not hold.
            assert_eq!(
                b.hold(&both).await.unwrap(),
                &keys(&["campaign:2"]),
                "{}",
                t.label
            );
            assert!(b.held_elsewhere("campaign:1").await.unwrap(), "a holds it");
            assert!(
                !b.held_elsewhere("campaign:9").await.unwrap(),
                "nobody holds it"
            );
            assert!(
                !a.held_elsewhere("campaign:1").await.unwrap(),
                "a holds it itself"
            );
            // Probing left it free for whoever wants it.
            assert!(!b.held_elsewhere("campaign:9").await.unwrap());
            // Asking again changes nothing.
            assert_eq!(a.hold(&both).await.unwrap(), &keys(&["campaign:1"]));
            // a lets go of 1: b takes it at its next call.
            assert!(a.hold(&BTreeSet::new()).await.unwrap().is_empty());
            assert_eq!(b.hold(&both).await.unwrap(), &both);
            // Dropping the holder (a dead node) frees everything.
            drop(b);
            // PostgreSQL closes a dropped connection in the background.
            let mut got = BTreeSet::new();
            for _ in 0..50 {
                got = a.hold(&both).await.unwrap().clone();
                if got == both {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert_eq!(got, both, "{}", t.label);
            a.release_all().await;
            assert!(a.held().is_empty());
        }
    }
}
