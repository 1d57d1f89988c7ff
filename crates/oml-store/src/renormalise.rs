//! Bringing stored contact phones up to the current phone rules: the data
//! half of the migration to the `phonenumber` parser (issue 16). SQL
//! migrations cannot run the parser, and the rules depend on the
//! installation's default country (oml.toml, not the database), so `oml`
//! calls [`Store::renormalise_contacts_if_needed`] after it opens the store.
//! A marker in `settings` records the parser version and country the rows
//! were last brought up to; when both match, the cost is one query.
//!
//! A row whose new form is already in its campaign (the same person
//! imported twice under two spellings) keeps its old form and is counted:
//! merging two contacts' histories is a decision for a person, not for a
//! migration. Unparsable rows are left as they are and counted.

use crate::phone::Normalizer;
use crate::{on_pool, Result, Store};

/// The `settings` key that records what the rows were normalised with.
pub const MARKER_KEY: &str = "phones.normalised_for";
/// Bumped whenever the parser's output for the same input may change.
const PARSER_VERSION: &str = "phonenumber-1";
/// Rows read and written per transaction.
const BATCH: i64 = 1000;

/// What a re-normalisation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RenormaliseReport {
    /// Contacts read.
    pub examined: u64,
    /// Contacts whose phone was rewritten.
    pub changed: u64,
    /// Contacts left as written because their campaign already holds the
    /// number in its new form.
    pub kept_duplicate: u64,
    /// Contacts left as written because the parser refuses their phone.
    pub unparsable: u64,
}

/// The marker value for `normalizer`.
fn marker(normalizer: &Normalizer) -> String {
    match normalizer.country() {
        Some(c) => format!("{PARSER_VERSION}:+{}", c.code),
        None => format!("{PARSER_VERSION}:none"),
    }
}

impl Store {
    /// Re-normalises every contact's phone when the rows were last brought
    /// up to another parser version or default country (or never).
    /// `None` when they are already current.
    pub async fn renormalise_contacts_if_needed(
        &self,
        normalizer: &Normalizer,
    ) -> Result<Option<RenormaliseReport>> {
        let want = marker(normalizer);
        if self.setting(MARKER_KEY).await?.as_deref() == Some(want.as_str()) {
            return Ok(None);
        }
        let report = self.renormalise_contacts(normalizer).await?;
        self.set_setting(MARKER_KEY, &want).await?;
        Ok(Some(report))
    }

    /// Rewrites every contact's phone into the form `normalizer` gives,
    /// in batches of [`BATCH`] rows, each batch one transaction (a crash
    /// leaves whole batches; running again finishes the rest).
    pub async fn renormalise_contacts(&self, normalizer: &Normalizer) -> Result<RenormaliseReport> {
        let mut report = RenormaliseReport::default();
        let mut after = 0i64;
        loop {
            let rows: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(
                "SELECT id, phone FROM contacts WHERE id > $1 ORDER BY id LIMIT $2"
            )
            .bind(after)
            .bind(BATCH)
            .fetch_all(p)
            .await?);
            let Some(&(last, _)) = rows.last() else {
                break;
            };
            after = last;
            report.examined += rows.len() as u64;
            let mut changes = Vec::new();
            for (id, phone) in rows {
                match normalizer.normalize(&phone) {
                    Ok(new) if new != phone => changes.push((id, new)),
                    Ok(_) => {}
                    Err(_) => report.unparsable += 1,
                }
            }
            if changes.is_empty() {
                continue;
            }
            let (changed, kept) = on_pool!(self, |p| {
                let mut tx = p.begin().await?;
                let (mut changed, mut kept) = (0u64, 0u64);
                for (id, new) in &changes {
                    let n = sqlx::query(
                        "UPDATE contacts SET phone = $1
                          WHERE id = $2 AND NOT EXISTS (
                                SELECT 1 FROM contacts other
                                 WHERE other.campaign_id = contacts.campaign_id
                                   AND other.phone = $1)",
                    )
                    .bind(new)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 1 {
                        changed += 1;
                    } else {
                        kept += 1;
                    }
                }
                tx.commit().await?;
                (changed, kept)
            });
            report.changed += changed;
            report.kept_duplicate += kept;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_names_parser_and_country() {
        let none = Normalizer::new(None).unwrap();
        let ar = Normalizer::new(Some("AR")).unwrap();
        let ar_code = Normalizer::new(Some("+54")).unwrap();
        assert_eq!(marker(&none), "phonenumber-1:none");
        assert_eq!(marker(&ar), "phonenumber-1:+54");
        assert_eq!(marker(&ar), marker(&ar_code));
    }
}
