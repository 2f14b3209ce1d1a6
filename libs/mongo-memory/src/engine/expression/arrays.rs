//! Array expressions: `$arrayElemAt`, `$first`, `$last`, `$reverseArray`,
//! `$concatArrays`, `$in`, `$size`.

use bson::Bson;

use super::is_nullish;
use crate::engine::error::EngineError;
use crate::engine::filter::type_name;
use crate::engine::order::{self, Number};

/// `$arrayElemAt`: negative indexes count from the end; out of range is
/// missing.
pub fn array_elem_at(
    array: &Option<Bson>,
    index: &Option<Bson>,
) -> Result<Option<Bson>, EngineError> {
    if is_nullish(array) || is_nullish(index) {
        return Ok(Some(Bson::Null));
    }
    let Some(Bson::Array(items)) = array else {
        return Err(EngineError::location(
            28689,
            "$arrayElemAt's first argument must be an array",
        ));
    };
    let n = index
        .as_ref()
        .and_then(Number::of)
        .ok_or_else(|| {
            EngineError::location(
                28690,
                "$arrayElemAt's second argument must be a numeric value",
            )
        })?
        .as_i64()
        .filter(|n| i32::try_from(*n).is_ok())
        .ok_or_else(|| {
            EngineError::location(
                28691,
                "$arrayElemAt's second argument must be representable as a 32-bit integer",
            )
        })?;
    let position = if n < 0 { items.len() as i64 + n } else { n };
    Ok(usize::try_from(position)
        .ok()
        .and_then(|i| items.get(i))
        .cloned())
}

/// `$first`/`$last` of an array: missing when empty.
pub fn end(first: bool, value: &Option<Bson>) -> Result<Option<Bson>, EngineError> {
    match value {
        None => Ok(None),
        Some(Bson::Null | Bson::Undefined) => Ok(Some(Bson::Null)),
        Some(Bson::Array(items)) => Ok(if first { items.first() } else { items.last() }.cloned()),
        Some(other) => Err(EngineError::location(
            28689,
            format!(
                "{}'s argument must be an array, but is {}",
                if first { "$first" } else { "$last" },
                type_name(other)
            ),
        )),
    }
}

/// `$reverseArray`.
pub fn reverse(value: &Option<Bson>) -> Result<Bson, EngineError> {
    match value {
        v if is_nullish(v) => Ok(Bson::Null),
        Some(Bson::Array(items)) => Ok(Bson::Array(items.iter().rev().cloned().collect())),
        Some(other) => Err(EngineError::location(
            34435,
            format!(
                "The argument to $reverseArray must be an array, but was of type: {}",
                type_name(other)
            ),
        )),
        None => Ok(Bson::Null),
    }
}

/// `$concatArrays`: null if any argument is null or missing.
pub fn concat(values: Vec<Option<Bson>>) -> Result<Bson, EngineError> {
    let mut out = Vec::new();
    for value in values {
        match value {
            None | Some(Bson::Null) => return Ok(Bson::Null),
            Some(Bson::Array(items)) => out.extend(items),
            Some(other) => {
                return Err(EngineError::location(
                    28664,
                    format!(
                        "$concatArrays only supports arrays, not {}",
                        type_name(&other)
                    ),
                ));
            }
        }
    }
    Ok(Bson::Array(out))
}

/// `$in`: whether the value equals an element of the array.
pub fn contains(needle: &Option<Bson>, haystack: &Option<Bson>) -> Result<Bson, EngineError> {
    let Some(Bson::Array(items)) = haystack else {
        return Err(EngineError::location(
            40081,
            "$in requires an array as a second argument",
        ));
    };
    let needle = needle.clone().unwrap_or(Bson::Undefined);
    Ok(Bson::Boolean(
        items.iter().any(|item| order::equal(item, &needle)),
    ))
}

/// `$size`.
pub fn size(value: &Option<Bson>) -> Result<Bson, EngineError> {
    match value {
        Some(Bson::Array(items)) => Ok(Bson::Int32(i32::try_from(items.len()).unwrap_or(i32::MAX))),
        other => Err(EngineError::location(
            17124,
            format!(
                "The argument to $size must be an array. Type of argument is {}",
                other.as_ref().map_or("missing", type_name)
            ),
        )),
    }
}
