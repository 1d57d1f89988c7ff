//! Benchmark: latency of an authenticated console page with and without a
//! brute-force flood of wrong logins from many client addresses, side by
//! side in one run, plus login attempts handled per second and server CPU
//! per attempt.
//!
//! It starts the console in this process (SQLite store in a temporary
//! folder, 127.0.0.1 as the trusted proxy so `X-Forwarded-For` gives every
//! attempt its own client address), then runs Debian's `wrk` against
//! 127.0.0.1 only, each phase bounded in time:
//!   1. baseline: `GET /` with an agent's session cookie;
//!   2. the same page while a second `wrk` posts wrong passwords for random
//!      usernames from random addresses.
//!
//!   3. logins of real users while 700 wrong logins from 700 distinct
//!      addresses arrive at once (`logins`: this phase alone, no wrk needed).
//!
//! CPU is this process's user+system time (the server; wrk runs apart).
//!
//! Run: `cargo run --release -p oml-web --example bench_login_flood -- [SECONDS] [REPORT.md]`
//! or `... -- logins` for phase 3 alone (see docs/serve.md). Default 15 s per
//! phase; report to `target/bench-web-report.md`.

use oml_store::{Location, NewUser, OpenMode, Role, Store};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const FLOOD_LUA: &str = r#"
-- Wrong logins for random usernames from random client addresses, sent
-- through the trusted proxy (127.0.0.1) as X-Forwarded-For.
local target_user = os.getenv("OML_BENCH_USER")
local token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
math.randomseed(os.time())
request = function()
  local user = target_user or ("user" .. math.random(1, 5000))
  local ip = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  local body = "username=" .. user .. "&password=wrong-password&csrf_token=" .. token
  local headers = {}
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["Cookie"] = "oml_csrf=" .. token
  headers["X-Forwarded-For"] = ip
  return wrk.format("POST", "/login", headers, body)
end
"#;

/// User + system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 here.
    let hz = 100.0; // USER_HZ on Linux
    (ticks(11) + ticks(12)) / hz
}

#[derive(Debug, Default, Clone)]
struct WrkResult {
    requests: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
    errors: String,
}

fn parse_ms(v: &str) -> f64 {
    let v = v.trim();
    if let Some(x) = v.strip_suffix("us") {
        x.parse::<f64>().unwrap_or(f64::NAN) / 1000.0
    } else if let Some(x) = v.strip_suffix("ms") {
        x.parse().unwrap_or(f64::NAN)
    } else if let Some(x) = v.strip_suffix('s') {
        x.parse::<f64>().unwrap_or(f64::NAN) * 1000.0
    } else {
        f64::NAN
    }
}

fn parse_wrk(out: &str) -> WrkResult {
    let mut r = WrkResult::default();
    for line in out.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("50%") {
            r.p50_ms = parse_ms(v);
        } else if let Some(v) = t.strip_prefix("99%") {
            r.p99_ms = parse_ms(v);
        } else if t.contains("requests in") {
            // "1234 requests in 10.00s, 5.67MB read"
            let mut it = t.split_whitespace();
            r.requests = it.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            r.seconds = t
                .split("requests in ")
                .nth(1)
                .and_then(|s| s.split(',').next())
                .map(parse_ms)
                .unwrap_or(f64::NAN)
                / 1000.0;
        } else if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            r.non_2xx = v.trim().parse().unwrap_or(0);
        } else if t.starts_with("Socket errors:") {
            r.errors = t.to_string();
        }
    }
    r
}

fn wrk(args: &[String]) -> std::process::Child {
    wrk_env(args, None)
}

fn wrk_env(args: &[String], user: Option<&str>) -> std::process::Child {
    let mut cmd = Command::new("wrk");
    match user {
        Some(u) => cmd.env("OML_BENCH_USER", u),
        None => cmd.env_remove("OML_BENCH_USER"),
    };
    cmd.args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run wrk (apt-get install wrk)")
}

fn finish(child: std::process::Child) -> (WrkResult, String) {
    let out = child.wait_with_output().expect("wrk finished");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    (parse_wrk(&text), text)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("logins") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let table = rt.block_on(async {
            let server = Server::start().await;
            let t = logins_during_flood(&server).await;
            server.stop().await;
            t
        });
        println!("{table}");
        return;
    }
    let secs: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(15)
        .clamp(3, 120);
    let report_path = args
        .get(2)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench-web-report.md"));
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("SKIPPED: wrk is not installed (apt-get install wrk)");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run(secs, report_path));
}

/// The console served in this process on 127.0.0.1 (SQLite in a temporary
/// folder, 127.0.0.1 trusted as a proxy), with users admin, agent1 and agent2.
struct Server {
    dir: tempfile::TempDir,
    store: Store,
    state: oml_web::AppState,
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), oml_web::server::ServeError>>,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::DataDir(dir.path().into()), OpenMode::Create)
            .await
            .unwrap();
        for (name, role) in [
            ("admin", Role::Admin),
            ("agent1", Role::Agent),
            ("agent2", Role::Agent),
        ] {
            store
                .create_user(&NewUser {
                    username: name,
                    password: &format!("{name}-password-1").into(),
                    role,
                    must_change_password: false,
                })
                .await
                .unwrap();
        }
        let mut config = oml_config::Config::default();
        config.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        let state = oml_web::AppState::new(store.clone(), config).unwrap();
        let listener = oml_web::server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(oml_web::server::serve(
            listener,
            oml_web::app(state.clone()),
            None,
            async {
                let _ = stop_rx.await;
            },
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
        Server {
            dir,
            store,
            state,
            addr,
            stop,
            task,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Phase 3: 700 wrong logins (random usernames) from 700 distinct addresses
/// sent at once; meanwhile, one after the other, five logins of `admin`
/// from the address it logged in from before, and five of `agent2` (never
/// logged in) from a new address. Returns the report's table.
async fn logins_during_flood(server: &Server) -> String {
    const FLOOD: usize = 700;
    let addr = server.addr;
    // The admin has logged in from its office address before.
    let office = "198.51.100.7";
    let (status, _, _) = raw_login(&addr, "admin", "admin-password-1", Some(office)).await;
    assert_eq!(status, 303, "the admin's first login");
    eprintln!("phase: {FLOOD} wrong logins from {FLOOD} addresses at once, real users logging in");
    let t0 = Instant::now();
    let flood: Vec<_> = (0..FLOOD)
        .map(|i| {
            tokio::spawn(async move {
                let ip = format!("10.{}.{}.{}", i / 250, i % 250, 1 + i % 7);
                let user = format!("user{i}");
                raw_login(&addr, &user, "wrong-password", Some(&ip)).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut rows = String::new();
    for (who, password, from) in [
        ("admin", "admin-password-1", office),
        ("agent2", "agent2-password-1", "198.51.100.99"),
    ] {
        let mut line = Vec::new();
        for _ in 0..5 {
            let (status, took, _) = raw_login(&addr, who, password, Some(from)).await;
            line.push(format!("{status} in {:.2} s", took.as_secs_f64()));
        }
        rows.push_str(&format!("| {who} from {from} | {} |\n", line.join(" · ")));
    }
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for t in flood {
        let (status, _, _) = t.await.unwrap();
        *by_status.entry(status).or_default() += 1;
    }
    let flood_took = t0.elapsed().as_secs_f64();
    let statuses: Vec<String> = by_status.iter().map(|(s, n)| format!("{n}× {s}")).collect();
    format!(
        "| {FLOOD} wrong logins at once from {FLOOD} addresses; meanwhile, one after the other | five logins: status and time each |\n\
         |---|---|\n\
         {rows}\n\
         Flood answers: {} (all answered after {flood_took:.1} s); password hashes computed: {}.\n",
        statuses.join(", "),
        server.state.guard().hashes_computed(),
    )
}

async fn run(secs: u64, report_path: PathBuf) {
    let server = Server::start().await;
    let logins_table = logins_during_flood(&server).await;
    let (store, state, addr) = (server.store.clone(), server.state.clone(), server.addr);
    let dir = &server.dir;
    let base = format!("http://{addr}");

    // A session for the page: log in like a browser, over loopback.
    let session = login_session(&addr, "agent1", "agent1-password-1").await;
    let cookie = format!("Cookie: oml_session={session}");
    let page_args = |d: u64| -> Vec<String> {
        vec![
            "-t1".into(),
            "-c4".into(),
            format!("-d{d}s"),
            "--latency".into(),
            "-H".into(),
            cookie.clone(),
            format!("{base}/"),
        ]
    };

    eprintln!("phase 1: authenticated page alone, {secs} s");
    let (base_res, base_out) = tokio::task::spawn_blocking({
        let a = page_args(secs);
        move || finish(wrk(&a))
    })
    .await
    .unwrap();

    eprintln!("phase 2: the same page during a wrong-login flood, {secs} s");
    let lua = dir.path().join("flood.lua");
    std::fs::write(&lua, FLOOD_LUA).unwrap();
    let cpu0 = cpu_seconds();
    let hashes0 = state.guard().hashes_computed();
    let t0 = Instant::now();
    let flood = wrk(&[
        "-t1".into(),
        "-c64".into(),
        format!("-d{secs}s"),
        "--timeout".into(),
        "10s".into(),
        "--latency".into(),
        "-s".into(),
        lua.display().to_string(),
        format!("{base}/login"),
    ]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (load_res, load_out) = tokio::task::spawn_blocking({
        let a = page_args(secs.saturating_sub(1).max(2));
        move || finish(wrk(&a))
    })
    .await
    .unwrap();
    let (flood_res, flood_out) = tokio::task::spawn_blocking(move || finish(flood))
        .await
        .unwrap();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let hashes = state.guard().hashes_computed() - hashes0;
    let blocks = store.active_blocks(oml_store::now_ms()).await.unwrap();
    let user_blocks = blocks
        .iter()
        .filter(|b| b.kind == oml_store::BlockKind::User)
        .count();
    let ip_blocks = blocks.len() - user_blocks;

    // Phases 3 and 4: the flood alone, for attempts/s and CPU per attempt
    // without page traffic: first random usernames (nearly every attempt is
    // hashed), then one username from random addresses (blocked after 3,
    // then refused unhashed).
    let flood_args = |d: u64| -> Vec<String> {
        vec![
            "-t1".into(),
            "-c64".into(),
            format!("-d{d}s"),
            "--timeout".into(),
            "10s".into(),
            "--latency".into(),
            "-s".into(),
            lua.display().to_string(),
            format!("{base}/login"),
        ]
    };
    let mut alone = Vec::new();
    for (what, user) in [
        ("random usernames (hashed)", None),
        (
            "one username, blocked after 3 (refused unhashed)",
            Some("admin"),
        ),
    ] {
        eprintln!("phase: flood alone, {what}, {secs} s");
        let c0 = cpu_seconds();
        let h0 = state.guard().hashes_computed();
        let a = flood_args(secs);
        let (res, _) = tokio::task::spawn_blocking(move || finish(wrk_env(&a, user)))
            .await
            .unwrap();
        let cpu = cpu_seconds() - c0;
        let h = state.guard().hashes_computed() - h0;
        alone.push((what, res, cpu, h));
    }
    let mut alone_rows = String::new();
    for (what, res, cpu, h) in &alone {
        let n = res.requests as f64;
        alone_rows.push_str(&format!(
            "| {what} | {n:.0} in {s:.1} s = **{aps:.1}/s** | {h} | {p50:.1} ms / {p99:.1} ms | **{cpa:.2} ms** |\n",
            s = res.seconds,
            aps = n / res.seconds.max(0.001),
            p50 = res.p50_ms,
            p99 = res.p99_ms,
            cpa = if n > 0.0 { cpu * 1000.0 / n } else { f64::NAN },
        ));
    }

    let attempts = flood_res.requests as f64;
    let attempts_per_s = attempts / flood_res.seconds.max(0.001);
    let cpu_ms_per_attempt = if attempts > 0.0 {
        cpu * 1000.0 / attempts
    } else {
        f64::NAN
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let verdict = if load_res.p99_ms < 50.0 {
        "PASS"
    } else {
        "FAIL"
    };
    let report = format!(
        "# Web console under a wrong-login flood\n\n\
         Generated by `cargo run --release -p oml-web --example bench_login_flood -- {secs}` \
         on {host} ({cores} cores), {date}. Store: SQLite (WAL). Lock-out: defaults \
         (3 per username, 20 per address, 300 s). wrk against 127.0.0.1 only.\n\n\
         | authenticated page `GET /` (wrk -t1 -c4) | requests/s | p50 | p99 |\n\
         |---|---|---|---|\n\
         | alone | {b_rps:.0} | {b50:.2} ms | {b99:.2} ms |\n\
         | during the flood | {l_rps:.0} | {l50:.2} ms | {l99:.2} ms |\n\n\
         Target: p99 during the flood under 50 ms: **{verdict}**.\n\n\
         | flood: wrong logins, random usernames (5000) and X-Forwarded-For addresses (wrk -t1 -c64) | value |\n\
         |---|---|\n\
         | login attempts handled | {att:.0} in {fs:.1} s = **{aps:.1} attempts/s** |\n\
         | password hashes computed (argon2id; blocked names and addresses are refused unhashed) | {hashes} |\n\
         | login p50 / p99 | {f50:.1} ms / {f99:.1} ms |\n\
         | server CPU (user+system) over the flood phase ({wall:.1} s wall) | {cpu:.2} s |\n\
         | **server CPU per login attempt** (includes the page requests served meanwhile) | **{cpa:.2} ms** |\n\
         | blocks created (usernames / addresses) | {ub} / {ib} |\n\
         | non-2xx/3xx answers (401 wrong password, 403 blocked, 503 busy) | {non2xx} |\n\n\
         The flood alone (no page traffic), wrk -t1 -c64, {secs} s each:\n\n\
         | flood | attempts handled | hashes | login p50 / p99 | server CPU per attempt |\n\
         |---|---|---|---|---|\n\
         {alone_rows}\n\
         Real users logging in during a burst of wrong logins:\n\n{logins_table}\n\
         <details><summary>raw wrk output</summary>\n\n```\n# page alone\n{base_out}\n# page during flood\n{load_out}\n# flood\n{flood_out}\n```\n</details>\n",
        host = std::fs::read_to_string("/etc/hostname").unwrap_or_default().trim(),
        date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        b_rps = base_res.requests as f64 / base_res.seconds.max(0.001),
        b50 = base_res.p50_ms,
        b99 = base_res.p99_ms,
        l_rps = load_res.requests as f64 / load_res.seconds.max(0.001),
        l50 = load_res.p50_ms,
        l99 = load_res.p99_ms,
        att = attempts,
        fs = flood_res.seconds,
        aps = attempts_per_s,
        f50 = flood_res.p50_ms,
        f99 = flood_res.p99_ms,
        cpa = cpu_ms_per_attempt,
        ub = user_blocks,
        ib = ip_blocks,
        non2xx = flood_res.non_2xx,
    );
    if let Some(parent) = report_path.parent() {
        std::fs::create_dir_all(parent).ok();
    }
    std::fs::write(&report_path, &report).unwrap();
    println!("{}", report.split("<details>").next().unwrap_or(&report));
    println!("report written to {}", report_path.display());
    if !base_res.errors.is_empty() || !load_res.errors.is_empty() {
        println!(
            "wrk socket errors: {} / {}",
            base_res.errors, load_res.errors
        );
    }
    server.stop().await;
}

/// Logs in over HTTP/1.1 on a raw socket and returns the session token.
async fn login_session(addr: &std::net::SocketAddr, user: &str, password: &str) -> String {
    let (_, _, out) = raw_login(addr, user, password, None).await;
    out.lines()
        .find_map(|l| {
            let l = l.to_ascii_lowercase();
            let v = l.strip_prefix("set-cookie: oml_session=")?;
            Some(v.split(';').next()?.to_string())
        })
        .unwrap_or_else(|| panic!("login failed: {out}"))
}

/// One login over HTTP/1.1 on a raw socket, from `from` (sent as
/// `X-Forwarded-For` through the trusted 127.0.0.1): status, time, answer.
async fn raw_login(
    addr: &std::net::SocketAddr,
    user: &str,
    password: &str,
    from: Option<&str>,
) -> (u16, Duration, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let body = format!("username={user}&password={password}&csrf_token={token}");
    let xff = from
        .map(|ip| format!("X-Forwarded-For: {ip}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "POST /login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Cookie: oml_csrf={token}\r\n{xff}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let t0 = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, t0.elapsed(), out)
}
