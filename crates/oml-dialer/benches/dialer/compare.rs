//! The throughput comparison: for each PBX (pbxsim, the real Asterisk when
//! configured) and each store (SQLite, PostgreSQL when configured), the
//! bare AMI loop and then the engine, back to back, so each pair shares the
//! machine's conditions; the whole table once with no load added and once
//! with two `yes > /dev/null` keeping both cores busy.

use std::process::{Child, Command, Stdio};

use oml_store::testing;

use super::pbx::Pbx;
use super::{bare, throughput};

/// One line of the comparison.
pub struct Row {
    pub loaded: bool,
    pub pbx: &'static str,
    pub store: &'static str,
    pub channels: usize,
    pub calls: usize,
    pub bare_per_s: f64,
    pub engine_per_s: f64,
    pub engine_cpu_per_1000: f64,
}

/// Two `yes > /dev/null`, killed when dropped.
struct Busy(Vec<Child>);

impl Busy {
    fn start() -> Busy {
        Busy(
            (0..2)
                .map(|_| {
                    Command::new("yes")
                        .stdout(Stdio::null())
                        .spawn()
                        .expect("start `yes` to load the machine")
                })
                .collect(),
        )
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs the whole table; `loads` says which conditions (quiet, busy).
pub async fn rows(contacts: usize, asterisk_channels: usize, loads: &[bool]) -> Vec<Row> {
    let mut pbxs = vec![Pbx::pbxsim(2000).await];
    if let Some(a) = Pbx::asterisk(asterisk_channels).await {
        pbxs.push(a);
    }
    let mut out = Vec::new();
    let mut run_no = 0;
    for &loaded in loads {
        let busy = loaded.then(Busy::start);
        for pbx in &pbxs {
            let mut stores = vec![testing::sqlite().await];
            match testing::postgres().await {
                Some(s) => stores.push(s),
                None => eprintln!(
                    "SKIPPED: PostgreSQL rows ({} is not set)",
                    testing::TEST_URL_VAR
                ),
            }
            for ts in stores {
                run_no += 1;
                let b = bare::run(pbx, run_no, contacts).await;
                run_no += 1;
                let e = throughput::run(&ts.store, pbx, run_no, contacts).await;
                let row = Row {
                    loaded,
                    pbx: pbx.name,
                    store: ts.label,
                    channels: pbx.channels,
                    calls: contacts,
                    bare_per_s: b.per_second(),
                    engine_per_s: e.per_second(),
                    engine_cpu_per_1000: e.cpu_per_1000,
                };
                eprintln!(
                    "{} {} {}: bare {:.0}/s ({} calls), engine {:.0}/s ({} calls), {:.0} %",
                    if loaded { "busy" } else { "quiet" },
                    row.pbx,
                    row.store,
                    row.bare_per_s,
                    b.calls,
                    row.engine_per_s,
                    e.calls,
                    100.0 * row.engine_per_s / row.bare_per_s
                );
                out.push(row);
                ts.store.close().await;
            }
        }
        drop(busy);
    }
    for pbx in pbxs {
        pbx.shutdown().await;
    }
    out
}

/// The table in Markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut md = String::from(
        "| machine | PBX | store | calls in flight | calls | bare AMI loop calls/s | engine calls/s | engine / bare | engine CPU s per 1,000 calls |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.0} | {:.0} | {:.0} % | {:.3} |\n",
            if r.loaded {
                "both cores busy (2 × `yes`)"
            } else {
                "no added load"
            },
            r.pbx,
            r.store,
            r.channels,
            r.calls,
            r.bare_per_s,
            r.engine_per_s,
            100.0 * r.engine_per_s / r.bare_per_s,
            r.engine_cpu_per_1000
        ));
    }
    md
}
