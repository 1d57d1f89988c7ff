//! Reading a docs page: its copy-paste examples (console transcripts, and
//! `sh` blocks with the plain block of output that follows them) and the
//! `<!-- docs: ... -->` markers that set them up or skip them. Pure: text in,
//! examples out, so the rules are tested without running anything.

/// One command of an example, as the reader would paste it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Line of the page where the command starts (1-based).
    pub line: usize,
    /// The command, continuation lines joined with their newlines.
    pub cmd: String,
    /// The output the page shows for this command alone (console blocks).
    pub expected: Option<Vec<(usize, String)>>,
}

/// What the runner does with a fenced block or a setup marker, in page order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `<!-- docs: setup: CMD -->`: run before what follows, output unchecked.
    Setup { line: usize, cmd: String },
    /// A block with at least one `oml` command.
    Example {
        line: usize,
        steps: Vec<Step>,
        /// Output shown for the whole block (an `sh` block followed by a plain one).
        combined: Option<Vec<(usize, String)>>,
    },
    /// An example preceded by `<!-- docs: skip: REASON -->`.
    Skipped { line: usize, reason: String },
}

/// A page read: its items, and the blocks with commands but no `oml` in them.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// `<!-- docs: skip-page: REASON -->` anywhere in the page.
    pub skip_page: Option<String>,
    pub without_oml: usize,
}

struct Fence {
    line: usize,
    lang: String,
    body: Vec<(usize, String)>,
}

/// Reads a page; an error names the line of a malformed marker. `has_env`
/// says whether an environment variable a `docs: needs:` marker names is set.
pub fn parse(text: &str, has_env: &dyn Fn(&str) -> bool) -> Result<Page, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut page = Page::default();
    let mut pending_skip: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let n = i + 1;
        if let Some(rest) = l.trim().strip_prefix("<!-- docs:") {
            let Some(body) = rest.strip_suffix("-->") else {
                return Err(format!(
                    "line {n}: a docs marker must end with --> on its line"
                ));
            };
            let body = body.trim();
            let (kind, arg) = body.split_once(':').unwrap_or((body, ""));
            let arg = arg.trim().to_string();
            if arg.is_empty() {
                return Err(format!(
                    "line {n}: `docs: {kind}` needs a text after the colon"
                ));
            }
            match kind.trim() {
                "setup" => page.items.push(Item::Setup { line: n, cmd: arg }),
                "skip" => pending_skip = Some(arg),
                "skip-page" => page.skip_page = Some(arg),
                "needs" => {
                    let Some((var, reason)) = arg.split_once(':') else {
                        return Err(format!("line {n}: write `docs: needs: VARIABLE: REASON`"));
                    };
                    if !has_env(var.trim()) {
                        pending_skip =
                            Some(format!("{} (set {} to run it)", reason.trim(), var.trim()));
                    }
                }
                other => {
                    return Err(format!(
                        "line {n}: unknown docs marker `{other}` (setup, skip, skip-page, needs)"
                    ))
                }
            }
            i += 1;
            continue;
        }
        let Some(fence) = read_fence(&lines, &mut i) else {
            i += 1;
            continue;
        };
        let output = if is_shell(&fence.lang) {
            let mut j = i;
            while j < lines.len() && lines[j].trim().is_empty() {
                j += 1;
            }
            match read_fence(&lines, &mut j) {
                Some(f)
                    if f.lang.is_empty() && !f.body.iter().any(|(_, t)| t.starts_with("$ ")) =>
                {
                    i = j;
                    Some(f.body)
                }
                _ => None,
            }
        } else {
            None
        };
        let steps = match fence.lang.as_str() {
            "console" | "" => console_steps(&fence.body),
            l if is_shell(l) => sh_steps(&fence.body),
            _ => Vec::new(),
        };
        if steps.is_empty() {
            if let Some(reason) = pending_skip.take() {
                return Err(format!(
                    "line {}: `docs: skip: {reason}` is before a block with no command",
                    fence.line
                ));
            }
            continue;
        }
        if !steps.iter().any(|s| invokes_oml(&s.cmd)) {
            page.without_oml += 1;
            pending_skip = None;
            continue;
        }
        let line = fence.line;
        page.items.push(match pending_skip.take() {
            Some(reason) => Item::Skipped { line, reason },
            None => Item::Example {
                line,
                steps,
                combined: output,
            },
        });
    }
    if let Some(reason) = pending_skip {
        return Err(format!("`docs: skip: {reason}` is not followed by a block"));
    }
    Ok(page)
}

fn is_shell(lang: &str) -> bool {
    matches!(lang, "sh" | "bash" | "shell")
}

/// Reads the fenced block opening at `*i`, leaving `*i` after its closing fence.
fn read_fence(lines: &[&str], i: &mut usize) -> Option<Fence> {
    let lang = lines.get(*i)?.strip_prefix("```")?.trim().to_string();
    let line = *i + 1;
    let mut body = Vec::new();
    let mut j = *i + 1;
    while j < lines.len() && !lines[j].starts_with("```") {
        body.push((j + 1, lines[j].to_string()));
        j += 1;
    }
    *i = j + 1;
    Some(Fence { line, lang, body })
}

/// `$ cmd` lines (with `\` continuations), each followed by its output.
fn console_steps(body: &[(usize, String)]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut k = 0;
    while k < body.len() {
        let (n, t) = &body[k];
        if let Some(cmd) = t.strip_prefix("$ ") {
            let mut cmd = cmd.to_string();
            while cmd.ends_with('\\') && k + 1 < body.len() {
                k += 1;
                cmd.push('\n');
                cmd.push_str(&body[k].1);
            }
            steps.push(Step {
                line: *n,
                cmd,
                expected: Some(Vec::new()),
            });
        } else if let Some(last) = steps.last_mut() {
            last.expected
                .get_or_insert_with(Vec::new)
                .push((*n, t.clone()));
        }
        k += 1;
    }
    steps
}

/// Every line of an `sh` block is a command, comments and blank lines aside.
fn sh_steps(body: &[(usize, String)]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut k = 0;
    while k < body.len() {
        let (n, t) = &body[k];
        if t.trim().is_empty() || t.trim_start().starts_with('#') {
            k += 1;
            continue;
        }
        let mut cmd = t.clone();
        while cmd.ends_with('\\') && k + 1 < body.len() {
            k += 1;
            cmd.push('\n');
            cmd.push_str(&body[k].1);
        }
        steps.push(Step {
            line: *n,
            cmd,
            expected: None,
        });
        k += 1;
    }
    steps
}

/// Whether a shell command line runs `oml` (as a command, not an argument):
/// at the start of a pipeline part, after variable assignments, `sudo -u U`,
/// `env` or `time`.
pub fn invokes_oml(cmd: &str) -> bool {
    let flat = cmd.replace("\\\n", " ");
    let mut parts = vec![flat.as_str()];
    for sep in ["&&", "||", "|", ";", "$(", "`"] {
        parts = parts.iter().flat_map(|p| p.split(sep)).collect();
    }
    parts.iter().any(|p| {
        let mut words = p.split_whitespace().peekable();
        while let Some(w) = words.next() {
            match w {
                "sudo" => {
                    while words.peek().is_some_and(|w| w.starts_with('-')) {
                        let flag = words.next().unwrap_or_default();
                        if flag == "-u" {
                            words.next();
                        }
                    }
                }
                "env" | "time" | "exec" => {}
                w if w.contains('=') && !w.starts_with('-') => {}
                w => return w == "oml",
            }
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oml_as_a_command_only() {
        assert!(invokes_oml("oml users list"));
        assert!(invokes_oml("OML_AMI_SECRET=x oml asterisk add a"));
        assert!(invokes_oml("sudo -u oml oml init"));
        assert!(invokes_oml("oml campaign contacts demo | head -6"));
        assert!(invokes_oml("T=$(oml users token add a b)"));
        assert!(!invokes_oml("sudo systemctl start oml"));
        assert!(!invokes_oml("apt purge oml"));
        assert!(!invokes_oml("curl -s http://x/oml"));
    }

    #[test]
    fn console_and_sh_blocks() {
        let page = "intro\n<!-- docs: setup: oml init -->\n```console\n$ oml a \\\n  --b\nout 1\n\n$ echo $?\n0\n```\n\
                    <!-- docs: skip: needs a PBX -->\n```sh\noml serve\n```\n```sh\n# c\noml x\noml y\n```\n\n```\nboth\n```\n\
                    ```sh\ncargo build\n```\n";
        let p = parse(page, &|_| false).unwrap();
        assert_eq!(p.without_oml, 1);
        assert_eq!(p.items.len(), 4);
        assert_eq!(
            p.items[0],
            Item::Setup {
                line: 2,
                cmd: "oml init".into()
            }
        );
        let Item::Example {
            steps,
            combined: None,
            ..
        } = &p.items[1]
        else {
            panic!("{:?}", p.items[1])
        };
        assert_eq!(steps[0].cmd, "oml a \\\n  --b");
        assert_eq!(
            steps[0].expected.as_ref().unwrap(),
            &vec![(6, "out 1".into()), (7, "".into())]
        );
        assert_eq!(steps[1].expected.as_ref().unwrap(), &vec![(9, "0".into())]);
        assert_eq!(
            p.items[2],
            Item::Skipped {
                line: 12,
                reason: "needs a PBX".into()
            }
        );
        let Item::Example {
            steps,
            combined: Some(out),
            ..
        } = &p.items[3]
        else {
            panic!()
        };
        assert_eq!(steps.len(), 2);
        assert_eq!(out, &vec![(22, "both".into())]);
    }

    #[test]
    fn needs_runs_only_with_the_variable() {
        let page = "<!-- docs: needs: BENCH: the bench -->\n```sh\noml x\n```\n";
        let with = parse(page, &|v| v == "BENCH").unwrap();
        assert!(matches!(with.items[0], Item::Example { .. }));
        let without = parse(page, &|_| false).unwrap();
        assert_eq!(
            without.items[0],
            Item::Skipped {
                line: 2,
                reason: "the bench (set BENCH to run it)".into()
            }
        );
    }

    #[test]
    fn bad_markers_are_named() {
        assert!(
            parse("<!-- docs: skip: -->\n```sh\noml x\n```\n", &|_| false)
                .unwrap_err()
                .contains("line 1")
        );
        assert!(parse("<!-- docs: skipp: why -->\n", &|_| false)
            .unwrap_err()
            .contains("unknown docs marker `skipp`"));
        assert!(parse("<!-- docs: skip: why -->\ntext\n", &|_| false)
            .unwrap_err()
            .contains("not followed"));
    }
}
