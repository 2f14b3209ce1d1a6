//! String expressions: `$concat`, `$toLower`, `$toUpper`, `$toString`.

use bson::Bson;

use super::is_nullish;
use crate::engine::error::EngineError;
use crate::engine::filter::type_name;

/// `$concat`: null if any argument is null or missing.
pub fn concat(values: &[Option<Bson>]) -> Result<Bson, EngineError> {
    let mut out = String::new();
    for value in values {
        match value {
            v if is_nullish(v) => return Ok(Bson::Null),
            Some(Bson::String(s)) => out.push_str(s),
            Some(other) => {
                return Err(EngineError::location(
                    16702,
                    format!("$concat only supports strings, not {}", type_name(other)),
                ));
            }
            None => {}
        }
    }
    Ok(Bson::String(out))
}

/// `$toLower`/`$toUpper`: null becomes the empty string, numbers their text.
pub fn change_case(lower: bool, value: &Option<Bson>) -> Result<Bson, EngineError> {
    let text = match value {
        None | Some(Bson::Null | Bson::Undefined) => String::new(),
        Some(Bson::String(s) | Bson::Symbol(s)) => s.clone(),
        Some(Bson::Int32(n)) => n.to_string(),
        Some(Bson::Int64(n)) => n.to_string(),
        Some(Bson::Double(n)) => n.to_string(),
        Some(other) => {
            return Err(EngineError::location(
                16007,
                format!(
                    "can't convert from BSON type {} to String",
                    type_name(other)
                ),
            ));
        }
    };
    Ok(Bson::String(if lower {
        text.to_lowercase()
    } else {
        text.to_uppercase()
    }))
}

/// `$toString`: numbers, booleans, ObjectIds and dates as text.
pub fn to_string(value: &Option<Bson>) -> Result<Bson, EngineError> {
    let text = match value {
        None | Some(Bson::Null | Bson::Undefined) => return Ok(Bson::Null),
        Some(Bson::String(s) | Bson::Symbol(s)) => s.clone(),
        Some(Bson::Int32(n)) => n.to_string(),
        Some(Bson::Int64(n)) => n.to_string(),
        Some(Bson::Double(n)) => n.to_string(),
        Some(Bson::Decimal128(d)) => d.to_string(),
        Some(Bson::Boolean(b)) => b.to_string(),
        Some(Bson::ObjectId(id)) => id.to_hex(),
        Some(Bson::DateTime(d)) => d.to_chrono().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Some(other) => return Err(conversion_failure(type_name(other))),
    };
    Ok(Bson::String(text))
}

fn conversion_failure(from: &str) -> EngineError {
    EngineError::new(
        241,
        "ConversionFailure",
        format!("Unsupported conversion from {from} to string in $convert with no onError value"),
    )
}
