//! Operator update documents into actions, validated up front: unknown
//! modifiers, malformed arguments, bad paths and conflicting paths are all
//! refused before any document is touched.

use std::cmp::Ordering;

use bson::{Bson, Document};

use crate::engine::error::EngineError;
use crate::engine::filter::{ElementCondition, type_name};
use crate::engine::order::Number;
use crate::engine::path::array_index;
use crate::engine::sort::SortSpec;

/// The positional path component: the array element the query matched.
pub const POSITIONAL: &str = "$";

/// One operator applied to one path.
#[derive(Debug, Clone)]
pub struct Action {
    /// The dotted path as written.
    pub path: String,
    /// Its components.
    pub parts: Vec<String>,
    /// What to do there.
    pub op: Op,
}

/// An update operator with its parsed argument.
#[derive(Debug, Clone)]
pub enum Op {
    Set(Bson),
    SetOnInsert(Bson),
    Unset,
    Inc(Bson),
    Mul(Bson),
    Min(Bson),
    Max(Bson),
    Push(Push),
    AddToSet(Vec<Bson>),
    Pull(ElementCondition),
    PullAll(Vec<Bson>),
    Pop { first: bool },
    CurrentDate { timestamp: bool },
    Rename { to: Vec<String> },
}

/// `$push` with its modifiers.
#[derive(Debug, Clone)]
pub struct Push {
    pub each: Vec<Bson>,
    pub position: Option<i64>,
    pub slice: Option<i64>,
    pub sort: Option<PushSort>,
}

/// `$push`'s `$sort`: whole elements (`1`/`-1`) or by fields of documents.
#[derive(Debug, Clone)]
pub enum PushSort {
    Value { ascending: bool },
    Fields(SortSpec),
}

/// Parses an operator update document into actions in application order.
pub fn operators(update: &Document) -> Result<Vec<Action>, EngineError> {
    let mut actions = Vec::new();
    for (name, argument) in update {
        let Bson::Document(fields) = argument else {
            return Err(EngineError::failed_to_parse(format!(
                "Modifiers operate on fields but we found type {} instead. For example: \
                 {{$mod: {{<field>: ...}}}} not {{{name}: {argument}}}",
                type_name(argument)
            )));
        };
        for (path, value) in fields {
            let parts = parse_path(path)?;
            let op = operator(name, path, value)?;
            actions.push(Action {
                path: path.clone(),
                parts,
                op,
            });
        }
    }
    check_conflicts(&actions)?;
    actions.sort_by(|a, b| compare_paths(&a.parts, &b.parts));
    Ok(actions)
}

fn parse_path(path: &str) -> Result<Vec<String>, EngineError> {
    let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
    if parts.iter().any(String::is_empty) {
        return Err(EngineError::empty_field_name(format!(
            "The update path '{path}' contains an empty field name, which is not allowed."
        )));
    }
    if parts.iter().filter(|p| *p == POSITIONAL).count() > 1 {
        return Err(EngineError::bad_value(format!(
            "Too many positional (i.e. '$') elements found in path '{path}'"
        )));
    }
    for part in &parts {
        if super::fields::is_array_placeholder(part) || (part == POSITIONAL && parts[0] != *part) {
            continue;
        }
        if part == POSITIONAL || part.starts_with("$[") {
            return Err(EngineError::unsupported(&format!(
                "the positional update operator '{part}' (in '{path}')"
            )));
        }
        if part.starts_with('$') {
            return Err(EngineError::dollar_prefixed_field_name(format!(
                "The dollar ($) prefixed field '{part}' in '{path}' is not allowed in the \
                 context of an update's replacement document. Consider using an aggregation \
                 pipeline with $replaceWith."
            )));
        }
    }
    Ok(parts)
}

fn operator(name: &str, path: &str, value: &Bson) -> Result<Op, EngineError> {
    let op = match name {
        "$set" => Op::Set(value.clone()),
        "$setOnInsert" => Op::SetOnInsert(value.clone()),
        "$unset" => Op::Unset,
        "$inc" | "$mul" => {
            let verb = if name == "$inc" {
                "increment"
            } else {
                "multiply"
            };
            if Number::of(value).is_none() {
                return Err(EngineError::type_mismatch(format!(
                    "Cannot {verb} with non-numeric argument: {{{path}: {value}}}"
                )));
            }
            if name == "$inc" {
                Op::Inc(value.clone())
            } else {
                Op::Mul(value.clone())
            }
        }
        "$min" => Op::Min(value.clone()),
        "$max" => Op::Max(value.clone()),
        "$push" => Op::Push(push(value)?),
        "$addToSet" => Op::AddToSet(add_to_set(value)?),
        "$pull" => Op::Pull(ElementCondition::parse(value)?),
        "$pullAll" => match value {
            Bson::Array(items) => Op::PullAll(items.clone()),
            other => {
                return Err(EngineError::bad_value(format!(
                    "$pullAll requires an array argument but was given a {}",
                    type_name(other)
                )));
            }
        },
        "$pop" => match Number::of(value).and_then(|n| n.as_i64()) {
            Some(1) => Op::Pop { first: false },
            Some(-1) => Op::Pop { first: true },
            _ => {
                return Err(EngineError::failed_to_parse(format!(
                    "$pop expects 1 or -1, found: {value}"
                )));
            }
        },
        "$currentDate" => current_date(path, value)?,
        "$rename" => rename(path, value)?,
        "$bit" => return Err(EngineError::unsupported("$bit")),
        other => {
            return Err(EngineError::failed_to_parse(format!(
                "Unknown modifier: {other}. Expected a valid update modifier or pipeline-style \
                 update specified as an array"
            )));
        }
    };
    Ok(op)
}

fn whole_number(value: &Bson) -> Option<i64> {
    Number::of(value).and_then(|n| n.as_i64())
}

fn push(value: &Bson) -> Result<Push, EngineError> {
    let modifiers = match value {
        Bson::Document(doc) if doc.contains_key("$each") => doc,
        other => {
            return Ok(Push {
                each: vec![other.clone()],
                position: None,
                slice: None,
                sort: None,
            });
        }
    };
    let mut spec = Push {
        each: Vec::new(),
        position: None,
        slice: None,
        sort: None,
    };
    for (key, arg) in modifiers {
        match key.as_str() {
            "$each" => match arg {
                Bson::Array(items) => spec.each = items.clone(),
                other => {
                    return Err(EngineError::bad_value(format!(
                        "The argument to $each in $push must be an array but it was of type: {}",
                        type_name(other)
                    )));
                }
            },
            "$position" => {
                spec.position = Some(whole_number(arg).ok_or_else(|| {
                    EngineError::bad_value(format!(
                        "The value for $position must be an integer value, not of type: {}",
                        type_name(arg)
                    ))
                })?);
            }
            "$slice" => {
                spec.slice = Some(whole_number(arg).ok_or_else(|| {
                    EngineError::bad_value(format!(
                        "The value for $slice must be an integer value but was given type: {}",
                        type_name(arg)
                    ))
                })?);
            }
            "$sort" => spec.sort = Some(push_sort(arg)?),
            other => {
                return Err(EngineError::bad_value(format!(
                    "Unrecognized clause in $push: {other}"
                )));
            }
        }
    }
    Ok(spec)
}

fn push_sort(arg: &Bson) -> Result<PushSort, EngineError> {
    match (arg, whole_number(arg)) {
        (_, Some(1)) => Ok(PushSort::Value { ascending: true }),
        (_, Some(-1)) => Ok(PushSort::Value { ascending: false }),
        (Bson::Document(spec), _) if !spec.is_empty() => Ok(PushSort::Fields(
            SortSpec::parse(spec).map_err(|e| EngineError::bad_value(e.message))?,
        )),
        _ => Err(EngineError::bad_value(
            "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort \
             embedded fields",
        )),
    }
}

fn add_to_set(value: &Bson) -> Result<Vec<Bson>, EngineError> {
    match value {
        Bson::Document(doc) if doc.contains_key("$each") => match (doc.len(), doc.get("$each")) {
            (1, Some(Bson::Array(items))) => Ok(items.clone()),
            (1, Some(other)) => Err(EngineError::type_mismatch(format!(
                "The argument to $each in $addToSet must be an array but it was of type {}",
                type_name(other)
            ))),
            _ => Err(EngineError::bad_value(
                "Found unexpected fields after $each in $addToSet",
            )),
        },
        other => Ok(vec![other.clone()]),
    }
}

fn current_date(path: &str, value: &Bson) -> Result<Op, EngineError> {
    match value {
        Bson::Boolean(_) => Ok(Op::CurrentDate { timestamp: false }),
        Bson::Document(spec) if spec.len() == 1 => match spec.get("$type") {
            Some(Bson::String(t)) if t == "date" => Ok(Op::CurrentDate { timestamp: false }),
            Some(Bson::String(t)) if t == "timestamp" => Ok(Op::CurrentDate { timestamp: true }),
            _ => Err(EngineError::bad_value(
                "The '$type' string field is required to be 'date' or 'timestamp': \
                 {$currentDate: {field : {$type: 'date'}}}",
            )),
        },
        other => Err(EngineError::bad_value(format!(
            "{{{path}: {other}}} is not valid type for $currentDate. Please use a boolean \
             ('true') or a $type expression ({{$type: 'timestamp/date'}})."
        ))),
    }
}

fn rename(path: &str, value: &Bson) -> Result<Op, EngineError> {
    let Bson::String(target) = value else {
        return Err(EngineError::bad_value(format!(
            "The 'to' field for $rename must be a string: {path}: {value}"
        )));
    };
    let to = parse_path(target)?;
    let dynamic = |p: &str| p.split('.').any(|part| part.starts_with('$'));
    if dynamic(path) || dynamic(target) {
        return Err(EngineError::bad_value(format!(
            "The source and target field for $rename may not be dynamic: {path}: \"{target}\""
        )));
    }
    let from: Vec<&str> = path.split('.').collect();
    if from.len() == to.len() && from.iter().zip(&to).all(|(a, b)| a == b) {
        return Err(EngineError::bad_value(format!(
            "The source and target field for $rename must differ: {path}: \"{target}\""
        )));
    }
    if from.iter().zip(&to).all(|(a, b)| a == b) {
        return Err(EngineError::bad_value(format!(
            "The source and target field for $rename must not be on the same path: {path}: \
             \"{target}\""
        )));
    }
    Ok(Op::Rename { to })
}

/// Two actions on the same path, or on a path and its prefix, conflict.
fn check_conflicts(actions: &[Action]) -> Result<(), EngineError> {
    let mut paths: Vec<&[String]> = Vec::with_capacity(actions.len() * 2);
    for action in actions {
        paths.push(&action.parts);
        if let Op::Rename { to } = &action.op {
            paths.push(to);
        }
    }
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            let shared = a.len().min(b.len());
            if a[..shared] == b[..shared] {
                // MongoDB names the later path and the shared prefix.
                return Err(EngineError::conflicting_update_operators(format!(
                    "Updating the path '{}' would create a conflict at '{}'",
                    b.join("."),
                    a[..shared].join(".")
                )));
            }
        }
    }
    Ok(())
}

/// MongoDB (5.0+) applies updates in field-path order: names lexically,
/// array indexes numerically.
fn compare_paths(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (array_index(x), array_index(y)) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}
