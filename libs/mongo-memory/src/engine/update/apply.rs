//! Each update operator's effect on a document, with MongoDB's type rules
//! and error messages.

use std::cmp::Ordering;

use bson::{Bson, Document};

use super::UpdateContext;
use super::array_filters::ArrayFilters;
use super::fields;
use super::parse::{Action, Op, Push, PushSort};
use crate::engine::arith;
use crate::engine::error::EngineError;
use crate::engine::filter::type_name;
use crate::engine::order::{self, Number};

/// Applies one action at `parts` (its path with any `$` resolved), once per
/// selected element for `$[]` and `$[id]` paths.
pub fn action(
    action: &Action,
    parts: &[String],
    doc: &mut Document,
    ctx: &UpdateContext,
    filters: &ArrayFilters,
) -> Result<(), EngineError> {
    if !parts.iter().any(|p| fields::is_array_placeholder(p)) {
        return at_path(action, parts, &parts.join("."), doc, ctx);
    }
    for parts in fields::expand_placeholders(doc, parts, filters)? {
        at_path(action, &parts, &parts.join("."), doc, ctx)?;
    }
    Ok(())
}

fn at_path(
    action: &Action,
    parts: &[String],
    path: &str,
    doc: &mut Document,
    ctx: &UpdateContext,
) -> Result<(), EngineError> {
    match &action.op {
        Op::Set(value) => fields::set(doc, parts, value.clone()),
        Op::SetOnInsert(value) if ctx.is_upsert_insert => fields::set(doc, parts, value.clone()),
        Op::SetOnInsert(_) => Ok(()),
        Op::Unset => {
            fields::unset(doc, parts);
            Ok(())
        }
        Op::Inc(by) | Op::Mul(by) => {
            let increment = matches!(action.op, Op::Inc(_));
            let updated = arithmetic(increment, path, doc, fields::get(doc, parts), by)?;
            fields::set(doc, parts, updated)
        }
        Op::Min(value) | Op::Max(value) => {
            let wanted = if matches!(action.op, Op::Min(_)) {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            match fields::get(doc, parts) {
                Some(current) if order::compare(value, current) != wanted => Ok(()),
                _ => fields::set(doc, parts, value.clone()),
            }
        }
        Op::CurrentDate { timestamp } => {
            let value = if *timestamp {
                let seconds = ctx.now.timestamp_millis().div_euclid(1000);
                Bson::Timestamp(bson::Timestamp {
                    time: u32::try_from(seconds).unwrap_or(u32::MAX),
                    increment: 1,
                })
            } else {
                Bson::DateTime(ctx.now)
            };
            fields::set(doc, parts, value)
        }
        Op::Push(spec) => {
            let mut items = existing_array(doc, parts, path, "$push")?.unwrap_or_default();
            push(&mut items, spec);
            fields::set(doc, parts, Bson::Array(items))
        }
        Op::AddToSet(values) => {
            let mut items = existing_array(doc, parts, path, "$addToSet")?.unwrap_or_default();
            for value in values {
                if !items.iter().any(|item| order::equal(item, value)) {
                    items.push(value.clone());
                }
            }
            fields::set(doc, parts, Bson::Array(items))
        }
        Op::Pull(condition) => remove_where(doc, parts, path, |item| condition.matches(item)),
        Op::PullAll(values) => remove_where(doc, parts, path, |item| {
            values.iter().any(|v| order::equal(v, item))
        }),
        Op::Pop { first } => match fields::get(doc, parts) {
            None => Ok(()),
            Some(Bson::Array(items)) => {
                let mut items = items.clone();
                if !items.is_empty() {
                    if *first {
                        items.remove(0);
                    } else {
                        items.pop();
                    }
                }
                fields::set(doc, parts, Bson::Array(items))
            }
            Some(other) => Err(EngineError::type_mismatch(format!(
                "Path '{}' contains an element of non-array type '{}'",
                path,
                type_name(other)
            ))),
        },
        Op::Rename { to } => rename(doc, parts, to, path),
    }
}

/// `$inc`/`$mul`: a missing field becomes the increment (or a zero of the
/// multiplier's type); int32 overflow widens to int64; int64 overflow fails.
fn arithmetic(
    increment: bool,
    path: &str,
    doc: &Document,
    current: Option<&Bson>,
    by: &Bson,
) -> Result<Bson, EngineError> {
    let (name, verb) = if increment {
        ("$inc", "increment")
    } else {
        ("$mul", "multiply")
    };
    if matches!(by, Bson::Decimal128(_)) || matches!(current, Some(Bson::Decimal128(_))) {
        return Err(EngineError::unsupported(&format!(
            "{name} on decimal128 values"
        )));
    }
    let operand = Number::of(by).ok_or_else(|| {
        EngineError::type_mismatch(format!(
            "Cannot {verb} with non-numeric argument: {{{path}: {by}}}"
        ))
    })?;
    let Some(current) = current else {
        return Ok(if increment {
            by.clone()
        } else {
            match operand {
                Number::Int(_) => Bson::Int32(0),
                Number::Long(_) => Bson::Int64(0),
                Number::Double(_) => Bson::Double(0.0),
            }
        });
    };
    let value = Number::of(current).ok_or_else(|| {
        EngineError::type_mismatch(format!(
            "Cannot apply {name} to a value of non-numeric type. {{_id: {}}} has the field '{}' \
             of non-numeric type {}",
            doc.get("_id").unwrap_or(&Bson::Null),
            path.rsplit('.').next().unwrap_or(path),
            type_name(current)
        ))
    })?;
    let result = if increment {
        arith::add(value, operand)
    } else {
        arith::multiply(value, operand)
    };
    result.map(Number::to_bson).ok_or_else(|| {
        EngineError::bad_value(format!(
            "Failed to apply {name} operations to current value ({current}) for document {{_id: {}}}",
            doc.get("_id").unwrap_or(&Bson::Null)
        ))
    })
}

/// The array at a path (`None` when missing); any other type is refused.
fn existing_array(
    doc: &Document,
    parts: &[String],
    path: &str,
    operator: &str,
) -> Result<Option<Vec<Bson>>, EngineError> {
    match fields::get(doc, parts) {
        None => Ok(None),
        Some(Bson::Array(items)) => Ok(Some(items.clone())),
        Some(other) if operator == "$push" => Err(EngineError::bad_value(format!(
            "The field '{path}' must be an array but is of type {} in document {{_id: {}}}",
            type_name(other),
            doc.get("_id").unwrap_or(&Bson::Null)
        ))),
        Some(other) => Err(EngineError::bad_value(format!(
            "Cannot apply $addToSet to non-array field. Field named '{path}' has non-array type {}",
            type_name(other)
        ))),
    }
}

fn push(items: &mut Vec<Bson>, spec: &Push) {
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let at = match spec.position {
        None => len,
        Some(p) if p < 0 => (len + p).max(0),
        Some(p) => p.min(len),
    };
    let at = usize::try_from(at).unwrap_or(items.len());
    items.splice(at..at, spec.each.iter().cloned());
    match &spec.sort {
        Some(PushSort::Value { ascending }) => items.sort_by(|a, b| {
            let ord = order::compare(a, b);
            if *ascending { ord } else { ord.reverse() }
        }),
        Some(PushSort::Fields(sort)) => {
            let empty = Document::new();
            items.sort_by(|a, b| {
                let a = a.as_document().unwrap_or(&empty);
                let b = b.as_document().unwrap_or(&empty);
                sort.compare(a, b)
            });
        }
        None => {}
    }
    match spec.slice {
        Some(n) if n >= 0 => items.truncate(usize::try_from(n).unwrap_or(usize::MAX)),
        Some(n) => {
            let keep = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
            let drop = items.len().saturating_sub(keep);
            items.drain(..drop);
        }
        None => {}
    }
}

fn remove_where(
    doc: &mut Document,
    parts: &[String],
    path: &str,
    remove: impl Fn(&Bson) -> bool,
) -> Result<(), EngineError> {
    match fields::get(doc, parts) {
        None => Ok(()),
        Some(Bson::Array(items)) => {
            let kept: Vec<Bson> = items.iter().filter(|item| !remove(item)).cloned().collect();
            if kept.len() == items.len() {
                return Ok(());
            }
            fields::set(doc, parts, Bson::Array(kept))
        }
        Some(_) => Err(EngineError::bad_value(format!(
            "Cannot apply $pull to a non-array value (at '{path}')"
        ))),
    }
}

fn rename(
    doc: &mut Document,
    from: &[String],
    to: &[String],
    path: &str,
) -> Result<(), EngineError> {
    if fields::crosses_array(doc, from) {
        return Err(EngineError::bad_value(format!(
            "The source field cannot be an array element, '{path}' in doc with _id: {}",
            doc.get("_id").unwrap_or(&Bson::Null)
        )));
    }
    let Some(value) = fields::get(doc, from).cloned() else {
        return Ok(());
    };
    if fields::crosses_array(doc, to) {
        return Err(EngineError::bad_value(format!(
            "The destination field cannot be an array element, '{}' in doc with _id: {}",
            to.join("."),
            doc.get("_id").unwrap_or(&Bson::Null)
        )));
    }
    // As MongoDB documents it: unset both names, then set the new one (so
    // an existing target moves to the end).
    fields::unset(doc, from);
    fields::unset(doc, to);
    fields::set(doc, to, value)
}
