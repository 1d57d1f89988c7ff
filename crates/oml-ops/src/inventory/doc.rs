//! The lossless model of an Ansible INI inventory as OMniLeads ships it.
//!
//! Every line is kept byte for byte (with its own line ending), and beside it
//! what the line means: a section header, a variable, a host, a comment, or a
//! *commented-out* variable or host (`#TZ=...`, `#localhost ansible_...`),
//! which OMniLeads inventories use to offer a setting to the administrator.
//! Printing the document gives back exactly the text it was parsed from;
//! edits change one line's bytes and parse again.

use super::InventoryError;
use std::ops::Range;

/// What kind of section a header opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    /// `[group]`: one host per line.
    Hosts,
    /// `[group:vars]`: `key=value` lines.
    Vars,
    /// `[group:children]`: one group name per line.
    Children,
}

/// One `key=value` on a host line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostVar {
    pub key: String,
    pub value: String,
    /// Byte range of the raw value (quotes included) inside the line.
    pub value_span: Range<usize>,
}

/// A host line (or a commented-out one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLine {
    pub name: String,
    pub name_span: Range<usize>,
    pub vars: Vec<HostVar>,
    /// Byte offset where the inline `#` comment starts, if any.
    pub comment_at: Option<usize>,
}

impl HostLine {
    pub fn var(&self, key: &str) -> Option<&HostVar> {
        self.vars.iter().rev().find(|v| v.key == key)
    }
}

/// A `key=value` line (or a commented-out one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarLine {
    pub key: String,
    /// The value as Ansible reads it: trimmed, one level of quotes removed.
    pub value: String,
    /// Byte range of the raw value inside the line (quotes included).
    pub value_span: Range<usize>,
    /// The quote character the raw value used, if any.
    pub quote: Option<char>,
}

/// What a line means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    Blank,
    Comment,
    Section { group: String, kind: SectionKind },
    Var(VarLine),
    CommentedVar(VarLine),
    Host(HostLine),
    CommentedHost(HostLine),
    Child(String),
}

/// One physical line: its bytes without the line ending, the ending itself
/// (`"\n"`, `"\r\n"` or `""` for a last line without one), and its meaning.
#[derive(Clone, PartialEq, Eq)]
pub struct Line {
    pub content: String,
    pub eol: String,
    pub kind: LineKind,
    /// The section the line belongs to (index of its header line), `None`
    /// before the first header.
    pub section: Option<usize>,
}

/// The whole file.
#[derive(Clone, PartialEq, Eq)]
pub struct Document {
    pub lines: Vec<Line>,
}

// Lines may hold passwords: never print them through Debug.
impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Document({} lines)", self.lines.len())
    }
}

impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Line({:?})", self.kind_name())
    }
}

impl Line {
    fn kind_name(&self) -> &'static str {
        match self.kind {
            LineKind::Blank => "blank",
            LineKind::Comment => "comment",
            LineKind::Section { .. } => "section",
            LineKind::Var(_) => "var",
            LineKind::CommentedVar(_) => "commented var",
            LineKind::Host(_) => "host",
            LineKind::CommentedHost(_) => "commented host",
            LineKind::Child(_) => "child",
        }
    }
}

/// Is `s` a variable name Ansible accepts?
pub fn is_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits text into (content, eol) pairs; joining them gives the text back.
fn split_lines(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find('\n') {
            Some(i) => {
                let (line, eol) = if i > 0 && rest.as_bytes()[i - 1] == b'\r' {
                    (&rest[..i - 1], "\r\n")
                } else {
                    (&rest[..i], "\n")
                };
                out.push((line.to_string(), eol.to_string()));
                rest = &rest[i + 1..];
            }
            None => {
                out.push((rest.to_string(), String::new()));
                rest = "";
            }
        }
    }
    out
}

/// Removes one level of quotes the way Ansible's `literal_eval` of a string
/// literal does for the escapes that matter (`\\`, `\"`, `\'`, `\n`, `\t`).
fn unquote(raw: &str, q: char) -> String {
    let inner = &raw[1..raw.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(c2) if c2 == '\\' || c2 == '"' || c2 == '\'' => out.push(c2),
                Some(c2) => {
                    out.push('\\');
                    out.push(c2);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    let _ = q;
    out
}

/// Does a quoted raw value end with its (unescaped) closing quote?
fn closes(raw: &str, q: char) -> bool {
    if raw.len() < 2 || !raw.ends_with(q) {
        return false;
    }
    // Count backslashes before the closing quote: an odd count escapes it.
    let body = &raw[1..raw.len() - 1];
    let trailing = body.chars().rev().take_while(|&c| c == '\\').count();
    trailing % 2 == 0
}

/// Reads a raw value (already trimmed): strips one level of quotes.
fn read_value(
    raw: &str,
    lineno: usize,
    key: &str,
) -> Result<(String, Option<char>), InventoryError> {
    match raw.chars().next() {
        Some(q @ ('"' | '\'')) => {
            if closes(raw, q) {
                Ok((unquote(raw, q), Some(q)))
            } else {
                Err(InventoryError::Syntax {
                    line: lineno,
                    message: format!(
                        "the value of `{key}` opens a quote ({q}) that is not closed on this line"
                    ),
                })
            }
        }
        _ => Ok((raw.to_string(), None)),
    }
}

/// Parses `key=value` in `content` starting at byte `start` (after any
/// comment marker). `None` if it is not shaped like a variable.
fn parse_var(content: &str, start: usize) -> Option<(String, Range<usize>)> {
    let body = &content[start..];
    let eq = body.find('=')?;
    let key = body[..eq].trim();
    if !is_var_name(key) {
        return None;
    }
    let after = start + eq + 1;
    let tail = &content[after..];
    let lead = tail.len() - tail.trim_start().len();
    let vstart = after + lead;
    let vend = content.trim_end().len().max(vstart);
    Some((key.to_string(), vstart..vend))
}

/// Splits a host line into tokens with their byte ranges, honouring quotes;
/// a token starting with `#` begins the inline comment.
fn host_tokens(
    content: &str,
    start: usize,
    lineno: usize,
) -> Result<(Vec<Range<usize>>, Option<usize>), InventoryError> {
    let bytes = content.as_bytes();
    let mut i = start;
    let mut tokens = Vec::new();
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        if bytes[i] == b'#' || bytes[i] == b';' {
            return Ok((tokens, Some(i)));
        }
        let tok_start = i;
        let mut quote: Option<u8> = None;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(q) => {
                    if b == b'\\' {
                        i += 1;
                    } else if b == q {
                        quote = None;
                    }
                }
                None => {
                    if b == b' ' || b == b'\t' {
                        break;
                    }
                    if b == b'"' || b == b'\'' {
                        quote = Some(b);
                    }
                }
            }
            i += 1;
        }
        if quote.is_some() {
            return Err(InventoryError::Syntax {
                line: lineno,
                message: "a quote on this host line is not closed".into(),
            });
        }
        tokens.push(tok_start..i.min(bytes.len()));
    }
    Ok((tokens, None))
}

fn parse_host(
    content: &str,
    start: usize,
    lineno: usize,
    strict: bool,
) -> Result<Option<HostLine>, InventoryError> {
    let (tokens, comment_at) = match host_tokens(content, start, lineno) {
        Ok(t) => t,
        Err(e) if strict => return Err(e),
        Err(_) => return Ok(None),
    };
    let Some(first) = tokens.first() else {
        return Ok(None);
    };
    let name = content[first.clone()].to_string();
    let mut vars = Vec::new();
    for t in &tokens[1..] {
        let tok = &content[t.clone()];
        let Some(eq) = tok.find('=') else {
            if strict {
                return Err(InventoryError::Syntax {
                    line: lineno,
                    message: format!("`{tok}` on host line `{name}` is not a key=value pair"),
                });
            }
            return Ok(None);
        };
        let key = &tok[..eq];
        if !is_var_name(key) {
            if strict {
                return Err(InventoryError::Syntax {
                    line: lineno,
                    message: format!("`{key}` is not a valid variable name"),
                });
            }
            return Ok(None);
        }
        let raw = &tok[eq + 1..];
        let (value, _) = read_value(raw, lineno, key)?;
        vars.push(HostVar {
            key: key.to_string(),
            value,
            value_span: t.start + eq + 1..t.end,
        });
    }
    Ok(Some(HostLine {
        name,
        name_span: first.clone(),
        vars,
        comment_at,
    }))
}

impl Document {
    /// Parses inventory text. Fails only on lines that cannot be read; each
    /// error names its 1-based line number.
    pub fn parse(text: &str) -> Result<Document, InventoryError> {
        let mut lines = Vec::new();
        let mut section: Option<(usize, SectionKind)> = None;
        for (idx, (content, eol)) in split_lines(text).into_iter().enumerate() {
            let lineno = idx + 1;
            let kind = classify(&content, section.map(|s| s.1), lineno)?;
            if let LineKind::Section { kind: k, .. } = &kind {
                section = Some((idx, *k));
            }
            lines.push(Line {
                content,
                eol,
                kind,
                section: section.map(|s| s.0),
            });
        }
        Ok(Document { lines })
    }

    /// The exact text: every line's bytes and ending.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            out.push_str(&l.content);
            out.push_str(&l.eol);
        }
        out
    }

    /// Header line indexes of sections `[group]`/`[group:vars]`/... named so.
    pub fn sections<'a>(
        &'a self,
        group: &'a str,
        kind: SectionKind,
    ) -> impl Iterator<Item = usize> + 'a {
        self.lines
            .iter()
            .enumerate()
            .filter_map(move |(i, l)| match &l.kind {
                LineKind::Section { group: g, kind: k } if g == group && *k == kind => Some(i),
                _ => None,
            })
    }

    /// Lines (index, line) belonging to the section whose header is at `header`.
    pub fn section_lines(&self, header: usize) -> impl Iterator<Item = (usize, &Line)> {
        self.lines
            .iter()
            .enumerate()
            .skip(header + 1)
            .take_while(move |(_, l)| l.section == Some(header))
    }

    /// The group name and kind of the section whose header is at `header`.
    pub fn section_of(&self, header: usize) -> Option<(&str, SectionKind)> {
        match &self.lines.get(header)?.kind {
            LineKind::Section { group, kind } => Some((group.as_str(), *kind)),
            _ => None,
        }
    }
}

fn classify(
    content: &str,
    section: Option<SectionKind>,
    lineno: usize,
) -> Result<LineKind, InventoryError> {
    let trimmed = content.trim();
    if trimmed.is_empty() {
        return Ok(LineKind::Blank);
    }
    let lead = content.len() - content.trim_start().len();
    if trimmed.starts_with('[') {
        let Some(close) = trimmed.find(']') else {
            return Err(InventoryError::Syntax {
                line: lineno,
                message: "section header has no closing `]`".into(),
            });
        };
        let rest = trimmed[close + 1..].trim();
        if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
            return Err(InventoryError::Syntax {
                line: lineno,
                message: format!("unexpected text `{rest}` after the section header"),
            });
        }
        let inner = trimmed[1..close].trim();
        let (group, kind) = match inner.split_once(':') {
            None => (inner, SectionKind::Hosts),
            Some((g, "vars")) => (g, SectionKind::Vars),
            Some((g, "children")) => (g, SectionKind::Children),
            Some((_, other)) => {
                return Err(InventoryError::Syntax {
                    line: lineno,
                    message: format!(
                        "unknown section suffix `:{other}` (Ansible knows `:vars` and `:children`)"
                    ),
                })
            }
        };
        if group.is_empty() || group.contains(char::is_whitespace) {
            return Err(InventoryError::Syntax {
                line: lineno,
                message: format!("`{inner}` is not a valid group name"),
            });
        }
        return Ok(LineKind::Section {
            group: group.to_string(),
            kind,
        });
    }
    if trimmed.starts_with('#') || trimmed.starts_with(';') {
        // Commented-out variable or host: the marker directly followed by the
        // text (`#TZ=...`), not prose (`# If you ...`).
        let after = lead + 1;
        let directly = content[after..]
            .chars()
            .next()
            .is_some_and(|c| !c.is_whitespace() && c != '#' && c != ';');
        if directly {
            match section {
                Some(SectionKind::Vars) => {
                    if let Some((key, span)) = parse_var(content, after) {
                        if let Ok((value, quote)) = read_value(&content[span.clone()], lineno, &key)
                        {
                            return Ok(LineKind::CommentedVar(VarLine {
                                key,
                                value,
                                value_span: span,
                                quote,
                            }));
                        }
                    }
                }
                Some(SectionKind::Hosts) => {
                    if let Ok(Some(h)) = parse_host(content, after, lineno, false) {
                        if !h.vars.is_empty() {
                            return Ok(LineKind::CommentedHost(h));
                        }
                    }
                }
                _ => {}
            }
        }
        return Ok(LineKind::Comment);
    }
    match section {
        Some(SectionKind::Vars) => {
            let Some((key, span)) = parse_var(content, lead) else {
                let shown: String = trimmed.chars().take(40).collect();
                return Err(InventoryError::Syntax {
                    line: lineno,
                    message: if trimmed.contains('=') {
                        format!("`{shown}` does not start with a valid variable name")
                    } else {
                        format!("`{shown}` is not a key=value line (in a :vars section)")
                    },
                });
            };
            let (value, quote) = read_value(&content[span.clone()], lineno, &key)?;
            Ok(LineKind::Var(VarLine {
                key,
                value,
                value_span: span,
                quote,
            }))
        }
        Some(SectionKind::Children) => {
            let name = trimmed
                .split(|c: char| c.is_whitespace() || c == '#' || c == ';')
                .next()
                .unwrap_or("");
            Ok(LineKind::Child(name.to_string()))
        }
        // Lines before any header are hosts of the implicit `ungrouped`.
        Some(SectionKind::Hosts) | None => match parse_host(content, lead, lineno, true)? {
            Some(h) => Ok(LineKind::Host(h)),
            None => Ok(LineKind::Comment),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_bytes_including_crlf_and_missing_final_newline() {
        let text = "[a]\r\nh x=1 #c\n\n[a:vars]\nk = v \n;c\n#k2=\"q;=\"\nlast=1";
        let doc = Document::parse(text).unwrap();
        assert_eq!(doc.render(), text);
        assert_eq!(doc.lines.len(), 8);
    }

    #[test]
    fn classifies_vars_and_commented_vars() {
        let doc = Document::parse("[g:vars]\nk = v \n#TZ=America/X\n# prose=here\nq=\"a;b=c\"\n")
            .unwrap();
        match &doc.lines[1].kind {
            LineKind::Var(v) => {
                assert_eq!((v.key.as_str(), v.value.as_str()), ("k", "v"));
                assert_eq!(&doc.lines[1].content[v.value_span.clone()], "v");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&doc.lines[2].kind, LineKind::CommentedVar(v) if v.key == "TZ" && v.value == "America/X")
        );
        assert_eq!(doc.lines[3].kind, LineKind::Comment);
        assert!(
            matches!(&doc.lines[4].kind, LineKind::Var(v) if v.value == "a;b=c" && v.quote == Some('"'))
        );
        assert_eq!(doc.lines[4].section, Some(0));
    }

    #[test]
    fn host_lines_with_inline_comments() {
        let doc = Document::parse("[omnileads-aio]\nh ansible_connection=local ansible_host=1.2.3.4  #(x y=z)\n#X.X.X.X ansible_ssh_port=22 #c\n").unwrap();
        let LineKind::Host(h) = &doc.lines[1].kind else {
            panic!()
        };
        assert_eq!(h.name, "h");
        assert_eq!(h.var("ansible_host").unwrap().value, "1.2.3.4");
        assert_eq!(h.vars.len(), 2);
        assert!(h.comment_at.is_some());
        assert!(matches!(&doc.lines[2].kind, LineKind::CommentedHost(h) if h.name == "X.X.X.X"));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        for (text, line) in [
            ("[a]\nh x=1\n[b\n", 3),
            ("[a:vars]\nok=1\nnot a var\n", 3),
            ("[a:vars]\nk=\"open\n", 2),
            ("[a:weird]\n", 1),
            ("[a]\nh novalue\n", 2),
        ] {
            match Document::parse(text) {
                Err(InventoryError::Syntax { line: l, .. }) => assert_eq!(l, line, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
