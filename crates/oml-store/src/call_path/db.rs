//! A campaign's call path settings in the database (`campaign_call_path`,
//! schema 10): read one or all, and the upsert the campaign write runs in
//! its own transaction, so a campaign and its call path change together.

use super::{AmdParams, CallPath};
use crate::{on_pool, Result, Store};

/// Inserts or replaces a campaign's row: `$1` campaign id, then the
/// settings in [`CallPath`]'s order, `$9` the time.
pub(crate) const UPSERT: &str = "INSERT INTO campaign_call_path
       (campaign_id, machine, machine_sound, amd_params, recording, recording_format,
        welcome_sound, abandon_sound, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (campaign_id) DO UPDATE SET machine = excluded.machine,
       machine_sound = excluded.machine_sound, amd_params = excluded.amd_params,
       recording = excluded.recording, recording_format = excluded.recording_format,
       welcome_sound = excluded.welcome_sound, abandon_sound = excluded.abandon_sound,
       updated_at = excluded.updated_at";

/// Binds [`UPSERT`]'s parameters.
macro_rules! bind_upsert {
    ($query:expr, $id:expr, $cp:expr, $now:expr) => {
        $query
            .bind($id)
            .bind($cp.machine.as_str())
            .bind(&$cp.machine_sound)
            .bind($cp.amd.to_args())
            .bind($cp.recording.as_str())
            .bind($cp.recording_format.as_str())
            .bind(&$cp.welcome_sound)
            .bind(&$cp.abandon_sound)
            .bind($now)
    };
}
pub(crate) use bind_upsert;

type Row = (i64, String, String, String, String, String, String, String);

const COLUMNS: &str = "campaign_id, machine, machine_sound, amd_params, recording, \
     recording_format, welcome_sound, abandon_sound";

fn from_row(r: Row) -> Result<(i64, CallPath)> {
    Ok((
        r.0,
        CallPath {
            machine: r.1.parse()?,
            machine_sound: r.2,
            amd: AmdParams::parse(&r.3)?,
            recording: r.4.parse()?,
            recording_format: r.5.parse()?,
            welcome_sound: r.6,
            abandon_sound: r.7,
        },
    ))
}

impl Store {
    /// The call path settings of a campaign; `None` when never given (all
    /// off, no messages).
    pub async fn call_path(&self, campaign_id: i64) -> Result<Option<CallPath>> {
        let sql = format!("SELECT {COLUMNS} FROM campaign_call_path WHERE campaign_id = $1");
        let row: Option<Row> = on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(campaign_id)
            .fetch_optional(p)
            .await?);
        Ok(row.map(from_row).transpose()?.map(|(_, c)| c))
    }

    /// Every campaign's call path settings, by campaign id (campaigns never
    /// given any are absent).
    pub async fn call_paths(&self) -> Result<Vec<(i64, CallPath)>> {
        let sql = format!("SELECT {COLUMNS} FROM campaign_call_path ORDER BY campaign_id");
        let rows: Vec<Row> = on_pool!(self, |p| sqlx::query_as(&sql).fetch_all(p).await?);
        rows.into_iter().map(from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::call_path::{MachineHandling, Recording, RecordingFormat};
    use crate::testing::backends;
    use crate::{CallPath, CampaignSpec, TrunkSpec, DEFAULT_DIAL_STRING};

    #[tokio::test]
    async fn a_campaign_and_its_call_path_are_stored_together() {
        for t in backends().await {
            let s = &t.store;
            s.create_trunk(&TrunkSpec {
                name: "t".into(),
                dial_string: DEFAULT_DIAL_STRING.into(),
                max_channels: 10,
                server: None,
                caller_id: String::new(),
            })
            .await
            .unwrap();
            let spec = CampaignSpec::new("c", "t");
            let mut cp = CallPath {
                machine: MachineHandling::Message,
                machine_sound: "custom/machine".into(),
                recording: Recording::All,
                recording_format: RecordingFormat::Gsm,
                abandon_sound: "custom/abandon".into(),
                ..CallPath::default()
            };
            cp.amd.apply("greeting=2000").unwrap();
            let c = s.create_campaign_with(&spec, Some(&cp)).await.unwrap();
            assert_eq!(
                s.call_path(c.id).await.unwrap(),
                Some(cp.clone()),
                "{}",
                t.label
            );
            // A refused call path leaves the campaign as it was.
            let mut renamed = spec.clone();
            renamed.name = "c2".into();
            let bad = CallPath {
                abandon_sound: String::new(),
                ..cp.clone()
            };
            let e = s
                .update_campaign_with("c", &renamed, Some(&bad))
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains("abandon message") && e.contains("FCC"), "{e}");
            assert!(
                s.campaign_by_name("c").await.unwrap().is_some(),
                "{}",
                t.label
            );
            assert_eq!(s.call_path(c.id).await.unwrap(), Some(cp.clone()));
            // Without one the settings stay; with one they are replaced.
            s.update_campaign("c", &renamed).await.unwrap();
            assert_eq!(s.call_path(c.id).await.unwrap(), Some(cp.clone()));
            let off = CallPath {
                abandon_sound: "x".into(),
                ..CallPath::default()
            };
            s.update_campaign_with("c2", &renamed, Some(&off))
                .await
                .unwrap();
            assert_eq!(
                s.call_paths().await.unwrap(),
                vec![(c.id, off)],
                "{}",
                t.label
            );
            s.delete_campaign("c2").await.unwrap();
            assert!(s.call_paths().await.unwrap().is_empty(), "{}", t.label);
        }
    }
}
