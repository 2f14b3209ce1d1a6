//! Reading command fields: typed getters that answer MongoDB's errors, and
//! the check that refuses unknown or unsupported options instead of ignoring them.

use bson::{Bson, Document};

use super::handshake::MAX_WRITE_BATCH_SIZE;
use crate::engine::projection::Projection;
use crate::engine::sort::SortSpec;
use crate::error::{CommandError, code};

/// Fields any command may carry that change nothing for a single in-memory node.
const GENERIC_FIELDS: &[&str] = &[
    "$db",
    "lsid",
    "$readPreference",
    "$clusterTime",
    "writeConcern",
    "readConcern",
    "comment",
    "maxTimeMS",
    "apiVersion",
    "apiStrict",
    "apiDeprecationErrors",
    "$audit",
    "$client",
    "mayBypassWriteBlocking",
];

/// Fields that only make sense inside a transaction or retryable write.
const TRANSACTION_FIELDS: &[&str] = &["txnNumber", "startTransaction", "autocommit"];

/// Standalone MongoDB refuses transactions; so does this server.
pub fn refuse_transactions(command: &Document) -> Result<(), CommandError> {
    match TRANSACTION_FIELDS
        .iter()
        .find(|field| command.contains_key(**field))
    {
        Some(_) => Err(CommandError::new(
            code::ILLEGAL_OPERATION,
            "Transaction numbers are only allowed on a replica set member or mongos",
        )),
        None => Ok(()),
    }
}

/// Fails on any field other than the command name, `known` and the generic
/// ones; fails with `NotImplemented` on a present field listed in `unsupported`.
pub fn check(command: &Document, known: &[&str], unsupported: &[&str]) -> Result<(), CommandError> {
    let name = command
        .keys()
        .next()
        .map(String::as_str)
        .unwrap_or_default();
    check_fields(name, command.iter().skip(1), known, unsupported)
}

/// [`check`] of `fields`, named in errors as fields of `name`.
pub fn check_fields<'a>(
    name: &str,
    fields: impl Iterator<Item = (&'a String, &'a Bson)>,
    known: &[&str],
    unsupported: &[&str],
) -> Result<(), CommandError> {
    for (field, value) in fields {
        if unsupported.contains(&field.as_str()) {
            if is_default(field, value) {
                continue;
            }
            return Err(CommandError::not_implemented(format!(
                "{name} option '{field}' is not supported by mongo-memory"
            )));
        }
        if !known.contains(&field.as_str()) && !GENERIC_FIELDS.contains(&field.as_str()) {
            return Err(CommandError::new(
                code::UNKNOWN_FIELD,
                format!("BSON field '{name}.{field}' is an unknown field."),
            ));
        }
    }
    Ok(())
}

/// Some unsupported options are harmless at their default values, which drivers send.
fn is_default(field: &str, value: &Bson) -> bool {
    match field {
        "let" | "collation" => matches!(value, Bson::Document(d) if d.is_empty()),
        _ => matches!(value, Bson::Null | Bson::Boolean(false)),
    }
}

/// The collection named by the command's first field.
pub fn collection_name(command: &Document) -> Result<&str, CommandError> {
    match command.iter().next() {
        Some((_, Bson::String(name))) if !name.is_empty() => Ok(name),
        Some((name, value)) => Err(CommandError::new(
            code::INVALID_NAMESPACE,
            format!(
                "collection name has invalid type {:?} for {name}",
                value.element_type()
            ),
        )),
        None => Err(CommandError::new(code::FAILED_TO_PARSE, "empty command")),
    }
}

/// Any BSON number that holds an integer.
pub fn integer(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        #[allow(clippy::cast_possible_truncation)]
        Bson::Double(d) if d.fract() == 0.0 && d.abs() < 9.0e18 => Some(*d as i64),
        _ => None,
    }
}

pub fn optional_i64(command: &Document, field: &str) -> Result<Option<i64>, CommandError> {
    match command.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(value) => integer(value).map(Some).ok_or_else(|| {
            CommandError::type_mismatch(format!("BSON field '{field}' must be a number"))
        }),
    }
}

/// A non-negative count such as `skip` or `batchSize`.
pub fn optional_count(command: &Document, field: &str) -> Result<Option<usize>, CommandError> {
    match optional_i64(command, field)? {
        None => Ok(None),
        Some(n) => usize::try_from(n)
            .map(Some)
            .map_err(|_| CommandError::bad_value(format!("{field} must be non-negative, got {n}"))),
    }
}

pub fn optional_bool(command: &Document, field: &str) -> Result<bool, CommandError> {
    match command.get(field) {
        None | Some(Bson::Null) => Ok(false),
        Some(Bson::Boolean(b)) => Ok(*b),
        Some(value) => integer(value).map(|n| n != 0).ok_or_else(|| {
            CommandError::type_mismatch(format!("BSON field '{field}' must be a boolean"))
        }),
    }
}

pub fn optional_document<'a>(
    command: &'a Document,
    field: &str,
) -> Result<Option<&'a Document>, CommandError> {
    match command.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::Document(d)) => Ok(Some(d)),
        Some(_) => Err(CommandError::type_mismatch(format!(
            "BSON field '{field}' must be an object"
        ))),
    }
}

/// A write command's statements: 1 to `maxWriteBatchSize` documents.
pub fn write_batch<'a>(
    command: &'a Document,
    field: &str,
) -> Result<Vec<&'a Document>, CommandError> {
    let statements = documents(command, field)?;
    let allowed = 1..=usize::try_from(MAX_WRITE_BATCH_SIZE).unwrap_or(usize::MAX);
    if !allowed.contains(&statements.len()) {
        return Err(CommandError::new(
            code::INVALID_LENGTH,
            format!(
                "Write batch sizes must be between 1 and {MAX_WRITE_BATCH_SIZE}. Got {} operations.",
                statements.len()
            ),
        ));
    }
    Ok(statements)
}

/// A required array of documents (`documents`, `updates`, `deletes`, `indexes`).
pub fn documents<'a>(
    command: &'a Document,
    field: &str,
) -> Result<Vec<&'a Document>, CommandError> {
    let Some(Bson::Array(items)) = command.get(field) else {
        return Err(CommandError::new(
            code::FAILED_TO_PARSE,
            format!("BSON field '{field}' is missing or not an array"),
        ));
    };
    items
        .iter()
        .map(|item| match item {
            Bson::Document(d) => Ok(d),
            _ => Err(CommandError::type_mismatch(format!(
                "every entry of '{field}' must be an object"
            ))),
        })
        .collect()
}

/// The optional `sort` of a read command, parsed.
pub fn optional_sort(command: &Document) -> Result<Option<SortSpec>, CommandError> {
    Ok(optional_document(command, "sort")?
        .map(SortSpec::parse)
        .transpose()?)
}

/// The optional projection under `field` (`projection` for find, `fields`
/// for findAndModify), parsed; an empty one means the whole document.
pub fn optional_projection(
    command: &Document,
    field: &str,
) -> Result<Option<Projection>, CommandError> {
    Ok(optional_document(command, field)?
        .filter(|p| !p.is_empty())
        .map(Projection::parse)
        .transpose()?)
}
