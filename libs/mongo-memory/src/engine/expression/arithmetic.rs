//! Arithmetic expressions (`$add $subtract $multiply $divide $mod` and
//! `$abs $floor $ceil $round $trunc`): null or missing operands give null,
//! int64 overflow falls back to double, `$add`/`$subtract` also work on
//! dates.

use bson::Bson;

use super::is_nullish;
use crate::engine::arith;
use crate::engine::error::EngineError;
use crate::engine::filter::type_name;
use crate::engine::order::Number;

/// Aggregation arithmetic: int64 overflow falls back to double.
fn widen(result: Option<Number>, a: Number, b: Number, f: fn(f64, f64) -> f64) -> Number {
    result.unwrap_or(Number::Double(f(a.as_f64(), b.as_f64())))
}

pub fn add(values: &[Option<Bson>]) -> Result<Bson, EngineError> {
    let mut total = Number::Int(0);
    let mut date: Option<i64> = None;
    for value in values {
        match value {
            v if is_nullish(v) => return Ok(Bson::Null),
            Some(Bson::DateTime(d)) if date.is_none() => date = Some(d.timestamp_millis()),
            Some(Bson::DateTime(_)) => {
                return Err(EngineError::location(
                    16612,
                    "only one date allowed in an $add expression",
                ));
            }
            Some(other) => {
                let n = Number::of(other).ok_or_else(|| {
                    EngineError::location(
                        16554,
                        format!(
                            "$add only supports numeric or date types, not {}",
                            type_name(other)
                        ),
                    )
                })?;
                total = widen(arith::add(total, n), total, n, |x, y| x + y);
            }
            None => {}
        }
    }
    Ok(match date {
        Some(millis) => {
            let offset = total.as_i64().unwrap_or(total.as_f64().round() as i64);
            Bson::DateTime(bson::DateTime::from_millis(millis.saturating_add(offset)))
        }
        None => total.to_bson(),
    })
}

pub fn subtract(a: &Option<Bson>, b: &Option<Bson>) -> Result<Bson, EngineError> {
    if is_nullish(a) || is_nullish(b) {
        return Ok(Bson::Null);
    }
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(Bson::Null);
    };
    match (a, b, Number::of(a), Number::of(b)) {
        (_, _, Some(x), Some(y)) => Ok(widen(arith::subtract(x, y), x, y, |p, q| p - q).to_bson()),
        (Bson::DateTime(x), Bson::DateTime(y), _, _) => Ok(Bson::Int64(
            x.timestamp_millis().saturating_sub(y.timestamp_millis()),
        )),
        (Bson::DateTime(x), _, _, Some(y)) => {
            let offset = y.as_i64().unwrap_or(y.as_f64().round() as i64);
            Ok(Bson::DateTime(bson::DateTime::from_millis(
                x.timestamp_millis().saturating_sub(offset),
            )))
        }
        _ => Err(EngineError::location(
            16556,
            format!("cant $subtract a {} from a {}", type_name(b), type_name(a)),
        )),
    }
}

fn numbers(name: &str, code: i32, values: &[&Bson]) -> Result<Vec<Number>, EngineError> {
    values
        .iter()
        .map(|v| {
            Number::of(v).ok_or_else(|| {
                EngineError::location(
                    code,
                    format!("{name} only supports numeric types, not {}", type_name(v)),
                )
            })
        })
        .collect()
}

pub fn multiply(values: &[Option<Bson>]) -> Result<Bson, EngineError> {
    if values.iter().any(is_nullish) {
        return Ok(Bson::Null);
    }
    let present: Vec<&Bson> = values.iter().flatten().collect();
    let mut product = Number::Int(1);
    for n in numbers("$multiply", 16555, &present)? {
        product = widen(arith::multiply(product, n), product, n, |x, y| x * y);
    }
    Ok(product.to_bson())
}

pub fn divide(a: &Option<Bson>, b: &Option<Bson>) -> Result<Bson, EngineError> {
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(Bson::Null);
    };
    if matches!(a, Bson::Null | Bson::Undefined) || matches!(b, Bson::Null | Bson::Undefined) {
        return Ok(Bson::Null);
    }
    let parts = numbers("$divide", 16609, &[a, b])?;
    if parts[1].as_f64() == 0.0 {
        return Err(EngineError::location(16608, "can't $divide by zero"));
    }
    Ok(Bson::Double(parts[0].as_f64() / parts[1].as_f64()))
}

pub fn modulo(a: &Option<Bson>, b: &Option<Bson>) -> Result<Bson, EngineError> {
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(Bson::Null);
    };
    if matches!(a, Bson::Null | Bson::Undefined) || matches!(b, Bson::Null | Bson::Undefined) {
        return Ok(Bson::Null);
    }
    let parts = numbers("$mod", 16611, &[a, b])?;
    let (x, y) = (parts[0], parts[1]);
    if y.as_f64() == 0.0 {
        return Err(EngineError::location(16610, "can't $mod by zero"));
    }
    Ok(match (x, y) {
        (Number::Double(_), _) | (_, Number::Double(_)) => Bson::Double(x.as_f64() % y.as_f64()),
        (Number::Int(p), Number::Int(q)) => Bson::Int32(p.wrapping_rem(q)),
        _ => Bson::Int64(
            x.as_i64()
                .unwrap_or(0)
                .wrapping_rem(y.as_i64().unwrap_or(1)),
        ),
    })
}

fn numeric(name: &str, value: &Bson) -> Result<Number, EngineError> {
    Number::of(value).ok_or_else(|| {
        EngineError::location(
            28765,
            format!(
                "{name} only supports numeric types, not {}",
                type_name(value)
            ),
        )
    })
}

/// `$abs`: keeps the type; the smallest int32 widens to int64.
pub fn abs(value: &Option<Bson>) -> Result<Bson, EngineError> {
    let Some(value) = value
        .as_ref()
        .filter(|v| !matches!(v, Bson::Null | Bson::Undefined))
    else {
        return Ok(Bson::Null);
    };
    Ok(match numeric("$abs", value)? {
        Number::Int(n) => n
            .checked_abs()
            .map_or(Bson::Int64(i64::from(n).abs()), Bson::Int32),
        Number::Long(n) => Bson::Int64(
            n.checked_abs()
                .ok_or_else(|| EngineError::location(28680, "can't take $abs of long long min"))?,
        ),
        Number::Double(n) => Bson::Double(n.abs()),
    })
}

/// `$floor`/`$ceil`: integers are returned unchanged.
pub fn floor_or_ceil(floor: bool, value: &Option<Bson>) -> Result<Bson, EngineError> {
    let Some(value) = value
        .as_ref()
        .filter(|v| !matches!(v, Bson::Null | Bson::Undefined))
    else {
        return Ok(Bson::Null);
    };
    let name = if floor { "$floor" } else { "$ceil" };
    Ok(match numeric(name, value)? {
        Number::Double(n) => Bson::Double(if floor { n.floor() } else { n.ceil() }),
        whole => whole.to_bson(),
    })
}

/// `$round` (half to even, as MongoDB) and `$trunc`, to `place` decimal
/// places (negative places round integers too).
pub fn round(
    half_even: bool,
    value: &Option<Bson>,
    place: &Option<Bson>,
) -> Result<Bson, EngineError> {
    let name = if half_even { "$round" } else { "$trunc" };
    if is_nullish(value)
        || place
            .as_ref()
            .is_some_and(|p| matches!(p, Bson::Null | Bson::Undefined))
    {
        return Ok(Bson::Null);
    }
    let Some(value) = value else {
        return Ok(Bson::Null);
    };
    let place = match place {
        None => 0,
        Some(p) => Number::of(p)
            .and_then(Number::as_i64)
            .filter(|p| (-20..=100).contains(p))
            .ok_or_else(|| {
                EngineError::location(
                    51083,
                    format!(
                        "cannot apply {name} with precision value {p} value must be in [-20, 100]"
                    ),
                )
            })?,
    };
    let apply = |x: f64| {
        if half_even {
            x.round_ties_even()
        } else {
            x.trunc()
        }
    };
    let scale = 10f64.powi(i32::try_from(place.abs()).unwrap_or(0));
    let rounded = |x: f64| {
        if place >= 0 {
            apply(x * scale) / scale
        } else {
            apply(x / scale) * scale
        }
    };
    Ok(match numeric(name, value)? {
        Number::Double(n) => Bson::Double(rounded(n)),
        whole if place >= 0 => whole.to_bson(),
        Number::Int(n) => Bson::Int32(rounded(f64::from(n)) as i32),
        whole => Bson::Int64(rounded(whole.as_f64()) as i64),
    })
}
