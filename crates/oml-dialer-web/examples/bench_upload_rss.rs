//! Benchmark: the server's memory while contact files are uploaded at once.
//!
//! Serves the whole console in this process (SQLite in a temporary folder),
//! then `curl` (separate processes, so their memory is not counted) uploads
//! the same 60 MB CSV file N times in parallel to a campaign's contact page.
//! The file is malformed at its third line, so each import stops at once and
//! what is measured is the upload itself. Reported: this process's resident
//! memory before, its peak during the uploads (VmHWM, reset first), and each
//! upload's answer and time.
//!
//! Run: `cargo run --release -p oml-dialer-web --example bench_upload_rss -- [N] [MB]`
//! (default 4 uploads of 60 MB; see docs/contacts-import.md).

use oml_store::web::WebSession;
use oml_store::{CampaignSpec, Location, NewUser, OpenMode, Role, Store, TrunkSpec};
use std::io::Write;
use std::process::Command;
use std::time::Duration;

/// A field of /proc/self/status in MiB (VmRSS, VmHWM).
fn status_mib(field: &str) -> f64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4);
    let mb: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60);
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("SKIPPED: curl is not installed");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run(n, mb));
}

async fn run(n: usize, mb: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::DataDir(dir.path().into()), OpenMode::Create)
        .await
        .unwrap();
    store
        .create_user(&NewUser {
            username: "sup",
            password: &"sup-password-1".to_string().into(),
            role: Role::Supervisor,
            must_change_password: false,
        })
        .await
        .unwrap();
    store
        .create_trunk(&TrunkSpec {
            name: "carrier".into(),
            dial_string: oml_store::DEFAULT_DIAL_STRING.into(),
            max_channels: 10,
            server: None,
            caller_id: String::new(),
        })
        .await
        .unwrap();
    store
        .create_campaign(&CampaignSpec::new("sales", "carrier"))
        .await
        .unwrap();
    let token = oml_web::session::random_token();
    let csrf = oml_web::session::random_token();
    let sup = store.user_by_name("sup").await.unwrap().unwrap();
    let now = oml_store::now_ms();
    store
        .create_web_session(&WebSession {
            token_hash: oml_web::session::token_hash(&token),
            user_id: sup.id,
            csrf_token: csrf.clone(),
            created_at: now,
            last_seen_at: now,
            ip: None,
        })
        .await
        .unwrap();

    // The file: malformed at line 3, then filler up to the size.
    let path = dir.path().join("leads.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(b"phone,name\n+5491155550001,Ana\n+5491155550002,Bo,extra\n")
            .unwrap();
        let row = b"+5491155550003,a row that fills the file up to its size\n";
        let mut written = 0;
        while written < mb << 20 {
            f.write_all(row).unwrap();
            written += row.len();
        }
    }

    let app = oml_dialer_web::console(store.clone(), oml_config::Config::default()).unwrap();
    let listener = oml_web::server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(oml_web::server::serve(listener, app, None, async {
        let _ = stop_rx.await;
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = format!("http://{addr}/dialer/campaigns/sales/contacts?csrf_token={csrf}");
    // One small request first, so the idle figure includes a served page.
    let _ = curl(&url, &token, None).await;
    let idle = status_mib("VmRSS:");
    // Reset the peak so that VmHWM is the peak of the uploads.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let uploads: Vec<_> = (0..n)
        .map(|_| {
            let (url, token, path) = (url.clone(), token.clone(), path.clone());
            tokio::spawn(async move { curl(&url, &token, Some(&path)).await })
        })
        .collect();
    let mut answers = Vec::new();
    for u in uploads {
        answers.push(u.await.unwrap());
    }
    let peak = status_mib("VmHWM:");
    println!(
        "{n} parallel uploads of {mb} MB to one oml serve: server RSS {idle:.0} MiB before, peak {peak:.0} MiB during (+{:.0} MiB); answers: {}",
        peak - idle,
        answers.join(", ")
    );
    let _ = stop_tx.send(());
    let _ = server.await;
}

/// One POST with curl: the file as a multipart field (or no field at all).
async fn curl(url: &str, token: &str, file: Option<&std::path::Path>) -> String {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} in %{time_total} s",
    ])
    .arg("-b")
    .arg(format!("oml_session={token}"));
    match file {
        Some(p) => cmd
            .arg("-F")
            .arg(format!("file=@{};type=text/csv", p.display())),
        None => cmd.arg("-F").arg("phone_column="),
    };
    let out = cmd.arg(url).output().await.unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}
