//! The scale benchmark's PostgreSQL database: created fresh on the test
//! server, filled with the servers, trunks, campaigns and contacts of the
//! layout, read during the run (attempts per node, transactions, the
//! engines' published figures, the backends' process ids), dropped at the
//! end.

use std::collections::BTreeMap;

use oml_dialer::LiveStatus;
use oml_store::{
    CampaignMode, CampaignSpec, CampaignState, Location, OpenMode, ServerSpec, Store, TrunkSpec,
    DEFAULT_DIAL_STRING,
};
use secrecy::SecretString;
use sqlx::{Connection, Executor, PgConnection, PgPool, Row};

use crate::layout::ServerPlan;

/// The database of one run.
pub struct Db {
    pub name: String,
    pub url: String,
    base: String,
    pub store: Store,
}

impl Db {
    /// Creates `oml_scale_<random>` on the server of `base` and migrates it.
    pub async fn create(base: &str) -> Result<Db, String> {
        let name = format!("oml_scale_{:016x}", rand::random::<u64>());
        let mut conn = PgConnection::connect(base).await.map_err(|e| {
            format!("cannot connect to the PostgreSQL server of OML_TEST_DATABASE_URL: {e}")
        })?;
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .map_err(|e| format!("CREATE DATABASE {name} (the role needs CREATEDB): {e}"))?;
        conn.close().await.ok();
        let url = oml_store::testing::with_database(base, &name);
        let store = Store::open(
            &Location::Postgres(SecretString::from(url.clone())),
            OpenMode::Existing,
        )
        .await
        .map_err(|e| format!("cannot open the new database {name}: {e}"))?;
        Ok(Db {
            name,
            url,
            base: base.into(),
            store,
        })
    }

    fn pool(&self) -> &PgPool {
        self.store.postgres_pool().expect("a PostgreSQL store")
    }

    /// Drops the database (the engines are stopped by then).
    pub async fn drop_database(self) {
        self.store.close().await;
        match PgConnection::connect(&self.base).await {
            Ok(mut c) => {
                let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
                if let Err(e) = c.execute(sql.as_str()).await {
                    eprintln!("cannot drop database {}: {e}; drop it by hand", self.name);
                }
            }
            Err(e) => eprintln!("cannot drop database {}: {e}; drop it by hand", self.name),
        }
    }

    /// One server per pbxsim (at `ports`), a trunk on each, and the
    /// campaigns running with `contacts` each; the dialer stays stopped.
    pub async fn fill(
        &self,
        plan: &[ServerPlan],
        ports: &[u16],
        secret: &str,
        mode: CampaignMode,
        contacts: usize,
    ) -> Result<(), String> {
        let s = &self.store;
        let err = |what: &str, e: oml_store::StoreError| format!("{what}: {e}");
        s.set_setting(oml_dialer::PLAY_KEY, "off")
            .await
            .map_err(|e| err("dialer.play", e))?;
        for (srv, port) in plan.iter().zip(ports) {
            s.create_server(&ServerSpec {
                name: srv.name.clone(),
                host: "127.0.0.1".into(),
                ami_port: *port,
                ami_user: "oml".into(),
                ami_secret: SecretString::from(secret.to_owned()),
                enabled: true,
            })
            .await
            .map_err(|e| err(&srv.name, e))?;
            let trunk = format!("lines-{}", srv.name);
            s.create_trunk(&TrunkSpec {
                name: trunk.clone(),
                dial_string: DEFAULT_DIAL_STRING.into(),
                max_channels: 400,
                server: Some(srv.name.clone()),
                caller_id: String::new(),
            })
            .await
            .map_err(|e| err(&trunk, e))?;
            for c in &srv.campaigns {
                let mut spec = CampaignSpec::new(&c.name, &trunk);
                spec.mode = mode;
                spec.delivery_context = c.context.clone();
                spec.delivery_exten = "100".into();
                spec.queue_name = c.queue.clone();
                spec.window_start_minute = 0;
                spec.window_end_minute = 24 * 60;
                spec.days_mask = 127;
                let id = s
                    .create_campaign(&spec)
                    .await
                    .map_err(|e| err(&c.name, e))?
                    .id;
                let phones: Vec<String> =
                    (0..contacts).map(|i| format!("55{id:03}{i:06}")).collect();
                s.seed_contacts(id, &phones)
                    .await
                    .map_err(|e| err(&c.name, e))?;
                s.set_campaign_state(&c.name, CampaignState::Running)
                    .await
                    .map_err(|e| err(&c.name, e))?;
            }
        }
        Ok(())
    }

    pub async fn set_play(&self, on: bool) -> Result<(), String> {
        self.store
            .set_setting(oml_dialer::PLAY_KEY, if on { "on" } else { "off" })
            .await
            .map_err(|e| format!("dialer.play: {e}"))
    }

    /// Each node's published figures, by node name.
    pub async fn statuses(&self) -> BTreeMap<String, LiveStatus> {
        let rows = self
            .store
            .settings_under(&format!("{}.", oml_dialer::STATUS_KEY))
            .await
            .unwrap_or_default();
        rows.into_iter()
            .filter_map(|(_, v)| serde_json::from_str::<LiveStatus>(&v).ok())
            .map(|l| (l.node.clone(), l))
            .collect()
    }

    /// Calls placed from `from_ms` to `to_ms` per node, and how many of
    /// them reached an agent.
    pub async fn placed_per_node(&self, from_ms: i64, to_ms: i64) -> BTreeMap<String, (i64, i64)> {
        let rows = sqlx::query(
            "SELECT node, count(*), count(connected_at) FROM call_attempts
             WHERE placed_at >= $1 AND placed_at < $2 GROUP BY node",
        )
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await
        .unwrap_or_default();
        rows.iter()
            .map(|r| (r.get::<String, _>(0), (r.get(1), r.get(2))))
            .collect()
    }

    /// Transactions committed and rolled back in the database so far.
    pub async fn xacts(&self) -> i64 {
        sqlx::query_scalar(
            "SELECT (xact_commit + xact_rollback)::BIGINT FROM pg_stat_database WHERE datname = $1",
        )
        .bind(&self.name)
        .fetch_one(self.pool())
        .await
        .unwrap_or(0)
    }

    /// The server's `max_connections` (0 when it cannot be read).
    pub async fn max_connections(&self) -> i64 {
        sqlx::query_scalar::<_, String>("SHOW max_connections")
            .fetch_one(self.pool())
            .await
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Process ids of the server's backends connected to the database.
    pub async fn backend_pids(&self) -> Vec<u32> {
        sqlx::query_scalar::<_, i32>("SELECT pid FROM pg_stat_activity WHERE datname = $1")
            .bind(&self.name)
            .fetch_all(self.pool())
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|p| p as u32)
            .collect()
    }
}
