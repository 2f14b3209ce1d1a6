//! `aggregate` on a collection: the pipeline runs in the engine over a
//! snapshot of the collection; stages that read or write other collections are refused.

use bson::{Bson, Document, doc};

use super::selection::{Selection, check_hint};
use super::{Request, fields};
use crate::engine::aggregate;
use crate::error::{CommandError, code};

const KNOWN: &[&str] = &[
    "pipeline",
    "cursor",
    "explain",
    "allowDiskUse",
    "collation",
    "hint",
    "let",
    "bypassDocumentValidation",
];
const UNSUPPORTED: &[&str] = &["explain", "collation", "let"];
/// Stages that touch other collections, which this server does not offer.
const CROSS_COLLECTION_STAGES: &[&str] =
    &["$out", "$merge", "$lookup", "$unionWith", "$graphLookup"];

pub fn run(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, KNOWN, UNSUPPORTED)?;
    let collection = match command.get("aggregate") {
        Some(Bson::String(name)) => name.as_str(),
        _ => {
            return Err(CommandError::not_implemented(
                "database-level aggregate (aggregate: 1) is not supported by mongo-memory",
            ));
        }
    };
    let pipeline = fields::documents(command, "pipeline")?;
    for stage in &pipeline {
        if let Some(name) = stage
            .keys()
            .find(|name| CROSS_COLLECTION_STAGES.contains(&name.as_str()))
        {
            return Err(CommandError::not_implemented(format!(
                "{name} is not supported by mongo-memory"
            )));
        }
    }
    let Some(cursor) = fields::optional_document(command, "cursor")? else {
        return Err(CommandError::new(
            code::FAILED_TO_PARSE,
            "The 'cursor' option is required, except for aggregate with the explain argument",
        ));
    };
    let batch_size = fields::optional_count(cursor, "batchSize")?;
    // A leading `$match` filters while snapshotting, so only matches are copied.
    let (leading_match, rest) = match pipeline.split_first() {
        Some((first, rest)) if first.len() == 1 => match first.get("$match") {
            Some(Bson::Document(filter)) => (Some(Selection::parse(filter)?), rest),
            _ => (None, pipeline.as_slice()),
        },
        _ => (None, pipeline.as_slice()),
    };
    let input: Vec<Document> = {
        let catalog = request.state.read();
        let target = catalog.collection(request.db, collection);
        check_hint(target, command.get("hint"))?;
        match (target, &leading_match) {
            (None, _) => Vec::new(),
            (Some(target), Some(selection)) => selection
                .matching(target, None)
                .into_iter()
                .filter_map(|seq| target.get(seq).cloned())
                .collect(),
            (Some(target), None) => target.documents().map(|(_, d)| d.clone()).collect(),
        }
    };
    let pipeline: Vec<Document> = rest.iter().map(|stage| (*stage).clone()).collect();
    let results = aggregate::run(input, &pipeline)?;
    let namespace = format!("{}.{collection}", request.db);
    let cursor = request
        .state
        .cursors()
        .first_batch(&namespace, results, batch_size, false);
    Ok(doc! { "cursor": cursor, "ok": 1.0 })
}
