//! oml.toml as the administrator wrote it: every edit oml makes (render,
//! deploy, init) goes through [`ConfigText`], which changes only the keys
//! it is told to and keeps every comment, blank line and the order of keys
//! and tables (`toml_edit`). A new file starts from the commented defaults.

use crate::{Config, ConfigError, CONFIG_FILE};
use std::path::Path;
use toml_edit::{Array, DocumentMut, Item, Table};

pub use toml_edit::Value;

/// The commented file `oml init` writes: every key with its default.
pub const DEFAULT_TEXT: &str = include_str!("default.toml");

/// The text of an oml.toml being edited.
#[derive(Clone)]
pub struct ConfigText {
    doc: DocumentMut,
    origin: String,
}

impl ConfigText {
    /// The commented defaults ([`DEFAULT_TEXT`]).
    pub fn defaults(origin: &str) -> ConfigText {
        ConfigText::parse(DEFAULT_TEXT, origin).expect("the default oml.toml is valid")
    }

    /// Parses and validates `text` (the same checks as [`Config::parse`]).
    pub fn parse(text: &str, origin: &str) -> Result<ConfigText, ConfigError> {
        Config::parse(text, origin)?;
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| ConfigError::Parse {
                path: origin.to_string(),
                reason: e.to_string().trim().replace('\n', " "),
            })?;
        Ok(ConfigText {
            doc,
            origin: origin.to_string(),
        })
    }

    /// `<data_dir>/oml.toml` as it is, or the commented defaults when the
    /// file does not exist.
    pub fn read(data_dir: &Path) -> Result<ConfigText, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let origin = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => ConfigText::parse(&text, &origin),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigText::defaults(&origin)),
            Err(e) => Err(ConfigError::Read {
                path: origin,
                reason: e.to_string(),
            }),
        }
    }

    /// The settings this text holds (paths not resolved).
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::parse(&self.doc.to_string(), &self.origin)
    }

    /// Sets `table.key` (e.g. `"lockout.login_failure_limit"`). An equal
    /// value leaves the text untouched; a different one replaces the value
    /// and keeps the comment around it; a missing key is added at the end
    /// of its table, a missing table at the end of the file.
    pub fn set(&mut self, path: &str, value: impl Into<Value>) -> Result<(), ConfigError> {
        let mut value = value.into();
        let (table, key) = self.table(path)?;
        match table.get_mut(key) {
            Some(Item::Value(old)) => {
                if same(old, &value) {
                    return Ok(());
                }
                *value.decor_mut() = old.decor().clone();
                *old = value;
            }
            _ => {
                if !self.uncomment(path, &value) {
                    let (table, key) = self.table(path)?;
                    table.insert(key, Item::Value(value));
                }
            }
        }
        Ok(())
    }

    /// Sets a missing key where its commented example (`# key = ...`, as
    /// in [`DEFAULT_TEXT`]) stands in its table, so it stays next to its
    /// explanation. False when there is no such line.
    fn uncomment(&mut self, path: &str, value: &Value) -> bool {
        let Some((table, key)) = path.split_once('.') else {
            return false;
        };
        let text = self.doc.to_string();
        let header = format!("[{table}]");
        let example = format!("# {key} = ");
        let mut inside = false;
        let mut found = None;
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let bare = line.trim_end();
            if bare.starts_with('[') {
                inside = bare == header;
            } else if inside && found.is_none() && bare.starts_with(&example) {
                found = Some((offset, offset + bare.len()));
            }
            offset += line.len();
        }
        let Some((start, end)) = found else {
            return false;
        };
        let mut bare = value.clone();
        bare.decor_mut().clear();
        let edited = format!("{}{key} = {bare}{}", &text[..start], &text[end..]);
        match edited.parse::<DocumentMut>() {
            Ok(doc) if doc.get(table).and_then(|t| t.get(key)).is_some() => {
                self.doc = doc;
                true
            }
            _ => false,
        }
    }

    /// Adds `item` to the list `table.key` unless it is there already
    /// (compared as written); the list's own layout is kept.
    pub fn add_to_list(&mut self, path: &str, item: &str) -> Result<(), ConfigError> {
        let origin = self.origin.clone();
        let (table, key) = self.table(path)?;
        match table.get_mut(key) {
            Some(Item::Value(Value::Array(list))) => {
                if !list.iter().any(|v| v.as_str() == Some(item)) {
                    push_like_the_last(list, item);
                }
                Ok(())
            }
            Some(_) => Err(ConfigError::Parse {
                path: origin,
                reason: format!("`{path}` must be a list"),
            }),
            None => {
                let mut list = Array::new();
                list.push(item);
                table.insert(key, Item::Value(Value::Array(list)));
                Ok(())
            }
        }
    }

    /// The edited text, checked to be a valid oml.toml.
    pub fn text(&self) -> Result<String, ConfigError> {
        let text = self.doc.to_string();
        Config::parse(&text, &self.origin)?;
        Ok(text)
    }

    /// Writes the text to `path` through a temporary file renamed over it,
    /// so a failure leaves the old file whole. A link (the Debian package's
    /// `/var/lib/oml/oml.toml` -> `/etc/oml/oml.toml`) stays a link: the
    /// file it points to is replaced, with its permissions.
    pub fn write(&self, path: &Path) -> Result<(), ConfigError> {
        let text = self.text()?;
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let failed = |e: std::io::Error| ConfigError::Read {
            path: target.display().to_string(),
            reason: format!("cannot write: {e}"),
        };
        // Unchanged: nothing to write (the package's conffile in /etc is
        // not writable by the service user that runs `oml init`).
        if std::fs::read_to_string(&target).is_ok_and(|old| old == text) {
            return Ok(());
        }
        let tmp = target.with_extension("toml.tmp");
        let written = std::fs::write(&tmp, text).and_then(|()| {
            if let Ok(old) = std::fs::metadata(&target) {
                std::fs::set_permissions(&tmp, old.permissions())?;
            }
            std::fs::rename(&tmp, &target)
        });
        written.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            failed(e)
        })
    }

    fn table<'p>(
        &mut self,
        path: &'p str,
    ) -> Result<(&mut dyn toml_edit::TableLike, &'p str), ConfigError> {
        let origin = &self.origin;
        let (table, key) = path.split_once('.').ok_or_else(|| ConfigError::Parse {
            path: origin.clone(),
            reason: format!("`{path}` is not a table.key"),
        })?;
        if self.doc.get(table).is_none() {
            self.doc.insert(table, Item::Table(Table::new()));
        }
        let t = self
            .doc
            .get_mut(table)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| ConfigError::Parse {
                path: origin.clone(),
                reason: format!("`{table}` must be a table"),
            })?;
        Ok((t, key))
    }
}

/// Appends `item` laid out like the list's last element (its spacing
/// before, and what followed it moves after the new one).
fn push_like_the_last(list: &mut Array, item: &str) {
    let mut value = Value::from(item);
    if let Some(last) = list.iter_mut().last() {
        let decor = last.decor().clone();
        last.decor_mut().set_suffix("");
        *value.decor_mut() = decor;
    }
    list.push_formatted(value);
}

/// Equal TOML values, however they are written.
fn same(a: &Value, b: &Value) -> bool {
    let read = |v: &Value| {
        let mut v = v.clone();
        v.decor_mut().clear();
        format!("v = {v}").parse::<toml::Table>().ok()
    };
    read(a).is_some() && read(a) == read(b)
}

#[cfg(test)]
mod tests;
