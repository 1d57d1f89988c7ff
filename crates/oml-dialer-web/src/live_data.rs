//! What the Dialer page's live part and the wall show, read from the store:
//! the dialer's status, each campaign's row, and its board (today's stored
//! minutes and the last hour's, see `board.rs`). The minutes change once a
//! minute, so they are read at most every [`MINUTES_TTL_MS`] per database;
//! the status at every call.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

use minijinja::{context, Value};
use oml_dialer::control::{self, DialerStatus};
use oml_store::history::{CampaignMinute, MINUTE_MS};
use oml_store::Store;
use tokio::sync::Mutex;

use crate::board::{self, CampaignBoard, HOUR_MS};
use crate::view::{self, CampaignView};

/// How long the stored minutes read are reused.
pub const MINUTES_TTL_MS: i64 = 10_000;

/// One campaign's recent minutes and the start of its day.
#[derive(Debug, Default)]
struct Recent {
    day_start_ms: i64,
    minutes: Vec<CampaignMinute>,
}

/// Read at, and each campaign's recent minutes by name.
type MinutesCache = HashMap<String, (i64, Arc<HashMap<String, Recent>>)>;

static MINUTES: LazyLock<Mutex<MinutesCache>> = LazyLock::new(Default::default);

/// Everything the live views show.
pub struct LiveData {
    pub status: DialerStatus,
    pub campaigns: Vec<CampaignView>,
    pub boards: BTreeMap<String, CampaignBoard>,
}

/// The start of the day of `now_ms` in time zone `tz`.
fn day_start(now_ms: i64, tz: chrono_tz::Tz) -> i64 {
    let day = chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .with_timezone(&tz)
        .format("%Y-%m-%d")
        .to_string();
    crate::export::period::period(Some(&day), None, tz)
        .map(|p| p.0)
        .unwrap_or(now_ms - 24 * HOUR_MS)
}

async fn read_recent(store: &Store, now_ms: i64) -> oml_store::Result<HashMap<String, Recent>> {
    let mut out = HashMap::new();
    for c in store.campaigns().await? {
        let tz: chrono_tz::Tz = c.time_zone.parse().unwrap_or(chrono_tz::UTC);
        let day_start_ms = day_start(now_ms, tz);
        let minutes = store
            .campaign_minutes(c.id, day_start_ms.min(now_ms - HOUR_MS), now_ms + MINUTE_MS)
            .await?;
        out.insert(
            c.name,
            Recent {
                day_start_ms,
                minutes,
            },
        );
    }
    Ok(out)
}

async fn recent(store: &Store, now_ms: i64) -> oml_store::Result<Arc<HashMap<String, Recent>>> {
    let key = store.location().describe();
    let mut cache = MINUTES.lock().await;
    if let Some((at, r)) = cache.get(&key) {
        if (now_ms - at).abs() < MINUTES_TTL_MS {
            return Ok(r.clone());
        }
    }
    let r = Arc::new(read_recent(store, now_ms).await?);
    cache.insert(key, (now_ms, r.clone()));
    Ok(r)
}

impl LiveData {
    /// Reads it now.
    pub async fn load(store: &Store) -> oml_store::Result<LiveData> {
        let now = oml_store::now_ms();
        let status = control::status(store).await?;
        let recent = recent(store, now).await?;
        let campaigns = view::campaigns(&status);
        let boards = campaigns
            .iter()
            .map(|c| {
                let b = match recent.get(&c.name) {
                    Some(r) => board::board(c, &r.minutes, r.day_start_ms, now),
                    None => board::board(c, &[], now, now),
                };
                (c.name.clone(), b)
            })
            .collect();
        Ok(LiveData {
            status,
            campaigns,
            boards,
        })
    }

    /// The templates' context: the page's live part and the wall's tiles.
    pub fn context(&self) -> Value {
        let s = &self.status;
        let live = s.live.as_ref().filter(|_| s.engine_running);
        context! {
            play => s.play,
            engine_running => s.engine_running,
            engine_seen_at => s.engine_seen_at,
            nodes => s.nodes.clone(),
            calls_in_flight => live.map(|l| l.calls_in_flight),
            servers => live.map(|l| l.servers.clone()),
            sharing => live.and_then(|l| l.sharing.clone()),
            campaigns => self.campaigns.clone(),
            boards => self.boards.clone(),
            alerts => self.boards.values().filter(|b| b.alert.is_some()).count(),
        }
    }
}
