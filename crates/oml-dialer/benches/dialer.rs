//! Dialer engine benchmark, writing docs/DIALER-BENCH.md:
//!
//! 1. Reaction time: from the receipt of the AMI event that frees an agent
//!    to the `Originate` of the next call being handed to the AMI client
//!    (its attempt already committed to the database), p50 / p99, side by
//!    side without and with the per-minute history (`reaction.rs`).
//! 2. Throughput, side by side in one run: calls per second completed by a
//!    bare AMI loop (no database, no pacing) and by the engine (attempt
//!    committed before each `Originate`, AMI rate limit off) on the same
//!    PBX with the same calls in flight; on pbxsim and on the real Asterisk
//!    bench, on SQLite and on PostgreSQL, on a quiet machine and with both
//!    cores kept busy by two `yes > /dev/null`.
//!
//! Run: `cargo bench -p oml-dialer --bench dialer` (release build). The
//! PostgreSQL rows need `OML_TEST_DATABASE_URL`, the Asterisk rows
//! `. "$(bash .ci/asterisk-bench.sh env-file)"`; without them those rows
//! are skipped and say so. `DIALER_BENCH_CONTACTS` changes the calls per
//! run (default 20000), `DIALER_BENCH_ASTERISK_CHANNELS` the calls in
//! flight on Asterisk (default 80: the bench's `maxcalls` is 200 channels,
//! two per Local call). `DIALER_BENCH_REACTION_ONLY=1` runs the reaction
//! runs alone and prints them without writing the file;
//! `DIALER_BENCH_REACTION_ROUNDS` sets their rounds (default 3).

#[path = "dialer/bare.rs"]
mod bare;
#[path = "dialer/compare.rs"]
mod compare;
#[path = "dialer/pbx.rs"]
mod pbx;
#[path = "dialer/reaction.rs"]
mod reaction;
#[path = "dialer/throughput.rs"]
mod throughput;

/// The machine's load average (1, 5, 15 min), as /proc/loadavg says.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_string(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn env_num(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // we need: run a small smoke version then (pbxsim, quiet, 500 calls).
    let full = std::env::args().any(|a| a == "--bench");
    let contacts = env_num("DIALER_BENCH_CONTACTS", if full { 20_000 } else { 500 });
    let channels = env_num("DIALER_BENCH_ASTERISK_CHANNELS", 80);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let loads: &[bool] = if full { &[false, true] } else { &[false] };
    let load_before = load_average();
    // DIALER_BENCH_REACTION_ONLY=1: the reaction runs alone, printed only.
    let reaction_only = std::env::var("DIALER_BENCH_REACTION_ONLY").is_ok_and(|v| v == "1");
    let (r, rows) = rt.block_on(async {
        let r = if full {
            Some(reaction::side_by_side().await)
        } else {
            None
        };
        let rows = if reaction_only {
            Vec::new()
        } else {
            compare::rows(contacts, channels, loads).await
        };
        (r, rows)
    });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut md = String::new();
    md.push_str("# Dialer engine benchmark\n\n");
    md.push_str(&format!("Reproduce (writes this file): `. \"$(bash .ci/asterisk-bench.sh env-file)\"; OML_TEST_DATABASE_URL=postgres://oml_test:oml_test@127.0.0.1:5432/oml_test DIALER_BENCH_CONTACTS={contacts} cargo bench -p oml-dialer --bench dialer`; without the bench's environment the Asterisk rows are skipped, without `OML_TEST_DATABASE_URL` the PostgreSQL rows.\n"));
    md.push_str(&format!(
        "Machine: {cores} CPU cores, shared by the engine, the database and the PBX (pbxsim runs in the benchmark's process, Asterisk beside it), and by whatever else ran on it. Load average (1, 5, 15 min): {load_before} at the start, {} at the end.\n\n",
        load_average()
    ));
    if let Some(side) = &r {
        md.push_str("## Reaction time (agent freed → next Originate)\n\n");
        md.push_str("Measured inside the engine: from the moment the AMI event that frees an agent (`QueueMemberStatus` Status 1) is received from the AMI client, to the `Originate` of the call placed for that agent being handed to the AMI client — after its attempt was committed to the database. pbxsim: 20 agents, every customer answers, talk 0.5-1.5 s, no wrap-up; progressive campaign; SQLite; measured after 3 s warm-up, no load added by the benchmark (see the load average above).\n\n");
        md.push_str(&format!("Without the per-minute history (issue 20) and with it, side by side: {} rounds of one run each way, alternating, {} s measured per run (so the history stores at least one minute while measured); each side's samples pooled, and each round's pair of p99s. Target: the history adds at most 1 ms to p99.\n\n", side.rounds.len(), reaction::MEASURED_S));
        md.push_str("| minute history | samples | p50 | p99 | max | target p99 | replaced dialer |\n|---|---|---|---|---|---|---|\n");
        for r in &side.pooled {
            md.push_str(&format!(
                "| {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | < 5 ms | polls every 2,500 ms |\n",
                if r.minute_history { "on" } else { "off" },
                r.samples,
                r.p50_ms,
                r.p99_ms,
                r.max_ms
            ));
        }
        md.push_str(
            "\n| round | p99 without the history | p99 with it | difference |\n|---|---|---|---|\n",
        );
        for (i, (off, on)) in side.rounds.iter().enumerate() {
            md.push_str(&format!(
                "| {} | {off:.2} ms | {on:.2} ms | {:+.2} ms |\n",
                i + 1,
                on - off
            ));
        }
        if let [off, on] = &side.pooled[..] {
            md.push_str(&format!(
                "\nPooled, the history adds {:+.2} ms to p99; the median of the rounds' paired differences is {:+.2} ms (target: at most +1 ms).\n",
                on.p99_ms - off.p99_ms,
                side.median_paired_difference().unwrap_or(f64::NAN)
            ));
        }
        md.push('\n');
    }
    if reaction_only {
        print!("{md}");
        return;
    }
    md.push_str("## Throughput: the engine against a bare AMI loop\n\n");
    md.push_str("Every number is busy, so each call ends within milliseconds and the dialer is the limit. Both sides keep the same number of calls in flight (the trunk's limit) and start the next call once one has ended (`OriginateResponse` and the customer leg's `Hangup` seen). The bare loop is one AMI client and nothing else; the engine runs a progressive campaign with as many ready agents as channels, commits each attempt before its `Originate` (group commit: the attempts ready together share one transaction) and records each outcome. Calls/s = calls completed / time from the first `Originate` to the end of the last call. Each engine run follows its bare loop at once, on the same PBX. pbxsim: in this process, busy after 10-40 ms; Asterisk: the bench's Asterisk 22 (`.ci/asterisk-bench.sh`), numbers ending in 2 (`Busy()`), bench members added to queue `oml-test` for the run. CPU = user + system time of the benchmark's process (engine, SQLite, pbxsim; not PostgreSQL or Asterisk) over the engine's run. Target: engine ≥ 80 % of the bare loop on the same Asterisk.\n\n");
    md.push_str(&compare::markdown(&rows));
    print!("{md}");
    if full {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/DIALER-BENCH.md");
        std::fs::write(&path, md).expect("write docs/DIALER-BENCH.md");
        println!("\nwritten to {}", path.display());
    }
}
