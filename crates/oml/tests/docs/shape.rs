//! Comparing a command's output with the page by shape, not bytes: numbers,
//! times, paths, random tokens and column padding may differ; the words,
//! their order and the lines may not. `...` in the page stands for any text
//! (alone on a line: any number of lines). Pure.

/// One line brought to its shape: whitespace runs collapsed, every path
/// (`/x`, `./x`, `../x`, `~/x`) `<path>`, every long random-looking token `<token>`, every number `0`.
pub fn normalise(line: &str) -> String {
    line.split_whitespace()
        .map(word)
        .collect::<Vec<_>>()
        .join(" ")
}

fn word(w: &str) -> String {
    // An absolute path: a `/` at the start, after opening quotes or brackets.
    let lead = w.find(|c: char| !"\"'`([{<".contains(c)).unwrap_or(w.len());
    let body = &w[lead..];
    let relative = ["./", "../", "~/"].iter().any(|p| body.starts_with(p));
    if relative || (body.starts_with('/') && !body.starts_with("//")) {
        let tail = w.trim_end_matches(|c: char| "\"'`)]}>,.:;".contains(c));
        let end = tail.len().max(lead + 1);
        return format!("{}<path>{}", &w[..lead], &w[end..]);
    }
    let mut out = String::new();
    let chars: Vec<char> = w.chars().collect();
    let mut k = 0;
    while k < chars.len() {
        if chars[k].is_ascii_alphanumeric() {
            let start = k;
            while k < chars.len() && chars[k].is_ascii_alphanumeric() {
                k += 1;
            }
            let run: String = chars[start..k].iter().collect();
            out.push_str(&alnum(&run));
        } else {
            out.push(chars[k]);
            k += 1;
        }
    }
    // Decimal numbers keep one shape: 0.15 and 12 are both 0.
    while out.contains("0.0") || out.contains("0,0") {
        out = out.replace("0.0", "0").replace("0,0", "0");
    }
    out
}

/// A run of letters and digits: random-looking (16+ characters with a
/// letter, not one lowercase word) becomes `<token>`, digit runs (however
/// long: a float's 16 decimals) become `0`.
fn alnum(run: &str) -> String {
    let random = run.len() >= 16
        && run.chars().any(|c| c.is_ascii_alphabetic())
        && !run.chars().all(|c| c.is_ascii_lowercase());
    if random {
        return "<token>".into();
    }
    let mut out = String::new();
    let mut in_digits = false;
    for c in run.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('0');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// Where the output first differs from the page: `None` when it matches.
/// `expected` are the page's lines with their line numbers; blank lines are
/// ignored on both sides.
pub fn first_difference(expected: &[(usize, String)], actual: &str) -> Option<String> {
    let exp: Vec<(usize, String)> = expected
        .iter()
        .map(|(n, t)| (*n, normalise(t)))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let act: Vec<String> = actual
        .lines()
        .map(normalise)
        .filter(|t| !t.is_empty())
        .collect();
    if matches(&exp, &act) {
        return None;
    }
    // Name the first line that the longest matching prefix cannot take.
    let mut k = 0;
    while k < exp.len() && k < act.len() && exp[k].1 != "..." && glob(&exp[k].1, &act[k]) {
        k += 1;
    }
    Some(match (exp.get(k), act.get(k)) {
        (Some((n, e)), Some(a)) => {
            format!("line {n}: the page shows\n    {e}\n  the command printed\n    {a}")
        }
        (Some((n, e)), None) => {
            format!("line {n}: the page shows\n    {e}\n  the command printed nothing more")
        }
        (None, Some(a)) => format!("the command printed more than the page shows:\n    {a}"),
        (None, None) => "the output differs (after a `...` line)".into(),
    })
}

fn matches(exp: &[(usize, String)], act: &[String]) -> bool {
    match exp.split_first() {
        None => act.is_empty(),
        Some(((_, e), rest)) if e == "..." => (0..=act.len()).any(|k| matches(rest, &act[k..])),
        Some(((_, e), rest)) => act
            .split_first()
            .is_some_and(|(a, more)| glob(e, a) && matches(rest, more)),
    }
}

/// `...` inside a line matches any text.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split("...").collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first)
        || !text[first.len()..].ends_with(last)
        || text.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(at) => rest = &rest[at + p.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(t: &str) -> Vec<(usize, String)> {
        t.lines()
            .enumerate()
            .map(|(n, l)| (n + 1, l.to_string()))
            .collect()
    }

    #[test]
    fn shapes() {
        assert_eq!(
            normalise("  round trip:   0.15 ms  (3 pings) "),
            "round trip: 0 ms (0 pings)"
        );
        assert_eq!(
            normalise("created 2026-11-27 19:17:04 UTC"),
            "created 0-0-0 0:0:0 UTC"
        );
        assert_eq!(
            normalise("in /opt/oml (schema 7)."),
            "in <path> (schema 0)."
        );
        assert_eq!(normalise("(/tmp/x/oml.db),"), "(<path>),");
        assert_eq!(normalise("./oml-data/backup/a.zst: OK"), "<path>: OK");
        assert_eq!(normalise("LbN79zaJAz1lJNJMklOm"), "<token>");
        assert_eq!(
            normalise("Local/${num}@from-oml/n 60"),
            "Local/${num}@from-oml/n 0"
        );
        assert_eq!(normalise("http://127.0.0.1:8080/api"), "http://0:0/api");
        assert_ne!(normalise("schema version 7"), normalise("schema 7"));
        // A float's long decimals are a number, not a random token.
        assert_eq!(
            normalise("\"seconds\": 1.7056223080000001"),
            normalise("\"seconds\": 0.052801016")
        );
    }

    #[test]
    fn comparing() {
        assert_eq!(
            first_difference(&lines("a 1\n\nb  2"), "a 10\nb 3\n\n"),
            None
        );
        let d = first_difference(&lines("a 1\nb 2"), "a 1\nc 2").unwrap();
        assert!(d.starts_with("line 2:"), "{d}");
        assert!(first_difference(&lines("a\n..."), "a\nx\ny").is_none());
        assert!(first_difference(&lines("a\n...\nz"), "a\nx\ny\nz").is_none());
        assert!(first_difference(&lines("a\n...\nz"), "a\nx\ny").is_some());
        assert!(first_difference(&lines("error: x ... refused"), "error: x y z refused").is_none());
        assert!(first_difference(&lines("a"), "a\nb")
            .unwrap()
            .contains("more than the page"));
        assert!(first_difference(&lines("a\nb"), "a")
            .unwrap()
            .contains("nothing more"));
    }
}
