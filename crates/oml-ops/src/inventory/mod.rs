//! The OMniLeads inventory: the single source of truth for host-dependent
//! settings (addresses, passwords, time zone) that restore, deploy, network
//! change and password rotation all read.
//!
//! [`Inventory::load`] reads the INI file exactly as OMniLeads shipped it
//! (2019 `[omnileads-aio]`, 2020 `[prodenv-aio]`), [`Inventory::config`]
//! gives the typed, validated view, and [`Inventory::edit`] changes a value
//! in place, keeping every other byte of the file. Cluster and container
//! layouts are refused with an explanation rather than misread.

mod doc;
mod typed;

pub use doc::{Document, HostLine, HostVar, Line, LineKind, SectionKind, VarLine};
pub use typed::{ExternIp, InventoryConfig, PostgresConfig, SshTarget};

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Groups that hold the single host of an all-in-one install, per era.
pub const AIO_GROUPS: [(&str, Era); 2] =
    [("omnileads-aio", Era::V2019), ("prodenv-aio", Era::V2020)];
/// Groups whose hosts mean a multi-host (cluster) install.
pub const CLUSTER_GROUPS: [&str; 5] = ["omniapp", "kamailio", "asterisk", "database", "dialer"];
/// Groups whose hosts mean a Docker install.
pub const CONTAINER_GROUPS: [&str; 2] = ["prodenv-container", "devenv-container"];
/// The host placeholder OMniLeads ships in its templates.
pub const PLACEHOLDER: &str = "X.X.X.X";

/// One problem found in an inventory, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when the problem is on a line.
    pub line: Option<usize>,
    pub variable: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.line, &self.variable) {
            (Some(l), Some(v)) => write!(f, "line {l}: `{v}`: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            (None, Some(v)) => write!(f, "`{v}`: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

/// Why an inventory cannot be used.
#[derive(Debug, Error)]
pub enum InventoryError {
    #[error("cannot read the inventory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("inventory line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("unsupported inventory layout: {explanation}")]
    Unsupported { explanation: String },
    #[error("the inventory has {} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
    #[error("cannot edit the inventory: {0}")]
    Edit(Problem),
}

impl InventoryError {
    fn at(line: Option<usize>, variable: Option<&str>, message: impl Into<String>) -> Problem {
        Problem {
            line,
            variable: variable.map(str::to_string),
            message: message.into(),
        }
    }
}

/// `(variable, message)` of each problem of a validation result (lines
/// left out: an added line moves the others).
fn problem_keys(r: &Result<InventoryConfig, InventoryError>) -> Vec<(Option<String>, String)> {
    match r {
        Err(InventoryError::Invalid(ps)) => ps
            .iter()
            .map(|p| (p.variable.clone(), p.message.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Which OMniLeads release family wrote the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Era {
    /// 2019 (1.2 and earlier): `[omnileads-aio]` with `ansible_host`.
    V2019,
    /// 2020 on (1.4+): `[prodenv-aio]`, the host name is the address.
    V2020,
}

impl std::fmt::Display for Era {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Era::V2019 => "OMniLeads 2019 layout, [omnileads-aio]",
            Era::V2020 => "OMniLeads 2020+ layout, [prodenv-aio]",
        })
    }
}

/// The all-in-one host, as the inventory names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AioHost {
    pub era: Era,
    pub group: String,
    /// 1-based line of the host line.
    pub line: usize,
    pub host: HostLine,
}

/// A variable as the host sees it, with where it was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub key: String,
    pub value: String,
    /// 1-based line.
    pub line: usize,
    /// `host` for a host-line variable, else the group of the `:vars` section.
    pub origin: String,
}

/// A change to make to the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Set a variable where the host reads it: changes the line that defines
    /// it, else uncomments a commented-out definition, else adds a line to
    /// `[everyone:vars]`.
    Set { key: String, value: String },
    /// Set the host's address (`ansible_host`, or the host name itself when
    /// the 2020 layout uses the address as the name).
    HostAddress(IpAddr),
}

impl Edit {
    pub fn set(key: impl Into<String>, value: impl Into<String>) -> Edit {
        Edit::Set {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// What an edit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditReport {
    /// 1-based line changed or added.
    pub line: usize,
    pub action: EditAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditAction {
    Changed,
    Uncommented,
    Added,
    Unchanged,
}

impl std::fmt::Display for EditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EditAction::Changed => "changed",
            EditAction::Uncommented => "uncommented and set",
            EditAction::Added => "added",
            EditAction::Unchanged => "already set, unchanged",
        })
    }
}

/// An OMniLeads inventory file, kept byte for byte.
#[derive(Clone)]
pub struct Inventory {
    path: Option<PathBuf>,
    doc: Document,
}

impl std::fmt::Debug for Inventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inventory")
            .field("path", &self.path)
            .field("lines", &self.doc.lines.len())
            .finish()
    }
}

impl Inventory {
    /// Reads and parses the file. Syntax errors name the line.
    pub fn load(path: impl AsRef<Path>) -> Result<Inventory, InventoryError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| InventoryError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| InventoryError::Io {
            path: path.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text ({e})"),
            ),
        })?;
        let mut inv = Inventory::parse(&text)?;
        inv.path = Some(path.to_path_buf());
        Ok(inv)
    }

    /// Parses inventory text.
    pub fn parse(text: &str) -> Result<Inventory, InventoryError> {
        Ok(Inventory {
            path: None,
            doc: Document::parse(text)?,
        })
    }

    /// Where it was loaded from, if from a file.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The exact text (after any edits).
    pub fn to_text(&self) -> String {
        self.doc.render()
    }

    /// The parsed lines.
    pub fn document(&self) -> &Document {
        &self.doc
    }

    /// Writes the text back to the file it came from, atomically, keeping
    /// the file's permissions.
    pub fn save(&self) -> std::io::Result<()> {
        let path = self.path.as_ref().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "this inventory was not loaded from a file",
            )
        })?;
        crate::fsutil::write_atomic(path, self.to_text().as_bytes(), None)
    }

    /// Hosts of a group (uncommented host lines), with 1-based line numbers.
    pub fn hosts(&self, group: &str) -> Vec<(usize, &HostLine)> {
        let mut out = Vec::new();
        for header in self.doc.sections(group, SectionKind::Hosts) {
            for (i, l) in self.doc.section_lines(header) {
                if let LineKind::Host(h) = &l.kind {
                    out.push((i + 1, h));
                }
            }
        }
        out
    }

    fn commented_hosts(&self, group: &str) -> Vec<usize> {
        let mut out = Vec::new();
        for header in self.doc.sections(group, SectionKind::Hosts) {
            for (i, l) in self.doc.section_lines(header) {
                if let LineKind::CommentedHost(_) = &l.kind {
                    out.push(i + 1);
                }
            }
        }
        out
    }

    fn group_exists(&self, group: &str) -> bool {
        self.doc
            .lines
            .iter()
            .any(|l| matches!(&l.kind, LineKind::Section { group: g, .. } if g == group))
    }

    /// The all-in-one host, or why this inventory does not describe one.
    pub fn aio_host(&self) -> Result<AioHost, InventoryError> {
        let real = |h: &HostLine| {
            h.name != PLACEHOLDER && h.var("ansible_host").is_none_or(|v| v.value != PLACEHOLDER)
        };
        let mut cluster: Vec<String> = Vec::new();
        for g in CLUSTER_GROUPS {
            for (line, h) in self.hosts(g) {
                if real(h) {
                    cluster.push(format!("[{g}] {} (line {line})", h.name));
                }
            }
        }
        if !cluster.is_empty() {
            return Err(InventoryError::Unsupported {
                explanation: format!(
                    "this is a cluster inventory (hosts in {}). oml manages all-in-one installations \
                     (one host in [omnileads-aio] or [prodenv-aio]); a cluster's services live on \
                     several machines that oml would have to reach and configure separately, which it \
                     does not do. Comment out the cluster host lines to manage a single host.",
                    cluster.join(", ")
                ),
            });
        }
        for g in CONTAINER_GROUPS {
            if let Some((line, _)) = self.hosts(g).first() {
                return Err(InventoryError::Unsupported {
                    explanation: format!(
                        "line {line}: a host in [{g}] means a Docker deployment, which oml does not \
                         manage; oml manages an all-in-one host installed on the machine itself \
                         ([prodenv-aio])."
                    ),
                });
            }
        }
        let mut found: Vec<AioHost> = Vec::new();
        let mut known_group = None;
        for (g, era) in AIO_GROUPS {
            if self.group_exists(g) {
                known_group.get_or_insert((g, era));
            }
            for (line, h) in self.hosts(g) {
                found.push(AioHost {
                    era,
                    group: g.to_string(),
                    line,
                    host: h.clone(),
                });
            }
        }
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => {
                let Some((g, _)) = known_group else {
                    return Err(InventoryError::Unsupported {
                        explanation:
                            "no [omnileads-aio] or [prodenv-aio] group: this does not look like an \
                                      OMniLeads inventory"
                                .into(),
                    });
                };
                let offered = self.commented_hosts(g);
                let hint = if offered.is_empty() {
                    format!("add a host line under [{g}]")
                } else {
                    format!(
                        "uncomment one of the host lines at line {} (self-hosted: ansible_connection=local) \
                         and set its address",
                        offered.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(" or ")
                    )
                };
                Err(InventoryError::Invalid(vec![InventoryError::at(
                    None,
                    None,
                    format!("no host in [{g}]: {hint}"),
                )]))
            }
            _ => Err(InventoryError::Invalid(
                found
                    .iter()
                    .map(|h| {
                        InventoryError::at(
                            Some(h.line),
                            None,
                            format!(
                                "[{}] has several hosts; an all-in-one install has exactly one",
                                h.group
                            ),
                        )
                    })
                    .collect(),
            )),
        }
    }

    /// Groups the group belongs to, nearest first (parents, grandparents...).
    fn ancestors(&self, group: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut frontier = vec![group.to_string()];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for child in &frontier {
                for (i, l) in self.doc.lines.iter().enumerate() {
                    if let LineKind::Child(name) = &l.kind {
                        if name == child {
                            if let Some((parent, _)) =
                                l.section.and_then(|h| self.doc.section_of(h))
                            {
                                if seen.insert(parent.to_string()) {
                                    next.push(parent.to_string());
                                }
                            }
                        }
                    }
                    let _ = i;
                }
            }
            out.extend(next.iter().cloned());
            frontier = next;
        }
        out
    }

    /// Groups whose `:vars` apply to the host, lowest precedence first.
    fn scope(&self, group: &str) -> Vec<String> {
        let mut groups = vec!["all".to_string()];
        let mut anc = self.ancestors(group);
        anc.retain(|g| g != "all");
        anc.reverse();
        groups.extend(anc);
        groups.push(group.to_string());
        groups
    }

    fn aio_group_name(&self) -> Option<&'static str> {
        AIO_GROUPS
            .iter()
            .find(|(g, _)| !self.hosts(g).is_empty())
            .or_else(|| AIO_GROUPS.iter().find(|(g, _)| self.group_exists(g)))
            .map(|(g, _)| *g)
    }

    /// Defining `:vars` line for `key` (effective, highest precedence).
    fn group_var(&self, key: &str) -> Option<(usize, String, VarLine)> {
        let group = self.aio_group_name()?;
        let mut best = None;
        for g in self.scope(group) {
            for header in self.doc.sections(&g, SectionKind::Vars) {
                for (i, l) in self.doc.section_lines(header) {
                    if let LineKind::Var(v) = &l.kind {
                        if v.key == key {
                            best = Some((i, g.clone(), v.clone()));
                        }
                    }
                }
            }
        }
        best
    }

    /// The value of `key` as the all-in-one host sees it: host-line variables
    /// first, then the `:vars` of its group and of the groups above it.
    pub fn var(&self, key: &str) -> Option<VarRef> {
        if let Some(group) = self.aio_group_name() {
            if let Some((line, h)) = self.hosts(group).first() {
                if let Some(v) = h.var(key) {
                    return Some(VarRef {
                        key: key.into(),
                        value: v.value.clone(),
                        line: *line,
                        origin: "host".into(),
                    });
                }
            }
        }
        self.group_var(key).map(|(i, g, v)| VarRef {
            key: key.into(),
            value: v.value,
            line: i + 1,
            origin: g,
        })
    }

    /// 1-based lines where `key` is set in a `:vars` section that does not
    /// apply to the host, with that section's group.
    pub fn unseen_var_lines(&self, key: &str) -> Vec<(usize, String)> {
        let scope = self
            .aio_group_name()
            .map(|g| self.scope(g))
            .unwrap_or_default();
        self.doc
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(&l.kind, LineKind::Var(v) if v.key == key))
            .filter_map(|(i, l)| {
                let (group, kind) = l.section.and_then(|h| self.doc.section_of(h))?;
                (kind == SectionKind::Vars && !scope.iter().any(|g| g == group))
                    .then(|| (i + 1, group.to_string()))
            })
            .collect()
    }

    /// The all-in-one host's group, if any.
    pub fn host_group(&self) -> Option<&'static str> {
        self.aio_group_name()
    }

    /// The section a missing variable belongs in: `[everyone:vars]` when it
    /// applies to the host, else the host group's own.
    pub fn vars_section_for_host(&self) -> String {
        match self.aio_group_name() {
            Some(g) if !self.scope(g).iter().any(|s| s == "everyone") => format!("[{g}:vars]"),
            _ => "[everyone:vars]".to_string(),
        }
    }

    /// 1-based lines where `key` is offered commented out (`#key=...`) in a
    /// section that applies to the host.
    pub fn commented_var_lines(&self, key: &str) -> Vec<usize> {
        let Some(group) = self.aio_group_name() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for g in self.scope(group) {
            for header in self.doc.sections(&g, SectionKind::Vars) {
                for (i, l) in self.doc.section_lines(header) {
                    if matches!(&l.kind, LineKind::CommentedVar(v) if v.key == key) {
                        out.push(i + 1);
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// The typed, validated view. Refuses cluster/container layouts; lists
    /// every problem found, each with its line and variable.
    pub fn config(&self) -> Result<InventoryConfig, InventoryError> {
        typed::build(self)
    }

    /// [`Inventory::edit`], refused (the inventory left as it was) when the
    /// edited inventory has a problem with the edited variable, or any
    /// problem it did not have before: `set` validates with the same rules
    /// as `check`. Problems that were already there (a password not set
    /// yet) do not block an edit of something else.
    pub fn edit_checked(&mut self, edit: &Edit) -> Result<EditReport, InventoryError> {
        let key = match edit {
            Edit::Set { key, .. } => key.clone(),
            Edit::HostAddress(_) => "ansible_host".to_string(),
        };
        let before = problem_keys(&self.config());
        let mut edited = self.clone();
        let report = edited.edit(edit)?;
        if let Edit::Set { key, value } = edit {
            if edited.var(key).map(|v| v.value) != Some(value.clone()) {
                return Err(InventoryError::Edit(InventoryError::at(
                    Some(report.line),
                    Some(key),
                    "was written where the host does not read it: put it under the host's group",
                )));
            }
        }
        match edited.config() {
            Ok(_) => {}
            Err(InventoryError::Invalid(problems)) => {
                let refused: Vec<Problem> = problems
                    .into_iter()
                    .filter(|p| {
                        p.variable.as_deref() == Some(key.as_str())
                            || !before.contains(&(p.variable.clone(), p.message.clone()))
                    })
                    .collect();
                if !refused.is_empty() {
                    return Err(InventoryError::Invalid(refused));
                }
            }
            Err(e) => return Err(e),
        }
        *self = edited;
        Ok(report)
    }

    /// Changes the inventory in memory, keeping every byte outside the
    /// changed value. Call [`Inventory::save`] to write it.
    pub fn edit(&mut self, edit: &Edit) -> Result<EditReport, InventoryError> {
        let report = match edit {
            Edit::Set { key, value } => self.edit_set(key, value)?,
            Edit::HostAddress(ip) => self.edit_host_address(*ip)?,
        };
        // Re-read the whole text: the edited document must still parse.
        self.doc = Document::parse(&self.doc.render())?;
        Ok(report)
    }

    fn replace_span(&mut self, idx: usize, span: std::ops::Range<usize>, new: &str) -> bool {
        let line = &mut self.doc.lines[idx];
        if line.content[span.clone()] == *new {
            return false;
        }
        line.content.replace_range(span, new);
        true
    }

    fn edit_set(&mut self, key: &str, value: &str) -> Result<EditReport, InventoryError> {
        if !doc::is_var_name(key) {
            return Err(InventoryError::Edit(InventoryError::at(
                None,
                Some(key),
                "not a valid variable name",
            )));
        }
        if value.contains(['\n', '\r']) {
            return Err(InventoryError::Edit(InventoryError::at(
                None,
                Some(key),
                "a value cannot span several lines",
            )));
        }
        // 1. A host-line variable.
        if let Some(group) = self.aio_group_name() {
            if let Some((line, h)) = self.hosts(group).first().map(|(l, h)| (*l, (*h).clone())) {
                if let Some(v) = h.var(key) {
                    let raw = format_host_value(value);
                    let changed = self.replace_span(line - 1, v.value_span.clone(), &raw);
                    return Ok(EditReport {
                        line,
                        action: if changed {
                            EditAction::Changed
                        } else {
                            EditAction::Unchanged
                        },
                    });
                }
            }
        }
        // 2. The defining `:vars` line.
        if let Some((idx, _, v)) = self.group_var(key) {
            if v.value == value {
                return Ok(EditReport {
                    line: idx + 1,
                    action: EditAction::Unchanged,
                });
            }
            let raw = format_var_value(value, v.quote);
            self.replace_span(idx, v.value_span.clone(), &raw);
            return Ok(EditReport {
                line: idx + 1,
                action: EditAction::Changed,
            });
        }
        // 3. A commented-out offer: uncomment it in place.
        if let Some(&line) = self.commented_var_lines(key).first() {
            let idx = line - 1;
            let LineKind::CommentedVar(v) = self.doc.lines[idx].kind.clone() else {
                unreachable!("commented_var_lines returns commented variables")
            };
            let raw = format_var_value(value, v.quote);
            let l = &mut self.doc.lines[idx];
            l.content.replace_range(v.value_span.clone(), &raw);
            let lead = l.content.len() - l.content.trim_start().len();
            l.content.remove(lead);
            return Ok(EditReport {
                line,
                action: EditAction::Uncommented,
            });
        }
        // 4. Add it to [everyone:vars] (or the host group's :vars).
        let raw = format_var_value(value, None);
        let group = self.aio_group_name().unwrap_or("everyone");
        // [everyone:vars] only when it applies to the host: a line the host
        // does not read would be set and still missing.
        let everyone_applies = self.scope(group).iter().any(|g| g == "everyone");
        let header = everyone_applies
            .then(|| self.doc.sections("everyone", SectionKind::Vars).last())
            .flatten()
            .or_else(|| self.doc.sections(group, SectionKind::Vars).last());
        let new_content = format!("{key}={raw}");
        match header {
            Some(h) => {
                // After the last variable (set or offered) of that section.
                let after = self
                    .doc
                    .section_lines(h)
                    .filter(|(_, l)| matches!(l.kind, LineKind::Var(_) | LineKind::CommentedVar(_)))
                    .map(|(i, _)| i)
                    .last()
                    .unwrap_or(h);
                let eol = self.eol_for(after);
                if self.doc.lines[after].eol.is_empty() {
                    self.doc.lines[after].eol = eol.clone();
                }
                self.doc.lines.insert(
                    after + 1,
                    Line {
                        content: new_content,
                        eol,
                        kind: LineKind::Blank,
                        section: Some(h),
                    },
                );
                Ok(EditReport {
                    line: after + 2,
                    action: EditAction::Added,
                })
            }
            None => {
                let eol = self.eol_for(self.doc.lines.len().saturating_sub(1));
                if let Some(last) = self.doc.lines.last_mut() {
                    if last.eol.is_empty() {
                        last.eol = eol.clone();
                    }
                }
                let section = if everyone_applies { "everyone" } else { group };
                for content in [format!("[{section}:vars]"), new_content] {
                    self.doc.lines.push(Line {
                        content,
                        eol: eol.clone(),
                        kind: LineKind::Blank,
                        section: None,
                    });
                }
                Ok(EditReport {
                    line: self.doc.lines.len(),
                    action: EditAction::Added,
                })
            }
        }
    }

    /// The line ending the file uses around `idx` (`\n` when unknown).
    fn eol_for(&self, idx: usize) -> String {
        self.doc
            .lines
            .get(idx)
            .map(|l| l.eol.clone())
            .filter(|e| !e.is_empty())
            .or_else(|| {
                self.doc
                    .lines
                    .iter()
                    .map(|l| l.eol.clone())
                    .find(|e| !e.is_empty())
            })
            .unwrap_or_else(|| "\n".into())
    }

    fn edit_host_address(&mut self, ip: IpAddr) -> Result<EditReport, InventoryError> {
        let aio = self.aio_host()?;
        let idx = aio.line - 1;
        let value = ip.to_string();
        if let Some(v) = aio.host.var("ansible_host") {
            let changed = self.replace_span(idx, v.value_span.clone(), &value);
            return Ok(EditReport {
                line: aio.line,
                action: if changed {
                    EditAction::Changed
                } else {
                    EditAction::Unchanged
                },
            });
        }
        if aio.host.name.parse::<IpAddr>().is_ok() || aio.host.name == PLACEHOLDER {
            let changed = self.replace_span(idx, aio.host.name_span.clone(), &value);
            return Ok(EditReport {
                line: aio.line,
                action: if changed {
                    EditAction::Changed
                } else {
                    EditAction::Unchanged
                },
            });
        }
        // Add `ansible_host=IP` after the last token, before any comment.
        let end = aio
            .host
            .vars
            .last()
            .map(|v| v.value_span.end)
            .unwrap_or(aio.host.name_span.end);
        self.doc.lines[idx]
            .content
            .insert_str(end, &format!(" ansible_host={value}"));
        Ok(EditReport {
            line: aio.line,
            action: EditAction::Added,
        })
    }
}

/// Writes a `:vars` value so that Ansible (and this parser) read back exactly
/// `value`: keeps the quote style the line had, and quotes values that would
/// otherwise be trimmed or misread.
pub fn format_var_value(value: &str, quote: Option<char>) -> String {
    let needs = value != value.trim()
        || value.starts_with(['"', '\'', '[', '{', '('])
        || value.ends_with('\\');
    match quote.or(if needs { Some('"') } else { None }) {
        Some(q) => quote_with(value, q),
        None => value.to_string(),
    }
}

fn quote_with(value: &str, q: char) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push(q);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Writes a host-line value: one token, quoted when it has spaces, comment
/// markers or quotes.
pub fn format_host_value(value: &str) -> String {
    if value.is_empty()
        || value.contains(|c: char| c.is_whitespace() || matches!(c, '#' | ';' | '"' | '\'' | '\\'))
    {
        quote_with(value, '"')
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests;
