//! Shaping one document with a parsed [`Projection`].

use bson::{Bson, Document};

use super::{IdRule, Node, Projection, Tree};
use crate::engine::error::EngineError;
use crate::engine::path;

/// Applies a projection to a document.
pub fn project(projection: &Projection, doc: &Document) -> Result<Document, EngineError> {
    let mut out = if projection.inclusion {
        let mut out = Document::new();
        if let Some(id) = doc.get("_id").filter(|_| projection.id == IdRule::Keep) {
            out.insert("_id", id.clone());
        }
        include(&projection.tree, doc, &mut out);
        out
    } else {
        let mut out = doc.clone();
        if projection.id == IdRule::Drop {
            out.remove("_id");
        }
        exclude(&projection.tree, &mut out);
        out
    };
    if projection.id == IdRule::Drop {
        out.remove("_id");
    }
    for (field, expression) in &projection.computed {
        match expression.evaluate(doc)? {
            Some(value) => set_computed(&mut out, field, value),
            None => path::remove(&mut out, field),
        }
    }
    Ok(out)
}

/// Computed `_id` keeps its leading place; other computed fields append.
fn set_computed(out: &mut Document, field: &str, value: Bson) {
    if field == "_id" && !out.contains_key("_id") {
        let mut with_id = Document::new();
        with_id.insert("_id", value);
        with_id.extend(std::mem::take(out));
        *out = with_id;
    } else {
        path::set_computed(out, field, &value);
    }
}

/// Copies the fields the tree includes, in the document's own order.
fn include(tree: &Tree, doc: &Document, out: &mut Document) {
    for (name, value) in doc {
        if name == "_id" && out.contains_key("_id") {
            continue;
        }
        let Some((_, node)) = tree.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let projected = match node {
            Node::Include => Some(value.clone()),
            Node::Nested(child) => include_nested(child, value),
            Node::Slice { skip, limit } => Some(slice(value, *skip, *limit)),
            Node::ElemMatch(filter) => match value {
                Bson::Array(items) => items
                    .iter()
                    .find(|item| matches!(item, Bson::Document(d) if filter.matches(d)))
                    .map(|item| Bson::Array(vec![item.clone()])),
                _ => None,
            },
            Node::Exclude | Node::Computed => None,
        };
        if let Some(projected) = projected {
            out.insert(name.clone(), projected);
        }
    }
}

/// Inclusion below a field: documents are projected, arrays element-wise,
/// scalars dropped.
fn include_nested(tree: &Tree, value: &Bson) -> Option<Bson> {
    match value {
        Bson::Document(inner) => {
            let mut sub = Document::new();
            include(tree, inner, &mut sub);
            Some(Bson::Document(sub))
        }
        Bson::Array(items) => Some(Bson::Array(
            items
                .iter()
                .filter_map(|item| include_nested(tree, item))
                .collect(),
        )),
        _ => None,
    }
}

/// Removes the fields the tree excludes, in place.
fn exclude(tree: &Tree, doc: &mut Document) {
    for (name, node) in tree {
        match node {
            Node::Exclude => {
                doc.remove(name);
            }
            Node::Nested(child) => {
                if let Some(value) = doc.get_mut(name) {
                    exclude_nested(child, value);
                }
            }
            Node::Slice { skip, limit } => {
                if let Some(value) = doc.get_mut(name) {
                    *value = slice(value, *skip, *limit);
                }
            }
            Node::Include | Node::ElemMatch(_) | Node::Computed => {}
        }
    }
}

fn exclude_nested(tree: &Tree, value: &mut Bson) {
    match value {
        Bson::Document(inner) => exclude(tree, inner),
        Bson::Array(items) => items.iter_mut().for_each(|item| exclude_nested(tree, item)),
        _ => {}
    }
}

/// `$slice`: `n` first elements, `-n` last ones, `[skip, limit]` a window
/// (negative skip counts from the end). Non-arrays are returned unchanged.
fn slice(value: &Bson, skip: Option<i64>, limit: i64) -> Bson {
    let Bson::Array(items) = value else {
        return value.clone();
    };
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let (start, count) = match skip {
        None if limit >= 0 => (0, limit),
        None => ((len + limit).max(0), len),
        Some(skip) if skip < 0 => ((len + skip).max(0), limit),
        Some(skip) => (skip.min(len), limit),
    };
    let start = usize::try_from(start).unwrap_or(0);
    let count = usize::try_from(count).unwrap_or(0);
    Bson::Array(items.iter().skip(start).take(count).cloned().collect())
}
