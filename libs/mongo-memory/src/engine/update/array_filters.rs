//! `arrayFilters` and the `$[<identifier>]` path components they serve:
//! each filter names one identifier (`{"e.grade": {$gte: 85}}` is about
//! `e`), and `a.$[e]` updates the elements of `a` it matches.

use bson::{Bson, Document};

use crate::engine::error::EngineError;
use crate::engine::filter::Filter;

/// Parsed array filters, one per identifier.
#[derive(Debug, Clone, Default)]
pub struct ArrayFilters {
    filters: Vec<(String, Filter)>,
}

impl ArrayFilters {
    /// Parses a statement's `arrayFilters`.
    pub fn parse(docs: &[Document]) -> Result<ArrayFilters, EngineError> {
        let mut filters: Vec<(String, Filter)> = Vec::with_capacity(docs.len());
        for doc in docs {
            let identifier = identifier_of(doc)?;
            if filters.iter().any(|(id, _)| *id == identifier) {
                return Err(EngineError::failed_to_parse(format!(
                    "Found multiple array filters with the same top-level field name {identifier}"
                )));
            }
            filters.push((identifier, Filter::parse(doc)?));
        }
        Ok(ArrayFilters { filters })
    }

    /// The identifiers, in the order given.
    pub fn identifiers(&self) -> impl Iterator<Item = &str> {
        self.filters.iter().map(|(id, _)| id.as_str())
    }

    /// Whether an array element matches the filter for `identifier`;
    /// `None` when no filter has that identifier.
    pub fn matches(&self, identifier: &str, element: &Bson) -> Option<bool> {
        let (_, filter) = self.filters.iter().find(|(id, _)| id == identifier)?;
        let mut doc = Document::new();
        doc.insert(identifier, element.clone());
        Some(filter.matches(&doc))
    }
}

/// The identifier every field of one array filter starts with.
fn identifier_of(doc: &Document) -> Result<String, EngineError> {
    let mut identifier: Option<&str> = None;
    for key in doc.keys() {
        let head = key.split('.').next().unwrap_or(key);
        match identifier {
            None => identifier = Some(head),
            Some(seen) if seen == head => {}
            Some(seen) => {
                return Err(EngineError::failed_to_parse(format!(
                    "Error parsing array filter :: caused by :: Expected a single top-level \
                     field name, found '{seen}' and '{head}'"
                )));
            }
        }
    }
    let Some(identifier) = identifier else {
        return Err(EngineError::failed_to_parse(
            "Cannot use an expression without a top-level field name in arrayFilters",
        ));
    };
    let valid = identifier.starts_with(|c: char| c.is_ascii_lowercase())
        && identifier.chars().all(|c| c.is_ascii_alphanumeric());
    if !valid {
        return Err(EngineError::bad_value(format!(
            "Error parsing array filter :: caused by :: The top-level field name must be an \
             alphanumeric string beginning with a lowercase letter, found '{identifier}'"
        )));
    }
    Ok(identifier.to_owned())
}

/// The identifier of a `$[<identifier>]` path component.
pub fn identifier(part: &str) -> Option<&str> {
    part.strip_prefix("$[")?
        .strip_suffix(']')
        .filter(|id| !id.is_empty())
}
