//! `update`: each statement modifies the first or every matching document, or
//! inserts one seeded from the filter's equality fields when `upsert` finds none.

use bson::{Bson, DateTime, Document, doc};

use super::insert;
use super::selection::{Selection, check_hint};
use super::{Request, fields};
use crate::engine::update::{Update, UpdateContext};
use crate::error::CommandError;
use crate::store::Collection;

const STATEMENT_FIELDS: &[&str] = &[
    "q",
    "u",
    "upsert",
    "multi",
    "arrayFilters",
    "hint",
    "collation",
    "c",
    "sort",
];
const STATEMENT_UNSUPPORTED: &[&str] = &["arrayFilters", "collation", "c", "sort"];

/// What one statement did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub matched: usize,
    pub modified: usize,
    pub upserted_id: Option<Bson>,
}

pub fn run(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(
        command,
        &["updates", "ordered", "let", "bypassDocumentValidation"],
        &["let"],
    )?;
    let collection = fields::collection_name(command)?;
    let statements = fields::write_batch(command, "updates")?;
    let ordered = command.get_bool("ordered").unwrap_or(true);
    let mut catalog = request.state.write();
    let existed = catalog.collection(request.db, collection).is_some();
    let target = catalog.collection_or_create(request.db, collection)?;
    let (mut matched, mut modified) = (0, 0);
    let mut upserted = Vec::new();
    let mut write_errors = Vec::new();
    for (index, statement) in statements.into_iter().enumerate() {
        match run_statement(target, statement) {
            Ok(outcome) => {
                matched += outcome.matched;
                modified += outcome.modified;
                if let Some(id) = outcome.upserted_id {
                    matched += 1;
                    upserted.push(
                        doc! { "index": i32::try_from(index).unwrap_or(i32::MAX), "_id": id },
                    );
                }
            }
            Err(error) => {
                write_errors.push(Bson::Document(error.to_write_error(index)));
                if ordered {
                    break;
                }
            }
        }
    }
    // An update that stored nothing leaves no collection behind, as in MongoDB.
    if !existed && target.len() == 0 {
        catalog.drop_collection(request.db, collection);
    }
    let mut reply = doc! {
        "n": i32::try_from(matched).unwrap_or(i32::MAX),
        "nModified": i32::try_from(modified).unwrap_or(i32::MAX),
    };
    if !upserted.is_empty() {
        reply.insert("upserted", upserted);
    }
    if !write_errors.is_empty() {
        reply.insert("writeErrors", write_errors);
    }
    Ok(reply)
}

fn run_statement(target: &mut Collection, statement: &Document) -> Result<Outcome, CommandError> {
    fields::check_fields(
        "update",
        statement.iter(),
        STATEMENT_FIELDS,
        STATEMENT_UNSUPPORTED,
    )?;
    let filter = fields::optional_document(statement, "q")?.ok_or_else(|| {
        CommandError::bad_value("BSON field 'update.updates.q' is missing but a required field")
    })?;
    let update = parse_update(statement.get("u"))?;
    let multi = fields::optional_bool(statement, "multi")?;
    let upsert = fields::optional_bool(statement, "upsert")?;
    if multi && update.is_replacement() {
        return Err(CommandError::new(
            crate::error::code::FAILED_TO_PARSE,
            "multi update is not supported for replacement-style update",
        ));
    }
    check_hint(Some(target), statement.get("hint"))?;
    let selection = Selection::parse(filter)?;
    apply(target, &selection, &update, multi, upsert)
}

/// The `u` field: an operator document or a replacement (pipelines are refused).
pub fn parse_update(u: Option<&Bson>) -> Result<Update, CommandError> {
    match u {
        Some(Bson::Document(u)) => Ok(Update::parse(u)?),
        Some(Bson::Array(_)) => Err(CommandError::not_implemented(
            "pipeline-style updates are not supported by mongo-memory",
        )),
        _ => Err(CommandError::bad_value(
            "BSON field 'update.updates.u' is missing or not an object",
        )),
    }
}

/// Applies `update` to the matching documents, or upserts.
pub fn apply(
    target: &mut Collection,
    selection: &Selection,
    update: &Update,
    multi: bool,
    upsert: bool,
) -> Result<Outcome, CommandError> {
    let chosen = selection.matching(target, (!multi).then_some(1));
    let mut outcome = Outcome {
        matched: chosen.len(),
        ..Outcome::default()
    };
    let context = UpdateContext::new(DateTime::now());
    for seq in chosen {
        let Some(mut document) = target.get(seq).cloned() else {
            continue;
        };
        if update.apply(&mut document, &context)? {
            insert::check_updated_size(&document)?;
            target.replace(seq, document)?;
            outcome.modified += 1;
        }
    }
    if outcome.matched == 0 && upsert {
        let document = upsert_document(selection, update)?;
        outcome.upserted_id = document.get("_id").cloned();
        target.insert(document)?;
    }
    Ok(outcome)
}

/// The document an upsert inserts: the filter's equality fields, then the update.
pub fn upsert_document(selection: &Selection, update: &Update) -> Result<Document, CommandError> {
    let seed = selection.filter().equality_fields();
    let mut document = if update.is_replacement() {
        // A replacement keeps only the filter's `_id`, not its other fields.
        seed.get("_id")
            .map(|id| doc! { "_id": id.clone() })
            .unwrap_or_default()
    } else {
        seed
    };
    let context = UpdateContext {
        is_upsert_insert: true,
        ..UpdateContext::new(DateTime::now())
    };
    update.apply(&mut document, &context)?;
    insert::prepare(document)
}
