//! Type conversions: `$toInt`, `$toLong`, `$toDouble`, `$toBool`, with
//! MongoDB's `ConversionFailure` (241) for what cannot convert.

use bson::Bson;

use super::is_nullish;
use crate::engine::error::EngineError;
use crate::engine::filter::type_name;
use crate::engine::order::Number;

/// Converts a value for the named operator (`$toInt`, …); null stays null.
pub fn to_type(name: &str, value: &Option<Bson>) -> Result<Bson, EngineError> {
    let Some(value) = value.as_ref().filter(|_| !is_nullish(value)) else {
        return Ok(Bson::Null);
    };
    let target = match name {
        "$toInt" => "int",
        "$toLong" => "long",
        "$toDouble" => "double",
        _ => "bool",
    };
    let failure = || {
        EngineError::new(
            241,
            "ConversionFailure",
            format!(
                "Unsupported conversion from {} to {target} in $convert with no onError value",
                type_name(value)
            ),
        )
    };
    if target == "bool" {
        return Ok(Bson::Boolean(match value {
            Bson::Boolean(b) => *b,
            other => Number::of(other).is_none_or(|n| n.as_f64() != 0.0),
        }));
    }
    let number = match value {
        Bson::Boolean(b) => Number::Int(i32::from(*b)),
        Bson::DateTime(d) if target != "int" => Number::Long(d.timestamp_millis()),
        Bson::String(s) if target == "double" => {
            Number::Double(s.trim().parse().map_err(|_| failure())?)
        }
        Bson::String(s) => Number::Long(s.parse().map_err(|_| failure())?),
        other => Number::of(other).ok_or_else(failure)?,
    };
    let whole = || {
        let x = number.as_f64();
        match number {
            Number::Double(_) if !x.is_finite() => None,
            Number::Double(_) => Some(x.trunc()),
            _ => Some(x),
        }
    };
    Ok(match target {
        "double" => Bson::Double(number.as_f64()),
        "long" => number
            .as_i64()
            .or_else(|| whole().filter(|x| x.abs() < 9.2e18).map(|x| x as i64))
            .map(Bson::Int64)
            .ok_or_else(failure)?,
        _ => number
            .as_i64()
            .or_else(|| whole().map(|x| x as i64))
            .and_then(|n| i32::try_from(n).ok())
            .map(Bson::Int32)
            .ok_or_else(failure)?,
    })
}
