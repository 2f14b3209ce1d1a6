//! `insert`: stores documents, generating `_id` when missing, honouring `ordered`.

use bson::{Bson, Document, doc, oid::ObjectId};

use super::{Request, fields};
use crate::error::{CommandError, code};
use crate::wire::MAX_BSON_OBJECT_SIZE;

pub fn run(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(
        command,
        &["documents", "ordered", "bypassDocumentValidation"],
        &[],
    )?;
    let collection = fields::collection_name(command)?;
    let documents = fields::write_batch(command, "documents")?;
    let ordered = command.get_bool("ordered").unwrap_or(true);
    let mut catalog = request.state.write();
    let target = catalog.collection_or_create(request.db, collection)?;
    let mut inserted = 0;
    let mut write_errors = Vec::new();
    for (index, document) in documents.into_iter().enumerate() {
        let result = prepare(document.clone()).and_then(|document| target.insert(document));
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
    let id = match document.remove("_id") {
        Some(id) => {
            check_id(&id)?;
            id
        }
        None => Bson::ObjectId(ObjectId::new()),
    };
    let mut prepared = doc! { "_id": id };
    prepared.extend(document);
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

fn encoded_size(document: &Document) -> usize {
    bson::to_vec(document).map_or(usize::MAX, |bytes| bytes.len())
}
