//! Choosing documents: the filter scan every read and write shares, with a
//! shortcut through the `_id` index when the filter pins `_id` to a value, plus `hint`.

use bson::{Bson, Document};

use crate::engine::filter::Filter;
use crate::error::CommandError;
use crate::store::Collection;

/// A parsed filter, remembering a plain `_id` equality for the index shortcut.
pub struct Selection {
    filter: Filter,
    id_equals: Option<Bson>,
}

impl Selection {
    pub fn parse(filter: &Document) -> Result<Self, CommandError> {
        let parsed = Filter::parse(filter)?;
        // Top-level fields are ANDed, so a plain `_id` value narrows any filter to one document.
        let id_equals = match filter.get("_id") {
            Some(Bson::Document(d)) if d.keys().any(|k| k.starts_with('$')) => None,
            Some(Bson::RegularExpression(_) | Bson::Array(_)) | None => None,
            Some(value) => Some(value.clone()),
        };
        Ok(Self {
            filter: parsed,
            id_equals,
        })
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Sequence numbers of matching documents in insertion order, at most `limit`.
    pub fn matching(&self, collection: &Collection, limit: Option<usize>) -> Vec<u64> {
        let limit = limit.unwrap_or(usize::MAX);
        if let Some(id) = &self.id_equals {
            return collection
                .find_by_id(id)
                .filter(|seq| {
                    collection
                        .get(*seq)
                        .is_some_and(|doc| self.filter.matches(doc))
                })
                .into_iter()
                .take(limit)
                .collect();
        }
        collection
            .documents()
            .filter(|(_, doc)| self.filter.matches(doc))
            .map(|(seq, _)| seq)
            .take(limit)
            .collect()
    }
}

/// Refuses a `hint` naming no existing index (MongoDB's `BadValue`).
pub fn check_hint(
    collection: Option<&Collection>,
    hint: Option<&Bson>,
) -> Result<(), CommandError> {
    // A missing collection has no indexes yet MongoDB answers an empty result.
    let (Some(hint), Some(collection)) = (hint, collection) else {
        return Ok(());
    };
    let exists = collection.indexes().iter().any(|index| match hint {
        Bson::String(name) => &index.name == name,
        Bson::Document(key) => &index.key == key,
        _ => false,
    });
    match hint {
        Bson::Document(key) if key.is_empty() => Ok(()),
        _ if exists => Ok(()),
        _ => Err(CommandError::bad_value(
            "hint provided does not correspond to an existing index",
        )),
    }
}
