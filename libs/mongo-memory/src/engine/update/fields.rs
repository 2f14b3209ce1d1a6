//! Values at dotted paths inside a document being updated: numeric
//! components index arrays, missing intermediate documents are created, and
//! a path through a scalar is `PathNotViable`.

use bson::{Bson, Document};

use super::array_filters::{self, ArrayFilters};
use crate::engine::error::EngineError;
use crate::engine::path::array_index;

/// The all-positional path component: every element of the array.
pub const ALL_POSITIONAL: &str = "$[]";

/// Whether a path component stands for array elements (`$[]`, `$[id]`).
pub fn is_array_placeholder(part: &str) -> bool {
    part == ALL_POSITIONAL || array_filters::identifier(part).is_some()
}

/// Expands each `$[]` and `$[id]` component into the indexes of the array
/// before it (all of them, or those `id`'s array filter matches), giving one
/// concrete path per element; nested placeholders multiply out.
pub fn expand_placeholders(
    doc: &Document,
    parts: &[String],
    filters: &ArrayFilters,
) -> Result<Vec<Vec<String>>, EngineError> {
    let Some(at) = parts.iter().position(|p| is_array_placeholder(p)) else {
        return Ok(vec![parts.to_vec()]);
    };
    let prefix = &parts[..at];
    let items = match get(doc, prefix) {
        Some(Bson::Array(items)) => items,
        None => {
            return Err(EngineError::bad_value(format!(
                "The path '{}' must exist in the document in order to apply array updates.",
                prefix.join(".")
            )));
        }
        Some(other) => {
            return Err(EngineError::bad_value(format!(
                "Cannot apply array updates to non-array element {}: {other}",
                prefix.join(".")
            )));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        if let Some(id) = array_filters::identifier(&parts[at]) {
            let selected = filters.matches(id, item).ok_or_else(|| {
                EngineError::bad_value(format!(
                    "No array filter found for identifier '{id}' in path '{}'",
                    parts.join(".")
                ))
            })?;
            if !selected {
                continue;
            }
        }
        let mut concrete = prefix.to_vec();
        concrete.push(index.to_string());
        concrete.extend_from_slice(&parts[at + 1..]);
        out.extend(expand_placeholders(doc, &concrete, filters)?);
    }
    Ok(out)
}

/// The value at a path (no implicit array traversal).
pub fn get<'a>(doc: &'a Document, parts: &[String]) -> Option<&'a Bson> {
    let (first, rest) = parts.split_first()?;
    let mut current = doc.get(first)?;
    for part in rest {
        current = match current {
            Bson::Document(inner) => inner.get(part)?,
            Bson::Array(items) => items.get(array_index(part)?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Whether the path passes through an array (not counting its last part).
pub fn crosses_array(doc: &Document, parts: &[String]) -> bool {
    (1..parts.len()).any(|n| matches!(get(doc, &parts[..n]), Some(Bson::Array(_))))
}

/// Sets the value at a path: an existing field keeps its place, a new one is
/// appended, missing intermediate documents are created, arrays are padded
/// with nulls up to a numeric index.
pub fn set(doc: &mut Document, parts: &[String], value: Bson) -> Result<(), EngineError> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    if rest.is_empty() {
        doc.insert(first.clone(), value);
        return Ok(());
    }
    if !doc.contains_key(first) {
        doc.insert(first.clone(), Document::new());
    }
    match doc.get_mut(first) {
        Some(child) => set_in_value(child, first, rest, value),
        None => Ok(()),
    }
}

fn set_in_value(
    node: &mut Bson,
    name: &str,
    parts: &[String],
    value: Bson,
) -> Result<(), EngineError> {
    match node {
        Bson::Document(inner) => set(inner, parts, value),
        Bson::Array(items) => {
            let Some((first, rest)) = parts.split_first() else {
                return Ok(());
            };
            let Some(index) = array_index(first) else {
                return Err(not_viable(first, name, node));
            };
            if items.len() <= index {
                items.resize(index + 1, Bson::Null);
                if !rest.is_empty() {
                    items[index] = Bson::Document(Document::new());
                }
            }
            if rest.is_empty() {
                items[index] = value;
                Ok(())
            } else {
                set_in_value(&mut items[index], first, rest, value)
            }
        }
        _ => Err(not_viable(&parts[0], name, node)),
    }
}

fn not_viable(field: &str, name: &str, element: &Bson) -> EngineError {
    EngineError::path_not_viable(format!(
        "Cannot create field '{field}' in element {{{name}: {element}}}"
    ))
}

/// Removes the value at a path; an array element becomes null (as `$unset`
/// does). A missing path is left alone.
pub fn unset(doc: &mut Document, parts: &[String]) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if rest.is_empty() {
        doc.remove(first);
        return;
    }
    if let Some(child) = doc.get_mut(first) {
        unset_in_value(child, rest);
    }
}

fn unset_in_value(node: &mut Bson, parts: &[String]) {
    match node {
        Bson::Document(inner) => unset(inner, parts),
        Bson::Array(items) => {
            let Some((first, rest)) = parts.split_first() else {
                return;
            };
            let Some(item) = array_index(first).and_then(|i| items.get_mut(i)) else {
                return;
            };
            if rest.is_empty() {
                *item = Bson::Null;
            } else {
                unset_in_value(item, rest);
            }
        }
        _ => {}
    }
}
