//! `find`, `getMore` and `killCursors`.

use bson::{Bson, Document, doc};

use super::selection::{Selection, check_hint};
use super::{Request, fields};
use crate::error::{CommandError, code};

const FIND_FIELDS: &[&str] = &[
    "filter",
    "sort",
    "projection",
    "skip",
    "limit",
    "batchSize",
    "singleBatch",
    "hint",
    "allowDiskUse",
    "noCursorTimeout",
    "allowPartialResults",
    "readOnce",
    "collation",
    "let",
    "min",
    "max",
    "returnKey",
    "showRecordId",
    "tailable",
    "awaitData",
    "oplogReplay",
];
const FIND_UNSUPPORTED: &[&str] = &[
    "collation",
    "let",
    "min",
    "max",
    "returnKey",
    "showRecordId",
    "tailable",
    "awaitData",
];

pub fn find(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, FIND_FIELDS, FIND_UNSUPPORTED)?;
    let collection = fields::collection_name(command)?;
    let filter = fields::optional_document(command, "filter")?
        .cloned()
        .unwrap_or_default();
    let selection = Selection::parse(&filter)?;
    let sort = fields::optional_sort(command)?;
    let projection = fields::optional_projection(command, "projection")?;
    let skip = fields::optional_count(command, "skip")?.unwrap_or(0);
    let (limit, mut single_batch) = match fields::optional_i64(command, "limit")? {
        None | Some(0) => (None, false),
        Some(n) if n < 0 => (usize::try_from(n.unsigned_abs()).ok(), true),
        Some(n) => (usize::try_from(n).ok(), false),
    };
    single_batch |= fields::optional_bool(command, "singleBatch")?;
    let batch_size = fields::optional_count(command, "batchSize")?;

    let results = {
        let catalog = request.state.read();
        let target = catalog.collection(request.db, collection);
        check_hint(target, command.get("hint"))?;
        match target {
            None => Vec::new(),
            Some(target) => {
                // Without a sort, the scan can stop once skip + limit documents matched.
                let scan_limit = match (&sort, limit) {
                    (None, Some(limit)) => Some(skip.saturating_add(limit)),
                    _ => None,
                };
                let mut found: Vec<&Document> = selection
                    .matching(target, scan_limit)
                    .into_iter()
                    .filter_map(|seq| target.get(seq))
                    .collect();
                if let Some(sort) = &sort {
                    found.sort_by(|a, b| sort.compare(a, b));
                }
                // Projected from the stored documents, so only what is
                // returned is copied.
                found
                    .into_iter()
                    .skip(skip)
                    .take(limit.unwrap_or(usize::MAX))
                    .map(|doc| match &projection {
                        Some(projection) => projection.apply(doc),
                        None => Ok(doc.clone()),
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
        }
    };
    let namespace = format!("{}.{collection}", request.db);
    let cursor = request.state.cursors().first_batch(
        &namespace,
        results,
        batch_size.or(limit),
        single_batch,
    );
    Ok(doc! { "cursor": cursor, "ok": 1.0 })
}

pub fn get_more(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(
        command,
        &[
            "collection",
            "batchSize",
            "maxAwaitTimeMS",
            "term",
            "lastKnownCommittedOpTime",
        ],
        &[],
    )?;
    let id = match command.get("getMore") {
        Some(Bson::Int64(id)) => *id,
        _ => {
            return Err(CommandError::type_mismatch(
                "BSON field 'getMore.getMore' is the wrong type, expected type 'long'",
            ));
        }
    };
    let collection = command.get_str("collection").map_err(|_| {
        CommandError::type_mismatch("BSON field 'getMore.collection' must be a string")
    })?;
    let batch_size = fields::optional_count(command, "batchSize")?.filter(|n| *n > 0);
    let namespace = format!("{}.{collection}", request.db);
    let cursor = request
        .state
        .cursors()
        .next_batch(id, &namespace, batch_size)?;
    Ok(doc! { "cursor": cursor, "ok": 1.0 })
}

pub fn kill_cursors(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, &["cursors"], &[])?;
    fields::collection_name(command)?;
    let Some(Bson::Array(items)) = command.get("cursors") else {
        return Err(CommandError::new(
            code::FAILED_TO_PARSE,
            "BSON field 'killCursors.cursors' is missing",
        ));
    };
    let ids: Vec<i64> = items.iter().filter_map(fields::integer).collect();
    let (killed, not_found) = request.state.cursors().kill(&ids);
    Ok(doc! {
        "cursorsKilled": killed,
        "cursorsNotFound": not_found,
        "cursorsAlive": [],
        "cursorsUnknown": [],
        "ok": 1.0,
    })
}
