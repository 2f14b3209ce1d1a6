//! `insert`: stores documents, generating `_id` when missing, honouring `ordered`.

use bson::{Bson, Document, doc, oid::ObjectId};

use super::fields;
use crate::error::{CommandError, code};
use crate::state::State;
use crate::wire::{MAX_BSON_OBJECT_SIZE, encoded_size};

pub fn run(state: &State, db: &str, mut command: Document) -> Result<Document, CommandError> {
    fields::check(
        &command,
        &["documents", "ordered", "bypassDocumentValidation"],
        &[],
    )?;
    let collection = fields::collection_name(&command)?.to_owned();
    fields::write_batch(&command, "documents")?;
    let ordered = command.get_bool("ordered").unwrap_or(true);
    let documents = match command.remove("documents") {
        Some(Bson::Array(items)) => items,
        _ => Vec::new(),
    };
    let mut catalog = state.write();
    let target = catalog.collection_or_create(db, &collection)?;
    let mut inserted = 0;
    let mut write_errors = Vec::new();
    // `write_batch` checked that every item is a document.
    let documents = documents.into_iter().filter_map(|item| match item {
        Bson::Document(document) => Some(document),
        _ => None,
    });
    for (index, document) in documents.enumerate() {
        let result = prepare(document).and_then(|document| target.insert(document));
        match result {
            Ok(_) => inserted += 1,
            Err(error) => {
                write_errors.push(Bson::Document(error.to_write_error(index)));
                if ordered {
                    break;
                }
            }
        }
    }
    let mut reply = doc! { "n": inserted };
    if !write_errors.is_empty() {
        reply.insert("writeErrors", write_errors);
    }
    Ok(reply)
}

/// Checks a new document and gives it an `_id` (first, as MongoDB places it) when missing.
pub fn prepare(mut document: Document) -> Result<Document, CommandError> {
    let prepared = match document.iter().next() {
        // As drivers send it: nothing to move.
        Some((key, id)) if key == "_id" => {
            check_id(id)?;
            document
        }
        _ => {
            let id = match document.remove("_id") {
                Some(id) => {
                    check_id(&id)?;
                    id
                }
                None => Bson::ObjectId(ObjectId::new()),
            };
            let mut prepared = doc! { "_id": id };
            prepared.extend(document);
            prepared
        }
    };
    check_size(&prepared)?;
    Ok(prepared)
}

pub fn check_id(id: &Bson) -> Result<(), CommandError> {
    match id {
        Bson::Array(_) => Err(CommandError::bad_value("can't use an array for _id")),
        Bson::RegularExpression(_) => Err(CommandError::bad_value("can't use a regex for _id")),
        Bson::Undefined => Err(CommandError::bad_value("can't use a undefined for _id")),
        _ => Ok(()),
    }
}

/// Refuses a new document over 16 MB, as MongoDB does.
fn check_size(document: &Document) -> Result<(), CommandError> {
    let size = encoded_size(document);
    if size > MAX_BSON_OBJECT_SIZE {
        return Err(CommandError::new(
            code::BSON_OBJECT_TOO_LARGE,
            format!(
                "object to insert too large. size in bytes: {size}, max size: {MAX_BSON_OBJECT_SIZE}"
            ),
        ));
    }
    Ok(())
}

/// Refuses an update whose result is over 16 MB, with MongoDB's error for that case.
pub fn check_updated_size(document: &Document) -> Result<(), CommandError> {
    if encoded_size(document) > MAX_BSON_OBJECT_SIZE {
        return Err(CommandError::new(
            code::UPDATED_DOCUMENT_TOO_LARGE,
            format!("Resulting document after update is larger than {MAX_BSON_OBJECT_SIZE}"),
        ));
    }
    Ok(())
}
