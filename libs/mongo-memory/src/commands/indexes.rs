//! `createIndexes`, `listIndexes`, `dropIndexes`. Only unique indexes change
//! behaviour here (they are enforced); others are kept as declared.

use bson::{Bson, Document, doc};

use super::{Request, fields};
use crate::error::{CommandError, code};
use crate::store::{ID_INDEX, Index};

/// Index options accepted as harmless (no effect on results).
const HARMLESS_OPTIONS: &[&str] = &["v", "background", "ns"];
/// Index options MongoDB has that change behaviour and are not implemented.
const UNSUPPORTED_OPTIONS: &[&str] = &[
    "partialFilterExpression",
    "expireAfterSeconds",
    "collation",
    "hidden",
    "weights",
    "default_language",
    "language_override",
    "textIndexVersion",
    "2dsphereIndexVersion",
    "bits",
    "min",
    "max",
    "wildcardProjection",
    "storageEngine",
];

pub fn create(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, &["indexes", "commitQuorum"], &[])?;
    let collection = fields::collection_name(command)?;
    let specs = fields::documents(command, "indexes")?
        .into_iter()
        .map(parse_spec)
        .collect::<Result<Vec<_>, _>>()?;
    let mut catalog = request.state.write();
    let created_collection = catalog.collection(request.db, collection).is_none();
    let target = catalog.collection_or_create(request.db, collection)?;
    let before = target.indexes().len();
    for spec in specs {
        match target
            .indexes()
            .iter()
            .find(|i| i.name == spec.name || i.key == spec.key)
        {
            Some(existing) if existing.name == spec.name && existing.key == spec.key => {
                if existing.unique != spec.unique || existing.sparse != spec.sparse {
                    return Err(CommandError::new(
                        code::INDEX_OPTIONS_CONFLICT,
                        format!(
                            "An existing index has the same name as the requested index but different options: {}",
                            spec.name
                        ),
                    ));
                }
            }
            Some(existing) if existing.name == spec.name => {
                return Err(CommandError::new(
                    code::INDEX_KEY_SPECS_CONFLICT,
                    format!(
                        "An existing index has the same name as the requested index but a different key: {}",
                        spec.name
                    ),
                ));
            }
            Some(existing) => {
                return Err(CommandError::new(
                    code::INDEX_OPTIONS_CONFLICT,
                    format!(
                        "Index already exists with a different name: {}",
                        existing.name
                    ),
                ));
            }
            None => target.add_index(spec)?,
        }
    }
    let after = target.indexes().len();
    let mut reply = doc! {
        "numIndexesBefore": i32::try_from(before).unwrap_or(i32::MAX),
        "numIndexesAfter": i32::try_from(after).unwrap_or(i32::MAX),
        "createdCollectionAutomatically": created_collection,
    };
    if before == after {
        reply.insert("note", "all indexes already exist");
    }
    reply.insert("ok", 1.0);
    Ok(reply)
}

fn parse_spec(spec: &Document) -> Result<Index, CommandError> {
    let Ok(key) = spec.get_document("key") else {
        return Err(CommandError::new(
            code::FAILED_TO_PARSE,
            "index specification must have a 'key' document",
        ));
    };
    if key.is_empty() {
        return Err(CommandError::new(
            code::FAILED_TO_PARSE,
            "index keys cannot be empty",
        ));
    }
    for (field, direction) in key {
        match direction {
            Bson::String(kind) => {
                return Err(CommandError::not_implemented(format!(
                    "'{kind}' index on '{field}' is not supported by mongo-memory"
                )));
            }
            other
                if fields::integer(other).is_some_and(|n| n != 0)
                    || matches!(other, Bson::Double(d) if *d != 0.0) => {}
            _ => {
                return Err(CommandError::new(
                    code::FAILED_TO_PARSE,
                    format!("bad index key pattern for '{field}'"),
                ));
            }
        }
    }
    let Ok(name) = spec.get_str("name") else {
        return Err(CommandError::new(
            code::FAILED_TO_PARSE,
            "index specification must have a 'name'",
        ));
    };
    for (option, value) in spec {
        let option = option.as_str();
        if matches!(option, "key" | "name" | "unique" | "sparse")
            || HARMLESS_OPTIONS.contains(&option)
        {
            continue;
        }
        if UNSUPPORTED_OPTIONS.contains(&option) {
            return Err(CommandError::not_implemented(format!(
                "index option '{option}' is not supported by mongo-memory"
            )));
        }
        return Err(CommandError::new(
            code::INVALID_INDEX_SPECIFICATION_OPTION,
            format!(
                "The field '{option}' is not valid for an index specification. Specification: {value}"
            ),
        ));
    }
    let unique = fields::optional_bool(spec, "unique")?;
    let sparse = fields::optional_bool(spec, "sparse")?;
    if name == ID_INDEX && (key.keys().ne(["_id"]) || unique) {
        return Err(CommandError::bad_value(
            "The index name '_id_' is reserved for the _id index",
        ));
    }
    Ok(Index::new(name.to_owned(), key.clone(), unique, sparse))
}

pub fn list(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, &["cursor"], &[])?;
    let collection = fields::collection_name(command)?;
    let batch_size = fields::optional_document(command, "cursor")?
        .map(|cursor| fields::optional_count(cursor, "batchSize"))
        .transpose()?
        .flatten();
    let namespace = format!("{}.{collection}", request.db);
    let specs: Vec<Document> = {
        let catalog = request.state.read();
        let target = catalog.collection(request.db, collection).ok_or_else(|| {
            CommandError::new(
                code::NAMESPACE_NOT_FOUND,
                format!("ns does not exist: {namespace}"),
            )
        })?;
        target.indexes().iter().map(Index::describe).collect()
    };
    let cursor = request
        .state
        .cursors()
        .first_batch(&namespace, specs, batch_size, false);
    Ok(doc! { "cursor": cursor, "ok": 1.0 })
}

pub fn drop(request: &Request<'_>, name: &str) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, &["index"], &[])?;
    let collection = fields::collection_name(command)?;
    let namespace = format!("{}.{collection}", request.db);
    let mut catalog = request.state.write();
    let target = catalog
        .collection_mut(request.db, collection)
        .ok_or_else(|| {
            CommandError::new(
                code::NAMESPACE_NOT_FOUND,
                format!("ns not found {namespace}"),
            )
        })?;
    let before = i32::try_from(target.indexes().len()).unwrap_or(i32::MAX);
    let names: Vec<String> = match command.get("index") {
        Some(Bson::String(all)) if all == "*" => {
            target.drop_all_indexes();
            Vec::new()
        }
        Some(Bson::String(one)) => vec![one.clone()],
        Some(Bson::Array(many)) => many
            .iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect(),
        Some(Bson::Document(key)) => vec![
            target
                .indexes()
                .iter()
                .find(|i| &i.key == key)
                .map(|i| i.name.clone())
                .ok_or_else(|| {
                    CommandError::new(
                        code::INDEX_NOT_FOUND,
                        format!("can't find index with key: {key}"),
                    )
                })?,
        ],
        _ => {
            return Err(CommandError::type_mismatch(format!(
                "BSON field '{name}.index' must be a string, array or object"
            )));
        }
    };
    // Check every name first so a failing drop removes nothing.
    for index in &names {
        if index == ID_INDEX {
            return Err(CommandError::new(
                code::INVALID_OPTIONS,
                "cannot drop _id index",
            ));
        }
        if !target.indexes().iter().any(|i| &i.name == index) {
            return Err(CommandError::new(
                code::INDEX_NOT_FOUND,
                format!("index not found with name [{index}]"),
            ));
        }
    }
    for index in &names {
        target.drop_index(index);
    }
    Ok(doc! { "nIndexesWas": before, "ok": 1.0 })
}
