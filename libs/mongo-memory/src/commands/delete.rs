//! `delete`: removes the documents each statement's filter matches (`limit` 0 = all, 1 = first).

use bson::{Bson, Document, doc};

use super::selection::{Selection, check_hint};
use super::{Request, fields};
use crate::error::CommandError;

const STATEMENT_FIELDS: &[&str] = &["q", "limit", "hint", "collation"];

pub fn run(request: &Request<'_>) -> Result<Document, CommandError> {
    let command = request.command;
    fields::check(command, &["deletes", "ordered", "let"], &["let"])?;
    let collection = fields::collection_name(command)?;
    let statements = fields::write_batch(command, "deletes")?;
    let ordered = command.get_bool("ordered").unwrap_or(true);
    let mut catalog = request.state.write();
    let mut deleted = 0;
    let mut write_errors = Vec::new();
    for (index, statement) in statements.into_iter().enumerate() {
        let target = catalog.collection_mut(request.db, collection);
        let result = parse_statement(statement).and_then(|(selection, limit)| {
            check_hint(target.as_deref(), statement.get("hint"))?;
            let Some(target) = target else { return Ok(0) };
            let chosen = selection.matching(target, limit);
            Ok(chosen
                .into_iter()
                .filter(|seq| target.remove(*seq).is_some())
                .count())
        });
        match result {
            Ok(n) => deleted += n,
            Err(error) => {
                write_errors.push(Bson::Document(error.to_write_error(index)));
                if ordered {
                    break;
                }
            }
        }
    }
    let mut reply = doc! { "n": i32::try_from(deleted).unwrap_or(i32::MAX) };
    if !write_errors.is_empty() {
        reply.insert("writeErrors", write_errors);
    }
    Ok(reply)
}

fn parse_statement(statement: &Document) -> Result<(Selection, Option<usize>), CommandError> {
    fields::check_fields("delete", statement.iter(), STATEMENT_FIELDS, &["collation"])?;
    let filter = fields::optional_document(statement, "q")?.ok_or_else(|| {
        CommandError::bad_value("BSON field 'delete.deletes.q' is missing but a required field")
    })?;
    let limit = match fields::optional_i64(statement, "limit")? {
        Some(0) => None,
        Some(1) => Some(1),
        _ => {
            return Err(CommandError::bad_value(
                "The limit field in delete objects must be 0 or 1.",
            ));
        }
    };
    Ok((Selection::parse(filter)?, limit))
}
