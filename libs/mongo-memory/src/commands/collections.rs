//! `create`, `drop`, `dropDatabase`, `listCollections`, `listDatabases`, `renameCollection`.

use bson::{Bson, Document, doc};

use super::{Request, fields};
use crate::engine::filter::Filter;
use crate::error::{CommandError, code};
use crate::store::{validate_collection_name, validate_database_name};

/// `create` options that would change behaviour and are not implemented.
const CREATE_UNSUPPORTED: &[&str] = &[
    "capped",
    "size",
    "max",
    "validator",
    "validationLevel",
    "validationAction",
    "viewOn",
    "pipeline",
    "timeseries",
    "clusteredIndex",
    "expireAfterSeconds",
    "changeStreamPreAndPostImages",
    "collation",
    "storageEngine",
    "indexOptionDefaults",
    "encryptedFields",
];

pub fn create(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, CREATE_UNSUPPORTED, CREATE_UNSUPPORTED)?;
    let collection = fields::collection_name(command)?;
    request
        .state
        .write()
        .create(request.db, collection, Document::new())?;
    Ok(doc! { "ok": 1.0 })
}

pub fn drop(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, &[], &[])?;
    let collection = fields::collection_name(command)?;
    let namespace = format!("{}.{collection}", request.db);
    // Since MongoDB 7.0 dropping a missing collection succeeds.
    match request
        .state
        .write()
        .drop_collection(request.db, collection)
    {
        Some(dropped) => Ok(doc! {
            "nIndexesWas": i32::try_from(dropped.indexes().len()).unwrap_or(i32::MAX),
            "ns": namespace,
            "ok": 1.0,
        }),
        None => Ok(doc! { "ok": 1.0 }),
    }
}

pub fn drop_database(request: &Request<'_>) -> Result<Document, CommandError> {
    fields::check(request.command, &[], &[])?;
    validate_database_name(request.db)?;
    request.state.write().drop_database(request.db);
    Ok(doc! { "ok": 1.0 })
}

pub fn list_collections(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(
        command,
        &["filter", "nameOnly", "authorizedCollections", "cursor"],
        &[],
    )?;
    let filter = fields::optional_document(command, "filter")?
        .cloned()
        .unwrap_or_default();
    let filter = Filter::parse(&filter)?;
    let name_only = fields::optional_bool(command, "nameOnly")?;
    let batch_size = fields::optional_document(command, "cursor")?
        .map(|cursor| fields::optional_count(cursor, "batchSize"))
        .transpose()?
        .flatten();
    let entries: Vec<Document> = {
        let catalog = request.state.read();
        catalog
            .database(request.db)
            .map(|database| {
                database
                    .collections
                    .iter()
                    .map(|(name, collection)| {
                        doc! {
                            "name": name,
                            "type": "collection",
                            "options": collection.options.clone(),
                            "info": { "readOnly": false },
                            "idIndex": { "v": 2, "key": { "_id": 1 }, "name": "_id_" },
                        }
                    })
                    .filter(|entry| filter.matches(entry))
                    .map(|entry| match name_only {
                        true => doc! { "name": entry.get("name").cloned().unwrap_or(Bson::Null), "type": "collection" },
                        false => entry,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let namespace = format!("{}.$cmd.listCollections", request.db);
    let cursor = request
        .state
        .cursors()
        .first_batch(&namespace, entries, batch_size, false);
    Ok(doc! { "cursor": cursor, "ok": 1.0 })
}

pub fn list_databases(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, &["filter", "nameOnly", "authorizedDatabases"], &[])?;
    require_admin(request, "listDatabases")?;
    let filter = fields::optional_document(command, "filter")?
        .cloned()
        .unwrap_or_default();
    let filter = Filter::parse(&filter)?;
    let name_only = fields::optional_bool(command, "nameOnly")?;
    let catalog = request.state.read();
    let databases: Vec<Document> = catalog
        .databases()
        .map(|(name, database)| {
            let empty = database.collections.values().all(|c| c.len() == 0);
            doc! { "name": name, "sizeOnDisk": 0_i64, "empty": empty }
        })
        .filter(|entry| filter.matches(entry))
        .map(|entry| match name_only {
            true => doc! { "name": entry.get("name").cloned().unwrap_or(Bson::Null) },
            false => entry,
        })
        .collect();
    if name_only {
        return Ok(doc! { "databases": databases, "ok": 1.0 });
    }
    Ok(doc! { "databases": databases, "totalSize": 0_i64, "totalSizeMb": 0_i64, "ok": 1.0 })
}

/// Renames atomically (one write lock), replacing the target when `dropTarget` is set.
pub fn rename(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, &["to", "dropTarget", "stayTemp"], &[])?;
    require_admin(request, "renameCollection")?;
    let from = split_namespace(command.get("renameCollection"), "renameCollection")?;
    let to = split_namespace(command.get("to"), "to")?;
    validate_collection_name(from.1)?;
    let drop_target = fields::optional_bool(command, "dropTarget")?;
    request.state.write().rename(from, to, drop_target)?;
    Ok(doc! { "ok": 1.0 })
}

fn split_namespace<'a>(
    value: Option<&'a Bson>,
    field: &str,
) -> Result<(&'a str, &'a str), CommandError> {
    let Some(Bson::String(namespace)) = value else {
        return Err(CommandError::type_mismatch(format!(
            "BSON field '{field}' must be a string"
        )));
    };
    namespace.split_once('.').ok_or_else(|| {
        CommandError::new(
            code::INVALID_NAMESPACE,
            format!("Invalid namespace specified '{namespace}'"),
        )
    })
}

fn require_admin(request: &Request<'_>, name: &str) -> Result<(), CommandError> {
    if request.db != "admin" {
        return Err(CommandError::new(
            code::UNAUTHORIZED,
            format!("{name} may only be run against the admin database."),
        ));
    }
    Ok(())
}
