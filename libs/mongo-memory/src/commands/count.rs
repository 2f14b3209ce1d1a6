//! `count` and `distinct`.

use bson::{Bson, Document, doc};

use super::selection::{Selection, check_hint};
use super::{Request, fields};
use crate::engine::order;
use crate::engine::path;
use crate::error::CommandError;

pub fn count(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(
        command,
        &["query", "limit", "skip", "hint", "collation", "fields"],
        &["collation"],
    )?;
    let collection = fields::collection_name(command)?;
    let filter = fields::optional_document(command, "query")?
        .cloned()
        .unwrap_or_default();
    let selection = Selection::parse(&filter)?;
    let skip = fields::optional_count(command, "skip")?.unwrap_or(0);
    // A negative limit counts like its absolute value, as MongoDB does.
    let limit = fields::optional_i64(command, "limit")?
        .filter(|n| *n != 0)
        .and_then(|n| usize::try_from(n.unsigned_abs()).ok());
    let catalog = request.state.read();
    let target = catalog.collection(request.db, collection);
    check_hint(target, command.get("hint"))?;
    let matched = target.map_or(0, |target| selection.matching(target, None).len());
    let n = matched
        .saturating_sub(skip)
        .min(limit.unwrap_or(usize::MAX));
    Ok(doc! { "n": i32::try_from(n).unwrap_or(i32::MAX), "ok": 1.0 })
}

pub fn distinct(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(
        command,
        &["key", "query", "collation", "hint"],
        &["collation"],
    )?;
    let collection = fields::collection_name(command)?;
    let key = command
        .get_str("key")
        .map_err(|_| CommandError::type_mismatch("BSON field 'distinct.key' must be a string"))?;
    let filter = fields::optional_document(command, "query")?
        .cloned()
        .unwrap_or_default();
    let selection = Selection::parse(&filter)?;
    let catalog = request.state.read();
    let target = catalog.collection(request.db, collection);
    check_hint(target, command.get("hint"))?;
    let mut values: Vec<Bson> = Vec::new();
    if let Some(target) = target {
        for seq in selection.matching(target, None) {
            let Some(document) = target.get(seq) else {
                continue;
            };
            for value in path::resolve(document, key).into_iter().flatten() {
                // Arrays contribute their elements, as MongoDB's distinct does.
                match value {
                    Bson::Array(items) => values.extend(items.iter().cloned()),
                    other => values.push(other.clone()),
                }
            }
        }
    }
    values.sort_by(order::compare);
    values.dedup_by(|a, b| order::equal(a, b));
    Ok(doc! { "values": values, "ok": 1.0 })
}
