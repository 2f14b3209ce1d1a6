//! Updates: operator updates (`{$set: …, $inc: …}`) and replacement
//! documents. `parse` validates everything (unknown modifiers, conflicting
//! paths, bad arguments); `apply` changes a document atomically — on error
//! the document is untouched — and reports whether it changed byte for byte
//! (that drives `nModified`).
//!
//! * `parse` — operator documents into ordered actions.
//! * `array_filters` — `arrayFilters` and `$[<identifier>]` paths.
//! * `fields` — reading, setting and removing values at dotted paths.
//! * `apply` — each operator's effect on a document.

mod apply;
mod array_filters;
mod fields;
mod parse;

use bson::{Bson, Document};

use crate::engine::error::EngineError;
use crate::engine::filter::Filter;
use crate::engine::order;
use array_filters::ArrayFilters;
use parse::Action;

/// A parsed update.
#[derive(Debug, Clone)]
pub enum Update {
    /// Update operators, ordered as MongoDB applies them (by field path).
    Operators(Vec<Action>),
    /// A whole new document; the original `_id` is kept.
    Replacement(Document),
}

/// What an update needs to know besides the document.
#[derive(Debug, Clone)]
pub struct UpdateContext {
    /// Whether this update creates the document of an upsert (enables
    /// `$setOnInsert`).
    pub is_upsert_insert: bool,
    /// The time `$currentDate` writes.
    pub now: bson::DateTime,
    /// The statement's `arrayFilters`, for `$[<identifier>]` paths.
    pub array_filters: Option<Vec<Document>>,
}

impl UpdateContext {
    /// A context for updating an existing document at `now`.
    pub fn new(now: bson::DateTime) -> UpdateContext {
        UpdateContext {
            is_upsert_insert: false,
            now,
            array_filters: None,
        }
    }
}

impl Update {
    /// Parses the `u` of an update statement as it arrives: a document, or
    /// an array (a pipeline update, which is refused).
    pub fn parse_bson(update: &Bson) -> Result<Update, EngineError> {
        match update {
            Bson::Document(doc) => Update::parse(doc),
            Bson::Array(_) => Err(EngineError::unsupported("pipeline-style update")),
            other => Err(EngineError::failed_to_parse(format!(
                "Update argument must be either an object or an array, not {other}"
            ))),
        }
    }

    /// Parses an update document: operators if its first field starts with
    /// `$`, otherwise a replacement.
    pub fn parse(update: &Document) -> Result<Update, EngineError> {
        let operators = update.keys().next().is_some_and(|k| k.starts_with('$'));
        if operators {
            return parse::operators(update).map(Update::Operators);
        }
        if let Some(key) = update.keys().find(|k| k.starts_with('$')) {
            return Err(EngineError::dollar_prefixed_field_name(format!(
                "The dollar ($) prefixed field '{key}' in '{key}' is not allowed in the context \
                 of an update's replacement document. Consider using an aggregation pipeline \
                 with $replaceWith."
            )));
        }
        Ok(Update::Replacement(update.clone()))
    }

    /// Whether this is a replacement document.
    pub fn is_replacement(&self) -> bool {
        matches!(self, Update::Replacement(_))
    }

    /// Applies the update; `Ok(true)` when the document changed. On error
    /// the document is left as it was. A positional `$` path fails here, as
    /// there is no query to take the matched element from; use
    /// [`Update::apply_matching`].
    pub fn apply(&self, doc: &mut Document, ctx: &UpdateContext) -> Result<bool, EngineError> {
        self.apply_with(doc, ctx, None)
    }

    /// Applies the update to a document selected by `filter`, which decides
    /// what a positional `$` path component stands for.
    pub fn apply_matching(
        &self,
        doc: &mut Document,
        ctx: &UpdateContext,
        filter: &Filter,
    ) -> Result<bool, EngineError> {
        self.apply_with(doc, ctx, Some(filter))
    }

    fn apply_with(
        &self,
        doc: &mut Document,
        ctx: &UpdateContext,
        filter: Option<&Filter>,
    ) -> Result<bool, EngineError> {
        let array_filters = self.array_filters(ctx.array_filters.as_deref().unwrap_or_default())?;
        let updated = match self {
            Update::Operators(actions) => {
                let mut updated = doc.clone();
                for action in actions {
                    let parts = resolve_positional(&action.parts, doc, filter, ctx)?;
                    apply::action(action, &parts, &mut updated, ctx, &array_filters)?;
                }
                check_id_unchanged(doc, &updated)?;
                updated
            }
            Update::Replacement(replacement) => replace(doc, replacement)?,
        };
        let changed = !order::identical_documents(doc, &updated);
        if changed {
            *doc = updated;
        }
        Ok(changed)
    }
}

impl Update {
    /// Validates a statement's `arrayFilters` against this update: each
    /// must parse, and be used by some `$[<identifier>]` path (MongoDB
    /// checks this even when no document matches).
    pub fn check_array_filters(&self, filters: &[Document]) -> Result<(), EngineError> {
        self.array_filters(filters).map(|_| ())
    }

    fn array_filters(&self, docs: &[Document]) -> Result<ArrayFilters, EngineError> {
        let filters = ArrayFilters::parse(docs)?;
        let used: Vec<&str> = match self {
            Update::Operators(actions) => actions
                .iter()
                .flat_map(|a| a.parts.iter())
                .filter_map(|p| array_filters::identifier(p))
                .collect(),
            Update::Replacement(_) => Vec::new(),
        };
        if let Some(unused) = filters.identifiers().find(|id| !used.contains(id)) {
            return Err(EngineError::failed_to_parse(format!(
                "The array filter for identifier '{unused}' was not used in the update"
            )));
        }
        Ok(filters)
    }
}

/// Replaces a `$` component with the index of the element the query
/// matched in the array before it.
fn resolve_positional(
    parts: &[String],
    doc: &Document,
    filter: Option<&Filter>,
    ctx: &UpdateContext,
) -> Result<Vec<String>, EngineError> {
    let Some(at) = parts.iter().position(|p| p == parse::POSITIONAL) else {
        return Ok(parts.to_vec());
    };
    let index = filter
        .filter(|_| !ctx.is_upsert_insert)
        .and_then(|f| f.positional_index(doc, &parts[..at].join(".")))
        .ok_or_else(|| {
            EngineError::bad_value(
                "The positional operator did not find the match needed from the query.",
            )
        })?;
    let mut resolved = parts.to_vec();
    resolved[at] = index.to_string();
    Ok(resolved)
}

fn check_id_unchanged(before: &Document, after: &Document) -> Result<(), EngineError> {
    let Some(old) = before.get("_id") else {
        return Ok(());
    };
    match after.get("_id") {
        Some(new) if order::identical(old, new) => Ok(()),
        _ => Err(EngineError::immutable_field(
            "Performing an update on the path '_id' would modify the immutable field '_id'",
        )),
    }
}

fn replace(doc: &Document, replacement: &Document) -> Result<Document, EngineError> {
    let mut out = Document::new();
    match (doc.get("_id"), replacement.get("_id")) {
        (Some(old), Some(new)) if !order::identical(old, new) => {
            return Err(EngineError::immutable_field(format!(
                "After applying the update, the (immutable) field '_id' was found to have been \
                 altered to _id: {new}"
            )));
        }
        (Some(id), _) | (None, Some(id)) => {
            out.insert("_id", id.clone());
        }
        (None, None) => {}
    }
    for (key, value) in replacement {
        if key != "_id" {
            out.insert(key.clone(), value.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
