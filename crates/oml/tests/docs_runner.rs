//! The docs runner (issue 21 item 6): every `oml` command shown in docs/*.md
//! runs with the built binary in a fresh temporary root, and its output must
//! have the shape the page shows (tests/docs/shape.rs says what may differ).
//! A block that cannot run here says why in the page with
//! `<!-- docs: skip: REASON -->`; hidden preparation is
//! `<!-- docs: setup: COMMAND -->`. Skips are counted and printed.

mod docs;

use docs::page::{self, Item};
use docs::{run, shape};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

// Generous: a page runs in a few seconds, but CI runs the tests on two loaded cores.
const PAGE_TIMEOUT: Duration = Duration::from_secs(90);

/// What one page gave: failures, and lines for the summary.
#[derive(Default)]
struct Outcome {
    failures: Vec<String>,
    ran: usize,
    commands: usize,
    skipped: Vec<String>,
    without_oml: usize,
    name: String,
    seconds: f64,
}

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn check_page(path: &Path) -> Outcome {
    let name = format!("docs/{}", path.file_name().unwrap().to_string_lossy());
    let mut out = Outcome::default();
    let text = std::fs::read_to_string(path).unwrap();
    let page = match page::parse(&text, &|v| std::env::var_os(v).is_some()) {
        Ok(p) => p,
        Err(e) => {
            out.failures.push(format!("{name}: {e}"));
            return out;
        }
    };
    out.without_oml = page.without_oml;
    if let Some(reason) = &page.skip_page {
        out.skipped.push(format!("{name} (whole page): {reason}"));
        return out;
    }
    let mut cmds: Vec<String> = Vec::new();
    for item in &page.items {
        match item {
            Item::Setup { cmd, .. } => cmds.push(cmd.clone()),
            Item::Example { steps, .. } => cmds.extend(steps.iter().map(|s| s.cmd.clone())),
            Item::Skipped { line, reason } => out.skipped.push(format!("{name}:{line}: {reason}")),
        }
    }
    if cmds.is_empty() {
        return out;
    }
    let root = tempfile::tempdir().unwrap();
    let ran = match run::run_page(&cmds, root.path(), &run::oml_binary(), PAGE_TIMEOUT) {
        Ok(r) => r,
        Err(e) => {
            out.failures.push(format!("{name}: {e}"));
            return out;
        }
    };
    let mut results = ran.iter();
    for item in &page.items {
        match item {
            Item::Skipped { .. } => {}
            Item::Setup { line, cmd } => {
                let Some(r) = results.next() else { return out };
                if r.code != 0 {
                    out.failures.push(format!(
                        "{name}:{line}: setup `{cmd}` exits {}:\n{}",
                        r.code, r.output
                    ));
                }
            }
            Item::Example {
                line,
                steps,
                combined,
            } => {
                out.ran += 1;
                let mut all = String::new();
                let block_error = combined.as_ref().is_some_and(|c| shows_error(c));
                for (k, step) in steps.iter().enumerate() {
                    let Some(r) = results.next() else { return out };
                    out.commands += 1;
                    all.push_str(&r.output);
                    let next_reads_code =
                        steps.get(k + 1).is_some_and(|s| s.cmd.trim() == "echo $?");
                    let may_fail = block_error
                        || next_reads_code
                        || step.expected.as_ref().is_some_and(|e| shows_error(e));
                    if r.code != 0 && !may_fail {
                        out.failures.push(format!(
                            "{name}:{}: `{}` exits {} (the page shows no error):\n{}",
                            step.line, step.cmd, r.code, r.output
                        ));
                        continue;
                    }
                    if let Some(exp) = &step.expected {
                        if let Some(d) = shape::first_difference(exp, &r.output) {
                            out.failures.push(format!(
                                "{name}:{}: `{}`: {d}\n  whole output:\n{}",
                                step.line, step.cmd, r.output
                            ));
                        }
                    }
                }
                if let Some(exp) = combined {
                    if let Some(d) = shape::first_difference(exp, &all) {
                        out.failures.push(format!(
                            "{name}:{line}: the block's output: {d}\n  whole output:\n{all}"
                        ));
                    }
                }
            }
        }
    }
    out
}

fn shows_error(lines: &[(usize, String)]) -> bool {
    lines
        .iter()
        .any(|(_, t)| t.trim_start().starts_with("error:"))
}

#[test]
fn every_command_in_docs_runs_as_shown() {
    let started = Instant::now();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(docs_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.sort();
    assert!(pages.len() > 10, "docs/ has only {} pages", pages.len());

    // While writing a page: OML_DOCS_PAGES=users.md,init.md runs those only.
    if let Ok(only) = std::env::var("OML_DOCS_PAGES") {
        let only: Vec<&str> = only.split(',').collect();
        pages.retain(|p| only.iter().any(|o| p.ends_with(o)));
        println!("OML_DOCS_PAGES: {} page(s) only", pages.len());
    }
    let todo = Mutex::new(pages.clone());
    let done = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let Some(p) = todo.lock().unwrap().pop() else {
                    break;
                };
                let t = Instant::now();
                let mut o = check_page(&p);
                o.name = p.file_name().unwrap().to_string_lossy().into_owned();
                o.seconds = t.elapsed().as_secs_f64();
                done.lock().unwrap().push(o);
            });
        }
    });
    let done = done.into_inner().unwrap();
    let sum = |f: fn(&Outcome) -> usize| done.iter().map(f).sum::<usize>();
    let mut skipped: Vec<&String> = done.iter().flat_map(|o| &o.skipped).collect();
    skipped.sort();
    println!(
        "docs runner: {} pages, {} examples run ({} commands), {} skipped, {} blocks without oml not run, {:.1} s",
        pages.len(),
        sum(|o| o.ran),
        sum(|o| o.commands),
        skipped.len(),
        sum(|o| o.without_oml),
        started.elapsed().as_secs_f64()
    );
    let mut slow: Vec<&Outcome> = done.iter().collect();
    slow.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    let slow: Vec<String> = slow
        .iter()
        .take(3)
        .map(|o| format!("{} {:.1} s", o.name, o.seconds))
        .collect();
    println!("  slowest pages: {}", slow.join(", "));
    for s in &skipped {
        println!("  SKIPPED {s}");
    }
    let failures: Vec<&String> = done.iter().flat_map(|o| &o.failures).collect();
    assert!(
        failures.is_empty(),
        "{} docs example(s) do not match the binary:\n\n{}",
        failures.len(),
        failures
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    assert!(sum(|o| o.ran) > 0, "no example ran");
}
