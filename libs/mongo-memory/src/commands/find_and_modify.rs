//! `findAndModify`: updates, replaces or removes the first document in `sort`
//! order and returns it (before or after), with `lastErrorObject`.

use bson::{Bson, DateTime, Document, doc};

use super::selection::{Selection, check_hint};
use super::update::{parse_update, upsert_document};
use super::{Request, fields, insert};
use crate::engine::update::UpdateContext;
use crate::error::{CommandError, code};

const KNOWN: &[&str] = &[
    "query",
    "sort",
    "remove",
    "update",
    "new",
    "fields",
    "upsert",
    "bypassDocumentValidation",
    "collation",
    "arrayFilters",
    "hint",
    "let",
];
const UNSUPPORTED: &[&str] = &["collation", "arrayFilters", "let"];

pub fn run(request: &Request<'_>, name: &str) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, KNOWN, UNSUPPORTED)?;
    let collection = fields::collection_name(command)?;
    let filter = fields::optional_document(command, "query")?
        .cloned()
        .unwrap_or_default();
    let selection = Selection::parse(&filter)?;
    let sort = fields::optional_sort(command)?;
    let projection = fields::optional_projection(command, "fields")?;
    let remove = fields::optional_bool(command, "remove")?;
    let return_new = fields::optional_bool(command, "new")?;
    let upsert = fields::optional_bool(command, "upsert")?;
    let update = match (remove, command.get("update")) {
        (true, Some(_)) => {
            return Err(parse_error(
                name,
                "Cannot specify both an update and remove=true",
            ));
        }
        (true, None) if return_new => {
            return Err(parse_error(
                name,
                "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document",
            ));
        }
        (true, None) if upsert => {
            return Err(parse_error(
                name,
                "Cannot specify both upsert=true and remove=true",
            ));
        }
        (true, None) => None,
        (false, None) => {
            return Err(parse_error(
                name,
                "Either an update or remove=true must be specified",
            ));
        }
        (false, Some(u)) => Some(parse_update(Some(u))?),
    };

    let mut catalog = request.state.write();
    let target = match (catalog.collection(request.db, collection).is_some(), upsert) {
        (false, false) => {
            return Ok(
                doc! { "lastErrorObject": last_error(0, update.is_some().then_some(false), None), "value": Bson::Null, "ok": 1.0 },
            );
        }
        _ => catalog.collection_or_create(request.db, collection)?,
    };
    check_hint(Some(target), command.get("hint"))?;
    let mut chosen = selection.matching(target, sort.is_none().then_some(1));
    if let Some(sort) = &sort {
        chosen.sort_by(|a, b| match (target.get(*a), target.get(*b)) {
            (Some(a), Some(b)) => sort.compare(a, b),
            _ => std::cmp::Ordering::Equal,
        });
    }
    let found = chosen
        .first()
        .and_then(|seq| target.get(*seq).cloned().map(|doc| (*seq, doc)));

    let (last_error_object, value) = match (update, found) {
        (None, Some((seq, before))) => {
            target.remove(seq);
            (last_error(1, None, None), Some(before))
        }
        (None, None) => (last_error(0, None, None), None),
        (Some(update), Some((seq, before))) => {
            let mut after = before.clone();
            let context = UpdateContext::new(DateTime::now());
            if update.apply(&mut after, &context)? {
                insert::check_updated_size(&after)?;
                target.replace(seq, after.clone())?;
            }
            (
                last_error(1, Some(true), None),
                Some(if return_new { after } else { before }),
            )
        }
        (Some(update), None) if upsert => {
            let document = upsert_document(&selection, &update)?;
            let id = document.get("_id").cloned();
            target.insert(document.clone())?;
            (
                last_error(1, Some(false), id),
                return_new.then_some(document),
            )
        }
        (Some(_), None) => (last_error(0, Some(false), None), None),
    };
    let value = match (value, &projection) {
        (Some(value), Some(projection)) => Bson::Document(projection.apply(&value)?),
        (Some(value), None) => Bson::Document(value),
        (None, _) => Bson::Null,
    };
    Ok(doc! { "lastErrorObject": last_error_object, "value": value, "ok": 1.0 })
}

fn last_error(n: i32, updated_existing: Option<bool>, upserted: Option<Bson>) -> Document {
    let mut object = doc! { "n": n };
    if let Some(updated_existing) = updated_existing {
        object.insert("updatedExisting", updated_existing);
    }
    if let Some(id) = upserted {
        object.insert("upserted", id);
    }
    object
}

fn parse_error(name: &str, message: &str) -> CommandError {
    CommandError::new(code::FAILED_TO_PARSE, format!("{name}: {message}"))
}
