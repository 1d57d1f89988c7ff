//! Test harness: the same test runs on SQLite and on PostgreSQL.
//!
//! [`backends`] yields a fresh, migrated store per backend: a SQLite file in
//! a temporary folder always, and a new, uniquely named PostgreSQL database
//! when `OML_TEST_DATABASE_URL` points at a server whose role may create
//! databases. Without it, the PostgreSQL half prints loudly that it skipped.

use crate::{Location, OpenMode, Store};
use sqlx::{Connection, Executor};

/// The environment variable naming the PostgreSQL server for tests.
pub const TEST_URL_VAR: &str = "OML_TEST_DATABASE_URL";

/// A store made for one test, with what keeps it alive.
pub struct TestStore {
    pub store: Store,
    pub location: Location,
    /// Keeps the SQLite folder until the test ends.
    pub dir: Option<tempfile::TempDir>,
    /// The database's URL when PostgreSQL.
    pub url: Option<String>,
    pub label: &'static str,
}

/// A fresh store on every backend available to this test run.
pub async fn backends() -> Vec<TestStore> {
    let mut out = vec![sqlite().await];
    match postgres().await {
        Some(s) => out.push(s),
        None => eprintln!(
            "SKIPPED: PostgreSQL half of this test ({TEST_URL_VAR} is not set; .ci/run sets it)"
        ),
    }
    out
}

/// A fresh SQLite store in a temporary folder.
pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary folder");
    let location = Location::DataDir(dir.path().to_path_buf());
    let store = Store::open(&location, OpenMode::Create)
        .await
        .expect("open SQLite store");
    TestStore {
        store,
        location,
        dir: Some(dir),
        url: None,
        label: "sqlite",
    }
}

/// A fresh PostgreSQL database, when the test server is configured.
pub async fn postgres() -> Option<TestStore> {
    let url = fresh_postgres_database().await?;
    let location = Location::Postgres(url.clone().into());
    let store = Store::open(&location, OpenMode::Existing)
        .await
        .expect("open PostgreSQL store");
    Some(TestStore {
        store,
        location,
        dir: None,
        url: Some(url),
        label: "postgresql",
    })
}

/// Creates an empty database named `oml_test_<random>` on the test server
/// and returns its URL; `None` when no test server is configured.
pub async fn fresh_postgres_database() -> Option<String> {
    let base = std::env::var(TEST_URL_VAR).ok().filter(|u| !u.is_empty())?;
    let name = format!("oml_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("{TEST_URL_VAR} is set but the server refuses: {e}"));
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("CREATE DATABASE (the test role needs CREATEDB)");
    conn.close().await.ok();
    Some(with_database(&base, &name))
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[scheme_end..].find('/') {
        Some(slash) => &head[..scheme_end + slash],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs one SQL statement of a test's own on the store (for example a
/// trigger that makes writes fail for a while).
pub async fn execute(store: &Store, sql: &str) -> crate::Result<()> {
    crate::on_pool!(store, |p| {
        sqlx::query(sql).execute(p).await?;
    });
    Ok(())
}
