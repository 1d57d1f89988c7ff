//! The modules of oml-web import one another without a circle (issue 13):
//! in the graph of which file uses which, every arrow points down. The
//! middleware sits on top (it uses the pages' error page and the API's
//! prefix); the session, the API and the pages never use the middleware.
//! Read from the sources, so a new `use` that closes a circle fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Names `lib.rs` re-exports, and the module each comes from.
const REEXPORTS: &[(&str, &str)] = &[
    ("WebError", "error"),
    ("AppState", "state"),
    ("NavItem", "state"),
    ("app", "lib"),
    ("build_router", "lib"),
    ("console_routes", "lib"),
];

/// The source without comments (line comments and doc comments).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The modules (or re-exported names) a file's code names after `crate::`.
fn uses(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name = ident(item.trim());
                if !name.is_empty() {
                    out.insert(name.to_string());
                }
            }
        } else {
            out.insert(ident(rest).to_string());
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            for f in std::fs::read_dir(&p).unwrap() {
                files.push(f.unwrap().path());
            }
        } else {
            files.push(p);
        }
    }
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "rs"))
    {
        let rel = f.strip_prefix(&src).unwrap();
        // A folder is one module (pages/mod.rs, pages/admin.rs: `pages`).
        let module = rel
            .iter()
            .next()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(f).unwrap();
        // Unit tests may use anything; only the code above them counts.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        let deps = g.entry(module.clone()).or_default();
        for name in uses(&code(text)) {
            let target = REEXPORTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, m)| m.to_string())
                .unwrap_or(name);
            if target != module {
                deps.insert(target);
            }
        }
    }
    g
}

/// A circle in `g`, if there is one (as the list of modules around it).
fn circle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        m: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut c = path[i..].to_vec();
            c.push(m.to_string());
            return Some(c);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for d in g.get(m).into_iter().flatten() {
            if let Some(c) = visit(g, d, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in g.keys() {
        if let Some(c) = visit(g, m, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_reader_sees_imports_and_circles() {
    let u = uses(&code(
        "use crate::api::API_PREFIX;\nuse crate::{net, AppState};\n// use crate::middleware;\n",
    ));
    assert_eq!(
        u.into_iter().collect::<Vec<_>>(),
        vec!["AppState", "api", "net"]
    );
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert!(circle(&g).is_some());
    g.get_mut("b").unwrap().clear();
    assert!(circle(&g).is_none());
}

#[test]
fn no_module_of_oml_web_imports_in_a_circle() {
    let g = graph();
    for m in ["middleware", "session", "api", "pages", "login", "state"] {
        assert!(g.contains_key(m), "module {m} read: {g:?}");
    }
    assert!(
        g["middleware"].contains("api") && g["middleware"].contains("pages"),
        "{g:?}"
    );
    if let Some(c) = circle(&g) {
        panic!("import circle: {}", c.join(" -> "));
    }
    for m in ["session", "api", "pages", "auth", "error", "state"] {
        assert!(
            !g[m].contains("middleware"),
            "{m} imports the middleware, which sits above it"
        );
    }
}
